// What the SSH layer's callers pass and get back. No credentials here except in
// SshSettings, which only configure() fills, from the stack config.

/** A cluster host as resource inputs carry it (no credentials). */
export interface SshHost {
    /** IP address or DNS name. */
    address: string;
    /** sshd port. */
    port: number;
    /** Login user. */
    user: string;
    /** Prefix privileged commands with `sudo -n`. */
    sudo: boolean;
}

/** How to authenticate and verify hosts; read from stack config in `configure`, never a resource input. */
export interface SshSettings {
    privateKey?: string;
    privateKeyPath?: string;
    passphrase?: string;
    agentSocket?: string;
    /** address (or address:port) -> accepted public keys, "ssh-ed25519 AAAA..." */
    hostKeys: Record<string, string[]>;
    /** address (or address:port) -> accepted "SHA256:..." fingerprints */
    hostKeyFingerprints: Record<string, string[]>;
    knownHostsPath?: string;
    insecureSkipHostKeyVerification: boolean;
    connectTimeoutMs: number;
    commandTimeoutMs: number;
    connectAttempts: number;
    /** Most bytes a command may print on stdout (and on stderr), or an HTTP response may carry; default 8 MiB. */
    maxOutputBytes?: number;
}

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

export const defaultMaxOutputBytes = 8 * 1024 * 1024;
