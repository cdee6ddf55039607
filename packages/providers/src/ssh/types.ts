// What the SSH layer's callers pass and get back; no credentials (ssh/settings.ts holds those).
import { z } from "zod";
import { port } from "../validators";

/** A cluster host as resource inputs carry it (no credentials). */
export const sshHostSchema = z.object({
    /** IP address or DNS name. */
    address: z.string().min(1),
    /** sshd port. */
    port,
    /** Login user. */
    user: z.string().min(1),
    /** Prefix privileged commands with `sudo -n`. */
    sudo: z.boolean(),
});

export type SshHost = z.output<typeof sshHostSchema>;

export interface CommandResult {
    stdout: string;
    stderr: string;
    code: number;
}

export interface RunOptions {
    stdin?: string;
    /** The whole budget: waiting for a channel, opening it, and running the command. */
    timeoutMs?: number;
}

export interface HttpResponse {
    status: number;
    body: string;
}

export interface HttpRequest {
    method: string;
    path: string;
    body?: string;
    /** where the master's sshd connects to, e.g. 127.0.0.1:8080 for Marathon */
    targetHost: string;
    targetPort: number;
    timeoutMs?: number;
}

/** Counters for benchmarks and tests: what a run cost the cluster. */
export interface SshStats {
    connections: number;
    commands: number;
    forwards: number;
}
