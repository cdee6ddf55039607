// The skeleton every dynamic provider here shares:
// - configure(): SSH settings from the stack config, validated with the program's own schema
//   (`pulumi destroy` and `pulumi refresh` do not run the program);
// - check(): inputs validated by a zod schema, values not known until apply let through;
// - read(): the same contract everywhere: the id and the props' `host` (plus what names the object) are
//   enough, any other prop may be missing and is then read from the cluster; an object that is gone
//   reads as `{ id: "" }`.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ConfigError } from "./errors";
import { configureSsh, SshHost } from "./ssh";
import { sshHostSchema } from "./ssh/types";
import { parseSshSettings } from "./ssh/settings";
import { issueMessages } from "./stackConfig";

/** A dynamic provider with typed inputs and outputs. */
export type Provider<Inputs, Outputs> = pulumi.dynamic.ResourceProvider<Inputs, Outputs>;

export function containsUnknown(value: unknown): boolean {
    if (value === pulumi.runtime.unknownValue) {
        return true;
    }
    if (Array.isArray(value)) {
        return value.some(containsUnknown);
    }
    if (value !== null && typeof value === "object") {
        return Object.values(value).some(containsUnknown);
    }
    return false;
}

/**
 * configure(): credentials come from stack config (or an SSH agent), never from resource inputs, so no key
 * lands in state or in `__provider`. Invalid settings fail here with the program's own message.
 */
export async function configureFromStack(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    configureSsh(parseSshSettings((key) => req.config.get(key)));
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>(
        (at, key) => (at !== null && typeof at === "object" ? (at as Record<PropertyKey, unknown>)[key] : undefined),
        value,
    );
}

/** Drops keys holding `undefined`, which gRPC's Struct cannot carry. */
export function withoutUndefined<T extends object>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * check(): validates `news` with the schema. A problem in a value that is (or holds) an unknown is no
 * problem yet: the value is checked again once it is known. Failures name the top-level property.
 */
export function checkInputs<Inputs>(schema: z.ZodType, news: unknown): pulumi.dynamic.CheckResult<Inputs> {
    const parsed = schema.safeParse(news);
    if (parsed.success) {
        return { inputs: withoutUndefined(parsed.data as object) as Inputs, failures: [] };
    }
    const real = parsed.error.issues.filter((issue) => !containsUnknown(valueAt(news, issue.path)));
    const failures = real.map((issue) => ({
        property: String(issue.path[0] ?? ""),
        // the property is named already; a deeper path goes in front of the message
        reason:
            issue.path.length <= 1
                ? issueMessages([{ ...issue, path: [] }], "")[0].replace(/^: /, "")
                : issueMessages([{ ...issue, path: issue.path.slice(1) }], "")[0],
    }));
    return { inputs: news as Inputs, failures };
}

/** read() needs at least the host it reads from; a missing one is said plainly rather than crashing. */
export function requireHost(props: { host?: SshHost } | undefined, what: string): SshHost {
    const parsed = sshHostSchema.safeParse(props?.host);
    if (!parsed.success) {
        throw new ConfigError(
            `${what}: cannot read it without its host (address, port, user, sudo) in the resource's properties`,
        );
    }
    return parsed.data;
}

/** What read() returns for an object that is gone. */
export function gone<Outputs>(): pulumi.dynamic.ReadResult<Outputs> {
    return { id: "", props: {} as Outputs };
}

export function sameHost(a: SshHost, b: SshHost): boolean {
    return a.address === b.address && a.port === b.port && a.user === b.user && a.sudo === b.sudo;
}
