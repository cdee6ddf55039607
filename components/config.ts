// The whole stack configuration, validated in one place before anything
// touches a host. Defaults reproduce the runbook on the reference Vagrant
// cluster, with the runbook's port slip fixed (docs/policy.md, "The runbook's slips").
import { z } from "zod";
import {
    address,
    ConfigError,
    ConfigGetter,
    interfaceName,
    ipv4,
    ipv4InCidr,
    isCidr,
    isDnsName,
    isIpv4,
    marathonGroupId,
    networkName,
    networkOf,
    parseConfigKeys,
    port,
    projectName,
    splitHostPort,
} from "@calico-stars/providers";
import { canonicalRule, parseRule, RuleSyntaxError, ruleTags } from "@calico-stars/providers/calico";
import { acceptedHostKey, SshHost, sshConfigShape } from "@calico-stars/providers/ssh";
import * as runbookPolicyModule from "./runbookPolicy.json";
import * as defaultTemplateJson from "./stars.json";

export { ConfigError, projectName };
export type { ConfigGetter };

const userName = z
    .string()
    .regex(/^[a-z_][a-z0-9_.-]{0,31}$/, "must be a Unix user name (lower case letters, digits, _ . -)");
const cidr = z.string().superRefine((block, ctx) => {
    if (!isCidr(block)) {
        ctx.addIssue({ code: "custom", message: "must be an IPv4 CIDR such as 192.168.0.0/16" });
    } else if (networkOf(block) !== block) {
        ctx.addIssue({ code: "custom", message: `${block} has host bits set; the network is ${networkOf(block)}` });
    }
});
const etcdAuthority = z.string().refine((s) => {
    const host = splitHostPort(s)?.host ?? "";
    return isDnsName(host) || isIpv4(host);
}, "must be host:port (a DNS name or IPv4 address, and a port 1-65535) such as 127.0.0.1:2379");
const dockerImage = z
    .string()
    .max(255)
    .regex(
        /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
        "must be a Docker image reference such as djosborne/star:v0.5.0",
    );
const remotePath = z
    .string()
    .regex(/^\/[A-Za-z0-9_./-]*$/, "must be an absolute path of letters, digits, _ . / -")
    .refine((s) => !s.split("/").includes(".."), "must not contain ..");

/** Issues at the second and later occurrence of each value: resources are named after these values. */
function flagRepeats(
    values: readonly string[],
    ctx: z.RefinementCtx,
    pathOf: (index: number) => PropertyKey[],
    why: string,
): void {
    values.forEach((value, i) => {
        if (values.indexOf(value) !== i) {
            ctx.addIssue({ code: "custom", path: pathOf(i), message: `${value} is listed twice; ${why}` });
        }
    });
}

const hostSchema = z
    .object({
        address,
        port: port.default(22),
        user: userName.optional(),
    })
    .strict();

const networkSchema = z
    .object({
        name: networkName,
        subnet: cidr.optional(),
    })
    .strict();

const ruleText = z.string().superRefine((text, ctx) => {
    try {
        parseRule(text);
    } catch (err) {
        ctx.addIssue({ code: "custom", message: err instanceof RuleSyntaxError ? err.message : String(err) });
    }
});

const profilePolicySchema = z
    .object({
        inbound: z.array(ruleText).default([]),
        outbound: z.array(ruleText).default([]),
    })
    .strict();

// The stars template (stars.json): the apps, their networks and commands, which starsTemplate.ts renders.
const appId = z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be a Marathon app id: lower-case letters, digits and -");
/** Words, $VARS and {{placeholders}} only: the command runs through /bin/sh -c in the container. */
const containerCommand = z
    .string()
    .max(1000)
    .regex(
        /^([A-Za-z0-9_./=:,@%+-]|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[a-zA-Z]+\}\}| )+$/,
        "may hold only words of letters, digits and _ . / = : , @ % + -, $VARIABLES and {{placeholders}}, separated by spaces",
    );
const resources = {
    cpus: z.number().positive().max(64),
    mem: z
        .number()
        .positive()
        .max(1 << 20),
};
const networkRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a managed network's name");
/** What renderStarsGroup fills in: the collector's command gets no {{urls}}, the probes' command must have them. */
const collectorPlaceholders = ["collectorPort", "probePort", "resourcesFile"];
const probePlaceholders = [...collectorPlaceholders, "urls"];

