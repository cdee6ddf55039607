// Property values in Pulumi's RPC form: secrets are {sig: secretSig, value}; unknowns (the sentinel string
// 04da6b54-...) need no handling here, they travel to providers as they are.
// Follows pulumi/pulumi v3.248.0, sdk/go/common/resource/sig/sig.go (the signatures).
import { PropertyMap } from "./types";

export const specialSigKey = "4dabf18193072939515e22adb298388d";
export const secretSig = "1b47061264138c4ac30d75fd1eb44270";

interface SecretValue {
    [specialSigKey]: typeof secretSig;
    value: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isSecret(value: unknown): value is SecretValue {
    return isPlainObject(value) && value[specialSigKey] === secretSig;
}

export function makeSecret(value: unknown): SecretValue {
    return isSecret(value) ? value : { [specialSigKey]: secretSig, value };
}

/** What a provider that does not accept secrets (acceptSecrets=false) receives: every secret unwrapped. */
function revealSecrets(value: unknown): unknown {
    if (isSecret(value)) {
        return revealSecrets(value.value);
    }
    if (Array.isArray(value)) {
        return value.map(revealSecrets);
    }
    if (isPlainObject(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealSecrets(v)]));
    }
    return value;
}

export function revealedMap(props: PropertyMap): PropertyMap {
    return revealSecrets(props) as PropertyMap;
}

/** Replaces every secret with what `replace` makes of its plain value. */
export function mapSecrets(value: unknown, replace: (plain: unknown) => unknown): unknown {
    if (isSecret(value)) {
        return replace(revealSecrets(value.value));
    }
    if (Array.isArray(value)) {
        return value.map((v) => mapSecrets(v, replace));
    }
    if (isPlainObject(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapSecrets(v, replace)]));
    }
    return value;
}

/**
 * The engine's annotateSecrets: a provider returns plain values, so an output is marked secret
 * where the same-named input was secret (recursing into objects), plus any additionalSecretOutputs.
 */
export function annotateSecrets(
    outputs: PropertyMap,
    inputs: PropertyMap,
    additionalSecretOutputs: string[] = [],
): PropertyMap {
    const annotated: PropertyMap = {};
    for (const [key, output] of Object.entries(outputs)) {
        const input = inputs[key];
        if (isSecret(input) || additionalSecretOutputs.includes(key)) {
            annotated[key] = makeSecret(output);
        } else if (isPlainObject(input) && isPlainObject(output) && !isSecret(output)) {
            annotated[key] = annotateSecrets(output, input);
        } else {
            annotated[key] = output;
        }
    }
    return annotated;
}

function deepEqual(a: unknown, b: unknown): boolean {
    if (a === b) {
        return true;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
    }
    if (isPlainObject(a) && isPlainObject(b)) {
        const keys = Object.keys(a);
        return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
    }
    return false;
}

/** Top-level keys whose plain values differ, as the CLI's input diff shows them. */
export function changedKeys(olds: PropertyMap, news: PropertyMap): string[] {
    const plainOlds = revealedMap(olds);
    const plainNews = revealedMap(news);
    const keys = new Set([...Object.keys(plainOlds), ...Object.keys(plainNews)]);
    return [...keys].filter((k) => !deepEqual(plainOlds[k], plainNews[k])).sort();
}

/** Drops undefined members and other non-JSON values, as a round trip through a protobuf Struct would. */
export function asJsonMap(value: Record<string, unknown>): PropertyMap {
    return JSON.parse(JSON.stringify(value)) as PropertyMap;
}
