// How the engine acts on one custom resource: through the real dynamic provider host, through a test's
// emulator standing in for a provider plugin, or (for provider resources) by recording their config.
import { randomUUID } from "crypto";
import { ProviderDiff, ProviderHost, ResourceRef } from "./providerHost";
import { annotateSecrets, asJsonMap, revealedMap } from "./propertyValues";
import { PropertyMap, ResourceEmulator, RpcCall, StateResource } from "./types";
import { nameOf } from "./urns";

export interface ResourceDriver {
    /** The checked inputs, secrets re-annotated; throws on check failures. */
    check(ref: ResourceRef, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap>;
    diff(ref: ResourceRef, prior: StateResource, news: PropertyMap): Promise<ProviderDiff>;
    /** Create and update return plain outputs; the engine marks secrets. */
    create(ref: ResourceRef, inputs: PropertyMap): Promise<{ id: string; properties: PropertyMap }>;
    update(ref: ResourceRef, prior: StateResource, inputs: PropertyMap): Promise<PropertyMap>;
    delete(ref: ResourceRef, resource: StateResource): Promise<void>;
}

export function isDynamicType(type: string): boolean {
    return type.startsWith("pulumi-nodejs:dynamic");
}

class DynamicDriver implements ResourceDriver {
    constructor(private readonly host: ProviderHost) {}

    async check(ref: ResourceRef, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
        const result = await this.host.check(ref, revealedMap(olds), revealedMap(news));
        if (result.failures.length > 0) {
            const reasons = result.failures.map((f) => `property "${f.property}": ${f.reason}`).join("; ");
            throw new Error(reasons);
        }
        return annotateSecrets(result.inputs, news);
    }

    diff(ref: ResourceRef, prior: StateResource, news: PropertyMap): Promise<ProviderDiff> {
        return this.host.diff(ref, prior.id ?? "", revealedMap(prior.outputs), revealedMap(news), revealedMap(prior.inputs));
    }

    create(ref: ResourceRef, inputs: PropertyMap): Promise<{ id: string; properties: PropertyMap }> {
        return this.host.create(ref, revealedMap(inputs));
    }

    update(ref: ResourceRef, prior: StateResource, inputs: PropertyMap): Promise<PropertyMap> {
        return this.host.update(ref, prior.id ?? "", revealedMap(prior.outputs), revealedMap(inputs), revealedMap(prior.inputs));
    }

    delete(ref: ResourceRef, resource: StateResource): Promise<void> {
        return this.host.delete(ref, resource.id ?? "", revealedMap(resource.outputs), revealedMap(resource.inputs));
    }
}

/** A test's emulator; its calls are journaled like provider RPCs because it stands in for a provider plugin. */
class EmulatorDriver implements ResourceDriver {
    constructor(private readonly emulator: ResourceEmulator, private readonly record: (call: RpcCall) => void) {}

    async check(_ref: ResourceRef, _olds: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
        return news;
    }

    async diff(ref: ResourceRef, prior: StateResource, news: PropertyMap): Promise<ProviderDiff> {
        if (this.emulator.diff === undefined) {
            return { changes: "unknown", replaces: [], deleteBeforeReplace: false };
        }
        this.record({ method: "Diff", urn: ref.urn });
        const diff = this.emulator.diff(revealedMap(prior.inputs), revealedMap(news));
        return { changes: diff.changes ? "some" : "none", replaces: diff.replaces, deleteBeforeReplace: false };
    }

    async create(ref: ResourceRef, inputs: PropertyMap): Promise<{ id: string; properties: PropertyMap }> {
        this.record({ method: "Create", urn: ref.urn });
        const created = await this.emulator.create(revealedMap(inputs));
        return { id: created.id, properties: asJsonMap(created.outputs) };
    }

    async update(ref: ResourceRef, prior: StateResource, inputs: PropertyMap): Promise<PropertyMap> {
        this.record({ method: "Update", urn: ref.urn });
        const olds = revealedMap(prior.outputs);
        const news = revealedMap(inputs);
        return asJsonMap(this.emulator.update ? await this.emulator.update(prior.id ?? "", olds, news) : { ...olds, ...news });
    }

    async delete(ref: ResourceRef, resource: StateResource): Promise<void> {
        this.record({ method: "Delete", urn: ref.urn });
        await this.emulator.delete?.(resource.id ?? "", revealedMap(resource.outputs));
    }
}

/** A provider resource (`pulumi:providers:<pkg>`) holds configuration only: its outputs are its inputs. */
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

    async update(_ref: ResourceRef, _prior: StateResource, inputs: PropertyMap): Promise<PropertyMap> {
        return revealedMap(inputs);
    }

    async delete(): Promise<void> {}
}

export class Drivers {
    private readonly dynamic: DynamicDriver;

    constructor(host: ProviderHost, private readonly emulators: Record<string, ResourceEmulator>, private readonly record: (call: RpcCall) => void) {
        this.dynamic = new DynamicDriver(host);
    }

    for(ref: ResourceRef): ResourceDriver {
        if (isDynamicType(ref.type)) {
            return this.dynamic;
        }
        const emulator = this.emulators[ref.type];
        if (emulator !== undefined) {
            return new EmulatorDriver(emulator, this.record);
        }
        if (ref.type.startsWith("pulumi:providers:")) {
            return new ProviderResourceDriver();
        }
        throw new Error(`no emulator for resource type "${ref.type}" (resource ${ref.name}): the test engine cannot stand in for its provider plugin; pass one in EngineOptions.emulators`);
    }
}


export function resourceRef(resource: StateResource): ResourceRef {
    return { urn: resource.urn, type: resource.type, name: nameOf(resource.urn) };
}
