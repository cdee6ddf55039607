// TestEngine: up, preview, refresh and destroy over an in-memory checkpoint, each run with its own provider host (and,
// for up and preview, its own program process), as the CLI runs one per operation, on a stack with a file:// backend.
// Follows pulumi/pulumi v3.248.0, pkg/backend/diy/backend.go (Update, Refresh and Destroy call Lock; Preview does not).
//
// Up, refresh and destroy lock the stack for their run (stackLocks.ts), and a run killed mid-way leaves its lock and
// its last checkpoint.
import { Checkpoint, emptyCheckpoint, exportCheckpoint, pendingOperationsWarning, RunCheckpoint } from "./checkpoint";
import { configureArgs, isDefaultDynamicProvider } from "./defaultProviders";
import { Deployment } from "./deployment";
import { destroy } from "./destroy";
import { ResourceDrivers } from "./resourceDrivers";
import { defaultParallelism, StepExecutor } from "./executor";
import { RunJournal } from "./journal";
import { ProgramRun } from "./programRun";
import { ProviderHost } from "./providerHost";
import { revealedMap } from "./propertyValues";
import { refresh } from "./refresh";
import { SecretCipher } from "./secretCipher";
import { StackLock, StackLocks } from "./stackLocks";
import { StepContext } from "./steps";
import {
    EngineOptions,
    PlainProperties,
    RefreshOptions,
    RunError,
    RunOptions,
    RunResult,
    StateFile,
    UpOptions,
} from "./types";
import { rootStackType } from "./urns";

interface Stoppable {
    stop(): Promise<void>;
}

type RunKind = "update" | "preview" | "refresh" | "destroy";

/** The stack's lock as one operation holds it: a kill abandons it, and then it stays until `pulumi cancel`. */
interface LockLease {
    lock: StackLock;
    abandoned: boolean;
}

/** A run in progress: what its checkpoint holds right now, so that a kill leaves exactly that, and its lock. */
interface ActiveRun {
    kind: RunKind;
    checkpoint: RunCheckpoint;
    killed: boolean;
    lease?: LockLease;
}

export class TestEngine {
    private checkpoint: Checkpoint = emptyCheckpoint;
    private readonly config: Record<string, string>;
    private readonly secretKeys: Set<string>;
    private readonly cipher = new SecretCipher();
    private readonly running = new Set<Stoppable>();
    private readonly locks: StackLocks;
    private readonly active = new Set<ActiveRun>();

    constructor(private readonly opts: EngineOptions) {
        this.config = { ...opts.config };
        this.secretKeys = new Set(opts.secretKeys ?? []);
        this.locks = new StackLocks(opts.project, opts.stack);
    }

    /** Like `pulumi config set [--secret] key value`: takes effect from the next run. */
    setConfig(key: string, value: string, options: { secret?: boolean } = {}): void {
        this.config[key] = value;
        if (options.secret) {
            this.secretKeys.add(key);
        } else {
            this.secretKeys.delete(key);
        }
    }

    /**
     * Like `pulumi up --yes`: the stack locked first (pkg/backend/diy/backend.go, Update), then under that one lock a
     * preview and, unless it fails, the update (pkg/backend/apply.go, PreviewThenPromptThenExecute), each running the
     * program. The result is the update's. `skipPreview` is `--skip-preview`, which the Automation API's Stack.up
     * always passes (sdk/nodejs/automation/stack.ts).
     */
    async up(options: UpOptions = {}): Promise<RunResult> {
        if (options.skipPreview) {
            return this.deploy("update", options);
        }
        if (this.locks.held) {
            throw new RunError(this.locks.refusal(), new RunJournal().result({}));
        }
        const lease: LockLease = { lock: this.locks.take(), abandoned: false };
        // the update's program loads the SDK while the preview runs; its journal's times count from the up's start
        const update = this.launchProgram();
        try {
            await this.deploy("preview", options, lease);
            update.journal.mark("preview finished");
            return await this.deploy("update", options, lease, update);
        } finally {
            await this.stop(update.program);
            if (!lease.abandoned) {
                this.locks.release(lease.lock);
            }
        }
    }

    /** Check and Diff only: never Create, Update, Delete or Read, and the checkpoint is left as it was. */
    preview(options: RunOptions = {}): Promise<RunResult> {
        return this.deploy("preview", options);
    }

