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

/**
 * Reverse creation order, except that nothing is deleted while a resource that depends on it
 * (or is its child) is still waiting: a snapshot appends untouched old resources after new ones,
 * so creation order alone does not guarantee dependents come later.
 */
export function deletionOrder(resources: StateResource[]): StateResource[] {
    const pending = [...resources].reverse();
    const ordered: StateResource[] = [];
    const dependsOn = (r: StateResource, urn: string) => r.parent === urn || (r.dependencies ?? []).includes(urn);
    while (pending.length > 0) {
        const index = pending.findIndex((candidate) => !pending.some((other) => other !== candidate && dependsOn(other, candidate.urn)));
        // A dependency cycle cannot come from a program; fall back to plain reverse order if one is found.
        const [next] = pending.splice(index === -1 ? 0 : index, 1);
        ordered.push(next);
    }
    return ordered;
}
