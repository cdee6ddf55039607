// The whole stack configuration, validated in one place before anything
// touches a host. Defaults reproduce the runbook on the reference Vagrant
// cluster, with the runbook's port slip fixed (see README "Policy").
import { z } from "zod";
import { isValidTag, parseRule, ruleTags, canonicalRule, RuleSyntaxError } from "./calicoRule";
import { sshDefaults } from "./providerSupport";
import { expandHome, knownHostKey, SshHost } from "./ssh";
import { starsTemplateSchema } from "./starsTemplate";

export const projectName = "calico-stars";

/** Reads one raw config value ("calico-stars:<key>"), as pulumi.Config or a provider's configure(req) gives it. */
export type ConfigGetter = (key: string) => string | undefined;

const hostnamePattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An all-digit last label is a mistyped IP address (10.0.0.256), never a DNS name. */
function isDnsName(value: string): boolean {
    return hostnamePattern.test(value) && !/(^|\.)[0-9]+$/.test(value);
}

function isIp(value: string): boolean {
    const net: typeof import("net") = require("net");
    return net.isIP(value) !== 0;
}

function isAddress(value: string): boolean {
    return isIp(value) || isDnsName(value);
}

function isPortText(text: string): boolean {
    return /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= 65535;
}

/** "host:port", split at the last colon; undefined when the port part is not 1-65535. */
function splitHostPort(value: string): { host: string } | undefined {
    const match = /^(.+):([^:]*)$/.exec(value);
    return match !== null && isPortText(match[2]) ? { host: match[1] } : undefined;
}

function isReadableFile(path: string): boolean {
    const fs: typeof import("fs") = require("fs");
    try {
        fs.accessSync(expandHome(path), fs.constants.R_OK);
        return fs.statSync(expandHome(path)).isFile();
    } catch {
        return false;
    }
}

function isSocket(path: string): boolean {
    const fs: typeof import("fs") = require("fs");
    return fs.statSync(expandHome(path), { throwIfNoEntry: false })?.isSocket() ?? false;
}

const address = z.string().refine(isAddress, "must be an IP address or a DNS name");
const ipv4 = z.string().refine((s) => require("net").isIPv4(s), "must be an IPv4 address");
const port = z.number().int("must be a whole number").min(1, "must be 1-65535").max(65535, "must be 1-65535");
const userName = z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, "must be a Unix user name (lower case letters, digits, _ . -)");
// Linux refuses "/", ":" and white space in a name (dev_valid_name); ":" is only ifconfig's alias notation.
const interfaceName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/, "must be a Linux interface name (up to 15 letters, digits, _ . -, not starting with - or .)");
const networkName = z.string().max(64).refine(isValidTag, "must be a Docker network name usable as a Calico tag (letters, digits, _ . -, not starting with - or .)")
    .refine((s) => /^[A-Za-z0-9]/.test(s), "must start with a letter or digit");
const cidr = z.string().superRefine((block, ctx) => {
    if (!isCidr(block)) {
        ctx.addIssue({ code: "custom", message: "must be an IPv4 CIDR such as 192.168.0.0/16" });
    } else if (networkOf(block) !== block) {
        ctx.addIssue({ code: "custom", message: `${block} has host bits set; the network is ${networkOf(block)}` });
    }
});
/** Keys of hostKeys and hostKeyFingerprints: how ssh.ts looks a host up. */
const hostKeyTarget = z.string().refine((s) => isAddress(s) || isAddress(splitHostPort(s)?.host ?? ""),
    "must be a host address, or address:port");
const etcdAuthority = z.string().refine((s) => { const host = splitHostPort(s)?.host ?? ""; return isDnsName(host) || require("net").isIPv4(host); },
    "must be host:port (a DNS name or IPv4 address, and a port 1-65535) such as 127.0.0.1:2379");
const localFile = z.string().refine(isReadableFile, "must name a readable file on the machine that runs pulumi");
const agentSocket = z.string().refine(isSocket, "must name an SSH agent's socket on the machine that runs pulumi");
const dockerImage = z.string().max(255).regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
    "must be a Docker image reference such as djosborne/star:v0.5.0");
const marathonId = z.string().regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\/[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
    "must be a Marathon path without a leading slash: lower-case letters, digits and -, segments separated by /");
