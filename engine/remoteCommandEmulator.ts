// @pulumi/command's remote.Command as its plugin behaves, where the test engine cannot run the plugin.
// Follows pulumi/pulumi-command v1.2.1, provider/pkg/provider/remote/ (connection.go, connection_unix.go).
//
// Every run opens one SSH connection (Connection.Dial). Its auth methods are the private key, then the agent
// (agentSocketPath, else SSH_AUTH_SOCK), whose socket is dialed whenever one is named, even with a key; Go's SSH client
// tries each method once, so with a key the agent's keys are never offered.
// Go's SSH client: golang.org/x/crypto v0.48.0, ssh/client_auth.go.
// No hostKey means any host key is accepted (ssh.InsecureIgnoreHostKey). Errors are worded as Go words them.
// Not modelled: the proxy, password auth, `environment` and PULUMI_COMMAND_STDOUT/STDERR (sent with Setenv, which
// sshd refuses without AcceptEnv), the logging of the command's output, and perDialTimeout covering only the TCP
// connect (here it covers the handshake too).
import * as crypto from "crypto";
import * as fs from "fs";
import { setTimeout as sleep } from "timers/promises";
import { Client, ConnectConfig } from "ssh2";
import type { EmulatorContext, ResourceEmulator } from "./types";

interface Connection {
    host: string;
    port: number;
    user: string;
    privateKey?: string;
    privateKeyPassword?: string;
    agentSocketPath?: string;
    hostKey?: string;
    perDialTimeout: number;
    dialErrorLimit: number;
}

/** What Check fills in: the defaults the connection's Annotate sets (infer.DefaultCheck, pulumi-go-provider v1.3.0). */
const connectionDefaults = { user: "root", port: 22, dialErrorLimit: 10, perDialTimeout: 15 };

/** Go's *net.OpError text for a failed TCP dial. */
function dialError(connection: Connection, error: NodeJS.ErrnoException): string {
    const reasons: Record<string, string> = {
        ECONNREFUSED: "connect: connection refused",
        EHOSTUNREACH: "connect: no route to host",
        ENETUNREACH: "connect: network is unreachable",
        ETIMEDOUT: "i/o timeout",
    };
    return `dial tcp ${connection.host}:${connection.port}: ${reasons[error.code ?? ""] ?? error.message}`;
}

/** SSHConfig's agent dial (connection_unix.go, dialAgent): a socket that cannot be reached fails before any dial. */
function agentSocket(connection: Connection): string | undefined {
    const socket = connection.agentSocketPath ?? (process.env.SSH_AUTH_SOCK || undefined);
    if (socket !== undefined && !fs.existsSync(socket)) {
        throw new Error(`dial unix ${socket}: connect: no such file or directory`);
    }
    return socket;
}

/** One ssh.Dial: resolves with a ready client, rejects with Go's wording of what failed. */
function dialOnce(connection: Connection, agent: string | undefined): Promise<Client> {
    return new Promise((resolve, reject) => {
        const client = new Client();
        let handshaking = false;
        let hostKeyMismatch = false;
        const fail = (message: string) => {
            client.end();
            reject(new Error(message));
        };
        client.on("handshake", () => {
            handshaking = true;
        });
        client.on("error", (error: Error & { level?: string; code?: string }) => {
            if (hostKeyMismatch) {
                fail("ssh: handshake failed: ssh: host key mismatch");
            } else if (error.level === "client-authentication") {
                fail(
                    "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain",
                );
            } else if (!handshaking && error.level === "client-socket") {
                fail(dialError(connection, error));
            } else if (error.level === "client-timeout") {
                fail(`dial tcp ${connection.host}:${connection.port}: i/o timeout`);
            } else {
                fail(`ssh: handshake failed: ${error.message}`);
            }
        });
        client.on("ready", () => resolve(client));
        // the first publickey method only: the key when one is given, else the agent's keys
        const method =
            connection.privateKey !== undefined
                ? {
                      type: "publickey",
                      username: connection.user,
                      key: connection.privateKey,
                      passphrase: connection.privateKeyPassword,
                  }
                : agent !== undefined
                  ? { type: "agent", username: connection.user, agent }
                  : undefined;
        const config: ConnectConfig = {
            host: connection.host,
            port: connection.port,
            username: connection.user,
            readyTimeout: connection.perDialTimeout > 0 ? connection.perDialTimeout * 1000 : 2 ** 31 - 1,
            authHandler: [
                { type: "none", username: connection.user },
                ...(method ? [method] : []),
            ] as ConnectConfig["authHandler"],
            hostVerifier: (key: Buffer) => {
                hostKeyMismatch =
                    connection.hostKey !== undefined &&
                    connection.hostKey.trim().split(/\s+/)[1] !== key.toString("base64");
                return !hostKeyMismatch;
            },
        };
        client.connect(config);
    });
}

