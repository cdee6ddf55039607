// One `pulumi up` or `pulumi preview`: a step per registration as it arrives (the engine works
// concurrently, like Pulumi's step executor), then deletion of what the program no longer declares.
import { Drivers, ResourceDriver, resourceRef } from "./drivers";
import { RunJournal } from "./journal";
import { Registration, RegistrationReply } from "./protocol";
import { ProviderCallError, ResourceRef } from "./providerHost";
import { annotateSecrets, changedKeys } from "./propertyValues";
import { applyIgnoreChanges, replaceOnChangesKeys } from "./resourceOptions";
import { deleteInDependencyOrder, goesWith } from "./checkpoint";
import { PropertyMap, StateResource } from "./types";
import { makeUrn, rootStackType } from "./urns";

export interface DeploymentContext {
    project: string;
    stack: string;
    preview: boolean;
    prior: StateResource[];
    drivers: Drivers;
    journal: RunJournal;
}

export function stepFailure(action: string, ref: ResourceRef, error: unknown): Error {
    const message = error instanceof ProviderCallError ? error.providerMessage : error instanceof Error ? error.message : String(error);
    return new Error(`${action} of ${ref.name} (${ref.type}) failed: ${message}`);
}

export class Deployment {
    /** New and kept resources, in the order their steps completed. */
    private readonly completed: StateResource[] = [];
    /** Prior resources this run has taken over (kept, updated, replaced or deleted). */
    private readonly consumed = new Set<StateResource>();
    /** Replaced resources awaiting deletion at the end, as Pulumi does for create-before-delete. */
    private readonly condemned: StateResource[] = [];
    private readonly deleted = new Set<StateResource>();
    private readonly registeredUrns = new Set<string>();
    private readonly inFlight = new Set<Promise<unknown>>();
    private firstFailure?: Error;
    stackOutputs: PropertyMap = {};

    constructor(private readonly ctx: DeploymentContext) {}

    get failure(): Error | undefined {
        return this.firstFailure;
    }

    register(registration: Registration): Promise<RegistrationReply> {
        const step = this.step(registration).catch((error: unknown) => {
            const failure = error instanceof Error ? error : new Error(String(error));
            this.firstFailure ??= failure;
            throw failure;
        });
        const settled = step.catch(() => undefined);
        this.inFlight.add(settled);
        void settled.then(() => this.inFlight.delete(settled));
        return step;
    }

    registerOutputs(urn: string, outputs: PropertyMap): void {
        const resource = this.completed.find((r) => r.urn === urn);
        if (resource === undefined) {
            throw new Error(`registerResourceOutputs for unknown resource ${urn}`);
        }
        resource.outputs = outputs;
        if (resource.type === rootStackType) {
            this.stackOutputs = outputs;
        }
    }

    /** Waits for every step already started, successful or not. */
    async settled(): Promise<void> {
        while (this.inFlight.size > 0) {
            await Promise.all(this.inFlight);
        }
    }

    /** Deletes (in preview: only reports) prior resources not registered this run, and replaced ones. */
    async deleteLeftovers(): Promise<void> {
        const condemned = new Set(this.condemned);
        const leftovers = this.ctx.prior.filter((r) => !this.consumed.has(r));
        const deletedThisRun = new Set([...this.deleted, ...this.condemned, ...leftovers].map((r) => r.urn));
        await deleteInDependencyOrder([...this.condemned, ...leftovers], async (resource) => {
            if (!this.ctx.preview) {
                await this.deleteResource(resourceRef(resource), resource, deletedThisRun);
            }
            if (!condemned.has(resource)) {
                this.ctx.journal.step("delete", resource);
            }
        });
    }

    /** The checkpoint as it stands: Pulumi appends untouched old resources after the new ones. */
    snapshot(): StateResource[] {
        const pendingDeletes = this.condemned.filter((r) => !this.deleted.has(r)).map((r) => ({ ...r, delete: true }));
        const untouched = this.ctx.prior.filter((r) => !this.consumed.has(r) && !this.deleted.has(r));
        return [...this.completed, ...pendingDeletes, ...untouched];
    }

    private async step(registration: Registration): Promise<RegistrationReply> {
        const { type, name } = registration;
        const urn = makeUrn(this.ctx.stack, this.ctx.project, type, name, registration.parent);
        if (this.firstFailure !== undefined) {
            throw new Error(`${name} (${type}) was not processed: the deployment stopped after an earlier failure`);
        }
        if (this.registeredUrns.has(urn)) {
            throw new Error(`duplicate resource URN ${urn}`);
        }
        this.registeredUrns.add(urn);
        if (registration.remote || registration.importId !== "") {
            throw new Error(`${name} (${type}): remote components and imports are not modeled by the test engine`);
        }
        const prior = this.ctx.prior.find((r) => r.urn === urn && !r.delete);
        if (prior !== undefined) {
            this.consumed.add(prior);
        }
        const resource: StateResource = {
            urn,
            type,
            custom: registration.custom,
            inputs: registration.object,
            outputs: {},
            ...(registration.parent !== "" && { parent: registration.parent }),
            ...(registration.dependencies.length > 0 && { dependencies: registration.dependencies }),
            ...(Object.keys(registration.propertyDependencies).length > 0 && { propertyDependencies: registration.propertyDependencies }),
            ...(registration.provider !== "" && { provider: registration.provider }),
            ...(registration.additionalSecretOutputs.length > 0 && { additionalSecretOutputs: registration.additionalSecretOutputs }),
            ...(registration.deletedWith !== "" && { deletedWith: registration.deletedWith }),
        };
        try {
            if (registration.custom) {
                await this.customStep(registration, resource, prior);
            } else {
                this.componentStep(resource, prior);
            }
        } catch (error) {
            // A failed step leaves the old resource in state as it was, unless something took its place.
            if (prior !== undefined && !this.deleted.has(prior) && !this.condemned.includes(prior) && !this.completed.some((r) => r.urn === urn)) {
                this.consumed.delete(prior);
            }
            throw error;
        }
        return { urn, id: resource.id ?? "", object: resource.outputs };
    }