const remotePath = z.string().regex(/^\/[A-Za-z0-9_.\/-]*$/, "must be an absolute path of letters, digits, _ . / -").refine((s) => !s.split("/").includes(".."), "must not contain ..");
const publicKey = z.string().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+\/]+={0,3}( [^\x00-\x1f\x7f]*)?$/, "must be a public key line such as \"ssh-ed25519 AAAA...\" (ssh-keyscan prints them)");
const fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+\/]{43}$/, "must be an OpenSSH SHA256 fingerprint (SHA256: and 43 base64 characters)");

function isCidr(value: string): boolean {
    const match = /^(\d+\.\d+\.\d+\.\d+)\/(0|[1-9][0-9]?)$/.exec(value);
    return match !== null && require("net").isIPv4(match[1]) && Number(match[2]) <= 32;
}

function ipv4ToInt(dotted: string): number {
    return dotted.split(".").reduce((acc, octet) => (acc * 256) + Number(octet), 0);
}

/** The block's network: its address with the host bits cleared. */
function networkOf(block: string): string {
    const [base, bits] = block.split("/");
    const size = 2 ** (32 - Number(bits));
    const network = Math.floor(ipv4ToInt(base) / size) * size;
    return `${[24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".")}/${bits}`;
}

export function ipv4InCidr(ip: string, block: string): boolean {
    const [base, bits] = block.split("/");
    const size = 2 ** (32 - Number(bits));
    return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base) / size);
}

/** Issues at the second and later occurrence of each value: resources are named after these values. */
function flagRepeats(values: readonly string[], ctx: z.RefinementCtx, pathOf: (index: number) => PropertyKey[], why: string): void {
    values.forEach((value, i) => {
        if (values.indexOf(value) !== i) {
            ctx.addIssue({ code: "custom", path: pathOf(i), message: `${value} is listed twice; ${why}` });
        }
    });
}

const hostSchema = z.object({
    address,
    port: port.default(22),
    user: userName.optional(),
}).strict();

const networkSchema = z.object({
    name: networkName,
    subnet: cidr.optional(),
}).strict();

const ruleText = z.string().superRefine((text, ctx) => {
    try {
        parseRule(text);
    } catch (err) {
        ctx.addIssue({ code: "custom", message: err instanceof RuleSyntaxError ? err.message : String(err) });
    }
});

const profilePolicySchema = z.object({
    inbound: z.array(ruleText).default([]),
    outbound: z.array(ruleText).default([]),
}).strict();

/** The runbook's step 1: only the collector's network gets a subnet, which its fixed --ip needs. */
export const runbookNetworks: { name: string; subnet?: string }[] = [
    { name: "management-ui", subnet: "192.168.0.0/16" },
    { name: "client" },
    { name: "frontend" },
    { name: "backend" },
];

/** The runbook's end state, with "frontend from client" and "backend from frontend" on 9000, where the probes listen. */
export const runbookPolicy: Record<string, { inbound: string[]; outbound: string[] }> = {
    "management-ui": { inbound: ["allow tcp to ports 9001"], outbound: ["allow"] },
    "client": { inbound: ["allow from tag client", "allow tcp from tag management-ui to ports 9000"], outbound: ["allow"] },
    "frontend": { inbound: ["allow from tag frontend", "allow tcp from tag management-ui to ports 9000", "allow tcp from tag client to ports 9000"], outbound: ["allow"] },
    "backend": { inbound: ["allow from tag backend", "allow tcp from tag management-ui to ports 9000", "allow tcp from tag frontend to ports 9000"], outbound: ["allow"] },
};

