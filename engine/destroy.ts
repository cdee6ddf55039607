// `pulumi destroy` (without --run-program): every resource in the checkpoint gets a delete step (GenerateDeletes; all
// of them count as this run's deletes before any runs, so deletedWith spares a Delete call), and the steps run in
// dependency levels (ScheduleDeletes), each level in parallel up to the run's parallelism; after the first failure no
// new delete starts.
// Follows pulumi/pulumi v3.248.0, pkg/resource/deploy/step_generator.go.
import { StepExecutor } from "./executor";
import { scheduleDeletes } from "./graph";
import { deleteStep, removePendingReplaceStep, StepContext } from "./steps";

export async function destroy(ctx: StepContext, executor: StepExecutor): Promise<void> {
    const resources = ctx.checkpoint.base;
    resources.forEach((resource) => ctx.deletes.add(resource.urn));
    const steps = new Map(
        resources.map((resource) => [
            resource,
            resource.pendingReplacement
                ? removePendingReplaceStep(ctx, resource)
                : deleteStep(ctx, resource, { pendingReplacement: false, logical: !resource.delete }),
        ]),
    );
    for (const level of scheduleDeletes(resources, resources)) {
        await executor.executeParallel(level.map((resource) => steps.get(resource)!));
    }
}
