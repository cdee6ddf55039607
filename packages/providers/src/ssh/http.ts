// An HTTP request tunnelled through a host's sshd (a direct-tcpip channel), so
// that no curl is needed on the host and the target need not be reachable from
// where pulumi runs. One timeout covers the whole request; the body is capped.
import * as http from "http";
import type { Socket } from "net";
import type { Client, ClientChannel } from "ssh2";
import { SshError } from "../errors";
import { countChannel, hostLabel, settingsOrThrow, withChannel } from "./pool";
import { defaultMaxOutputBytes } from "./settings";
import { HttpRequest, HttpResponse, SshHost } from "./types";

/** ssh2's reason code when sshd could not connect to the target (RFC 4254 SSH_OPEN_CONNECT_FAILED). */
const connectFailed = 2;

/** Thrown when sshd could not reach the target (say, Marathon not listening yet): the caller may retry. */
interface ForwardRefused {
    forwardRefused: true;
}

export function isForwardRefused(err: unknown): boolean {
    return (err as Partial<ForwardRefused> | undefined)?.forwardRefused === true;
}

export async function httpOverSsh(host: SshHost, request: HttpRequest): Promise<HttpResponse> {
    const settings = settingsOrThrow();
    const timeoutMs = request.timeoutMs ?? settings.commandTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const maxBytes = settings.maxOutputBytes ?? defaultMaxOutputBytes;
    const what = `${request.method} http://${request.targetHost}:${request.targetPort}${request.path} via ${hostLabel(host)}`;
    const timedOut = (phase: string) =>
        new SshError(`${what}: no answer within ${timeoutMs} ms${phase ? ` (${phase})` : ""}`);
    return withChannel(host, deadline, timedOut, async (client) => {
        const channel = await openForward(client, host, request, deadline, timedOut);
        countChannel("forwards");
        return exchange(channel, request, { what, deadline, timedOut, maxBytes });
    });
}

function exchange(
    channel: ClientChannel,
    request: HttpRequest,
    limits: { what: string; deadline: number; timedOut: (phase: string) => Error; maxBytes: number },
): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
        const timer = setTimeout(
            () => {
                req.destroy();
                fail(limits.timedOut(""));
            },
            Math.max(0, limits.deadline - Date.now()),
        );
        let done = false;
        const fail = (err: Error) => {
            if (!done) {
                done = true;
                clearTimeout(timer);
                channel.destroy();
                reject(err instanceof SshError ? err : new SshError(`${limits.what}: ${err.message}`));
            }
        };
        const req = http.request(
            {
                method: request.method,
                path: request.path,
                host: request.targetHost,
                port: request.targetPort,
                headers: {
                    Accept: "application/json",
                    Connection: "close",
                    ...(request.body !== undefined
                        ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(request.body) }
                        : {}),
                },
                createConnection: () => channel as unknown as Socket,
            },
            (res) => {
                const chunks: Buffer[] = [];
                let size = 0;
                res.on("data", (chunk: Buffer) => {
                    size += chunk.length;
                    if (size > limits.maxBytes) {
                        req.destroy();
                        fail(
                            new SshError(
                                `${limits.what}: the response is larger than ${limits.maxBytes} bytes; stopped reading`,
                            ),
                        );
                        return;
                    }
                    chunks.push(chunk);
                });
                res.on("end", () => {
                    if (!done) {
                        done = true;
                        clearTimeout(timer);
                        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
                    }
                });
                res.on("error", (err) => fail(err));
            },
        );
        req.on("error", fail);
        req.end(request.body);
    });
}

function openForward(
    client: Client,
    host: SshHost,
    request: HttpRequest,
    deadline: number,
    timedOut: (phase: string) => Error,
): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
        let late = false;
        const timer = setTimeout(
            () => {
                late = true;
                reject(timedOut(`forwarding to ${request.targetHost}:${request.targetPort}`));
            },
            Math.max(0, deadline - Date.now()),
        );
        client.forwardOut("127.0.0.1", 0, request.targetHost, request.targetPort, (err, channel) => {
            clearTimeout(timer);
            if (late) {
                // the caller gave up: nothing is sent on a channel that opens after the deadline
                channel?.destroy();
                return;
            }
            if (err) {
                const refused = new SshError(
                    `on ${hostLabel(host)}: cannot reach ${request.targetHost}:${request.targetPort} through sshd: ${err.message}`,
                );
                reject(
                    (err as { reason?: number }).reason === connectFailed
                        ? Object.assign(refused, { forwardRefused: true })
                        : refused,
                );
            } else {
                resolve(channel);
            }
        });
    });
}
