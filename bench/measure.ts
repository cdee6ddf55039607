// What one case cost: wall time, and per host the SSH connections its sshd accepted and the session
// commands its remote-shell audited. Both are read from the sandbox's own logs, so every client counts:
// the provider host, the emulated @pulumi/command and the floor alike.
import * as fs from "fs";
import * as path from "path";
import { closeAllConnections } from "@calico-stars/providers/ssh";
import type { RevivalTimings, StartupBreakdown } from "./startup";
import { sshdName } from "../sandbox/lib/sshHosts";

export interface ClusterHost {
    name: string;
    address: string;
    port: number;
    user: string;
    auditLog: string;
}

export interface Sample {
    wallMs: number;
    /** host name -> connections its sshd accepted during the case */
    connections: Record<string, number>;
    /** host name -> commands its sshd ran during the case */
    commands: Record<string, number>;
    /** host name -> how many of those commands were @pulumi/command's (each on a connection of its own) */
    pulumiCommand: Record<string, number>;
    /** A program run: where its time went (bench/startup.ts). */
    startup?: StartupBreakdown;
    /** After an up: the size of the stack's exported state, in bytes. */
    stateBytes?: number;
    /** After the runbook's up: each serialized provider revived as the provider host does it, by resource type. */
    revival?: Record<string, RevivalTimings>;
}

function linesOf(file: string): string[] {
    return fs.existsSync(file)
        ? fs
              .readFileSync(file, "utf8")
              .split("\n")
              .filter((line) => line.trim() !== "")
        : [];
}

/** Per host: its sshd's connections so far, and the commands its audit log holds. */
function tally(hosts: ClusterHost[], stateDir: string): Map<string, { connections: number; commands: string[] }> {
    return new Map(
        hosts.map((h) => [
            h.name,
            {
                // sshd -D -e logs one such line per authenticated connection; the sandbox's port probes never get that
                // far
                connections: linesOf(path.join(stateDir, "logs", `${sshdName(h)}.log`)).filter((line) =>
                    line.startsWith("Accepted publickey for "),
                ).length,
                commands: linesOf(h.auditLog).map((line) => (JSON.parse(line) as { command: string }).command),
            },
        ]),
    );
}

/** Runs a case; `pulumiCommandTexts` (asked after the run) are the commands that @pulumi/command resources run. */
export async function measure(
    hosts: ClusterHost[],
    stateDir: string,
    run: () => Promise<unknown>,
    pulumiCommandTexts = () => new Set<string>(),
): Promise<Sample> {
    // a case opens its own connections, as a new CLI run would: none of this process's may carry over
    await closeAllConnections();
    const before = tally(hosts, stateDir);
    const start = performance.now();
    await run();
    const wallMs = performance.now() - start;
    const after = tally(hosts, stateDir);
    const texts = pulumiCommandTexts();
    const perHost = (count: (name: string) => number) => Object.fromEntries(hosts.map((h) => [h.name, count(h.name)]));
    const ran = (name: string) => after.get(name)!.commands.slice(before.get(name)!.commands.length);
    return {
        wallMs,
        connections: perHost((name) => after.get(name)!.connections - before.get(name)!.connections),
        commands: perHost((name) => ran(name).length),
        pulumiCommand: perHost((name) => ran(name).filter((command) => texts.has(command)).length),
    };
}

export const total = (perHost: Record<string, number>): number => Object.values(perHost).reduce((sum, n) => sum + n, 0);

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
