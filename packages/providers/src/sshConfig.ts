// The SSH keys of the stack config, and the one function that reads raw config
// values through a zod schema. The program validates the whole config with it
// (config.ts); every provider's configure() validates the SSH keys with the very
// same schema, because `pulumi destroy` and `pulumi refresh` configure providers
// without running the program.
import * as fs from "fs";
import { z } from "zod";
import { ConfigError } from "./errors";
import { isAddress, splitHostPort } from "./netAddress";
import { expandHome } from "./ssh/localPath";
import type { SshSettings } from "./ssh/types";

export const projectName = "calico-stars";

/** Reads one raw config value ("calico-stars:<key>"), as pulumi.Config or a provider's configure(req) gives it. */
export type ConfigGetter = (key: string) => string | undefined;

export const sshDefaults = {
    connectTimeoutSeconds: 15,
    commandTimeoutSeconds: 60,
    connectAttempts: 3,
};

function isReadableFile(path: string): boolean {
    try {
        fs.accessSync(expandHome(path), fs.constants.R_OK);
        return fs.statSync(expandHome(path)).isFile();
    } catch {
        return false;
    }
}

function isSocket(path: string): boolean {
    return fs.statSync(expandHome(path), { throwIfNoEntry: false })?.isSocket() ?? false;
}

export const localFileSchema = z.string().refine(isReadableFile, "must name a readable file on the machine that runs pulumi");

/** The SSH connection's keys, shared by the program's schema and the providers' configure(). */
export function sshConfigShape() {
    /** Keys of hostKeys and hostKeyFingerprints: how the host-key check looks a host up. */
    const hostKeyTarget = z.string().refine((s) => isAddress(s) || isAddress(splitHostPort(s)?.host ?? ""),
        "must be a host address, or address:port");
    const publicKey = z.string().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+\/]+={0,3}( [^\x00-\x1f\x7f]*)?$/,
        "must be a public key line such as \"ssh-ed25519 AAAA...\" (ssh-keyscan prints them)");
    const fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+\/]{43}$/, "must be an OpenSSH SHA256 fingerprint (SHA256: and 43 base64 characters)");
    return {
        sshPrivateKey: z.string().optional(),
        sshPrivateKeyPath: localFileSchema.optional(),
        sshPrivateKeyPassphrase: z.string().optional(),
        sshAgentSocket: z.string().refine(isSocket, "must name an SSH agent's socket on the machine that runs pulumi").optional(),
        hostKeys: z.record(hostKeyTarget, z.array(publicKey).min(1)).default({}),
        hostKeyFingerprints: z.record(hostKeyTarget, z.array(fingerprint).min(1)).default({}),
        knownHostsPath: localFileSchema.optional(),
        insecureSkipHostKeyVerification: z.boolean().default(false),
        connectTimeoutSeconds: z.number().positive().max(600).default(sshDefaults.connectTimeoutSeconds),
        commandTimeoutSeconds: z.number().positive().max(3600).default(sshDefaults.commandTimeoutSeconds),
        connectAttempts: z.number().int().min(1).max(10).default(sshDefaults.connectAttempts),
    };
}

type SshConfig = z.output<z.ZodObject<ReturnType<typeof sshConfigShape>>>;

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
export function formatConfigPath(path: readonly PropertyKey[]): string {
    return path.map((part, i) => {
        if (typeof part === "number") {
            return `[${part}]`;
        }
        const name = String(part);
        return /^[A-Za-z0-9_.:-]+$/.test(name) ? `${i === 0 ? "" : "."}${name}` : `[${JSON.stringify(name)}]`;
    }).join("");
}

/** One message per zod issue, naming the key; zod says "Invalid key in record", its inner issues say what is wrong. */
export function issueMessages(issues: readonly z.core.$ZodIssue[], prefix: string): string[] {
    return issues.map((issue) => {
        const message = issue.code === "invalid_key" ? issue.issues.map((inner) => inner.message).join("; ") : issue.message;
        return `${prefix}${formatConfigPath(issue.path)}: ${message}`;
    });
}

/**
 * Reads every key of `schema` from the config and validates them all; throws a ConfigError listing every
 * problem by key. Strings and enums are taken as typed; other values (numbers, booleans, structured YAML)
 * arrive as JSON text. `presentKeys`, when given, are checked for unknown keys of this project.
 */
export function parseConfigKeys<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>, get: ConfigGetter,
    presentKeys: readonly string[] = []): z.output<z.ZodObject<Shape>> {
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

export function sshSettingsFrom(config: SshConfig, environment: NodeJS.ProcessEnv = process.env): SshSettings {
    return {
        privateKey: config.sshPrivateKey,
        privateKeyPath: config.sshPrivateKeyPath,
        passphrase: config.sshPrivateKeyPassphrase,
        agentSocket: config.sshAgentSocket ?? (config.sshPrivateKey === undefined && config.sshPrivateKeyPath === undefined ? environment.SSH_AUTH_SOCK : undefined),
        hostKeys: config.hostKeys,
        hostKeyFingerprints: config.hostKeyFingerprints,
        knownHostsPath: config.knownHostsPath,
        insecureSkipHostKeyVerification: config.insecureSkipHostKeyVerification,
        connectTimeoutMs: config.connectTimeoutSeconds * 1000,
        commandTimeoutMs: config.commandTimeoutSeconds * 1000,
        connectAttempts: config.connectAttempts,
    };
}

/** The SSH settings from the stack config, validated as the program validates them. */
export function parseSshSettings(get: ConfigGetter): SshSettings {
    return sshSettingsFrom(parseConfigKeys(z.object(sshConfigShape()), get));
}
