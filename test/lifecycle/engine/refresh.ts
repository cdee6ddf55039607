// `pulumi refresh`: Read on every dynamic resource; emulated resources and components are left as they are.
import { isDynamicType, resourceRef } from "./drivers";
import { stepFailure } from "./deployment";
import { RunJournal } from "./journal";
import { ProviderHost } from "./providerHost";
import { annotateSecrets, changedKeys, revealedMap } from "./propertyValues";
import { StateResource } from "./types";

/** Updates `resources` in place, so that a failure leaves what was already refreshed. */
export async function refresh(resources: StateResource[], host: ProviderHost, journal: RunJournal): Promise<void> {
    for (const resource of [...resources]) {
        if (!resource.custom || !isDynamicType(resource.type)) {
            journal.step("same", resource);
            continue;
        }
        const ref = resourceRef(resource);
        // The engine sends the old outputs as properties and the old inputs alongside.
        const read = await host.read(ref, resource.id ?? "", revealedMap(resource.outputs), revealedMap(resource.inputs)).catch((error: unknown) => {
            throw stepFailure("Read", ref, error);
        });
        const index = resources.indexOf(resource);
        if (read.id === "") {
            resources.splice(index, 1);
            journal.step("delete", resource);
            continue;
        }
        const diffKeys = changedKeys(resource.outputs, read.properties);
        resources[index] = {
            ...resource,
            id: read.id,
            outputs: annotateSecrets(read.properties, resource.outputs, resource.additionalSecretOutputs),
            ...(read.inputs !== undefined && { inputs: annotateSecrets(read.inputs, resource.inputs) }),
        };
        journal.step(diffKeys.length > 0 ? "update" : "same", resource, diffKeys.length > 0 ? { diffKeys } : {});
    }
}
