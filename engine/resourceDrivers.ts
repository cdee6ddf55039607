// How the engine acts on one custom resource: through the real dynamic provider host, through a test's emulator
// standing in for a provider plugin, or (for provider resources) by recording their config as the registry does.
// Follows pulumi/pulumi v3.248.0, pkg/resource/deploy/providers/registry.go (provider resources).
import { randomUUID } from "crypto";
import { ProviderDiff, ProviderHost, ResourceRef } from "./providerHost";
import { annotateSecrets, asJsonMap, changedKeys, makeSecret, revealedMap } from "./propertyValues";
import { CustomTimeouts, EmulatorContext, PropertyMap, ResourceEmulator, RpcCall, StateResource } from "./types";
import { isDynamicType, isProviderType, nameOf } from "./urns";

interface ReadResult {
    /** "" when the resource is gone. */
    id: string;
    properties: PropertyMap;
    inputs?: PropertyMap;
}

/** Every map goes in as the engine holds it (secrets wrapped); the driver reveals what its provider must see. */
export interface ResourceDriver {
    /** The checked inputs, secrets re-annotated; throws on check failures. */
    check(ref: ResourceRef, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap>;
    /** olds are the old OUTPUTS and oldInputs the old inputs, as the engine's Diff request carries them. */
    diff(
        ref: ResourceRef,
        id: string,
        olds: PropertyMap,
        news: PropertyMap,
        oldInputs: PropertyMap,
    ): Promise<ProviderDiff>;
    /** Create, read and update return plain outputs; the engine marks secrets. */
    create(ref: ResourceRef, inputs: PropertyMap): Promise<{ id: string; properties: PropertyMap }>;
    read(ref: ResourceRef, id: string, outputs: PropertyMap, inputs: PropertyMap): Promise<ReadResult>;
    update(
        ref: ResourceRef,
        id: string,
        olds: PropertyMap,
        news: PropertyMap,
        oldInputs: PropertyMap,
    ): Promise<PropertyMap>;
    delete(ref: ResourceRef, id: string, outputs: PropertyMap, inputs: PropertyMap): Promise<void>;
}

class DynamicDriver implements ResourceDriver {
    constructor(private readonly host: ProviderHost) {}

    async check(ref: ResourceRef, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
        const result = await this.host.check(ref, revealedMap(olds), revealedMap(news));
        throwCheckFailures(result.failures);
        return annotateSecrets(result.inputs, news);
    }

    diff(
        ref: ResourceRef,
        id: string,
        olds: PropertyMap,
        news: PropertyMap,
        oldInputs: PropertyMap,
    ): Promise<ProviderDiff> {
        return this.host.diff(ref, id, revealedMap(olds), revealedMap(news), revealedMap(oldInputs));
    }

    create(ref: ResourceRef, inputs: PropertyMap): Promise<{ id: string; properties: PropertyMap }> {
        return this.host.create(ref, revealedMap(inputs));
    }

    read(ref: ResourceRef, id: string, outputs: PropertyMap, inputs: PropertyMap): Promise<ReadResult> {
        return this.host.read(ref, id, revealedMap(outputs), revealedMap(inputs));
    }

    update(
        ref: ResourceRef,
        id: string,
        olds: PropertyMap,
        news: PropertyMap,
        oldInputs: PropertyMap,
    ): Promise<PropertyMap> {
        return this.host.update(ref, id, revealedMap(olds), revealedMap(news), revealedMap(oldInputs));
    }

    delete(ref: ResourceRef, id: string, outputs: PropertyMap, inputs: PropertyMap): Promise<void> {
        return this.host.delete(ref, id, revealedMap(outputs), revealedMap(inputs));
    }
}

function throwCheckFailures(failures: { property: string; reason: string }[]): void {
    if (failures.length > 0) {
        throw new Error(failures.map((f) => `property "${f.property}": ${f.reason}`).join("; "));
    }
}

/** A test's emulator; its calls are journaled like provider RPCs because it stands in for a provider plugin. */
class EmulatorDriver implements ResourceDriver {
    constructor(
        private readonly emulator: ResourceEmulator,
        private readonly record: (call: RpcCall) => void,
        private readonly log: (line: string) => void,
    ) {}

    async check(ref: ResourceRef, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
        this.record({ method: "Check", urn: ref.urn });
        if (this.emulator.check === undefined) {
            return news;
        }
        const checked = annotateSecrets(
            asJsonMap(await this.emulator.check(revealedMap(olds), revealedMap(news))),
            news,
        );
        for (const key of this.emulator.secretInputs ?? []) {
            if (key in checked) {
                checked[key] = makeSecret(checked[key]);
            }
        }
        return checked;
    }

