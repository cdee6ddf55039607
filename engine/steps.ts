// The steps (same, create and create-replacement, update, delete and delete-replaced, remove-pending-replace) and what
// each writes to the checkpoint. A step runs on the executor's worker; the engine only decides which steps to run.
// Follows pulumi/pulumi v3.248.0, pkg/resource/deploy/step.go and pkg/backend/snapshot.go.
import { RunCheckpoint } from "./checkpoint";
import { isDefaultProvider } from "./defaultProviders";
import { ResourceDrivers, resourceRef } from "./resourceDrivers";
import { Step } from "./executor";
import { RunJournal } from "./journal";
import { ProviderCallError, ResourceRef } from "./providerHost";
import { annotateSecrets } from "./propertyValues";
import { StateResource, StepOp } from "./types";

export interface StepContext {
    preview: boolean;
    checkpoint: RunCheckpoint;
    drivers: ResourceDrivers;
    journal: RunJournal;
    /** sg.deletes: URNs this run deletes; a resource deletedWith one of them gets no Delete call. */
    deletes: Set<string>;
}

interface JournalEntry {
    op: StepOp;
    diffKeys?: string[];
    replaceKeys?: string[];
}

export function stepFailure(action: string, ref: ResourceRef, error: unknown): Error {
    const message =
        error instanceof ProviderCallError
            ? error.providerMessage
            : error instanceof Error
              ? error.message
              : String(error);
    return new Error(`${action} of ${ref.name} (${ref.type}) failed: ${message}`);
}

/** Steps on default providers are internal (isInternalStep in pkg/engine/update.go): the CLI does not show them. */
function journal(ctx: StepContext, resource: StateResource, entry: JournalEntry | undefined): void {
    if (entry !== undefined && !isDefaultProvider(resource.urn)) {
        const { op, ...keys } = entry;
        ctx.journal.step(op, resource, keys);
    }
}

/** "Created but failed to initialise": the provider returned the resource with the error; it stays in state. */
function initFailure(error: unknown, resource: StateResource): boolean {
    if (!(error instanceof ProviderCallError) || error.initFailure === undefined) {
        return false;
    }
    resource.id = error.initFailure.id;
    resource.outputs = annotateSecrets(error.initFailure.properties, resource.inputs, resource.additionalSecretOutputs);
    resource.initErrors = error.initFailure.reasons.length > 0 ? error.initFailure.reasons : [error.providerMessage];
    return true;
}

/** SameStep: the old outputs carry over. */
export function sameStep(ctx: StepContext, resource: StateResource, old: StateResource, done: () => void): Step {
    return async () => {
        resource.id = old.id;
        resource.outputs = old.outputs;
        ctx.checkpoint.markDone(old);
        ctx.checkpoint.markNew(resource);
        journal(ctx, resource, { op: "same" });
        done();
    };
}

interface CreateOptions {
    /** The resource this one replaces. */
    old?: StateResource;
    /** Create-before-delete: the old resource is marked for deletion once this one exists. */
    pendingDelete?: boolean;
    entry: JournalEntry;
}

/**
 * CreateStep (and CreateReplacementStep). In preview a dynamic resource cannot be created: its outputs are its
 * inputs. A replacement of a resource pending replacement takes its place in the checkpoint.
 */
export function createStep(ctx: StepContext, resource: StateResource, options: CreateOptions, done: () => void): Step {
    return async () => {
        const ref = resourceRef(resource);
        if (ctx.preview || !resource.custom) {
            resource.outputs = resource.custom ? resource.inputs : resource.outputs;
        } else {
            const complete = ctx.checkpoint.begin(resource, "creating");
            try {
                const created = await ctx.drivers.for(ref).create(ref, resource.inputs);
                resource.id = created.id;
                resource.outputs = annotateSecrets(
                    created.properties,
                    resource.inputs,
                    resource.additionalSecretOutputs,
                );
            } catch (error) {
                complete();
                if (initFailure(error, resource)) {
                    ctx.checkpoint.markNew(resource);
                    if (options.old?.pendingReplacement) {
                        ctx.checkpoint.markDone(options.old);
                    }
                }
                throw stepFailure("Create", ref, error);
            }
            complete();
        }
        ctx.checkpoint.markNew(resource);
        if (options.old?.pendingReplacement) {
            ctx.checkpoint.markDone(options.old);
        }
        if (options.old !== undefined && options.pendingDelete) {
            options.old.delete = true;
        }
        journal(ctx, resource, options.entry);
        done();
    };
}

/** UpdateStep: the provider gets the old outputs as olds and returns every output. */
export function updateStep(
    ctx: StepContext,
    resource: StateResource,
    old: StateResource,
    entry: JournalEntry,
    done: () => void,
): Step {
    return async () => {
        const ref = resourceRef(resource);
        resource.id = old.id;
        if (ctx.preview || !resource.custom) {
            resource.outputs = resource.custom ? resource.inputs : old.outputs;
        } else {
            const complete = ctx.checkpoint.begin(resource, "updating");
            try {
                const properties = await ctx.drivers
                    .for(ref)
                    .update(ref, old.id ?? "", old.outputs, resource.inputs, old.inputs);
                resource.outputs = annotateSecrets(properties, resource.inputs, resource.additionalSecretOutputs);
            } catch (error) {
                complete();
                if (initFailure(error, resource)) {
                    ctx.checkpoint.markDone(old);
                    ctx.checkpoint.markNew(resource);
                }
                throw stepFailure("Update", ref, error);
            }
            complete();
        }
        ctx.checkpoint.markDone(old);
        ctx.checkpoint.markNew(resource);
        journal(ctx, resource, entry);
        done();
    };
}

interface DeleteOptions {
    /** Part of a delete-before-replace: the resource stays in the checkpoint, pending replacement. */
    pendingReplacement: boolean;
    /** Shown as a step of its own (not a replacement's delete). */
    logical: boolean;
}

/** DeleteStep.Apply: no Delete call in preview, nor for a resource deletedWith one this run deletes (isDeletedWith). */
export function deleteStep(ctx: StepContext, resource: StateResource, options: DeleteOptions): Step {
    return async () => {
        if (!ctx.preview) {
            const complete = ctx.checkpoint.begin(resource, "deleting");
            const skip = resource.deletedWith !== undefined && ctx.deletes.has(resource.deletedWith);
            if (resource.custom && !skip) {
                const ref = resourceRef(resource);
                try {
                    await ctx.drivers.for(ref).delete(ref, resource.id ?? "", resource.outputs, resource.inputs);
                } catch (error) {
                    complete();
                    throw stepFailure("Delete", ref, error);
                }
            }
            complete();
            if (options.pendingReplacement) {
                resource.pendingReplacement = true;
            } else {
                ctx.checkpoint.markDone(resource);
            }
        }
        if (options.logical) {
            journal(ctx, resource, { op: "delete" });
        }
    };
}

/** RemovePendingReplaceStep: a resource deleted by an earlier delete-before-replace that nothing replaced. */
export function removePendingReplaceStep(ctx: StepContext, resource: StateResource): Step {
    return async () => {
        if (!ctx.preview) {
            ctx.checkpoint.markDone(resource);
        }
    };
}
