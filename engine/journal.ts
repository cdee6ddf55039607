// What one run reports (RunResult): its steps, the provider calls it made and when, and what its processes printed.
// The engine's own; the steps are those the CLI shows.
import { nameOf } from "./urns";
import { RpcCall, RunResult, RunTimings, StepOp, StepRecord, PlainProperties } from "./types";

export class RunJournal {
    readonly steps: StepRecord[] = [];
    readonly rpcCalls: RpcCall[] = [];
    readonly diagnostics: string[] = [];
    private readonly startedAt = performance.now();
    private readonly timings: RunTimings = { marks: [], hostCalls: [] };

    /**
     * A point in the run; `epochMs` places one another process measured (performance.timeOrigin + performance.now()
     * there).
     */
    mark(event: string, epochMs?: number): void {
        const at = epochMs === undefined ? performance.now() : epochMs - performance.timeOrigin;
        this.timings.marks.push({ event, atMs: at - this.startedAt });
    }

    hostCall(call: RpcCall, startedAt: number, answeredAt: number): void {
        this.timings.hostCalls.push({
            ...call,
            startMs: startedAt - this.startedAt,
            endMs: answeredAt - this.startedAt,
        });
    }

    step(
        op: StepOp,
        resource: { urn: string; type: string },
        keys: { diffKeys?: string[]; replaceKeys?: string[] } = {},
    ): void {
        this.steps.push({ op, urn: resource.urn, type: resource.type, name: nameOf(resource.urn), ...keys });
    }

    result(outputs: PlainProperties): RunResult {
        return {
            steps: [...this.steps],
            outputs,
            diagnostics: [...this.diagnostics],
            rpcCalls: [...this.rpcCalls],
            timings: {
                marks: [...this.timings.marks].sort((a, b) => a.atMs - b.atMs),
                hostCalls: [...this.timings.hostCalls],
            },
        };
    }
}