    /**
     * Like `pulumi refresh --yes` (non-interactive, as from a script or the Automation API): pending CREATEs stay
     * unless `clearPendingCreates` is set (pkg/cmd/pulumi/operations/refresh.go; only an interactive refresh asks
     * about each one). The providers are configured from the config saved in the checkpoint, not today's.
     */
    refresh(options: RefreshOptions = {}): Promise<RunResult> {
        return this.run(
            "refresh",
            new RunJournal(),
            options,
            async (ctx, executor) => {
                await refresh(ctx, executor);
                return revealedMap(ctx.checkpoint.base.find((r) => r.type === rootStackType)?.outputs ?? {});
            },
            {
                beforeStart: () => {
                    if (options.clearPendingCreates) {
                        this.checkpoint = {
                            ...this.checkpoint,
                            pendingOperations: this.checkpoint.pendingOperations.filter((op) => op.type !== "creating"),
                        };
                    }
                },
            },
        );
    }

    /** Like `pulumi destroy --yes`: the providers are configured from the config saved in the checkpoint. */
    destroy(options: RunOptions = {}): Promise<RunResult> {
        return this.run("destroy", new RunJournal(), options, async (ctx, executor) => {
            await destroy(ctx, executor);
            return {};
        });
    }

    /** Like `pulumi cancel` on a diy backend: removes every lock file of the stack. */
    cancel(): void {
        this.locks.removeAll();
    }

    get locked(): boolean {
        return this.locks.held;
    }

    /**
     * `pulumi stack export`, or with `showSecrets` `pulumi stack export --show-secrets` (secrets as JSON plaintext).
     */
    state(options: { showSecrets?: boolean } = {}): StateFile {
        return exportCheckpoint(this.checkpoint, options.showSecrets ? undefined : this.cipher);
    }

    /** The checkpoint as `pulumi stack export` prints it: secrets only as ciphertext. */
    stateText(): string {
        return JSON.stringify(this.state(), null, 4);
    }

    /**
     * Kills every process of this engine, as SIGKILL kills the CLI: a run in progress keeps the checkpoint as it was
     * last written (its operations in flight pending) and its lock, and fails.
     */
    async close(): Promise<void> {
        for (const run of this.active) {
            run.killed = true;
            if (run.lease !== undefined) {
                run.lease.abandoned = true;
            }
            if (run.kind !== "preview") {
                this.checkpoint = run.checkpoint.snapshot();
            }
        }
        await Promise.all([...this.running].map((process) => this.stop(process)));
    }

    /** A program process, forked ahead of its run, and the journal of that run, which its output goes to. */
    private launchProgram(): { journal: RunJournal; program: ProgramRun } {
        const journal = new RunJournal();
        const program = this.track(
            ProgramRun.launch({
                projectDir: this.opts.projectDir,
                onDiagnostic: (line) => journal.diagnostics.push(line),
            }),
        );
        return { journal, program };
    }

    /** `lease`: the lock of the `up` this run is part of; `launched`: its program process, when forked already. */
    private deploy(
        kind: "update" | "preview",
        options: RunOptions,
        lease?: LockLease,
        launched = this.launchProgram(),
    ): Promise<RunResult> {
        const { journal, program } = launched;
        const preview = kind === "preview";
        const params = {
            project: this.opts.project,
            stack: this.opts.stack,
            preview,
            config: { ...this.config },
            secretKeys: [...this.secretKeys],
        };
        return this.run(
            kind,
            journal,
            options,
            async (ctx, executor, host) => {
                if (!preview && this.checkpoint.pendingOperations.length > 0) {
                    journal.diagnostics.push(`[engine] warning: ${pendingOperationsWarning(this.checkpoint)}`);
                }
                const deployment = new Deployment({
                    ...ctx,
                    project: this.opts.project,
                    stack: this.opts.stack,
                    executor,
                    config: params.config,
                    secretKeys: new Set(params.secretKeys),
                    configureDynamicProvider: (args) => host.configure(args),
                });
                let programFailure: Error | undefined;
                const timings = await program.run(params, deployment).catch((error: Error) => {
                    programFailure = error;
                });
                if (timings) {
                    journal.mark("program process started", timings.processStarted);
                    journal.mark("program SDK loaded", timings.sdkLoaded);
                    journal.mark("program started", timings.started);
                    journal.mark("program loaded", timings.programLoaded);
                    journal.mark("program finished");
                }
                await executor.settled();
                // A failed step is the cause; the program's own failure is its consequence.
                const failure = deployment.failure ?? programFailure;
                if (failure !== undefined) {
                    throw failure;
                }
                await deployment.deleteLeftovers();
                return revealedMap(deployment.stackOutputs);
            },
            { program, lease },
        );
    }

