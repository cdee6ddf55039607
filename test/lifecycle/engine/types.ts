// The engine's public types: what a test configures, and what a run reports.

/** A resource's properties as the engine stores them: secrets stay wrapped, unknowns are the sentinel string. */
export type PropertyMap = Record<string, unknown>;

export interface EngineOptions {
    /** Where Pulumi.yaml and the program live; both child processes run with this cwd. */
    projectDir: string;
    project: string;
    stack: string;
    /** Absolute path of the program module to run. */
    programPath: string;
    /** "<project>:key" -> string value (objects JSON-encoded), as the CLI passes them. */
    config: Record<string, string>;
    secretKeys?: string[];
    /** Stand-ins for real (non-dynamic) provider plugins, by type token. */
    emulators?: Record<string, ResourceEmulator>;
}

/**
 * Stands in for a provider plugin. Values arrive in plain text (secrets revealed); update gets the old
 * OUTPUTS as olds, as the engine sends them to providers. Without update, outputs become old outputs
 * merged with the new inputs; without diff, any input change is an update (replaceOnChanges aside).
 */
export interface ResourceEmulator {
    create(inputs: Record<string, any>): Promise<{ id: string; outputs: Record<string, any> }>;
    update?(id: string, olds: Record<string, any>, news: Record<string, any>): Promise<Record<string, any>>;
    delete?(id: string, outputs: Record<string, any>): Promise<void>;
    diff?(olds: Record<string, any>, news: Record<string, any>): { changes: boolean; replaces: string[] };
}

export type StepOp = "same" | "create" | "update" | "replace" | "delete" | "read";

export interface StepRecord {
    op: StepOp;
    urn: string;
    type: string;
    name: string;
    diffKeys?: string[];
    replaceKeys?: string[];
}

export interface RpcCall {
    method: string;
    urn: string;
}

export interface RunResult {
    steps: StepRecord[];
    /** Stack outputs, secrets in plain text (like `pulumi stack output --show-secrets`); in preview, unknowns are the sentinel string. */
    outputs: Record<string, any>;
    /** What the provider host and the program printed, line by line, prefixed with their origin. */
    diagnostics: string[];
    /** Calls to the provider host, and to emulators (which stand in for provider plugins), in order. */
    rpcCalls: RpcCall[];
}

/** One resource of the checkpoint, shaped like a `pulumi stack export` entry. */
export interface StateResource {
    urn: string;
    type: string;
    custom: boolean;
    id?: string;
    inputs: PropertyMap;
    outputs: PropertyMap;
    parent?: string;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
    provider?: string;
    additionalSecretOutputs?: string[];
    /** Delete is skipped when this resource is deleted in the same run. */
    deletedWith?: string;
    /** A replaced resource waiting for deletion, as Pulumi marks it. */
    delete?: boolean;
    initErrors?: string[];
}

export interface StateFile {
    version: 3;
    deployment: { resources: StateResource[] };
}

/** A failed run: the message names the resource and the provider's error; the partial run is attached. */
export class RunError extends Error {
    constructor(message: string, readonly result: RunResult) {
        super(message);
        this.name = "RunError";
    }
}
