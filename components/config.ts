// The whole stack configuration, validated in one place before anything
// touches a host. Defaults reproduce the runbook on the reference Vagrant
// cluster, with the runbook's port slip fixed (see README "Policy").
import { z } from "zod";
import { canonicalRule, isValidTag, parseRule, RuleSyntaxError, ruleTags } from "@calico-stars/providers/calico";
import { ConfigError, ConfigGetter, ipv4InCidr, isAddress, isCidr, isDnsName, isIpv4, networkOf, parseConfigKeys, projectName, splitHostPort } from "@calico-stars/providers";
import { sshConfigShape } from "@calico-stars/providers/ssh";
import { acceptedHostKey, SshHost } from "@calico-stars/providers/ssh";
import { starsTemplateSchema } from "./starsTemplate";
import * as runbookPolicyModule from "./runbookPolicy.json";

export { ConfigError, projectName };
export type { ConfigGetter };

const address = z.string().refine(isAddress, "must be an IP address or a DNS name");
const ipv4 = z.string().refine(isIpv4, "must be an IPv4 address");
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
const etcdAuthority = z.string().refine((s) => { const host = splitHostPort(s)?.host ?? ""; return isDnsName(host) || isIpv4(host); },
    "must be host:port (a DNS name or IPv4 address, and a port 1-65535) such as 127.0.0.1:2379");
const dockerImage = z.string().max(255).regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
    "must be a Docker image reference such as djosborne/star:v0.5.0");
/** Marathon routes `/v2/groups/<x>/apps` and `.../versions[/...]` to other listings (GroupsResource, v0.14.2 and v1.1.1). */
const marathonReservedSegments = ["apps", "versions"];
const marathonId = z.string().regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\/[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
    "must be a Marathon path without a leading slash: lower-case letters, digits and -, segments separated by /")
    .refine((id) => !id.split("/").some((segment) => marathonReservedSegments.includes(segment)),
        `must not contain a segment ${marathonReservedSegments.map((s) => `"${s}"`).join(" or ")}: Marathon routes /v2/groups/<id>/apps and /versions to other listings`);
const remotePath = z.string().regex(/^\/[A-Za-z0-9_.\/-]*$/, "must be an absolute path of letters, digits, _ . / -").refine((s) => !s.split("/").includes(".."), "must not contain ..");

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

/** The runbook's end state (a JSON file, which the sandbox's stack file writer reads too), with "frontend from client" and "backend from frontend" on 9000, where the probes listen. */
export const runbookPolicy: Record<string, { inbound: string[]; outbound: string[] }> =
    (runbookPolicyModule as unknown as { default?: typeof runbookPolicyModule }).default ?? runbookPolicyModule;

const configSchema = z.object({
    master: hostSchema,
    agents: z.array(hostSchema).min(1, "needs at least one agent")
        .superRefine((agents, ctx) => flagRepeats(agents.map((a) => a.address), ctx, (i) => [i, "address"], "each agent needs its own address")),
    sshUser: userName.default("vagrant"),
    sudo: z.boolean().default(false),
    ...sshConfigShape,
    etcdAuthority: etcdAuthority.optional(),
    networks: z.array(networkSchema).min(1, "needs at least one network").default(runbookNetworks),
    adoptNetworks: z.array(networkName).superRefine((names, ctx) => flagRepeats(names, ctx, (i) => [i], "a network is adopted once")).default([]),
    networkHost: address.optional(),
    policy: z.record(networkName, profilePolicySchema).default(runbookPolicy),
    image: dockerImage.default("djosborne/star:v0.5.0"),
    groupId: marathonId.default("calico-stars"),
    marathonHost: address.default("127.0.0.1"),
    marathonPort: port.default(8080),
    deploymentTimeoutSeconds: z.number().positive().max(7200).default(600),
    forceDeployments: z.boolean().default(false),
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
    verifyPolicy: z.boolean().default(false),
    verifyTimeoutSeconds: z.number().positive().max(3600).default(180),
}).strict();

export type StarsConfig = z.output<typeof configSchema>;

export const configKeys: readonly string[] = Object.keys(configSchema.shape);

/** Parses and validates the whole stack config; throws a ConfigError listing every problem by key. */
export function parseStackConfig(get: ConfigGetter, presentKeys: readonly string[] = []): StarsConfig {
    const config = parseConfigKeys(configSchema, get, presentKeys);
    const crossProblems = crossCheck(config);
    if (crossProblems.length > 0) {
        throw new ConfigError(`invalid stack configuration:\n  ${crossProblems.join("\n  ")}`);
    }
    return config;
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
            const found = acceptedHostKey(config, host);
            if ("problem" in found) {
                problems.push(`${projectName}:hostKeys: ${found.problem}: each agent's prep command (pre-pull and resources file, ` +
                    `@pulumi/command) verifies a host only against its full public key; add it (ssh-keyscan ${agent.address}) or a knownHostsPath entry`);
            }
        }
    }
    config.adoptNetworks.forEach((name, i) => {
        if (!names.includes(name)) {
            problems.push(`${projectName}:adoptNetworks[${i}]: "${name}" names no managed network (networks: ${names.join(", ")})`);
        }
    });
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
