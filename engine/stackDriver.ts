// What a lifecycle test may do to a stack, whoever runs it: the test engine (engineDriver.ts), or the real Pulumi CLI
// through the Automation API (automationDriver.ts) where one is installed. Assertions see only this: the steps a run
// shows, its outputs and diagnostics, the exported checkpoint, and the cluster itself.
import { StateFile, StepRecord, PlainProperties } from "./types";
import { isProviderType } from "./urns";

/** What a run shows a user: its steps (as `pulumi up` lists them), the stack outputs, and what was printed. */
export interface StackRun {
    steps: StepRecord[];
    outputs: PlainProperties;
    diagnostics: string[];
}

export class StackRunError extends Error {
    constructor(
        message: string,
        readonly run: StackRun,
    ) {
        super(message);
        this.name = "StackRunError";
    }
}

export interface StackDriver {
    /** Who runs the stack, for test titles. */
    readonly name: string;
    /** `pulumi config set [--secret] <key> <value>` (keys with their namespace). */
    setConfig(key: string, value: string, options?: { secret?: boolean }): Promise<void>;
    /** `pulumi up --yes`; the test engine previews first as the CLI does, the Automation API does not. */
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

/** The resources of an exported checkpoint that stand for something on the cluster: custom, providers aside. */
export function managedResources(state: StateFile): string[] {
    return state.deployment.resources
        .filter((r) => r.custom && !isProviderType(r.type))
        .map((r) => r.urn.split("::").pop()!);
}
