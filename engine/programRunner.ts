// The program side of a run, in its own process because the Pulumi runtime is process-global: it runs the program as
// the Node.js language host does, but under the SDK's mocks.
// Follows pulumi/pulumi v3.248.0, sdk/nodejs/cmd/run/run.ts (the stack outputs) and pkg/resource/deploy/source_eval.go.
//
// Launched by ProgramRun as `node -r ts-node/register/transpile-only programRunner.ts <programPath> <typescript>`
// (programEntry.ts): it loads the SDK at once (while the engine starts the provider host), then waits for "start".
// It replaces the mock monitor's registerResource: the mocks' newResource sees neither the parent, nor secrets, nor
// unknowns, which the engine needs to build URNs, keep secrets out of state and pass the unknown sentinel on.
import * as path from "path";
import type * as pulumiModule from "@pulumi/pulumi";
import type * as resourceProto from "@pulumi/pulumi/proto/resource_pb";
import type * as structProto from "google-protobuf/google/protobuf/struct_pb";
import { goDurationSeconds } from "./goDuration";
import {
    EngineMessage,
    ProgramMessage,
    ProgramParams,
    ProgramRequest,
    ProgramTimings,
    Registration,
    RegistrationReply,
} from "./programMessages";
import { pulumiSdkDir, requireFromSdk } from "./pulumiSdk";
import { CustomTimeouts, PropertyMap } from "./types";

type Callback<T> = (error: Error | null, response?: T) => void;

interface MonitorOverrides {
    registerResource(
        request: resourceProto.RegisterResourceRequest,
        done: Callback<resourceProto.RegisterResourceResponse>,
    ): void;
    registerResourceOutputs(request: resourceProto.RegisterResourceOutputsRequest, done: Callback<object>): void;
}

const [programPath, typescript] = process.argv.slice(2);
const sdkDir = pulumiSdkDir(path.dirname(programPath));
const pulumi = requireFromSdk<typeof pulumiModule>(sdkDir, ".");
const resourceMessages = requireFromSdk<typeof resourceProto>(sdkDir, "./proto/resource_pb");
const structs = requireFromSdk<typeof structProto>(sdkDir, "google-protobuf/google/protobuf/struct_pb");

const now = () => performance.timeOrigin + performance.now();
const timings: ProgramTimings = {
    processStarted: performance.timeOrigin,
    sdkLoaded: now(),
    started: 0,
    programLoaded: 0,
};

const pendingReplies = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
let nextSeq = 0;

function send(message: ProgramMessage): Promise<void> {
    return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

type WithoutSeq<T> = T extends unknown ? Omit<T, "seq"> : never;

function request<T>(message: WithoutSeq<ProgramRequest>): Promise<T> {
    const seq = nextSeq++;
    return new Promise<T>((resolve, reject) => {
        pendingReplies.set(seq, { resolve: (value) => resolve(value as T), reject });
        void send({ ...message, seq } as ProgramRequest);
    });
}

function toRegistration(req: resourceProto.RegisterResourceRequest): Registration {
    const customTimeouts = customTimeoutsOf(req);
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
        propertyDependencies[key] = deps.getUrnsList();
    });
    return {
        type: req.getType(),
        name: req.getName(),
        parent: req.getParent(),
        custom: req.getCustom(),
        object: (req.getObject()?.toJavaScript() ?? {}) as PropertyMap,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        provider: req.getProvider(),
        version: req.getVersion(),
        // source_eval.go (RegisterResource): the option counts when the SDK says it was set, or when it is true
        ...((req.getDeletebeforereplacedefined() || req.getDeletebeforereplace()) && {
            deleteBeforeReplace: req.getDeletebeforereplace(),
        }),
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        deletedWith: req.getDeletedwith(),
        ...(customTimeouts !== undefined && { customTimeouts }),
        unmodeledOptions: unmodeledOptions(req),
    };
}

function customTimeoutsOf(req: resourceProto.RegisterResourceRequest): CustomTimeouts | undefined {
    const set = req.getCustomtimeouts();
    const texts = {
        create: set?.getCreate(),
        update: set?.getUpdate(),
        delete: set?.getDelete(),
        read: set?.getRead(),
    };
    const timeouts = Object.entries(texts).filter((entry): entry is [string, string] => !!entry[1]);
    return timeouts.length === 0
        ? undefined
        : Object.fromEntries(timeouts.map(([operation, text]) => [operation, goDurationSeconds(text)]));
}