    async diff(
        ref: ResourceRef,
        _id: string,
        _olds: PropertyMap,
        news: PropertyMap,
        oldInputs: PropertyMap,
    ): Promise<ProviderDiff> {
        this.record({ method: "Diff", urn: ref.urn });
        if (this.emulator.diff === undefined) {
            return { changes: "unknown", replaces: [], deleteBeforeReplace: false };
        }
        const diff = this.emulator.diff(revealedMap(oldInputs), revealedMap(news));
        // plugins answer with a detailed diff, which names the changed keys
        const changed = diff.changes ? changedKeys(oldInputs, news) : [];
        return {
            changes: diff.changes ? "some" : "none",
            replaces: diff.replaces,
            changedKeys: changed,
            deleteBeforeReplace: diff.deleteBeforeReplace ?? false,
        };
    }

    async create(ref: ResourceRef, inputs: PropertyMap): Promise<{ id: string; properties: PropertyMap }> {
        this.record({ method: "Create", urn: ref.urn });
        const created = await this.emulator.create(revealedMap(inputs), this.context(ref, "create"));
        return { id: created.id, properties: asJsonMap(created.outputs) };
    }

    async read(ref: ResourceRef, id: string, outputs: PropertyMap, inputs: PropertyMap): Promise<ReadResult> {
        this.record({ method: "Read", urn: ref.urn });
        if (this.emulator.read === undefined) {
            return { id, properties: revealedMap(outputs), inputs: revealedMap(inputs) };
        }
        const read = await this.emulator.read(id, revealedMap(outputs), revealedMap(inputs), this.context(ref, "read"));
        return read === undefined
            ? { id: "", properties: {} }
            : {
                  id: read.id,
                  properties: asJsonMap(read.outputs),
                  ...(read.inputs !== undefined && { inputs: asJsonMap(read.inputs) }),
              };
    }

    async update(ref: ResourceRef, id: string, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
        this.record({ method: "Update", urn: ref.urn });
        const plainOlds = revealedMap(olds);
        const plainNews = revealedMap(news);
        return asJsonMap(
            this.emulator.update
                ? await this.emulator.update(id, plainOlds, plainNews, this.context(ref, "update"))
                : { ...plainOlds, ...plainNews },
        );
    }

    async delete(ref: ResourceRef, id: string, outputs: PropertyMap): Promise<void> {
        this.record({ method: "Delete", urn: ref.urn });
        await this.emulator.delete?.(id, revealedMap(outputs), this.context(ref, "delete"));
    }

    private context(ref: ResourceRef, operation: keyof CustomTimeouts): EmulatorContext {
        const timeoutSeconds = ref.timeouts?.[operation];
        return {
            name: ref.name,
            log: (message) => this.log(`[${ref.type} ${ref.name}] ${message}`),
            ...(timeoutSeconds !== undefined && { timeoutSeconds }),
        };
    }
}

/**
 * A provider resource (`pulumi:providers:<pkg>`) holds configuration only. The dynamic provider host implements
 * neither CheckConfig nor DiffConfig (sdk/nodejs/cmd/dynamic-provider/index.ts), so the registry takes the inputs as
 * they are and, for a diff, compares the old outputs with the new inputs (providers/registry.go, Registry.Diff):
 * a config change is an update, never a replacement. Create gives a fresh UUID as the ID (Registry.Create).
 */
class ProviderResourceDriver implements ResourceDriver {
    async check(_ref: ResourceRef, _olds: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
        return news;
    }

    async diff(): Promise<ProviderDiff> {
        return { changes: "unknown", replaces: [], deleteBeforeReplace: false };
    }

    async create(_ref: ResourceRef, inputs: PropertyMap): Promise<{ id: string; properties: PropertyMap }> {
        return { id: randomUUID(), properties: revealedMap(inputs) };
    }

    async read(_ref: ResourceRef, id: string, outputs: PropertyMap, inputs: PropertyMap): Promise<ReadResult> {
        return { id, properties: revealedMap(outputs), inputs: revealedMap(inputs) };
    }

    async update(_ref: ResourceRef, _id: string, _olds: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
        return revealedMap(news);
    }

    async delete(): Promise<void> {}
}

/** The driver for a resource, by its type: dynamic, provider, or one a test emulates. */
export class ResourceDrivers {
    private readonly dynamic: DynamicDriver;
    private readonly providers = new ProviderResourceDriver();

    constructor(
        host: ProviderHost,
        private readonly emulators: Record<string, ResourceEmulator>,
        private readonly record: (call: RpcCall) => void,
        private readonly log: (line: string) => void,
    ) {
        this.dynamic = new DynamicDriver(host);
    }

    for(ref: ResourceRef): ResourceDriver {
        if (isDynamicType(ref.type)) {
            return this.dynamic;
        }
        if (isProviderType(ref.type)) {
            return this.providers;
        }
        const emulator = this.emulators[ref.type];
        if (emulator !== undefined) {
            return new EmulatorDriver(emulator, this.record, this.log);
        }
        throw new Error(
            `no emulator for resource type "${ref.type}" (resource ${ref.name}): the test engine cannot stand in for its provider plugin; pass one in EngineOptions.emulators`,
        );
    }
}

export function resourceRef(resource: StateResource): ResourceRef {
    return {
        urn: resource.urn,
        type: resource.type,
        name: nameOf(resource.urn),
        ...(resource.customTimeouts !== undefined && { timeouts: resource.customTimeouts }),
    };
}
