// `pulumi destroy`: every resource in state deleted, in parallel where nothing depends on it any more.
import { deleteInDependencyOrder, goesWith } from "./checkpoint";
import { Drivers, resourceRef } from "./drivers";
import { stepFailure } from "./deployment";
import { RunJournal } from "./journal";
import { StateResource } from "./types";

/** Removes from `resources` in place, so that a failure leaves what was not yet deleted. */
export async function destroy(resources: StateResource[], drivers: Drivers, journal: RunJournal): Promise<void> {
    const deletedThisRun = new Set(resources.map((r) => r.urn));
    await deleteInDependencyOrder([...resources], async (resource) => {
        if (resource.custom && !goesWith(resource, deletedThisRun)) {
            const ref = resourceRef(resource);
            await drivers.for(ref).delete(ref, resource).catch((error: unknown) => {
                throw stepFailure("Delete", ref, error);
            });
        }
        resources.splice(resources.indexOf(resource), 1);
        journal.step("delete", resource);
    });
}