const configSchema = z.object({
    master: hostSchema,
    agents: z.array(hostSchema).min(1, "needs at least one agent")
        .superRefine((agents, ctx) => flagRepeats(agents.map((a) => a.address), ctx, (i) => [i, "address"], "each agent needs its own address")),
    sshUser: userName.default("vagrant"),
    sudo: z.boolean().default(false),
    sshPrivateKey: z.string().optional(),
    sshPrivateKeyPath: localFile.optional(),
    sshPrivateKeyPassphrase: z.string().optional(),
    sshAgentSocket: agentSocket.optional(),
    hostKeys: z.record(hostKeyTarget, z.array(publicKey).min(1)).default({}),
    hostKeyFingerprints: z.record(hostKeyTarget, z.array(fingerprint).min(1)).default({}),
    knownHostsPath: localFile.optional(),
    insecureSkipHostKeyVerification: z.boolean().default(false),
    connectTimeoutSeconds: z.number().positive().max(600).default(sshDefaults.connectTimeoutSeconds),
    commandTimeoutSeconds: z.number().positive().max(3600).default(sshDefaults.commandTimeoutSeconds),
    connectAttempts: z.number().int().min(1).max(10).default(sshDefaults.connectAttempts),
    etcdAuthority: etcdAuthority.optional(),
    networks: z.array(networkSchema).min(1, "needs at least one network").default(runbookNetworks),
    networkHost: address.optional(),
    policy: z.record(networkName, profilePolicySchema).default(runbookPolicy),
    image: dockerImage.default("djosborne/star:v0.5.0"),
    groupId: marathonId.default("calico-stars"),
    marathonHost: address.default("127.0.0.1"),
    marathonPort: port.default(8080),
    deploymentTimeoutSeconds: z.number().positive().max(7200).default(600),
    mesosDnsStyle: z.enum(["hyphen", "dot"]).default("hyphen"),
    mesosDnsDomain: z.string().refine(isDnsName, "must be a DNS domain").default("marathon.mesos"),
    collectorIp: ipv4.default("192.168.255.254"),
    collectorPort: port.default(9001),
    probePort: port.default(9000),
    uiPort: port.default(9001),
    publicInterface: interfaceName.default("eth1"),
    dnatHosts: z.array(address).superRefine((hosts, ctx) => flagRepeats(hosts, ctx, (i) => [i], "a host gets the DNAT rules once")).optional(),
    resourcesDir: remotePath.default("/var/tmp/calico-stars"),
    starsTemplate: starsTemplateSchema.optional(),
}).strict();

export type StarsConfig = z.output<typeof configSchema>;

/** Keys whose values arrive as JSON text (structured YAML, numbers, booleans). */
const structuredKeys = new Set(Object.entries(configSchema.shape)
    .filter(([, schema]) => !acceptsRawText(schema))
    .map(([key]) => key));

function acceptsRawText(schema: z.ZodType): boolean {
    let inner: unknown = schema;
    while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) {
        inner = inner.unwrap();
    }
    return inner instanceof z.ZodString || inner instanceof z.ZodEnum;
}

export const configKeys: readonly string[] = Object.keys(configSchema.shape);

export class ConfigError extends Error {}

/** Parses and validates the whole stack config; throws a ConfigError listing every problem by key. */
export function parseStackConfig(get: ConfigGetter, presentKeys: readonly string[] = []): StarsConfig {
    const problems: string[] = [];
    for (const key of presentKeys) {
        // split at the first colon only: "calico-stars:image:x" is not the key "image"
        const [, namespace, name] = /^([^:]*):(.*)$/s.exec(key) ?? [];
        if (namespace === projectName && !configKeys.includes(name)) {
            problems.push(`${key}: unknown configuration key (known keys: ${configKeys.join(", ")})`);
        }
    }
    const raw: Record<string, unknown> = {};
    for (const key of configKeys) {
        const value = get(`${projectName}:${key}`);
        if (value === undefined) {
            continue;
        }
        if (!structuredKeys.has(key)) {
            raw[key] = value;
            continue;
        }
        try {
            raw[key] = JSON.parse(value);
        } catch {
            problems.push(`${projectName}:${key}: is not valid JSON/YAML structure (${abbreviate(value)})`);
        }
    }
    const parsed = configSchema.safeParse(raw);
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            // zod reports a bad record key as "Invalid key in record"; its own issues say what is wrong
            const message = issue.code === "invalid_key" ? issue.issues.map((inner) => inner.message).join("; ") : issue.message;
            problems.push(`${projectName}:${formatPath(issue.path)}: ${message}`);
        }
    }
    if (problems.length > 0 || !parsed.success) {
        throw new ConfigError(`invalid stack configuration:\n  ${problems.join("\n  ")}`);
    }
    const crossProblems = crossCheck(parsed.data);
    if (crossProblems.length > 0) {
        throw new ConfigError(`invalid stack configuration:\n  ${crossProblems.join("\n  ")}`);
    }
    return parsed.data;
}

