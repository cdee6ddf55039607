// The checkpoint the engine keeps between runs, and how a run writes it, as the SnapshotManager does.
// Follows pulumi/pulumi v3.248.0, pkg/backend/snapshot.go.
//
// A step's begin records a pending operation and its end marks old states done and appends new ones; a snapshot at
// any moment is the new states, then the old ones not done, plus the operations still pending and the pending CREATEs
// carried over from the base (Snap: "these must require user intervention to be cleared"). A run killed mid-way
// therefore leaves exactly what the last write held. Secrets are held wrapped in plain text (as a decrypted snapshot
// is in memory); export encrypts them.
import { mapSecrets, secretSig, specialSigKey } from "./propertyValues";
import { SecretCipher } from "./secretCipher";
import { OperationType, PendingOperation, StateFile, StateResource } from "./types";

export interface Checkpoint {
    resources: StateResource[];
    pendingOperations: PendingOperation[];
}

export const emptyCheckpoint: Checkpoint = { resources: [], pendingOperations: [] };

/** As `pulumi stack export`: secrets as ciphertext, or with `cipher` undefined (--show-secrets) as JSON plaintext. */
export function exportCheckpoint(checkpoint: Checkpoint, cipher: SecretCipher | undefined): StateFile {
    const encrypt = (plain: unknown) =>
        cipher === undefined
            ? { [specialSigKey]: secretSig, plaintext: JSON.stringify(plain) }
            : { [specialSigKey]: secretSig, ciphertext: cipher.encrypt(plain) };
    const exported = (resource: StateResource): StateResource => ({
        ...structuredClone(resource),
        inputs: mapSecrets(resource.inputs, encrypt) as StateResource["inputs"],
        outputs: mapSecrets(resource.outputs, encrypt) as StateResource["outputs"],
    });
    return {
        version: 3,
        deployment: {
            resources: checkpoint.resources.map(exported),
            ...(checkpoint.pendingOperations.length > 0 && {
                pending_operations: checkpoint.pendingOperations.map((op) => ({
                    resource: exported(op.resource),
                    type: op.type,
                })),
            }),
        },
    };
}

/** The checkpoint as one run writes it. */
export class RunCheckpoint {
    private readonly news: StateResource[] = [];
    private readonly dones = new Set<StateResource>();
    private readonly operations: { operation: PendingOperation; complete: boolean }[] = [];
    private readonly carriedCreates: PendingOperation[];

    /** `base` is the run's own copy of the prior resources: steps mark flags (delete, pendingReplacement) on them. */
    constructor(
        readonly base: StateResource[],
        basePending: PendingOperation[],
    ) {
        this.carriedCreates = basePending.filter((op) => op.type === "creating");
    }

    /** markOperationPending; the returned function is markOperationComplete. */
    begin(resource: StateResource, type: OperationType): () => void {
        const entry = { operation: { resource, type }, complete: false };
        this.operations.push(entry);
        return () => {
            entry.complete = true;
        };
    }

    markNew(resource: StateResource): void {
        this.news.push(resource);
    }

    markDone(resource: StateResource): void {
        this.dones.add(resource);
    }

    /** rebuildBaseState after a refresh: the refreshed resources become the base the snapshot is written from. */
    rebase(resources: StateResource[]): void {
        this.base.splice(0, this.base.length, ...resources);
    }

    isDone(resource: StateResource): boolean {
        return this.dones.has(resource);
    }

    snapshot(): Checkpoint {
        return {
            resources: [...this.news, ...this.base].filter((r) => !this.dones.has(r)).map((r) => structuredClone(r)),
            pendingOperations: [
                ...this.operations.filter((entry) => !entry.complete).map((entry) => structuredClone(entry.operation)),
                ...this.carriedCreates.map((op) => structuredClone(op)),
            ],
        };
    }
}

/** deploymentExecutor.printPendingOperationsWarning (pkg/resource/deploy/deployment_executor.go). */
export function pendingOperationsWarning(checkpoint: Checkpoint): string {
    return (
        `Attempting to deploy or update resources with ${checkpoint.pendingOperations.length} pending operations from previous deployment.\n` +
        checkpoint.pendingOperations.map((op) => `  * ${op.resource.urn}, interrupted while ${op.type}\n`).join("") +
        "These resources are in an unknown state because the Pulumi CLI was interrupted while waiting for changes to these resources to complete. " +
        "You should confirm whether or not the operations listed completed successfully by checking the state of the appropriate provider. " +
        "For example, if you are using AWS, you can confirm using the AWS Console.\n\n" +
        "Once you have confirmed the status of the interrupted operations, you can repair your stack using `pulumi refresh` which will refresh " +
        "the state from the provider you are using and clear the pending operations if there are any.\n\n" +
        "Note that `pulumi refresh` will need to be run interactively to clear pending CREATE operations."
    );
}
