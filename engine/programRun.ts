// The parent side of the program runner (programRunner.ts): forks it, answers its registrations, collects its output.
// It stands in for the language host's launch of the program; the engine's own.
import { ChildProcess, fork } from "child_process";
import * as path from "path";
import * as readline from "readline";
import { programEntry } from "./programEntry";
import {
    EngineMessage,
    ProgramMessage,
    ProgramParams,
    ProgramRequest,
    ProgramTimings,
    Registration,
    RegistrationReply,
} from "./programMessages";
import { PropertyMap } from "./types";

interface ProgramHandlers {
    register(registration: Registration): Promise<RegistrationReply>;
    registerOutputs(urn: string, outputs: PropertyMap): void;
}

interface ProgramLaunch {
    projectDir: string;
    onDiagnostic(line: string): void;
}

export class ProgramRun {
    private readonly exited: Promise<number | null>;

    private constructor(private readonly child: ChildProcess) {
        this.exited = new Promise((resolve) => child.once("close", (code) => resolve(code)));
    }

    /**
     * Forks the runner now, so that it loads the SDK while the provider host starts. The runner is TypeScript, so
     * ts-node is registered for it (transpile-only) whatever the project says; it also loads a program that Pulumi.yaml
     * leaves to ts-node, where the language host would type-check it too (`npm test` runs tsc for that).
     */
    static launch(launch: ProgramLaunch): ProgramRun {
        const entry = programEntry(launch.projectDir);
        const child = fork(path.join(__dirname, "programRunner.ts"), [entry.programPath, String(entry.typescript)], {
            cwd: entry.workDir,
            execArgv: ["-r", require.resolve("ts-node/register/transpile-only")],
            env: { ...process.env, PULUMI_NODEJS_ROOT_DIRECTORY: launch.projectDir },
            stdio: ["ignore", "pipe", "pipe", "ipc"],
        });
        readline
            .createInterface({ input: child.stdout! })
            .on("line", (line) => launch.onDiagnostic(`[program] ${line}`));
        readline
            .createInterface({ input: child.stderr! })
            .on("line", (line) => launch.onDiagnostic(`[program] ${line}`));
        return new ProgramRun(child);
    }

    /**
     * Runs the program to its end, answering with when the runner reached each point; rejects if it fails or exits
     * without finishing.
     */
    run(params: ProgramParams, handlers: ProgramHandlers): Promise<ProgramTimings> {
        return new Promise<ProgramTimings>((resolve, reject) => {
            this.child.on("message", (message: ProgramMessage) => {
                if (message.kind === "done") {
                    resolve(message.timings);
                } else if (message.kind === "failed") {
                    reject(new Error(`the program failed: ${message.message}`));
                } else {
                    this.answer(message, handlers);
                }
            });
            void this.exited.then((code) => reject(new Error(`the program exited with code ${code} before finishing`)));
            this.send({ kind: "start", params });
        });
    }

    /**
     * Kills the runner and waits until its output is drained. ChildProcess.kill takes a process that is gone already
     * (reaped, its exit not yet reported) as a no-op, where process.kill(pid) would throw ESRCH.
     */
    async stop(): Promise<void> {
        this.child.kill("SIGKILL");
        await this.exited;
    }

    private answer(message: ProgramRequest, handlers: ProgramHandlers): void {
        this.handle(message, handlers).then(
            (value) => this.send({ kind: "reply", seq: message.seq, value }),
            (error: unknown) =>
                this.send({
                    kind: "reply",
                    seq: message.seq,
                    error: error instanceof Error ? error.message : String(error),
                }),
        );
    }

    private async handle(message: ProgramRequest, handlers: ProgramHandlers): Promise<unknown> {
        switch (message.kind) {
            case "register":
                return handlers.register(message.registration);
            case "registerOutputs":
                return handlers.registerOutputs(message.urn, message.outputs);
            case "invoke":
                throw new Error(`function ${message.token} is not emulated by the test engine`);
            case "read":
                throw new Error(
                    `reading an existing resource (${message.name}, ${message.type}) is not modeled by the test engine`,
                );
        }
    }

    private send(message: EngineMessage): void {
        if (this.child.connected) {
            // a runner killed since the check (an interrupted run) cannot take the reply: exited reports it
            this.child.send(message, () => undefined);
        }
    }
}
