// Messages between the engine (parent) and the program runner (child process), over Node's IPC channel; they stand
// in for the resource monitor's gRPC calls (pulumi/pulumi v3.248.0, proto/pulumi/resource.proto).
import { CustomTimeouts, PropertyMap } from "./types";

/** A RegisterResourceRequest, as much of it as the engine models. */
export interface Registration {
    type: string;
    name: string;
    /** The parent's URN; "" only for the root stack. */
    parent: string;
    custom: boolean;
    /** Inputs in RPC form: secrets wrapped, unknowns (preview) as the sentinel string. */
    object: PropertyMap;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    provider: string;
    /** The package version the SDK names (it picks the default provider), or "". */
    version: string;
    /** The deleteBeforeReplace option when the program set it (true or false), else undefined. */
    deleteBeforeReplace?: boolean;
    ignoreChanges: string[];
    replaceOnChanges: string[];
    additionalSecretOutputs: string[];
    /** The URN named by the deletedWith option, or "". */
    deletedWith: string;
    /** The customTimeouts option in seconds, each one the program set. */
    customTimeouts?: CustomTimeouts;
    /** The options set that the engine does not model, by the name a program gives them; the engine refuses them. */
    unmodeledOptions: string[];
}

export interface RegistrationReply {
    urn: string;
    id: string;
    object: PropertyMap;
}

export interface ProgramParams {
    project: string;
    stack: string;
    preview: boolean;
    config: Record<string, string>;
    secretKeys: string[];
}

export type ProgramRequest =
    | { kind: "register"; seq: number; registration: Registration }
    | { kind: "registerOutputs"; seq: number; urn: string; outputs: PropertyMap }
    | { kind: "invoke"; seq: number; token: string }
    | { kind: "read"; seq: number; type: string; name: string; id: string };

/** When the runner reached each point of its run, as epoch ms (performance.timeOrigin + performance.now()). */
export interface ProgramTimings {
    /** The runner's process began (its performance.timeOrigin). */
    processStarted: number;
    /** @pulumi/pulumi and the messages loaded: the runner waits for "start". */
    sdkLoaded: number;
    /** "start" arrived. */
    started: number;
    /** require() of the program returned: its module code ran, its resources were constructed. */
    programLoaded: number;
}

export type ProgramMessage =
    ProgramRequest | { kind: "done"; timings: ProgramTimings } | { kind: "failed"; message: string };

export type EngineMessage =
    { kind: "start"; params: ProgramParams } | { kind: "reply"; seq: number; value?: unknown; error?: string };
