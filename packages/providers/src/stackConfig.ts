// Reading the stack's config through a zod schema: the program validates its whole config with it
// (components/config.ts), and every provider's configure() its SSH keys, since `pulumi destroy` and
// `pulumi refresh` configure providers without running the program.
import { z } from "zod";
import { ConfigError } from "./errors";

export const projectName = "calico-stars";

/** Reads one raw config value ("calico-stars:<key>"), as pulumi.Config or a provider's configure(req) gives it. */
export type ConfigGetter = (key: string) => string | undefined;

function acceptsRawText(schema: z.ZodType): boolean {
    let inner: unknown = schema;
    while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) {
        inner = inner.unwrap();
    }
    return inner instanceof z.ZodString || inner instanceof z.ZodEnum;
}

function abbreviate(text: string): string {
    return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** Record keys outside the safe characters are shown JSON-quoted, so quotes and newlines stay visible. */
function formatConfigPath(path: readonly PropertyKey[]): string {
    return path
        .map((part, i) => {
            if (typeof part === "number") {
                return `[${part}]`;
            }
            const name = String(part);
            return /^[A-Za-z0-9_.:-]+$/.test(name) ? `${i === 0 ? "" : "."}${name}` : `[${JSON.stringify(name)}]`;
        })
        .join("");
}

/** One message per zod issue, naming the key; zod says "Invalid key in record", its inner issues say what is wrong. */
export function issueMessages(issues: readonly z.core.$ZodIssue[], prefix: string): string[] {
    return issues.map((issue) => {
        const message =
            issue.code === "invalid_key" ? issue.issues.map((inner) => inner.message).join("; ") : issue.message;
        return `${prefix}${formatConfigPath(issue.path)}: ${message}`;
    });
}

/**
 * Reads every key of `schema` from the config and validates them all; throws a ConfigError listing every
 * problem by key. Strings and enums are taken as typed; other values (numbers, booleans, structured YAML)
 * arrive as JSON text. `presentKeys`, when given, are checked for unknown keys of this project.
 */
export function parseConfigKeys<Shape extends z.ZodRawShape>(
    schema: z.ZodObject<Shape>,
    get: ConfigGetter,
    presentKeys: readonly string[] = [],
): z.output<z.ZodObject<Shape>> {
    const keys = Object.keys(schema.shape);
    const problems: string[] = [];
    for (const key of presentKeys) {
        // split at the first colon only: "calico-stars:image:x" is not the key "image"
        const [, namespace, name] = /^([^:]*):(.*)$/s.exec(key) ?? [];
        if (namespace === projectName && !keys.includes(name)) {
            problems.push(`${key}: unknown configuration key (known keys: ${keys.join(", ")})`);
        }
    }
    const raw: Record<string, unknown> = {};
    for (const key of keys) {
        const value = get(`${projectName}:${key}`);
        if (value === undefined) {
            continue;
        }
        if (acceptsRawText(schema.shape[key] as z.ZodType)) {
            raw[key] = value;
            continue;
        }
        try {
            raw[key] = JSON.parse(value);
        } catch {
            problems.push(`${projectName}:${key}: is not valid JSON/YAML structure (${abbreviate(value)})`);
        }
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
        problems.push(...issueMessages(parsed.error.issues, `${projectName}:`));
    }
    if (problems.length > 0 || !parsed.success) {
        throw new ConfigError(`invalid stack configuration:\n  ${problems.join("\n  ")}`);
    }
    return parsed.data;
}
