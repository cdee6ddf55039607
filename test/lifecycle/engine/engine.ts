// TestEngine: up, preview, refresh and destroy over an in-memory checkpoint, each run with its own
// provider host (and, for up and preview, its own program process), as the CLI runs one per operation.
import { exportCheckpoint } from "./checkpoint";
import { Deployment } from "./deployment";
import { destroy } from "./destroy";
import { Drivers } from "./drivers";
import { RunJournal } from "./journal";
import { ProgramRun } from "./programRun";
import { ProviderHost } from "./providerHost";
import { makeSecret, revealedMap } from "./propertyValues";
import { refresh } from "./refresh";
import { SecretCipher } from "./secretCipher";
import { EngineOptions, PropertyMap, RunError, RunResult, StateFile, StateResource } from "./types";
import { rootStackType } from "./urns";

interface Stoppable {
    stop(): Promise<void>;
}

export class TestEngine {
    private resources: StateResource[] = [];
    private readonly config: Record<string, string>;
    private readonly secretKeys: Set<string>;
    private readonly cipher = new SecretCipher();
    private readonly running = new Set<Stoppable>();

    constructor(private readonly opts: EngineOptions) {
        this.config = { ...opts.config };
        this.secretKeys = new Set(opts.secretKeys ?? []);
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

    up(): Promise<RunResult> {
        return this.deploy(false);
    }

    /** Check and Diff only: never Create, Update, Delete or Read, and the checkpoint is left as it was. */
    preview(): Promise<RunResult> {
        return this.deploy(true);
    }

    refresh(): Promise<RunResult> {
        return this.run(new RunJournal(), async (host, journal) => {
            await refresh(this.resources, host, journal);
            return revealedMap(this.resources.find((r) => r.type === rootStackType)?.outputs ?? {});
        });
    }

    destroy(): Promise<RunResult> {
        return this.run(new RunJournal(), async (host, journal) => {
            await destroy(this.resources, this.drivers(host, journal), journal);
            return {};
        });
    }

    state(): StateFile {
        return exportCheckpoint(this.resources, this.cipher);
    }

    /** The checkpoint as `pulumi stack export` prints it: secrets only as ciphertext. */
    stateText(): string {
        return JSON.stringify(this.state(), null, 4);
    }

    async close(): Promise<void> {
        await Promise.all([...this.running].map((process) => this.stop(process)));
    }

    private deploy(preview: boolean): Promise<RunResult> {
        const journal = new RunJournal();
        const program = this.track(
            ProgramRun.launch({ projectDir: this.opts.projectDir, programPath: this.opts.programPath, onDiagnostic: (line) => journal.diagnostics.push(line) }),
        );
        const params = { project: this.opts.project, stack: this.opts.stack, preview, config: { ...this.config }, secretKeys: [...this.secretKeys] };
        return this.run(
            journal,
            async (host) => {
                const deployment = new Deployment({ ...params, prior: this.resources, drivers: this.drivers(host, journal), journal });
                let programFailure: Error | undefined;
                await program.run(params, deployment).catch((error: Error) => {
                    programFailure = error;
                });
                await deployment.settled();
                try {
                    // A failed step is the cause; the program's own failure is its consequence.
                    const failure = deployment.failure ?? programFailure;
                    if (failure !== undefined) {
                        throw failure;
                    }
                    await deployment.deleteLeftovers();
                } finally {
                    if (!preview) {
                        this.resources = deployment.snapshot();
                    }
                }
                return revealedMap(deployment.stackOutputs);
            },
            program,
        );
    }

    private async run(journal: RunJournal, operation: (host: ProviderHost, journal: RunJournal) => Promise<Record<string, any>>, program?: ProgramRun): Promise<RunResult> {
        let host: ProviderHost | undefined;
        let outputs: Record<string, any> = {};
        let failure: Error | undefined;
        try {
            host = this.track(
                await ProviderHost.start({
                    projectDir: this.opts.projectDir,
                    project: this.opts.project,
                    stack: this.opts.stack,
                    onCall: (call) => journal.rpcCalls.push(call),
                    onDiagnostic: (line) => journal.diagnostics.push(line),
                }),
            );
            await host.configure(this.configureArgs());
            outputs = await operation(host, journal);
        } catch (error) {
            failure = error instanceof Error ? error : new Error(String(error));
        } finally {
            await Promise.all([host, program].map((process) => process && this.stop(process)));
        }
        const result = journal.result(outputs);
        if (failure !== undefined) {
            throw new RunError(failure.message, result);
        }
        return result;
    }

    /** Configure gets the whole stack config; secret values travel as RPC secrets. */
    private configureArgs(): PropertyMap {
        return Object.fromEntries(Object.entries(this.config).map(([key, value]) => [key, this.secretKeys.has(key) ? makeSecret(value) : value]));
    }

    private drivers(host: ProviderHost, journal: RunJournal): Drivers {
        return new Drivers(host, this.opts.emulators ?? {}, (call) => journal.rpcCalls.push(call));
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
