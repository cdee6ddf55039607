// The whole stack configuration, validated in one place before anything
// touches a host. Defaults reproduce the runbook on the reference Vagrant
// cluster, with the runbook's port slip fixed (see README "Policy").
import { z } from "zod";
import { isValidTag, parseRule, ruleTags, canonicalRule, RuleSyntaxError } from "./calicoRule";
import { sshDefaults } from "./providerSupport";
import { starsTemplateSchema } from "./starsTemplate";

export const projectName = "calico-stars";

/** Reads one raw config value ("calico-stars:<key>"), as pulumi.Config or a provider's configure(req) gives it. */
export type ConfigGetter = (key: string) => string | undefined;

const hostnamePattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function isIp(value: string): boolean {
    const net: typeof import("net") = require("net");
    return net.isIP(value) !== 0;
}

const address = z.string().refine((s) => isIp(s) || hostnamePattern.test(s), "must be an IP address or a DNS name");
const ipv4 = z.string().refine((s) => require("net").isIPv4(s), "must be an IPv4 address");
const port = z.number().int("must be a whole number").min(1, "must be 1-65535").max(65535, "must be 1-65535");
const userName = z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, "must be a Unix user name (lower case letters, digits, _ . -)");
const interfaceName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}$/, "must be a network interface name (up to 15 letters, digits, _ . : -, not starting with -)");
const networkName = z.string().max(64).refine(isValidTag, "must be a Docker network name usable as a Calico tag (letters, digits, _ . -, not starting with - or .)")
    .refine((s) => /^[A-Za-z0-9]/.test(s), "must start with a letter or digit");
const cidr = z.string().refine(isCidr, "must be an IPv4 CIDR such as 192.168.0.0/16");
const dockerImage = z.string().max(255).regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
    "must be a Docker image reference such as djosborne/star:v0.5.0");
const marathonId = z.string().regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\/[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
    "must be a Marathon path without a leading slash: lower-case letters, digits and -, segments separated by /");
const remotePath = z.string().regex(/^\/[A-Za-z0-9_.\/-]*$/, "must be an absolute path of letters, digits, _ . / -").refine((s) => !s.split("/").includes(".."), "must not contain ..");
const publicKey = z.string().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+\/]+={0,3}( [^\n]*)?$/, "must be a public key line such as \"ssh-ed25519 AAAA...\" (ssh-keyscan prints them)");
const fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+\/]{43}$/, "must be an OpenSSH SHA256 fingerprint (SHA256: and 43 base64 characters)");

function isCidr(value: string): boolean {
    const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(value);
    return match !== null && require("net").isIPv4(match[1]) && Number(match[2]) <= 32;
}

export function ipv4InCidr(ip: string, block: string): boolean {
    const toInt = (dotted: string) => dotted.split(".").reduce((acc, octet) => (acc * 256) + Number(octet), 0);
    const [base, bits] = block.split("/");
    const size = 2 ** (32 - Number(bits));
    return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
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

const runbookNetworks = [
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
    agents: z.array(hostSchema).min(1, "needs at least one agent"),
    sshUser: userName.default("vagrant"),
    sudo: z.boolean().default(false),
    sshPrivateKey: z.string().optional(),
    sshPrivateKeyPath: z.string().optional(),
    sshPrivateKeyPassphrase: z.string().optional(),
    sshAgentSocket: z.string().optional(),
    hostKeys: z.record(z.string(), z.array(publicKey).min(1)).default({}),
    hostKeyFingerprints: z.record(z.string(), z.array(fingerprint).min(1)).default({}),
    knownHostsPath: z.string().optional(),
    insecureSkipHostKeyVerification: z.boolean().default(false),
    connectTimeoutSeconds: z.number().positive().max(600).default(sshDefaults.connectTimeoutSeconds),
    commandTimeoutSeconds: z.number().positive().max(3600).default(sshDefaults.commandTimeoutSeconds),
    connectAttempts: z.number().int().min(1).max(10).default(sshDefaults.connectAttempts),
    etcdAuthority: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port").optional(),
    networks: z.array(networkSchema).min(1, "needs at least one network").default(runbookNetworks),
    networkHost: address.optional(),
    policy: z.record(networkName, profilePolicySchema).default(runbookPolicy),
    image: dockerImage.default("djosborne/star:v0.5.0"),
    groupId: marathonId.default("calico-stars"),
    marathonHost: address.default("127.0.0.1"),
    marathonPort: port.default(8080),
    deploymentTimeoutSeconds: z.number().positive().max(7200).default(600),
    mesosDnsStyle: z.enum(["hyphen", "dot"]).default("hyphen"),
    mesosDnsDomain: z.string().regex(hostnamePattern, "must be a DNS domain").default("marathon.mesos"),
    collectorIp: ipv4.default("192.168.255.254"),
    collectorPort: port.default(9001),
    probePort: port.default(9000),
    uiPort: port.default(9001),
    publicInterface: interfaceName.default("eth1"),
    dnatHosts: z.array(address).optional(),
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
        const [namespace, name] = key.split(":", 2);
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
            problems.push(`${projectName}:${formatPath(issue.path)}: ${issue.message}`);
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

function formatPath(path: readonly PropertyKey[]): string {
    return path.map((part, i) => typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`).join("");
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