/** The options set in the request (resource.proto, RegisterResourceRequest) that the engine does not model. */
function unmodeledOptions(req: resourceProto.RegisterResourceRequest): string[] {
    const hooks = req.getHooks()?.toObject() ?? {};
    const options: Record<string, boolean> = {
        protect: req.hasProtect() && req.getProtect() === true,
        retainOnDelete: req.hasRetainondelete() && req.getRetainondelete() === true,
        aliases: req.getAliasesList().length > 0 || req.getAliasurnsList().length > 0,
        replaceWith: req.getReplaceWithList().length > 0,
        replacementTrigger: req.hasReplacementTrigger(),
        transforms: req.getTransformsList().length > 0,
        hooks: Object.values(hooks).some((names) => Array.isArray(names) && names.length > 0),
        hideDiffs: req.getHidediffsList().length > 0,
        pluginDownloadURL: req.getPlugindownloadurl() !== "",
        envVarMappings: req.getEnvvarmappingsMap().getLength() > 0,
        "a package reference (a parameterized provider)": req.getPackageref() !== "",
        import: req.getImportid() !== "",
        "remote (a component a provider constructs)": req.getRemote(),
    };
    return Object.keys(options).filter((option) => options[option]);
}

function forwardRegistrations(): void {
    const overrides: MonitorOverrides = {
        registerResource(req, done) {
            let registration: Registration;
            try {
                registration = toRegistration(req);
            } catch (error) {
                return done(error as Error);
            }
            request<RegistrationReply>({ kind: "register", registration }).then(
                (reply) => {
                    const response = new resourceMessages.RegisterResourceResponse();
                    response.setUrn(reply.urn);
                    response.setId(reply.id);
                    response.setObject(
                        structs.Struct.fromJavaScript(reply.object as Record<string, structProto.JavaScriptValue>),
                    );
                    done(null, response);
                },
                (error: Error) => done(error),
            );
        },
        registerResourceOutputs(req, done) {
            const outputs = (req.getOutputs()?.toJavaScript() ?? {}) as PropertyMap;
            request({ kind: "registerOutputs", urn: req.getUrn(), outputs }).then(
                () => done(null, {}),
                (error: Error) => done(error),
            );
        },
    };
    Object.assign(pulumi.runtime.getMonitor()!, overrides);
}

/**
 * As the Node.js language host does: the module's exports (or what its exported function returns) are the stack
 * outputs.
 */
async function runProgram(): Promise<unknown> {
    if (typescript !== "true" && /\.[cm]?ts$/.test(programPath)) {
        // without ts-node, Node would take the file for JavaScript and fail on its first type annotation
        throw new Error(`${programPath} is TypeScript, but Pulumi.yaml sets the runtime option typescript to false`);
    }
    // the language host loads the program with require(), so the module's exports are what it sees
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const programExport: unknown = require(programPath);
    timings.programLoaded = now();
    return programExport instanceof Function ? programExport() : programExport;
}

async function run(params: ProgramParams): Promise<void> {
    pulumi.runtime.setAllConfig(params.config, params.secretKeys);
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => request({ kind: "read", type: args.type, name: args.name, id: args.id ?? "" }),
            call: (args) => request({ kind: "invoke", token: args.token }),
        },
        params.project,
        params.stack,
        params.preview,
    );
    forwardRegistrations();
    await pulumi.runtime.runInPulumiStack(runProgram);
    await pulumi.runtime.disconnect();
}

async function fail(error: unknown): Promise<never> {
    console.error(error instanceof Error ? error.stack : error);
    await send({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
}

process.on("uncaughtException", (error) => void fail(error));
process.on("unhandledRejection", (error) => void fail(error));
process.on("message", (message: EngineMessage) => {
    if (message.kind === "start") {
        timings.started = now();
        run(message.params)
            .then(() => send({ kind: "done", timings }))
            .then(() => process.exit(0), fail);
        return;
    }
    const pending = pendingReplies.get(message.seq);
    pendingReplies.delete(message.seq);
    if (message.error !== undefined) {
        pending?.reject(new Error(message.error));
    } else {
        pending?.resolve(message.value);
    }
});
