// How a resource's fate follows from its provider's Diff: diffResource, applyReplaceOnChanges, and
// calculateDependentReplacements for a delete-before-replace.
// Follows pulumi/pulumi v3.248.0, pkg/resource/deploy/step_generator.go.
import { ResourceDriver, resourceRef } from "./resourceDrivers";
import { providerUrnOf, dependingOn } from "./graph";
import { ResourceRef } from "./providerHost";
import { changedKeys } from "./propertyValues";
import { applyIgnoreChanges, replaceOnChangesKeys } from "./resourceOptions";
import { stepFailure } from "./steps";
import { PropertyMap, StateResource } from "./types";

/** The value the engine sends for a property not known yet (resource.MakeComputed, marshalled with KeepUnknowns). */
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

interface DiffResult {
    changes: "some" | "none";
    replaceKeys: string[];
    /**
     * The keys the provider reported as changed; the dynamic provider host reports none (DiffResponse has no diffs).
     */
    changedKeys: string[];
    deleteBeforeReplace: boolean;
}

/**
 * diffResource: the provider's Diff; when it answers DIFF_UNKNOWN (a dynamic provider without diff, or one returning
 * `changes: undefined`) the engine compares old and new inputs itself, ignoreChanges applied, and those keys count as
 * changed. A plugin's answer keeps the keys it gave (the dynamic provider host gives none).
 */
export async function diffResource(
    driver: ResourceDriver,
    ref: ResourceRef,
    id: string,
    oldInputs: PropertyMap,
    oldOutputs: PropertyMap,
    newInputs: PropertyMap,
    ignoreChanges: string[],
): Promise<DiffResult> {
    const diff = await driver.diff(ref, id, oldOutputs, newInputs, oldInputs).catch((error: unknown) => {
        throw stepFailure("Diff", ref, error);
    });
    if (diff.changes === "unknown") {
        const keys = changedKeys(oldInputs, applyIgnoreChanges(newInputs, oldInputs, ignoreChanges));
        return {
            changes: keys.length > 0 ? "some" : "none",
            replaceKeys: diff.replaces,
            changedKeys: keys,
            deleteBeforeReplace: diff.deleteBeforeReplace,
        };
    }
    return {
        changes: diff.changes,
        replaceKeys: diff.replaces,
        changedKeys: diff.changedKeys ?? [],
        deleteBeforeReplace: diff.deleteBeforeReplace,
    };
}

/** The special key applyReplaceOnChanges uses when init errors force a replacement (initErrorSpecialKey). */
const initErrorKey = "#initerror";

/**
 * applyReplaceOnChanges: a replaceOnChanges path turns a CHANGED key into a replace key, so it does nothing when the
 * provider said DIFF_SOME without naming keys (every dynamic provider with a diff); a resource with init errors is
 * replaced when a path covers "#initerror" ("*" does).
 */
export function applyReplaceOnChanges(
    diff: DiffResult,
    replaceOnChanges: string[],
    hasInitErrors: boolean,
): DiffResult {
    if (diff.changes !== "some" && !hasInitErrors) {
        return diff;
    }
    const replaceKeys = new Set([...diff.replaceKeys, ...replaceOnChangesKeys(replaceOnChanges, diff.changedKeys)]);
    let changes = diff.changes;
    if (hasInitErrors && replaceOnChanges.some((path) => path === "*" || path === initErrorKey)) {
        replaceKeys.add(initErrorKey);
        changes = "some";
    }
    return { ...diff, changes, replaceKeys: [...replaceKeys] };
}

interface DependentReplacement {
    resource: StateResource;
    keys: string[];
}

/**
 * calculateDependentReplacements: of the resources depending on `root` (transitively, in the last checkpoint's
 * order, skipping those already registered in this run), those whose Diff says replace once every input that takes
 * a value from a resource being replaced is unknown, or whose provider is being replaced. A dependency by dependsOn
 * alone changes no input, so it pulls nothing in.
 */
export async function dependentReplacements(
    checkpoint: StateResource[],
    root: StateResource,
    registered: Set<string>,
    driverFor: (ref: ResourceRef) => ResourceDriver,
): Promise<DependentReplacement[]> {
    const replaceSet = new Set([root.urn]);
    const found: DependentReplacement[] = [];
    for (const dependent of dependingOn(checkpoint, root, registered)) {
        const keys = await replacementKeys(dependent, replaceSet, driverFor);
        if (keys !== undefined) {
            found.push({ resource: dependent, keys });
            replaceSet.add(dependent.urn);
        }
    }
    return found;
}

async function replacementKeys(
    resource: StateResource,
    replaceSet: Set<string>,
    driverFor: (ref: ResourceRef) => ResourceDriver,
): Promise<string[] | undefined> {
    if (!resource.custom) {
        return undefined;
    }
    if (resource.provider !== undefined && replaceSet.has(providerUrnOf(resource.provider))) {
        return [];
    }
    let affected = false;
    const inputsForDiff: PropertyMap = {};
    for (const [key, value] of Object.entries(resource.inputs)) {
        const fromReplaced = (resource.propertyDependencies?.[key] ?? []).some((urn) => replaceSet.has(urn));
        affected ||= fromReplaced;
        inputsForDiff[key] = fromReplaced ? unknownValue : value;
    }
    if (!affected) {
        return undefined;
    }
    const ref = resourceRef(resource);
    const diff = applyReplaceOnChanges(
        await diffResource(
            driverFor(ref),
            ref,
            resource.id ?? "",
            resource.inputs,
            resource.outputs,
            inputsForDiff,
            resource.ignoreChanges ?? [],
        ),
        resource.replaceOnChanges ?? [],
        false,
    );
    return diff.replaceKeys.length > 0 ? diff.replaceKeys : undefined;
}
