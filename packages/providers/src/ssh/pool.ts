// One pooled SSH connection per host, with bounded connection retries and a
// limit on parallel channels per connection. One pool per process: the provider
// host loads this package once, for every provider it serves.
import { setTimeout as sleep } from "timers/promises";
import * as fs from "fs";
import { Client, ConnectConfig } from "ssh2";
import { SshError } from "../errors";
import { hostKeyVerdict } from "./hostKeys";
import { expandHome } from "./settings";
import type { SshSettings } from "./settings";
import { SshHost, SshStats } from "./types";

interface Waiter {
    resume(): void;
}

interface PooledConnection {
    client: Promise<Client>;
    activeChannels: number;
    waiting: Waiter[];
}

interface SshRegistry {
    settings?: SshSettings;
    connections: Map<string, PooledConnection>;
    stats: SshStats;
}

/** Parallel channels per connection; OpenSSH's MaxSessions is 10 and refuses the 11th. */
const maxChannelsPerConnection = 8;

const pool: SshRegistry = { connections: new Map(), stats: { connections: 0, commands: 0, forwards: 0 } };

export function configureSsh(settings: SshSettings): void {
    pool.settings = settings;
}

export function sshStats(): SshStats {
    return { ...pool.stats };
}

/** Counts one more command or forwarded channel. */
export function countChannel(kind: "commands" | "forwards"): void {
    pool.stats[kind]++;
}

export function resetSshStats(): void {
    const stats = pool.stats;
    stats.connections = 0;
    stats.commands = 0;
    stats.forwards = 0;
}

export async function closeAllConnections(): Promise<void> {
    const pending = [...pool.connections.values()];
    pool.connections.clear();
    await Promise.all(
        pending.map(async (pooled) => {
            try {
                (await pooled.client).end();
            } catch {
                // a connection that never opened has nothing to close
            }
        }),
    );
}

export function settingsOrThrow(): SshSettings {
    const settings = pool.settings;
    if (!settings) {
        throw new SshError("SSH is not configured: the provider's configure() did not run");
    }
    return settings;
}

export function hostLabel(host: SshHost): string {
    return `${host.user}@${host.address}:${host.port}`;
}

/** Rejects with `timedOut()` once `deadline` (epoch ms) passes, unless `work` settles first. */
function beforeDeadline<T>(work: Promise<T>, deadline: number, timedOut: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(timedOut()), Math.max(0, deadline - Date.now()));
        work.then(
            (value) => {
                clearTimeout(timer);
                resolve(value);
            },
            (err) => {
                clearTimeout(timer);
                reject(err);
            },
        );
    });
}

/**
 * Waits for a free channel slot on the host's connection, then runs `use`. Waiting for the slot and for
 * the connection counts against `deadline`: past it, `use` never runs.
 */
export async function withChannel<T>(
    host: SshHost,
    deadline: number,
    timedOut: (phase: string) => Error,
    use: (client: Client) => Promise<T>,
): Promise<T> {
    const pooled = connectionFor(host);
    if (pooled.activeChannels >= maxChannelsPerConnection) {
        await new Promise<void>((resolve, reject) => {
            const waiter: Waiter = {
                resume: () => {
                    clearTimeout(timer);
                    resolve();
                },
            };
            // leaving the queue and failing in one step, so that no finishing channel hands its slot to a waiter that
            // gave up
            const timer = setTimeout(
                () => {
                    pooled.waiting = pooled.waiting.filter((w) => w !== waiter);
                    reject(timedOut("waiting for a free channel"));
                },
                Math.max(0, deadline - Date.now()),
            );
            pooled.waiting.push(waiter);
        });
    }
    pooled.activeChannels++;
    try {
        const client = await beforeDeadline(pooled.client, deadline, () => timedOut("waiting for the connection"));
        return await use(client);
    } finally {
        pooled.activeChannels--;
        pooled.waiting.shift()?.resume();
    }
}

