// What one run reports: its steps, the provider calls it made, and what its processes printed.
import { nameOf } from "./urns";
import { RpcCall, RunResult, StepOp, StepRecord } from "./types";

export class RunJournal {
    readonly steps: StepRecord[] = [];
    readonly rpcCalls: RpcCall[] = [];
    readonly diagnostics: string[] = [];

    step(op: StepOp, resource: { urn: string; type: string }, keys: { diffKeys?: string[]; replaceKeys?: string[] } = {}): void {
        this.steps.push({ op, urn: resource.urn, type: resource.type, name: nameOf(resource.urn), ...keys });
    }

    result(outputs: Record<string, any>): RunResult {
        return {
            steps: [...this.steps],
            outputs,
            diagnostics: [...this.diagnostics],
            rpcCalls: [...this.rpcCalls],
        };
    }
}