function unknownPlaceholders(command: string, known: readonly string[]): string[] {
    return [...command.matchAll(/\{\{([a-zA-Z]+)\}\}/g)].map((m) => m[1]).filter((name) => !known.includes(name));
}

const starsTemplateSchema = z
    .object({
        collector: z.object({ id: appId, network: networkRef, cmd: containerCommand, ...resources }).strict(),
        probes: z
            .array(
                z
                    .object({
                        id: appId,
                        resourceId: z
                            .string()
                            .regex(/^[A-Za-z0-9_-]{1,16}$/, "must be a short id of letters, digits, _ -"),
                        network: networkRef,
                        ...resources,
                    })
                    .strict(),
            )
            .min(1, "needs at least one probe"),
        probeCmd: containerCommand,
    })
    .strict()
    .superRefine((template, ctx) => {
        const ids = [template.collector.id, ...template.probes.map((p) => p.id)];
        ids.forEach((id, i) => {
            if (ids.indexOf(id) !== i) {
                ctx.addIssue({ code: "custom", message: `app id "${id}" is used twice` });
            }
        });
        // the UI draws an edge by resource id, so two probes with one id would be drawn as one
        const resourceIds = template.probes.map((p) => p.resourceId);
        resourceIds.forEach((id, i) => {
            if (resourceIds.indexOf(id) !== i) {
                ctx.addIssue({
                    code: "custom",
                    path: ["probes", i, "resourceId"],
                    message: `resource id "${id}" is used twice`,
                });
            }
        });
        for (const [path, command, known] of [
            [["collector", "cmd"], template.collector.cmd, collectorPlaceholders],
            [["probeCmd"], template.probeCmd, probePlaceholders],
        ] as const) {
            for (const name of unknownPlaceholders(command, known)) {
                ctx.addIssue({
                    code: "custom",
                    path: [...path],
                    message: `{{${name}}} is not filled in here (known: ${known.map((k) => `{{${k}}}`).join(", ")})`,
                });
            }
        }
        if (!template.probeCmd.includes("{{urls}}")) {
            ctx.addIssue({
                code: "custom",
                path: ["probeCmd"],
                message: "must contain {{urls}} (the probe's targets)",
            });
        }
    });

export type StarsTemplate = z.output<typeof starsTemplateSchema>;

/** The runbook's template, used unless config `starsTemplate` gives one. */
export const defaultStarsTemplate: StarsTemplate = starsTemplateSchema.parse(
    (defaultTemplateJson as unknown as { default?: unknown }).default ?? defaultTemplateJson,
);

/** The template the stack deploys. */
export function starsTemplateOf(config: Pick<StarsConfig, "starsTemplate">): StarsTemplate {
    return config.starsTemplate ?? defaultStarsTemplate;
}

/** The runbook's step 1: only the collector's network gets a subnet, which its fixed --ip needs. */
export const runbookNetworks: { name: string; subnet?: string }[] = [
    { name: "management-ui", subnet: "192.168.0.0/16" },
    { name: "client" },
    { name: "frontend" },
    { name: "backend" },
];

/**
 * The runbook's end state (a JSON file, which the sandbox's stack file writer reads too), with "frontend from client"
 * and "backend from frontend" on 9000, where the probes listen.
 */
export const runbookPolicy: Record<string, { inbound: string[]; outbound: string[] }> =
    (runbookPolicyModule as unknown as { default?: typeof runbookPolicyModule }).default ?? runbookPolicyModule;

const configSchema = z
    .object({
        master: hostSchema,
        agents: z
            .array(hostSchema)
            .min(1, "needs at least one agent")
            .superRefine((agents, ctx) =>
                flagRepeats(
                    agents.map((a) => a.address),
                    ctx,
                    (i) => [i, "address"],
                    "each agent needs its own address",
                ),
            ),
        sshUser: userName.default("vagrant"),
        sudo: z.boolean().default(false),
        ...sshConfigShape,
        etcdAuthority: etcdAuthority.optional(),
        networks: z.array(networkSchema).min(1, "needs at least one network").default(runbookNetworks),
        adoptNetworks: z
            .array(networkName)
            .superRefine((names, ctx) => flagRepeats(names, ctx, (i) => [i], "a network is adopted once"))
            .default([]),
        networkHost: address.optional(),
        policy: z.record(networkName, profilePolicySchema).default(runbookPolicy),
        image: dockerImage.default("djosborne/star:v0.5.0"),
        groupId: marathonGroupId.default("calico-stars"),
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
        dnatHosts: z
            .array(address)
            .superRefine((hosts, ctx) => flagRepeats(hosts, ctx, (i) => [i], "a host gets the DNAT rules once"))
            .optional(),
        resourcesDir: remotePath.default("/var/tmp/calico-stars"),
        starsTemplate: starsTemplateSchema.optional(),
        verifyPolicy: z.boolean().default(false),
        /**
         * The check's timeout; by default a little past the longest time a change can take to show (verify's bounds).
         */
        verifyTimeoutSeconds: z.number().positive().max(3600).optional(),
    })
    .strict();

