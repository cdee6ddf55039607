// The test engine as a StackDriver: what a lifecycle test does to a stack, run by TestEngine.
import { StackDriver, StackRun, StackRunError } from "./stackDriver";
import { TestEngine } from "./testEngine";
import { RunError, RunResult, StateFile } from "./types";

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

    /** `pulumi up --yes`: a preview first, so a Check or Diff that fails on a value not known yet fails the up. */
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
