// Readiness probes, and waiting on a condition: a deadline and a pause, and an error that names what was awaited.
import * as fs from "node:fs";
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { httpRequest } from "./http";

function canConnect(target: net.NetConnectOpts, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect(target);
        const finish = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(timeoutMs, () => finish(false));
        socket.once("connect", () => finish(true));
        socket.once("error", () => finish(false));
    });
}

export function isPortOpen(host: string, port: number): Promise<boolean> {
    return canConnect({ host, port }, 300);
}

export function isSocketAccepting(socketPath: string): Promise<boolean> {
    return fs.existsSync(socketPath) ? canConnect({ path: socketPath }, 300) : Promise.resolve(false);
}

/** GET over TCP or a unix socket; resolves to the status and body, or undefined when nothing answers. */
export function httpGet(url: string, socketPath?: string): Promise<{ status: number; body: string } | undefined> {
    return httpRequest(url, { socketPath, timeout: 1000 }).catch(() => undefined);
}

/** A process whose start is awaited: waiting stops as soon as it has exited, quoting the end of its log. */
interface AwaitedProcess {
    /** How it ended ("exited with code 1"), or undefined while it runs. */
    exitStatus(): string | undefined;
    logFile?: string;
}

export interface WaitOptions {
    timeoutMs: number;
    /** Between two checks; 25 ms unless given. */
    pauseMs?: number;
    process?: AwaitedProcess;
}

/**
 * Checks until `check` gives something other than undefined or false, and resolves to that. Fails after
 * `timeoutMs`, naming `what` and what the check last gave or threw, or once `process` has exited.
 */
export async function waitUntil<T>(
    what: string,
    check: () => Promise<T | undefined | false>,
    options: WaitOptions,
): Promise<T> {
    const { timeoutMs, pauseMs = 25, process } = options;
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const value = await check();
            if (value !== undefined && value !== false) {
                return value;
            }
            last = value;
        } catch (error) {
            last = error;
        }
        const exit = process?.exitStatus();
        if (process !== undefined && (exit !== undefined || Date.now() > deadline)) {
            throw new Error(
                `${what} did not start: it ${exit ?? `was not ready after ${timeoutMs} ms`}${logTail(process.logFile)}`,
            );
        }
        if (Date.now() > deadline) {
            throw new Error(
                `${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
            );
        }
        await sleep(pauseMs);
    }
}

function logTail(logFile: string | undefined): string {
    if (logFile === undefined || !fs.existsSync(logFile)) {
        return "";
    }
    // Quoted rather than pointed to: the cleanup after a failed up removes the log.
    const lines = fs.readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-8);
    return `; its output ended with:\n    ${lines.join("\n    ")}`;
}
