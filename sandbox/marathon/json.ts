// JSON helpers shared by the Marathon stand-in's modules.

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isAbsent(value: unknown) {
    return value === undefined || value === null;
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
    try {
        return { ok: true, value: JSON.parse(text) };
    } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
}

/** Key order does not make two definitions different. */
export function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (isObject(value)) {
        const entries = Object.keys(value)
            .sort()
            .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
        return `{${entries.join(",")}}`;
    }
    return JSON.stringify(value);
}

export function definedFieldsExcept(object: JsonObject, keys: string[]) {
    return Object.fromEntries(Object.entries(object).filter(([key, value]) => !keys.includes(key) && value !== null));
}

export function sortById<T extends { id: string }>(items: T[]): T[] {
    return [...items].sort((left, right) => left.id.localeCompare(right.id));
}

export function now() {
    return new Date().toISOString();
}