function abbreviate(text: string): string {
    return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** Record keys outside the safe characters are shown JSON-quoted, so quotes and newlines stay visible. */
function formatPath(path: readonly PropertyKey[]): string {
    return path.map((part, i) => {
        if (typeof part === "number") {
            return `[${part}]`;
        }
        const name = String(part);
        return /^[A-Za-z0-9_.:-]+$/.test(name) ? `${i === 0 ? "" : "."}${name}` : `[${JSON.stringify(name)}]`;
    }).join("");
}

/** Rules that span keys: names that must refer to each other. */
function crossCheck(config: StarsConfig): string[] {
    const problems: string[] = [];
    const names = config.networks.map((n) => n.name);
    const duplicates = names.filter((name, i) => names.indexOf(name) !== i);
    for (const name of new Set(duplicates)) {
        problems.push(`${projectName}:networks: network "${name}" is listed more than once`);
    }
    const profiles = Object.keys(config.policy);
    if (profiles.length === 0) {
        problems.push(`${projectName}:policy: is empty; give each managed network's inbound and outbound rules`);
    }
    for (const profile of profiles) {
        if (!names.includes(profile)) {
            problems.push(`${projectName}:policy.${profile}: names no managed network (networks: ${names.join(", ")})`);
        }
        for (const direction of ["inbound", "outbound"] as const) {
            config.policy[profile][direction].forEach((text, i) => {
                for (const tag of ruleTags(parseRule(text))) {
                    if (!names.includes(tag)) {
                        problems.push(`${projectName}:policy.${profile}.${direction}[${i}]: tag "${tag}" names no managed network (networks: ${names.join(", ")})`);
                    }
                }
            });
            const canonical = config.policy[profile][direction].map(canonicalRule);
            canonical.forEach((rule, i) => {
                if (canonical.indexOf(rule) !== i) {
                    problems.push(`${projectName}:policy.${profile}.${direction}[${i}]: duplicates rule ${canonical.indexOf(rule)} ("${rule}"); calicoctl keeps one copy`);
                }
            });
        }
    }
    const template = config.starsTemplate;
    if (template) {
        for (const app of [template.collector, ...template.probes]) {
            if (!names.includes(app.network)) {
                problems.push(`${projectName}:starsTemplate: app "${app.id}" joins network "${app.network}", which is not managed (networks: ${names.join(", ")})`);
            }
        }
    } else {
        for (const name of runbookNetworks.map((n) => n.name)) {
            if (!names.includes(name)) {
                problems.push(`${projectName}:networks: the default stars template needs network "${name}"; add it or give starsTemplate`);
            }
        }
    }
    const collectorNetwork = config.networks.find((n) => n.name === (template?.collector.network ?? "management-ui"));
    if (collectorNetwork && !collectorNetwork.subnet) {
        problems.push(`${projectName}:networks: the collector's network "${collectorNetwork.name}" needs a subnet: a fixed --ip works only on a network created with --subnet`);
    } else if (collectorNetwork?.subnet && !ipv4InCidr(config.collectorIp, collectorNetwork.subnet)) {
        problems.push(`${projectName}:collectorIp: ${config.collectorIp} is outside the collector network's subnet ${collectorNetwork.subnet}`);
    }
    // checked here, not when the agents' commands are declared, so that the program stops before any resource exists
    if (!config.insecureSkipHostKeyVerification) {
        for (const agent of config.agents) {
            const host: SshHost = { address: agent.address, port: agent.port, user: agent.user ?? config.sshUser, sudo: config.sudo };
            if (commandHostKey(config, host) === undefined) {
                problems.push(`${projectName}:hostKeys: no public key for ${agent.address}: each agent's prep command (pre-pull and resources file, ` +
                    `@pulumi/command) verifies a host only against its full public key; add it (ssh-keyscan ${agent.address}) or a knownHostsPath entry`);
            }
        }
    }
    const hosts = [config.master.address, ...config.agents.map((a) => a.address)];
    if (config.networkHost !== undefined && !hosts.includes(config.networkHost)) {
        problems.push(`${projectName}:networkHost: ${config.networkHost} is neither the master nor an agent`);
    }
    for (const [i, dnatHost] of (config.dnatHosts ?? []).entries()) {
        if (!hosts.includes(dnatHost)) {
            problems.push(`${projectName}:dnatHosts[${i}]: ${dnatHost} is neither the master nor an agent`);
        }
    }
    return problems;
}

/** The host's full public key for @pulumi/command, which checks a host only against a key, never a fingerprint. */
export function commandHostKey(config: StarsConfig, host: SshHost): string | undefined {
    return config.hostKeys[`${host.address}:${host.port}`]?.[0] ?? config.hostKeys[host.address]?.[0]
        ?? (config.knownHostsPath !== undefined ? knownHostKey(config.knownHostsPath, host) : undefined);
}