    /** Components have no provider: the engine only records them. */
    private componentStep(resource: StateResource, prior: StateResource | undefined): void {
        resource.outputs = prior?.outputs ?? {};
        const diffKeys = prior === undefined ? [] : changedKeys(prior.inputs, resource.inputs);
        this.complete(resource);
        if (prior === undefined) {
            this.ctx.journal.step("create", resource);
        } else {
            this.ctx.journal.step(diffKeys.length > 0 ? "update" : "same", resource, diffKeys.length > 0 ? { diffKeys } : {});
        }
    }

    private async customStep(registration: Registration, resource: StateResource, prior: StateResource | undefined): Promise<void> {
        const ref = { urn: resource.urn, type: resource.type, name: registration.name };
        const driver = this.ctx.drivers.for(ref);
        const news = applyIgnoreChanges(registration.object, prior?.inputs, registration.ignoreChanges);
        resource.inputs = await driver.check(ref, prior?.inputs ?? {}, news).catch((error: unknown) => {
            throw stepFailure("Check", ref, error);
        });
        if (prior === undefined) {
            await this.create(driver, ref, resource);
            this.ctx.journal.step("create", resource);
            return;
        }
        const diff = await driver.diff(ref, prior, resource.inputs).catch((error: unknown) => {
            throw stepFailure("Diff", ref, error);
        });
        const diffKeys = changedKeys(prior.inputs, resource.inputs);
        // With no answer from the provider, the engine compares old and new inputs itself;
        // a resource that failed to initialise is updated again even without changes.
        const changed = (diff.changes === "unknown" ? diffKeys.length > 0 : diff.changes === "some") || prior.initErrors !== undefined;
        const replaceKeys = [...new Set([...diff.replaces, ...replaceOnChangesKeys(registration.replaceOnChanges, diffKeys)])];
        if (!changed) {
            resource.id = prior.id;
            resource.outputs = prior.outputs;
            this.complete(resource);
            this.ctx.journal.step("same", resource);
        } else if (replaceKeys.length > 0) {
            await this.replace(driver, ref, prior, resource, diff.deleteBeforeReplace || registration.deleteBeforeReplace);
            this.ctx.journal.step("replace", resource, { diffKeys, replaceKeys });
        } else {
            await this.update(driver, ref, prior, resource);
            this.ctx.journal.step("update", resource, { diffKeys });
        }
    }

    private async create(driver: ResourceDriver, ref: ResourceRef, resource: StateResource): Promise<void> {
        if (this.ctx.preview) {
            // The dynamic provider does not support preview: the engine shows the inputs, other outputs stay unknown.
            resource.outputs = resource.inputs;
        } else {
            try {
                const created = await driver.create(ref, resource.inputs);
                resource.id = created.id;
                resource.outputs = annotateSecrets(created.properties, resource.inputs, resource.additionalSecretOutputs);
            } catch (error) {
                this.keepInitFailure(resource, error);
                throw stepFailure("Create", ref, error);
            }
        }
        this.complete(resource);
    }

    private async update(driver: ResourceDriver, ref: ResourceRef, prior: StateResource, resource: StateResource): Promise<void> {
        resource.id = prior.id;
        if (this.ctx.preview) {
            resource.outputs = resource.inputs;
        } else {
            try {
                const properties = await driver.update(ref, prior, resource.inputs);
                resource.outputs = annotateSecrets(properties, resource.inputs, resource.additionalSecretOutputs);
            } catch (error) {
                this.keepInitFailure(resource, error);
                throw stepFailure("Update", ref, error);
            }
        }
        this.complete(resource);
    }

    private async replace(driver: ResourceDriver, ref: ResourceRef, prior: StateResource, resource: StateResource, deleteBeforeReplace: boolean): Promise<void> {
        if (this.ctx.preview) {
            resource.outputs = resource.inputs;
            this.complete(resource);
            return;
        }
        if (deleteBeforeReplace) {
            await this.deleteResource(ref, prior);
            await this.create(driver, ref, resource);
            return;
        }
        try {
            await this.create(driver, ref, resource);
        } finally {
            // A replacement that exists, even one that failed to initialise, condemns the old resource.
            if (this.completed.includes(resource)) {
                this.condemned.push(prior);
            }
        }
    }

    private async deleteResource(ref: ResourceRef, resource: StateResource, deletedThisRun = new Set<string>()): Promise<void> {
        if (resource.custom && !goesWith(resource, deletedThisRun)) {
            const driver = this.ctx.drivers.for(ref);
            await driver.delete(ref, resource).catch((error: unknown) => {
                throw stepFailure("Delete", ref, error);
            });
        }
        this.deleted.add(resource);
    }

    /** "Created but failed to initialise": the resource exists, so it stays in state with its id. */
    private keepInitFailure(resource: StateResource, error: unknown): void {
        if (!(error instanceof ProviderCallError) || error.initFailure === undefined) {
            return;
        }
        const failure = error.initFailure;
        resource.id = failure.id;
        resource.outputs = annotateSecrets(failure.properties, resource.inputs, resource.additionalSecretOutputs);
        resource.initErrors = failure.reasons.length > 0 ? failure.reasons : [error.providerMessage];
        this.complete(resource);
    }

    private complete(resource: StateResource): void {
        this.completed.push(resource);
    }
}
