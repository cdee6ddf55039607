// What a lifecycle test may do to a stack, whoever runs it: the test engine (test/lifecycle/engine), or the real
// Pulumi CLI through the Automation API (automationDriver.ts) where one is installed. Assertions see only this: the
// steps a run shows, its outputs and diagnostics, the exported checkpoint, and the cluster itself.
import { RunError, RunResult, StateFile, StepRecord, TestEngine } from "./engine";

/** What a run shows a user: its steps (as `pulumi up` lists them), the stack outputs, and what was printed. */
export interface StackRun {
    steps: StepRecord[];
    outputs: Record<string, any>;
    diagnostics: string[];
}

export class StackRunError extends Error {
    constructor(message: string, readonly run: StackRun) {
        super(message);
        this.message = message;
        this.name = "StackRunError";
    }
}

export interface StackDriver {
    /** Who runs the stack, for test titles. */
    readonly name: string;
    /** `pulumi config set [--secret] <key> <value>` (keys with their namespace). */
    setConfig(key: string, value: string, options?: { secret?: boolean }): Promise<void>;
    up(): Promise<StackRun>;
    preview(): Promise<StackRun>;
    /** `pulumi refresh --yes [--clear-pending-creates]`. */
    refresh(options?: { clearPendingCreates?: boolean }): Promise<StackRun>;
    destroy(): Promise<StackRun>;
    /** `pulumi cancel --yes`. */
    cancel(): Promise<void>;
    /** `pulumi stack export` (secrets encrypted). */
    exportStack(): Promise<StateFile>;
    /** Stops whatever the driver runs and removes what it made for itself (not the stack's resources). */
    close(): Promise<void>;
}

function stackRun(result: RunResult): StackRun {
    return { steps: result.steps, outputs: result.outputs, diagnostics: result.diagnostics };
}

/** The test engine as a driver. */
export class EngineDriver implements StackDriver {
    readonly name = "the test engine";

    constructor(readonly engine: TestEngine) {}

    async setConfig(key: string, value: string, options: { secret?: boolean } = {}): Promise<void> {
        this.engine.setConfig(key, value, options);
    }

    up(): Promise<StackRun> {
        return this.wrap(this.engine.up());
    }

    preview(): Promise<StackRun> {
        return this.wrap(this.engine.preview());
    }

    refresh(options: { clearPendingCreates?: boolean } = {}): Promise<StackRun> {
        return this.wrap(this.engine.refresh(options));
    }

    destroy(): Promise<StackRun> {
        return this.wrap(this.engine.destroy());
    }

    async cancel(): Promise<void> {
        this.engine.cancel();
    }

    async exportStack(): Promise<StateFile> {
        return this.engine.state();
    }

    close(): Promise<void> {
        return this.engine.close();
    }

    private async wrap(run: Promise<RunResult>): Promise<StackRun> {
        try {
            return stackRun(await run);
        } catch (error) {
            throw error instanceof RunError ? new StackRunError(error.message, stackRun(error.result)) : error;
        }
    }
}

/** The resources of an exported checkpoint that stand for something on the cluster: custom, providers aside. */
export function managedResources(state: StateFile): string[] {
    return state.deployment.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).map((r) => r.urn.split("::").pop()!);
}
