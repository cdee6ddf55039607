// The engine's types: what a test configures, what a run reports, and the checkpoint as `pulumi stack export` shows it.
// The checkpoint follows pulumi/pulumi v3.248.0, sdk/go/common/apitype/core.go (version 3).

/** A resource's properties as the engine stores them: secrets stay wrapped, unknowns are the sentinel string. */
export type PropertyMap = Record<string, unknown>;

/** The customTimeouts option, in seconds per operation (sdk/go/common/resource/custom_timeouts.go). */
export interface CustomTimeouts {
    create?: number;
    update?: number;
    delete?: number;
    read?: number;
}

export interface EngineOptions {
    /**
     * Where Pulumi.yaml lives: the provider host runs here, the program where Pulumi.yaml and package.json say
     * (programEntry.ts).
     */
    projectDir: string;
    project: string;
    stack: string;
    /** "<project>:key" -> string value (objects JSON-encoded), as the CLI passes them. */
    config: Record<string, string>;
    secretKeys?: string[];
    /** Stand-ins for real (non-dynamic) provider plugins, by type token. */
    emulators?: Record<string, ResourceEmulator>;
    /** `--parallel` for every run: resource operations at once (default 4 x GOMAXPROCS, or PULUMI_PARALLEL). */
    parallel?: number;
}

export interface RunOptions {
    /** `--parallel` for this run. */
    parallel?: number;
}

export interface UpOptions extends RunOptions {
    /** `pulumi up --skip-preview`: the update alone, as the Automation API runs it. */
    skipPreview?: boolean;
}

export interface RefreshOptions extends RunOptions {
    /** `pulumi refresh --clear-pending-creates`: drops every pending CREATE from the checkpoint first. */
    clearPendingCreates?: boolean;
}

/** What an emulator may report, as a plugin's log lines reach the CLI. */
export interface EmulatorContext {
    /** The resource's name, as the engine passes it with each call. */
    name: string;
    log(message: string): void;
    /** The operation's custom timeout, as the engine sends it with the call. */
    timeoutSeconds?: number;
}

/**
 * Properties in plain text as a plugin or a test reads them: JSON from gRPC's Struct, each reader knowing its shape.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the one untyped bag; its readers know their resource
export type PlainProperties = Record<string, any>;

/**
 * Stands in for a provider plugin. Values arrive in plain text (secrets revealed); diff gets the old INPUTS (the
 * engine sends them alongside the old outputs), update the old OUTPUTS as olds. Without check, the inputs pass as
 * they are; without update, outputs become old outputs merged with the new inputs; without diff, the engine compares
 * old and new inputs itself (DIFF_UNKNOWN); without read, a refresh keeps the state as it is.
 */
export interface ResourceEmulator {
    /** Input keys the plugin's Check returns as secrets (infer's applySecrets for `provider:"secret"` fields). */
    secretInputs?: string[];
    check?(olds: PlainProperties, news: PlainProperties): Promise<PlainProperties>;
    create(inputs: PlainProperties, context: EmulatorContext): Promise<{ id: string; outputs: PlainProperties }>;
    read?(
        id: string,
        outputs: PlainProperties,
        inputs: PlainProperties,
        context: EmulatorContext,
    ): Promise<{ id: string; outputs: PlainProperties; inputs?: PlainProperties } | undefined>;
    update?(
        id: string,
        olds: PlainProperties,
        news: PlainProperties,
        context: EmulatorContext,
    ): Promise<PlainProperties>;
    delete?(id: string, outputs: PlainProperties, context: EmulatorContext): Promise<void>;
    diff?(
        olds: PlainProperties,
        news: PlainProperties,
    ): { changes: boolean; replaces: string[]; deleteBeforeReplace?: boolean };
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

/** When a run's parts happened, in ms since the run began; what `npm run bench` breaks a run down by. */
export interface RunTimings {
    /** Points in the run, in the order they happened (e.g. "provider host listening", "program loaded"). */
    marks: { event: string; atMs: number }[];
    /** Every call to the provider host: when it was sent and when its answer came back. */
    hostCalls: { method: string; urn: string; startMs: number; endMs: number }[];
}

export interface RunResult {
    steps: StepRecord[];
    /**
     * Stack outputs, secrets in plain text (like `pulumi stack output --show-secrets`); in preview, unknowns are the
     * sentinel string.
     */
    outputs: PlainProperties;
    /** What the provider host and the program printed, line by line, prefixed with their origin. */
    diagnostics: string[];
    /** Calls to the provider host, and to emulators (which stand in for provider plugins), in order. */
    rpcCalls: RpcCall[];
    timings: RunTimings;
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
    /** Deleted by a delete-before-replace whose replacement has not been created yet. */
    pendingReplacement?: boolean;
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
    /** Kept in the checkpoint only when set (pkg/resource/stack/deployment.go, SerializeResource). */
    customTimeouts?: CustomTimeouts;
    initErrors?: string[];
}

/** apitype.OperationType: what the engine was doing to a resource when the checkpoint was last written. */
export type OperationType = "creating" | "updating" | "deleting" | "reading";

export interface PendingOperation {
    resource: StateResource;
    type: OperationType;
}

export interface StateFile {
    version: 3;
    deployment: { resources: StateResource[]; pending_operations?: PendingOperation[] };
}

/** A failed run: the message names the resource and the provider's error; the partial run is attached. */
export class RunError extends Error {
    constructor(
        message: string,
        readonly result: RunResult,
    ) {
        super(message);
        this.name = "RunError";
    }
}
