// The real dynamic provider host (`@pulumi/pulumi/cmd/dynamic-provider`), spawned and called over gRPC the way the CLI
// does: one process per operation, Configure first, then per-resource calls. Create, Update and Delete carry the
// resource's custom timeout, as the engine sends it; the host never reads it.
// Follows pulumi/pulumi v3.248.0, sdk/nodejs/cmd/dynamic-provider/index.ts (the host) and proto/pulumi/provider.proto.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as readline from "readline";
import type * as grpcModule from "@grpc/grpc-js";
import type * as providerGrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import type * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import type * as statusProto from "@pulumi/pulumi/proto/status_pb";
import type * as structProto from "google-protobuf/google/protobuf/struct_pb";
import { pulumiSdkDir, requireFromSdk } from "./pulumiSdk";
import { CustomTimeouts, PropertyMap, RpcCall } from "./types";

export interface ResourceRef {
    urn: string;
    type: string;
    name: string;
    /** The customTimeouts of the state the operation works on (the new one, the old one for a delete; step.go). */
    timeouts?: CustomTimeouts;
}

interface CheckResult {
    inputs: PropertyMap;
    failures: { property: string; reason: string }[];
}

export interface ProviderDiff {
    changes: "none" | "some" | "unknown";
    replaces: string[];
    /** DiffResponse.diffs: the keys the provider names as changed (the dynamic provider host names none). */
    changedKeys?: string[];
    deleteBeforeReplace: boolean;
}

/** The SDK's "created but failed to initialise": the resource exists and must stay in state. */
interface InitFailure {
    id: string;
    properties: PropertyMap;
    reasons: string[];
}

export class ProviderCallError extends Error {
    constructor(
        readonly method: string,
        readonly providerMessage: string,
        readonly initFailure?: InitFailure,
    ) {
        super(`${method} failed: ${providerMessage}`);
    }
}

interface HostModules {
    grpc: typeof grpcModule;
    services: typeof providerGrpc;
    messages: typeof providerProto;
    status: typeof statusProto;
    structs: typeof structProto;
}

interface HostLaunch {
    projectDir: string;
    project: string;
    stack: string;
    onCall(call: RpcCall): void;
    /** Each call again once answered (or failed), with when it was sent and answered (performance.now()). */
    onAnswer(call: RpcCall, sentAt: number, answeredAt: number): void;
    onDiagnostic(line: string): void;
}

const startTimeoutMs = 15_000;

export class ProviderHost {
    private constructor(
        private readonly process: ChildProcess,
        private readonly exited: Promise<void>,
        private readonly client: providerGrpc.ResourceProviderClient,
        private readonly modules: HostModules,
        private readonly launch: HostLaunch,
    ) {}

    static async start(launch: HostLaunch): Promise<ProviderHost> {
        const sdkDir = pulumiSdkDir(launch.projectDir);
        const modules: HostModules = {
            grpc: requireFromSdk(sdkDir, "@grpc/grpc-js"),
            services: requireFromSdk(sdkDir, "./proto/provider_grpc_pb"),
            messages: requireFromSdk(sdkDir, "./proto/provider_pb"),
            status: requireFromSdk(sdkDir, "./proto/status_pb"),
            structs: requireFromSdk(sdkDir, "google-protobuf/google/protobuf/struct_pb"),
        };
        // The engine address is required by the host but never dialed.
        const child = spawn(process.execPath, [path.join(sdkDir, "cmd", "dynamic-provider"), "127.0.0.1:1"], {
            cwd: launch.projectDir,
            env: { ...process.env, PULUMI_NODEJS_PROJECT: launch.project, PULUMI_NODEJS_STACK: launch.stack },
            stdio: ["ignore", "pipe", "pipe"],
        });
        const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
        readline
            .createInterface({ input: child.stderr! })
            .on("line", (line) => launch.onDiagnostic(`[provider host] ${line}`));
        try {
            const port = await firstLine(child, startTimeoutMs);
            const client = new modules.services.ResourceProviderClient(
                `127.0.0.1:${port}`,
                modules.grpc.credentials.createInsecure(),
            );
            return new ProviderHost(child, exited, client, modules, launch);
        } catch (error) {
            child.kill("SIGKILL");
            await exited;
            throw error;
        }
    }

    async configure(args: PropertyMap): Promise<void> {
        const request = new this.modules.messages.ConfigureRequest();
        request.setArgs(this.struct(args));
        request.setAcceptsecrets(true);
        request.setAcceptresources(true);
        await this.unary("Configure", "", (done) => this.client.configure(request, done));
    }

    async check(ref: ResourceRef, olds: PropertyMap, news: PropertyMap): Promise<CheckResult> {
        const request = new this.modules.messages.CheckRequest();
        this.identify(request, ref);
        request.setOlds(this.struct(olds));
        request.setNews(this.struct(news));
        const response = await this.unary<providerProto.CheckResponse>("Check", ref.urn, (done) =>
            this.client.check(request, done),
        );
        return {
            inputs: response.getInputs()?.toJavaScript() ?? {},
            failures: response.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
        };
    }

