// How the SSH layer logs in and checks host keys, from the stack config: the keys' schema (shared with the
// program's whole config, components/config.ts) and the settings each provider's configure() builds from it.
import * as fs from "fs";
import * as os from "os";
import { z } from "zod";
import { isAddress, isPortText, splitHostPort } from "../netAddress";
import { ConfigGetter, parseConfigKeys } from "../stackConfig";

/** How to authenticate and verify hosts; read from stack config in `configure`, never a resource input. */
export interface SshSettings {
    privateKey?: string;
    privateKeyPath?: string;
    passphrase?: string;
    agentSocket?: string;
    /** address (any port) or [address]:port -> accepted public keys, "ssh-ed25519 AAAA..." */
    hostKeys: Record<string, string[]>;
    /** address (any port) or [address]:port -> accepted "SHA256:..." fingerprints */
    hostKeyFingerprints: Record<string, string[]>;
    knownHostsPath?: string;
    insecureSkipHostKeyVerification: boolean;
    connectTimeoutMs: number;
    commandTimeoutMs: number;
    connectAttempts: number;
    /** Most bytes a command may print on stdout (and on stderr), or an HTTP response may carry; default 8 MiB. */
    maxOutputBytes?: number;
}

export const defaultMaxOutputBytes = 8 * 1024 * 1024;

const sshDefaults = {
    connectTimeoutSeconds: 15,
    commandTimeoutSeconds: 60,
    connectAttempts: 3,
};

/** `~/...` as a shell would read it: stack files such as Pulumi.dev.yaml name `~/.ssh/known_hosts`. */
export function expandHome(path: string): string {
    return path === "~" || path.startsWith("~/") ? os.homedir() + path.slice(1) : path;
}

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

const localFile = z.string().refine(isReadableFile, "must name a readable file on the machine that runs pulumi");
/**
 * Keys of hostKeys and hostKeyFingerprints: an address, or `[address]:port` as known_hosts spells a host on another
 * port (misc.c put_host_port); `address:port` is refused, since `2001:db8::1:22` is an IPv6 address of its own.
 */
const hostKeyTarget = z.string().superRefine((target, ctx) => {
    const bracketed = /^\[(.+)\]:([^:]*)$/.exec(target);
    if (isAddress(target) || (bracketed !== null && isAddress(bracketed[1]) && isPortText(bracketed[2]))) {
        return;
    }
    const hostPort = splitHostPort(target);
    const port = target.slice(target.lastIndexOf(":") + 1);
    ctx.addIssue({
        code: "custom",
        message:
            hostPort !== undefined && isAddress(hostPort.host)
                ? `write [${hostPort.host}]:${port} for a host on port ${port}, as known_hosts does: address:port reads as an IPv6 address`
                : "must be a host address, or [address]:port for a host on another port than 22",
    });
});
const publicKey = z.string().regex(
    // the comment may hold any text but control characters
    // eslint-disable-next-line no-control-regex
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\x00-\x1f\x7f]*)?$/,
    'must be a public key line such as "ssh-ed25519 AAAA..." (ssh-keyscan prints them)',
);
const fingerprint = z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, "must be an OpenSSH SHA256 fingerprint (SHA256: and 43 base64 characters)");

/** The SSH connection's config keys, shared by the program's schema and the providers' configure(). */
export const sshConfigShape = {
    sshPrivateKey: z.string().optional(),
    sshPrivateKeyPath: localFile.optional(),
    sshPrivateKeyPassphrase: z.string().optional(),
    sshAgentSocket: z
        .string()
        .refine(isSocket, "must name an SSH agent's socket on the machine that runs pulumi")
        .optional(),
    hostKeys: z.record(hostKeyTarget, z.array(publicKey).min(1)).default({}),
    hostKeyFingerprints: z.record(hostKeyTarget, z.array(fingerprint).min(1)).default({}),
    knownHostsPath: localFile.optional(),
    insecureSkipHostKeyVerification: z.boolean().default(false),
    connectTimeoutSeconds: z.number().positive().max(600).default(sshDefaults.connectTimeoutSeconds),
    commandTimeoutSeconds: z.number().positive().max(3600).default(sshDefaults.commandTimeoutSeconds),
    connectAttempts: z.number().int().min(1).max(10).default(sshDefaults.connectAttempts),
};

const sshConfigSchema = z.object(sshConfigShape);

export type SshConfig = z.output<typeof sshConfigSchema>;

export function sshSettingsFrom(config: SshConfig, environment: NodeJS.ProcessEnv = process.env): SshSettings {
    return {
        privateKey: config.sshPrivateKey,
        privateKeyPath: config.sshPrivateKeyPath,
        passphrase: config.sshPrivateKeyPassphrase,
        agentSocket:
            config.sshAgentSocket ??
            (config.sshPrivateKey === undefined && config.sshPrivateKeyPath === undefined
                ? environment.SSH_AUTH_SOCK
                : undefined),
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
    return sshSettingsFrom(parseConfigKeys(sshConfigSchema, get));
}
