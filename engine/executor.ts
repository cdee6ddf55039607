// The step executor: a fixed number of workers (the run's parallelism) takes chains of steps; a chain's steps run one
// after another.
// Follows pulumi/pulumi v3.248.0, pkg/resource/deploy/step_executor.go.
//
// After the first failure the executor is cancelled: a step not yet started never starts (executeChain checks the
// context before each step, and ExecuteSerial drops a chain submitted after it), while steps already running finish.
// A refresh's executor ignores errors (newStepExecutor(..., ignoreErrors=true) in deploymentExecutor.refresh): every
// step runs.
import * as os from "os";

export type Step = () => Promise<void>;

/**
 * `pulumi up/destroy/refresh --parallel` defaults to 4 x runtime.GOMAXPROCS(0), or PULUMI_PARALLEL when set
 * (defaultParallel in pkg/cmd/pulumi/operations/up.go). GOMAXPROCS defaults to the CPUs the process may use, which
 * Node reports as os.availableParallelism() (the CPU affinity mask); Go 1.25 also lowers it to a cgroup CPU quota,
 * which Node does not see.
 */
export function defaultParallelism(): number {
    const fromEnvironment = Number(process.env.PULUMI_PARALLEL);
    return Number.isInteger(fromEnvironment) && fromEnvironment > 0 ? fromEnvironment : 4 * os.availableParallelism();
}

export class StepExecutor {
    private running = 0;
    private readonly waiting: (() => void)[] = [];
    private readonly inFlight = new Set<Promise<void>>();
    private firstFailure?: Error;

    /** `parallel` <= 1 means one worker, as Options.DegreeOfParallelism does. */
    constructor(
        private readonly parallel: number,
        private readonly ignoreErrors = false,
    ) {}

    get failure(): Error | undefined {
        return this.firstFailure;
    }

    /** Marks the run failed, as a step generation error cancels the executor's context. */
    fail(error: Error): void {
        this.firstFailure ??= error;
    }

    get cancelled(): boolean {
        return this.firstFailure !== undefined && !this.ignoreErrors;
    }

    /**
     * `done` resolves once the chain has run, or was dropped or cut short by a cancellation; never rejects.
     * `accepted` resolves once a worker took the chain (or it was dropped): ExecuteSerial sends the chain on an
     * unbuffered channel, so the deployment executor's loop, which generates the steps, waits for a free worker.
     */
    executeSerial(chain: Step[]): { accepted: Promise<void>; done: Promise<void> } {
        let accept!: () => void;
        const accepted = new Promise<void>((resolve) => {
            accept = resolve;
        });
        const done = this.runChain(chain, accept).finally(accept);
        this.inFlight.add(done);
        void done.then(() => this.inFlight.delete(done));
        return { accepted, done };
    }

    /** ExecuteParallel: each step as a chain of its own; resolves when all of them are done. */
    async executeParallel(steps: Step[]): Promise<void> {
        await Promise.all(steps.map((step) => this.executeSerial([step]).done));
    }

    /** WaitForCompletion. */
    async settled(): Promise<void> {
        while (this.inFlight.size > 0) {
            await Promise.all(this.inFlight);
        }
    }

    private async runChain(chain: Step[], accept: () => void): Promise<void> {
        if (this.cancelled) {
            return;
        }
        await this.acquireWorker();
        accept();
        try {
            for (const step of chain) {
                if (this.cancelled) {
                    return;
                }
                try {
                    await step();
                } catch (error) {
                    this.fail(error instanceof Error ? error : new Error(String(error)));
                    return;
                }
            }
        } finally {
            this.releaseWorker();
        }
    }

    private acquireWorker(): Promise<void> {
        if (this.running < Math.max(1, this.parallel)) {
            this.running++;
            return Promise.resolve();
        }
        return new Promise((resolve) =>
            this.waiting.push(() => {
                this.running++;
                resolve();
            }),
        );
    }

    private releaseWorker(): void {
        this.running--;
        this.waiting.shift()?.();
    }
}