    /**
     * One run. It takes the stack's lock unless it is a preview, or runs within an `up` that holds it (`lease`);
     * `beforeStart` changes the checkpoint once the lock is held; `program` is the run's program process.
     */
    private async run(
        kind: RunKind,
        journal: RunJournal,
        options: RunOptions,
        operation: (ctx: StepContext, executor: StepExecutor, host: ProviderHost) => Promise<PlainProperties>,
        extras: { beforeStart?: () => void; program?: ProgramRun; lease?: LockLease } = {},
    ): Promise<RunResult> {
        const { beforeStart, program } = extras;
        if (extras.lease === undefined && kind !== "preview" && this.locks.held) {
            await (program && this.stop(program));
            throw new RunError(this.locks.refusal(), journal.result({}));
        }
        const ownLease = extras.lease === undefined && kind !== "preview";
        const lease = ownLease ? { lock: this.locks.take(), abandoned: false } : extras.lease;
        beforeStart?.();
        const checkpoint = new RunCheckpoint(
            structuredClone(this.checkpoint.resources),
            structuredClone(this.checkpoint.pendingOperations),
        );
        const active: ActiveRun = { kind, checkpoint, killed: false, lease };
        this.active.add(active);
        const executor = new StepExecutor(
            options.parallel ?? this.opts.parallel ?? defaultParallelism(),
            kind === "refresh",
        );
        let host: ProviderHost | undefined;
        let outputs: PlainProperties = {};
        let failure: Error | undefined;
        try {
            host = this.track(
                await ProviderHost.start({
                    projectDir: this.opts.projectDir,
                    project: this.opts.project,
                    stack: this.opts.stack,
                    onCall: (call) => journal.rpcCalls.push(call),
                    onAnswer: (call, sentAt, answeredAt) => journal.hostCall(call, sentAt, answeredAt),
                    onDiagnostic: (line) => journal.diagnostics.push(line),
                }),
            );
            journal.mark("provider host listening");
            const drivers = new ResourceDrivers(
                host,
                this.opts.emulators ?? {},
                (call) => journal.rpcCalls.push(call),
                (line) => journal.diagnostics.push(line),
            );
            const ctx: StepContext = { preview: kind === "preview", checkpoint, drivers, journal, deletes: new Set() };
            if (kind === "refresh" || kind === "destroy") {
                await this.configureFromCheckpoint(host);
            }
            outputs = await operation(ctx, executor, host);
            await executor.settled();
            journal.mark("steps done");
            if (executor.failure !== undefined) {
                throw executor.failure;
            }
        } catch (error) {
            failure = error instanceof Error ? error : new Error(String(error));
        } finally {
            await executor.settled();
            await Promise.all([host, program].map((process) => process && this.stop(process)));
            this.active.delete(active);
            if (!active.killed) {
                if (kind !== "preview") {
                    this.checkpoint = checkpoint.snapshot();
                }
                if (ownLease) {
                    this.locks.release(lease!.lock);
                }
            }
        }
        journal.mark("processes stopped");
        const result = journal.result(outputs);
        if (active.killed) {
            throw new RunError(
                `the ${kind} was killed before it finished${failure ? ` (${failure.message})` : ""}`,
                result,
            );
        }
        if (failure !== undefined) {
            throw new RunError(failure.message, result);
        }
        return result;
    }

    /**
     * Without the program, providers come from the checkpoint (NewRegistry, Registry.Same/loadProvider): the dynamic
     * provider host is configured with the inputs its default provider saved at the last up.
     */
    private async configureFromCheckpoint(host: ProviderHost): Promise<void> {
        const saved = this.checkpoint.resources.find(isDefaultDynamicProvider);
        await host.configure(saved === undefined ? {} : configureArgs(saved.inputs));
    }

    private track<T extends Stoppable>(process: T): T {
        this.running.add(process);
        return process;
    }

    private async stop(process: Stoppable): Promise<void> {
        await process.stop();
        this.running.delete(process);
    }
}
