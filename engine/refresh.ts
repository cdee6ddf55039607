// `pulumi refresh` (without --run-program): a refresh step for every resource, all in parallel up to the run's
// parallelism, on an executor that ignores errors (every Read runs even after one failed).
// Follows pulumi/pulumi v3.248.0, pkg/resource/deploy/deployment_executor.go (refresh, rebuildBaseState) and step.go.
//
// RefreshStep.Apply: components, providers and resources pending replacement stay as they are; a custom resource is
// Read (emulated ones too), gone when the ID comes back empty, and otherwise Diffed (the refreshed inputs and outputs
// as olds, the old inputs as news) to decide whether the step is an update or a same. Then rebuildBaseState drops the
// gone resources and every reference to them.
import { diffResource } from "./diffing";
import { resourceRef } from "./resourceDrivers";
import { StepExecutor } from "./executor";
import { withoutDanglingReferences } from "./graph";
import { annotateSecrets, changedKeys } from "./propertyValues";
import { isDefaultProvider } from "./defaultProviders";
import { StepContext, stepFailure } from "./steps";
import { StateResource } from "./types";
import { isProviderType } from "./urns";

export async function refresh(ctx: StepContext, executor: StepExecutor): Promise<void> {
    const refreshed = new Map<StateResource, StateResource | undefined>();
    const report = (op: "same" | "update" | "delete", resource: StateResource, diffKeys?: string[]) => {
        if (!isDefaultProvider(resource.urn)) {
            ctx.journal.step(op, resource, diffKeys !== undefined && diffKeys.length > 0 ? { diffKeys } : {});
        }
    };
    await executor.executeParallel(
        ctx.checkpoint.base.map((old) => async () => {
            if (!old.custom || isProviderType(old.type) || old.pendingReplacement) {
                report("same", old);
                return;
            }
            const ref = resourceRef(old);
            const driver = ctx.drivers.for(ref);
            const read = await driver.read(ref, old.id ?? "", old.outputs, old.inputs).catch((error: unknown) => {
                throw stepFailure("Read", ref, error);
            });
            if (read.id === "") {
                refreshed.set(old, undefined);
                report("delete", old);
                return;
            }
            const outputs = annotateSecrets(read.properties, old.outputs, old.additionalSecretOutputs);
            const inputs = read.inputs !== undefined ? annotateSecrets(read.inputs, old.inputs) : old.inputs;
            const diff = await diffResource(driver, ref, read.id, inputs, outputs, old.inputs, old.ignoreChanges ?? []);
            refreshed.set(old, { ...old, id: read.id, inputs, outputs });
            report(diff.changes === "some" ? "update" : "same", old, changedKeys(old.outputs, outputs));
        }),
    );
    const rebuilt = ctx.checkpoint.base.flatMap((resource) =>
        refreshed.has(resource) ? (refreshed.get(resource) ?? []) : [resource],
    );
    ctx.checkpoint.rebase(withoutDanglingReferences(rebuilt));
}
