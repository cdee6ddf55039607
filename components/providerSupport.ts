// What every dynamic provider here shares: reading SSH settings from stack
// config in configure(), and telling unknown (preview-time) values apart.
// Kept free of zod and of the config schema, because providers are serialized
// into state by value and must stay small.
import * as pulumi from "@pulumi/pulumi";
import { configureSsh, SshHost } from "./ssh";

/** What the engine passes for a value not known until apply. */
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function containsUnknown(value: unknown): boolean {
    if (value === unknownValue) {
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

export const sshDefaults = {
    connectTimeoutSeconds: 15,
    commandTimeoutSeconds: 60,
    connectAttempts: 3,
};

/**
 * configure(): credentials come from stack config (or an SSH agent), never
 * from resource inputs, so no key lands in state or in `__provider`.
 * The program validated these keys before any resource was registered.
 */
export async function configureFromStack(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    const get = (key: string) => req.config.get(`calico-stars:${key}`);
    const json = <T>(key: string, fallback: T): T => {
        const raw = get(key);
        return raw === undefined ? fallback : JSON.parse(raw) as T;
    };
    const privateKey = get("sshPrivateKey");
    const privateKeyPath = get("sshPrivateKeyPath");
    configureSsh({
        privateKey,
        privateKeyPath,
        passphrase: get("sshPrivateKeyPassphrase"),
        agentSocket: get("sshAgentSocket") ?? (privateKey === undefined && privateKeyPath === undefined ? process.env.SSH_AUTH_SOCK : undefined),
        hostKeys: json<Record<string, string[]>>("hostKeys", {}),
        hostKeyFingerprints: json<Record<string, string[]>>("hostKeyFingerprints", {}),
        knownHostsPath: get("knownHostsPath"),
        insecureSkipHostKeyVerification: json<boolean>("insecureSkipHostKeyVerification", false),
        connectTimeoutMs: json<number>("connectTimeoutSeconds", sshDefaults.connectTimeoutSeconds) * 1000,
        commandTimeoutMs: json<number>("commandTimeoutSeconds", sshDefaults.commandTimeoutSeconds) * 1000,
        connectAttempts: json<number>("connectAttempts", sshDefaults.connectAttempts),
    });
}

export function sameHost(a: SshHost, b: SshHost): boolean {
    return a.address === b.address && a.port === b.port && a.user === b.user && a.sudo === b.sudo;
}

/** Resource inputs as the provider sees them: every pulumi.Input resolved. */
export type Resolved<T> = { [K in keyof T]: pulumi.Unwrap<T[K]> };