export type StarsConfig = z.output<typeof configSchema>;

/** The cluster's hosts as the program logs in to them: each with its own user or sshUser, all with sudo or not. */
export function clusterHosts(config: StarsConfig): { master: SshHost; agents: SshHost[] } {
    const hostOf = (host: { address: string; port: number; user?: string }): SshHost => ({
        address: host.address,
        port: host.port,
        user: host.user ?? config.sshUser,
        sudo: config.sudo,
    });
    return { master: hostOf(config.master), agents: config.agents.map(hostOf) };
}

/** Where the program runs `docker network` and calicoctl: config `networkHost`, else the first agent. */
export function networkHostOf(config: StarsConfig): SshHost {
    const { master, agents } = clusterHosts(config);
    return [master, ...agents].find((h) => h.address === config.networkHost) ?? agents[0];
}

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
                        problems.push(
                            `${projectName}:policy.${profile}.${direction}[${i}]: tag "${tag}" names no managed network (networks: ${names.join(", ")})`,
                        );
                    }
                }
            });
            const canonical = config.policy[profile][direction].map(canonicalRule);
            canonical.forEach((rule, i) => {
                if (canonical.indexOf(rule) !== i) {
                    problems.push(
                        `${projectName}:policy.${profile}.${direction}[${i}]: duplicates rule ${canonical.indexOf(rule)} ("${rule}"); calicoctl keeps one copy`,
                    );
                }
            });
        }
    }
    const template = config.starsTemplate;
    if (template) {
        for (const app of [template.collector, ...template.probes]) {
            if (!names.includes(app.network)) {
                problems.push(
                    `${projectName}:starsTemplate: app "${app.id}" joins network "${app.network}", which is not managed (networks: ${names.join(", ")})`,
                );
            }
        }
    } else {
        for (const name of runbookNetworks.map((n) => n.name)) {
            if (!names.includes(name)) {
                problems.push(
                    `${projectName}:networks: the default stars template needs network "${name}"; add it or give starsTemplate`,
                );
            }
        }
    }
    const collectorNetwork = config.networks.find((n) => n.name === (template?.collector.network ?? "management-ui"));
    if (collectorNetwork && !collectorNetwork.subnet) {
        problems.push(
            `${projectName}:networks: the collector's network "${collectorNetwork.name}" needs a subnet: a fixed --ip works only on a network created with --subnet`,
        );
    } else if (collectorNetwork?.subnet && !ipv4InCidr(config.collectorIp, collectorNetwork.subnet)) {
        problems.push(
            `${projectName}:collectorIp: ${config.collectorIp} is outside the collector network's subnet ${collectorNetwork.subnet}`,
        );
    }
    // checked here, not when the agents' commands are declared, so that the program stops before any resource exists;
    // with insecureSkipHostKeyVerification too, since @pulumi/command can refuse a revoked key only by checking another
    for (const agent of clusterHosts(config).agents) {
        const found = acceptedHostKey(config, agent);
        if ("problem" in found) {
            problems.push(
                `${projectName}:hostKeys: ${found.problem}: each agent's prep command (pre-pull and resources file, ` +
                    `@pulumi/command) verifies a host only against its full public key; add it (ssh-keyscan ${agent.address}) or a knownHostsPath entry`,
            );
        }
    }
    config.adoptNetworks.forEach((name, i) => {
        if (!names.includes(name)) {
            problems.push(
                `${projectName}:adoptNetworks[${i}]: "${name}" names no managed network (networks: ${names.join(", ")})`,
            );
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
