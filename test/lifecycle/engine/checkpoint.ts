// The checkpoint the engine keeps between runs: resources in creation order, secrets wrapped in plain text
// (as a decrypted Pulumi snapshot is held in memory); export() encrypts them like `pulumi stack export`.
import { mapSecrets, secretSig, specialSigKey } from "./propertyValues";
import { SecretCipher } from "./secretCipher";
import { StateFile, StateResource } from "./types";

export function exportCheckpoint(resources: StateResource[], cipher: SecretCipher): StateFile {
    const encrypt = (plain: unknown) => ({ [specialSigKey]: secretSig, ciphertext: cipher.encrypt(plain) });
    return {
        version: 3,
        deployment: {
            resources: resources.map((resource) => ({
                ...structuredClone(resource),
                inputs: mapSecrets(resource.inputs, encrypt) as StateResource["inputs"],
                outputs: mapSecrets(resource.outputs, encrypt) as StateResource["outputs"],
            })),
        },
    };
}

const dependsOn = (r: StateResource, urn: string) => r.parent === urn || r.deletedWith === urn || (r.dependencies ?? []).includes(urn);

/** As Pulumi's delete step: a resource whose deletedWith target is deleted in the same run is dropped without a Delete. */
export function goesWith(resource: StateResource, deletedThisRun: Set<string>): boolean {
    return resource.deletedWith !== undefined && deletedThisRun.has(resource.deletedWith);
}

/**
 * Reverse creation order, except that nothing is deleted while a resource that depends on it
 * (or is its child) is still waiting: a snapshot appends untouched old resources after new ones,
 * so creation order alone does not guarantee dependents come later.
 */
export function deletionOrder(resources: StateResource[]): StateResource[] {
    const pending = [...resources].reverse();
    const ordered: StateResource[] = [];
    while (pending.length > 0) {
        const index = pending.findIndex((candidate) => !pending.some((other) => other !== candidate && dependsOn(other, candidate.urn)));
        // A dependency cycle cannot come from a program; fall back to plain reverse order if one is found.
        const [next] = pending.splice(index === -1 ? 0 : index, 1);
        ordered.push(next);
    }
    return ordered;
}

/**
 * Deletes as the Pulumi engine does: every resource at once, except that each waits until everything
 * that depends on it (or is its child) is gone. After a failure nothing new starts, and what depends on
 * the failed resource stays; the first failure is thrown once the deletes already started have settled.
 */
export async function deleteInDependencyOrder(resources: StateResource[], remove: (resource: StateResource) => Promise<void>): Promise<void> {
    const deleted = new Map<StateResource, Promise<boolean>>();
    let failure: { error: unknown } | undefined;
    for (const resource of deletionOrder(resources)) {
        // dependents come earlier in deletionOrder, so their deletes are already in the map
        const dependents = resources.filter((other) => other !== resource && dependsOn(other, resource.urn))
            .flatMap((other) => deleted.get(other) ?? []);
        deleted.set(resource, Promise.all(dependents).then(async (gone) => {
            if (failure !== undefined || !gone.every(Boolean)) {
                return false;
            }
            try {
                await remove(resource);
                return true;
            } catch (error) {
                failure ??= { error };
                return false;
            }
        }));
    }
    await Promise.all(deleted.values());
    if (failure !== undefined) {
        throw failure.error;
    }
}