/**
 * dialWithRetry: EVERY dial error (refused, timed out, authentication, host key) is retried until `dialErrorLimit`
 * retries have failed (-1: no limit), 100 ms apart and 1.5 times longer each time up to 5 s, each retry logged.
 * The retry loop: retry.Until, pulumi/pulumi v3.224.0, sdk/go/common/util/retry/until.go. The operation's custom
 * timeout, in whole seconds, is the context's deadline (pulumi/pulumi-go-provider v1.3.0, middleware/cancel/cancel.go),
 * which ends the loop in a pause between dials; a dial or a command already running is not cut short.
 */
async function dial(connection: Connection, context: EmulatorContext): Promise<Client> {
    const agent = agentSocket(connection);
    const timeoutMs = Math.trunc(context.timeoutSeconds ?? 0) * 1000;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    let delayMs = 100;
    for (let dials = 1; ; dials++) {
        try {
            return await dialOnce(connection, agent);
        } catch (error) {
            const limit = connection.dialErrorLimit;
            if (limit > -1 && dials > limit) {
                throw new Error(`after ${dials - 1} failed attempts: ${(error as Error).message}`, { cause: error });
            }
            context.log(`Dial ${dials}/${limit === -1 ? "inf" : limit} failed: retrying`);
            if (Date.now() + delayMs > deadline) {
                await sleep(Math.max(0, deadline - Date.now()));
                throw new Error("context deadline exceeded", { cause: error });
            }
            await sleep(delayMs);
            delayMs = Math.min(delayMs * 1.5, 5000);
        }
    }
}

/**
 * CommandOutputs.run: one connection, one session; a failure is "<exit status>: running <quoted command>:\n<output>".
 */
async function run(
    connection: Connection,
    command: string,
    stdin: string | undefined,
    context: EmulatorContext,
): Promise<{ stdout: string; stderr: string }> {
    const client = await dial(connection, context);
    try {
        return await new Promise((resolve, reject) => {
            client.exec(command, (error, channel) => {
                if (error) {
                    return reject(error);
                }
                const stdout: Buffer[] = [];
                const stderr: Buffer[] = [];
                const both: Buffer[] = [];
                channel.on("data", (chunk: Buffer) => stdout.push(chunk) && both.push(chunk));
                channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk) && both.push(chunk));
                channel.on("close", (code: number | null, signal?: string) => {
                    if (code === 0) {
                        const text = (parts: Buffer[]) => Buffer.concat(parts).toString().replace(/\n$/, "");
                        return resolve({ stdout: text(stdout), stderr: text(stderr) });
                    }
                    // x/crypto/ssh Waitmsg.String; %q of the command is Go's quoting, close to JSON's
                    const status =
                        code === null
                            ? `Process exited with status -1 from signal ${signal}`
                            : `Process exited with status ${code}`;
                    reject(
                        new Error(`${status}: running ${JSON.stringify(command)}:\n${Buffer.concat(both).toString()}`),
                    );
                });
                channel.end(stdin !== undefined && stdin.length > 0 ? stdin : undefined);
            });
        });
    } finally {
        client.end();
    }
}

/**
 * Check returns `connection` as a secret; Create's ID is the name and 8 hex characters (resource.NewUniqueHex); Diff
 * compares old and new inputs, `triggers` replaces (replaceOnChanges); Read is infer's default (the state as it is);
 * Update runs `update`, else `create`; Delete runs `delete` if any.
 */
export const remoteCommandEmulator: ResourceEmulator = {
    secretInputs: ["connection"],
    async check(_olds, news) {
        return { ...news, connection: { ...connectionDefaults, ...news.connection } };
    },
    async create(inputs, context) {
        const output =
            inputs.create !== undefined
                ? await run(inputs.connection, inputs.create, inputs.stdin, context)
                : { stdout: "", stderr: "" };
        return { id: `${context.name}${crypto.randomBytes(4).toString("hex")}`, outputs: { ...inputs, ...output } };
    },
    async update(_id, olds, news, context) {
        const command = news.update ?? news.create;
        const output =
            command !== undefined
                ? await run(news.connection, command, news.stdin, context)
                : { stdout: olds.stdout, stderr: olds.stderr };
        return { ...news, ...output };
    },
    async delete(_id, outputs, context) {
        if (outputs.delete !== undefined) {
            await run(outputs.connection, outputs.delete, undefined, context);
        }
    },
    diff(olds, news) {
        const keys = new Set(
            [...Object.keys(olds), ...Object.keys(news)].filter((key) => key !== "version" && !key.startsWith("__")),
        );
        const changed = [...keys].filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
        return { changes: changed.length > 0, replaces: changed.filter((key) => key === "triggers") };
    },
};
