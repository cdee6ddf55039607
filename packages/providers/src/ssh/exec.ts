// Remote commands over the pooled connection: one timeout for the whole call
// (waiting for a channel, opening it, running), a cap on what a command may
// print, and the one place where a non-zero exit becomes an error.
import { setTimeout as sleep } from "timers/promises";
import type { Client, ClientChannel } from "ssh2";
import { RemoteCommandError, SshError } from "../errors";
import { countChannel, hostLabel, settingsOrThrow, withChannel } from "./pool";
import { displayed, ShellScript } from "./shell";
import { defaultMaxOutputBytes } from "./settings";
import { CommandResult, RunOptions, SshHost } from "./types";

/** Tries to open a command's channel while sshd still counts just-closed sessions. */
const channelOpenAttempts = 10;

export interface ExecSpec {
    /** Who runs it, for messages: user@address:port. */
    label: string;
    command: string;
    stdin?: string;
    /** Epoch ms: past it the command is stopped, or never started. */
    deadline: number;
    timedOut: (phase: string) => Error;
    maxOutputBytes: number;
}

export interface RunCheckedOptions extends RunOptions {
    /** A non-zero exit that is an answer rather than a failure (say, "No such network" on a delete). */
    accept?: (result: CommandResult) => boolean;
    /** The command to name in the error, when the script around it is incidental. */
    shownAs?: readonly string[] | ShellScript;
}

function abbreviate(text: string): string {
    return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

/** Runs one command; a non-zero exit is a result, not an error. */
export async function runCommand(
    host: SshHost,
    argvOrScript: readonly string[] | ShellScript,
    options: RunOptions = {},
): Promise<CommandResult> {
    const settings = settingsOrThrow();
    const command = displayed(argvOrScript);
    const timeoutMs = options.timeoutMs ?? settings.commandTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const label = hostLabel(host);
    const timedOut = (phase: string) =>
        new SshError(
            `on ${label}: \`${abbreviate(command)}\` timed out after ${timeoutMs} ms${phase ? ` (${phase})` : ""}`,
        );
    const spec: ExecSpec = {
        label,
        command,
        stdin: options.stdin,
        deadline,
        timedOut,
        maxOutputBytes: settings.maxOutputBytes ?? defaultMaxOutputBytes,
    };
    for (let attempt = 1; ; attempt++) {
        try {
            return await withChannel(host, deadline, timedOut, (client) => execOnce(client, spec));
        } catch (err) {
            // sshd frees a closed session's slot a moment after the close, so a burst can still meet its
            // MaxSessions; the command never started, so it is safe to open the channel again
            if (
                !(err as { channelRefused?: boolean }).channelRefused ||
                attempt === channelOpenAttempts ||
                Date.now() >= deadline
            ) {
                throw err;
            }
            await sleep(20 * attempt);
        }
    }
}

/** Runs one command and throws, naming host, command and output, unless it exits 0 (or `accept` takes its answer). */
export async function runChecked(
    host: SshHost,
    argvOrScript: readonly string[] | ShellScript,
    options: RunCheckedOptions = {},
): Promise<CommandResult> {
    const result = await runCommand(host, argvOrScript, options);
    if (result.code !== 0 && !options.accept?.(result)) {
        throw commandFailure(host, options.shownAs ?? argvOrScript, result);
    }
    return result;
}

function commandFailure(
    host: SshHost,
    argvOrScript: readonly string[] | ShellScript,
    result: CommandResult,
): RemoteCommandError {
    const output = [result.stderr.trim(), result.stdout.trim()].filter((s) => s.length > 0).join("\n");
    return new RemoteCommandError(
        `on ${hostLabel(host)}: \`${abbreviate(displayed(argvOrScript))}\` exited ${result.code}${output ? `: ${abbreviate(output)}` : ""}`,
    );
}

/**
 * One command on an open connection. When the deadline passes before sshd opens the channel, the call
 * fails at once and the channel, once it opens, is closed without its stdin.
 */
export function execOnce(client: Pick<Client, "exec">, spec: ExecSpec): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        if (Date.now() >= spec.deadline) {
            reject(spec.timedOut("before its channel opened"));
            return;
        }
        let settled = false;
        let channelRef: ClientChannel | undefined;
        const timer = setTimeout(() => {
            const phase = channelRef === undefined ? "before its channel opened" : "";
            channelRef?.close();
            finish(() => reject(spec.timedOut(phase)));
        }, spec.deadline - Date.now());
        const finish = (outcome: () => void) => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                outcome();
            }
        };
        client.exec(spec.command, (err, channel) => {
            if (err) {
                const refused = new SshError(
                    `on ${spec.label}: cannot start \`${abbreviate(spec.command)}\`: ${err.message}`,
                );
                finish(() =>
                    reject(
                        Object.assign(refused, {
                            channelRefused: /open failed|Channel open failure/.test(err.message),
                        }),
                    ),
                );
                return;
            }
            if (settled) {
                // too late: the caller was told it timed out, so the command gets no input and its channel goes
                channel.close();
                return;
            }
            channelRef = channel;
            countChannel("commands");
            const output = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
            const sizes = { stdout: 0, stderr: 0 };
            let exitCode: number | undefined;
            const collect = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
                sizes[stream] += chunk.length;
                if (sizes[stream] > spec.maxOutputBytes) {
                    channel.close();
                    finish(() =>
                        reject(
                            new SshError(
                                `on ${spec.label}: \`${abbreviate(spec.command)}\` printed more than ${spec.maxOutputBytes} bytes on ${stream}; stopped it`,
                            ),
                        ),
                    );
                    return;
                }
                output[stream].push(chunk);
            };
            channel.on("data", collect("stdout"));
            channel.stderr.on("data", collect("stderr"));
            channel.on("exit", (code: number | null, signal?: string) => {
                exitCode = code ?? (signal ? 128 : 255);
            });
            channel.on("close", () => {
                if (exitCode === undefined) {
                    finish(() =>
                        reject(
                            new SshError(
                                `on ${spec.label}: \`${abbreviate(spec.command)}\`: the connection closed before the command finished`,
                            ),
                        ),
                    );
                    return;
                }
                const code = exitCode;
                finish(() =>
                    resolve({
                        stdout: Buffer.concat(output.stdout).toString("utf8"),
                        stderr: Buffer.concat(output.stderr).toString("utf8"),
                        code,
                    }),
                );
            });
            channel.end(spec.stdin);
        });
    });
}