    /** olds are the old OUTPUTS, as the engine sends them; the host hands those to provider.diff. */
    async diff(
        ref: ResourceRef,
        id: string,
        olds: PropertyMap,
        news: PropertyMap,
        oldInputs: PropertyMap,
    ): Promise<ProviderDiff> {
        const request = new this.modules.messages.DiffRequest();
        this.identify(request, ref);
        request.setId(id);
        request.setOlds(this.struct(olds));
        request.setNews(this.struct(news));
        request.setOldInputs(this.struct(oldInputs));
        const response = await this.unary<providerProto.DiffResponse>("Diff", ref.urn, (done) =>
            this.client.diff(request, done),
        );
        const kinds = this.modules.messages.DiffResponse.DiffChanges;
        const changes = response.getChanges();
        return {
            changes: changes === kinds.DIFF_NONE ? "none" : changes === kinds.DIFF_SOME ? "some" : "unknown",
            replaces: response.getReplacesList(),
            changedKeys: response.getDiffsList(),
            deleteBeforeReplace: response.getDeletebeforereplace(),
        };
    }

    async create(ref: ResourceRef, properties: PropertyMap): Promise<{ id: string; properties: PropertyMap }> {
        const request = new this.modules.messages.CreateRequest();
        this.identify(request, ref);
        request.setProperties(this.struct(properties));
        request.setTimeout(ref.timeouts?.create ?? 0);
        const response = await this.unary<providerProto.CreateResponse>("Create", ref.urn, (done) =>
            this.client.create(request, done),
        );
        return { id: response.getId(), properties: response.getProperties()?.toJavaScript() ?? {} };
    }

    async read(
        ref: ResourceRef,
        id: string,
        properties: PropertyMap,
        inputs: PropertyMap,
    ): Promise<{ id: string; properties: PropertyMap; inputs?: PropertyMap }> {
        const request = new this.modules.messages.ReadRequest();
        this.identify(request, ref);
        request.setId(id);
        request.setProperties(this.struct(properties));
        request.setInputs(this.struct(inputs));
        const response = await this.unary<providerProto.ReadResponse>("Read", ref.urn, (done) =>
            this.client.read(request, done),
        );
        return {
            id: response.getId(),
            properties: response.getProperties()?.toJavaScript() ?? {},
            inputs: response.getInputs()?.toJavaScript(),
        };
    }

    async update(
        ref: ResourceRef,
        id: string,
        olds: PropertyMap,
        news: PropertyMap,
        oldInputs: PropertyMap,
    ): Promise<PropertyMap> {
        const request = new this.modules.messages.UpdateRequest();
        this.identify(request, ref);
        request.setId(id);
        request.setOlds(this.struct(olds));
        request.setNews(this.struct(news));
        request.setOldInputs(this.struct(oldInputs));
        request.setTimeout(ref.timeouts?.update ?? 0);
        const response = await this.unary<providerProto.UpdateResponse>("Update", ref.urn, (done) =>
            this.client.update(request, done),
        );
        return response.getProperties()?.toJavaScript() ?? {};
    }

    async delete(ref: ResourceRef, id: string, properties: PropertyMap, oldInputs: PropertyMap): Promise<void> {
        const request = new this.modules.messages.DeleteRequest();
        this.identify(request, ref);
        request.setId(id);
        request.setProperties(this.struct(properties));
        request.setOldInputs(this.struct(oldInputs));
        request.setTimeout(ref.timeouts?.delete ?? 0);
        await this.unary("Delete", ref.urn, (done) => this.client.delete(request, done));
    }

    /**
     * Kills the host and waits until its output is drained; a host that is gone already is no error (see
     * ProgramRun.stop).
     */
    async stop(): Promise<void> {
        this.client.close();
        this.process.kill("SIGKILL");
        await this.exited;
    }

    private identify(
        request: { setUrn(v: string): unknown; setType(v: string): unknown; setName(v: string): unknown },
        ref: ResourceRef,
    ): void {
        request.setUrn(ref.urn);
        request.setType(ref.type);
        request.setName(ref.name);
    }

    private struct(value: PropertyMap): structProto.Struct {
        return this.modules.structs.Struct.fromJavaScript(value as Record<string, structProto.JavaScriptValue>);
    }

    private unary<T>(
        method: string,
        urn: string,
        send: (done: (error: grpcModule.ServiceError | null, response: T) => void) => void,
    ): Promise<T> {
        const call = { method, urn };
        this.launch.onCall(call);
        const sentAt = performance.now();
        return new Promise<T>((resolve, reject) =>
            send((error, response) => {
                this.launch.onAnswer(call, sentAt, performance.now());
                return error ? reject(this.callError(method, error)) : resolve(response);
            }),
        );
    }

    private callError(method: string, error: grpcModule.ServiceError): ProviderCallError {
        return new ProviderCallError(method, error.details || error.message, this.initFailure(error));
    }

    private initFailure(error: grpcModule.ServiceError): InitFailure | undefined {
        const [packed] = error.metadata?.get("grpc-status-details-bin") ?? [];
        if (!(packed instanceof Buffer)) {
            return undefined;
        }
        const details = this.modules.status.Status.deserializeBinary(packed).getDetailsList();
        const detail = details.find((any) => any.getTypeName() === "pulumirpc.ErrorResourceInitFailed");
        if (detail === undefined) {
            return undefined;
        }
        const failure = this.modules.messages.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
        return {
            id: failure.getId(),
            properties: failure.getProperties()?.toJavaScript() ?? {},
            reasons: failure.getReasonsList(),
        };
    }
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
        const lines = readline.createInterface({ input: child.stdout! });
        const timer = setTimeout(
            () => reject(new Error(`provider host printed no port within ${timeoutMs} ms`)),
            timeoutMs,
        );
        lines.once("line", (line) => {
            clearTimeout(timer);
            resolve(line.trim());
        });
        child.once("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`provider host exited with code ${code} before printing its port`));
        });
    });
}