function connectionFor(host: SshHost): PooledConnection {
    const key = hostLabel(host);
    let pooled = pool.connections.get(key);
    if (!pooled) {
        const created: PooledConnection = {
            client: connectWithRetry(host, settingsOrThrow()),
            activeChannels: 0,
            waiting: [],
        };
        created.client.then(
            (client) => client.on("close", () => forget(key, created)),
            () => forget(key, created),
        );
        pool.connections.set(key, created);
        pooled = created;
    }
    return pooled;
}

function forget(key: string, pooled: PooledConnection): void {
    if (pool.connections.get(key) === pooled) {
        pool.connections.delete(key);
    }
}

/** Errors worth another attempt: the host or network, never authentication or host keys. */
function isTransient(err: unknown): boolean {
    const code = (err as { code?: string }).code;
    const level = (err as { level?: string }).level;
    if (level === "client-authentication" || err instanceof HostKeyRejected) {
        return false;
    }
    return (
        ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"].includes(code ?? "") ||
        level === "client-timeout" ||
        level === "client-socket"
    );
}

async function connectWithRetry(host: SshHost, settings: SshSettings): Promise<Client> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= settings.connectAttempts; attempt++) {
        try {
            return await connectOnce(host, settings);
        } catch (err) {
            lastError = err;
            if (!isTransient(err) || attempt === settings.connectAttempts) {
                break;
            }
            await sleep(250 * 2 ** (attempt - 1));
        }
    }
    if (lastError instanceof SshError) {
        throw lastError;
    }
    throw new SshError(`cannot connect to ${hostLabel(host)}: ${(lastError as Error).message}`);
}

class HostKeyRejected extends SshError {}

function connectOnce(host: SshHost, settings: SshSettings): Promise<Client> {
    return new Promise((resolve, reject) => {
        const client = new Client();
        let hostKeyProblem: string | undefined;
        const config: ConnectConfig = {
            host: host.address,
            port: host.port,
            username: host.user,
            readyTimeout: settings.connectTimeoutMs,
            keepaliveInterval: 5000,
            keepaliveCountMax: 3,
            hostVerifier: (key: Buffer) => {
                try {
                    hostKeyProblem = hostKeyVerdict(host, key, settings);
                } catch (err) {
                    hostKeyProblem = `cannot check its host key: ${(err as Error).message}`;
                }
                return hostKeyProblem === undefined;
            },
        };
        if (settings.privateKey !== undefined) {
            config.privateKey = settings.privateKey;
        } else if (settings.privateKeyPath !== undefined) {
            config.privateKey = fs.readFileSync(expandHome(settings.privateKeyPath));
        }
        if (settings.passphrase !== undefined) {
            config.passphrase = settings.passphrase;
        }
        if (settings.agentSocket !== undefined) {
            config.agent = settings.agentSocket;
        }
        let settled = false;
        client.once("ready", () => {
            settled = true;
            pool.stats.connections++;
            resolve(client);
        });
        // one listener for the client's whole life: ssh2 can emit a second error (a handshake timeout, then
        // "Connection lost before handshake"), and an error event no one listens to ends the process
        client.on("error", (err: Error) => {
            if (settled) {
                // a later failure closes the client; in-flight commands report it themselves
                return;
            }
            settled = true;
            client.end();
            if (hostKeyProblem !== undefined) {
                reject(new HostKeyRejected(`refusing ${hostLabel(host)}: ${hostKeyProblem}`));
            } else if ((err as { level?: string }).level === "client-authentication") {
                reject(
                    Object.assign(
                        new SshError(
                            `cannot log in to ${hostLabel(host)}: the server refused every offered key (check the user and the key)`,
                        ),
                        { level: "client-authentication" },
                    ),
                );
            } else {
                reject(
                    Object.assign(new SshError(`cannot connect to ${hostLabel(host)}: ${err.message}`), {
                        code: (err as { code?: string }).code,
                        level: (err as { level?: string }).level,
                    }),
                );
            }
        });
        client.connect(config);
    });
}
