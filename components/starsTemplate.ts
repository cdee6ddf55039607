// Renders the Marathon group and the collector's resources file from the
// stars.json template. Both come from the same probe names, because the UI
// draws an edge only when a probe's target URL equals a resource URL exactly.
import { createHash } from "crypto";
import { z } from "zod";
import { ConfigError } from "@calico-stars/providers";
import { MarathonApp, MarathonGroup, ownerLabel, UpgradeStrategy } from "@calico-stars/providers/marathon";
import type { StarsConfig } from "./config";
import * as defaultTemplateJson from "./stars.json";

const appId = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be a Marathon app id: lower-case letters, digits and -");
/** Words, $VARS and {{placeholders}} only: the command runs through /bin/sh -c in the container. */
const containerCommand = z.string().max(1000)
    .regex(/^([A-Za-z0-9_.\/=:,@%+-]|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[a-zA-Z]+\}\}| )+$/,
        "may hold only words of letters, digits and _ . / = : , @ % + -, $VARIABLES and {{placeholders}}, separated by spaces");
const resources = { cpus: z.number().positive().max(64), mem: z.number().positive().max(1 << 20) };
const networkRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a managed network's name");
/** What renderStarsGroup fills in: the collector's command gets no {{urls}}, the probes' command must have them. */
const collectorPlaceholders = ["collectorPort", "probePort", "resourcesFile"];
const probePlaceholders = [...collectorPlaceholders, "urls"];

function unknownPlaceholders(command: string, known: readonly string[]): string[] {
    return [...command.matchAll(/\{\{([a-zA-Z]+)\}\}/g)].map((m) => m[1]).filter((name) => !known.includes(name));
}

export const starsTemplateSchema = z.object({
    collector: z.object({ id: appId, network: networkRef, cmd: containerCommand, ...resources }).strict(),
    probes: z.array(z.object({
        id: appId,
        resourceId: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, "must be a short id of letters, digits, _ -"),
        network: networkRef,
        ...resources,
    }).strict()).min(1, "needs at least one probe"),
    probeCmd: containerCommand,
}).strict().superRefine((template, ctx) => {
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
            ctx.addIssue({ code: "custom", path: ["probes", i, "resourceId"], message: `resource id "${id}" is used twice` });
        }
    });
    for (const [path, command, known] of [[["collector", "cmd"], template.collector.cmd, collectorPlaceholders], [["probeCmd"], template.probeCmd, probePlaceholders]] as const) {
        for (const name of unknownPlaceholders(command, known)) {
            ctx.addIssue({ code: "custom", path: [...path], message: `{{${name}}} is not filled in here (known: ${known.map((k) => `{{${k}}}`).join(", ")})` });
        }
    }
    if (!template.probeCmd.includes("{{urls}}")) {
        ctx.addIssue({ code: "custom", path: ["probeCmd"], message: "must contain {{urls}} (the probe's targets)" });
    }
});

export type StarsTemplate = z.output<typeof starsTemplateSchema>;

export const defaultStarsTemplate: StarsTemplate = starsTemplateSchema.parse(
    (defaultTemplateJson as unknown as { default?: unknown }).default ?? defaultTemplateJson);

export interface StarsParameters {
    template: StarsTemplate;
    groupId: string;
    image: string;
    collectorIp: string;
    collectorPort: number;
    probePort: number;
    mesosDnsStyle: "hyphen" | "dot";
    mesosDnsDomain: string;
    /** absolute path of the resources file on every agent */
    resourcesFilePath: string;
    ownerId: string;
}

export const resourcesFileName = "calico-stars-resources.json";
/**
 * On the collector's app: a short hash of its resources file. star-collect reads the file once, at start, and Marathon
 * restarts an app only when its definition changes; a label is part of it (v0.14.2 AppDefinition.isUpgrade compares
 * `labels`, GroupVersioningUtil gives the app a new version, DeploymentPlan a RestartApplication), so a new file
 * restarts the collector.
 */
export const resourcesHashLabel = "calico-stars.resources-sha256";

/** Where every agent keeps the collector's resources file. */
export function resourcesFileLocation(config: Pick<StarsConfig, "resourcesDir" | "groupId">): { dir: string; path: string } {
    const dir = `${config.resourcesDir}/${config.groupId}`;
    return { dir, path: `${dir}/${resourcesFileName}` };
}

/** The template's parameters from the stack's config; `ownerId` marks what this stack made. */
export function starsParameters(config: StarsConfig, ownerId: string): StarsParameters {
    return {
        template: config.starsTemplate ?? defaultStarsTemplate,
        groupId: config.groupId,
        image: config.image,
        collectorIp: config.collectorIp,
        collectorPort: config.collectorPort,
        probePort: config.probePort,
        mesosDnsStyle: config.mesosDnsStyle,
        mesosDnsDomain: config.mesosDnsDomain,
        resourcesFilePath: resourcesFileLocation(config).path,
        ownerId,
    };
}

/**
 * The collector's: kill the old task, then start the new one. It asks for a fixed --ip, which Calico's
 * IPAM hands out once, so with the default order its new task could never start and any change to it
 * would hang its deployment until the timeout.
 */
export const killFirstUpgradeStrategy: UpgradeStrategy = { minimumHealthCapacity: 0, maximumOverCapacity: 0 };

/** Marathon names a task after the reversed app path; Mesos-DNS 0.5 turns its dots into hyphens. */
export function probeHostname(app: string, groupId: string, style: "hyphen" | "dot", domain: string): string {
    const taskName = [app, ...groupId.split("/").reverse()];
    return `${taskName.join(style === "hyphen" ? "-" : ".")}.${domain}`;
}

export function probeUrl(app: string, p: StarsParameters): string {
    return `http://${probeHostname(app, p.groupId, p.mesosDnsStyle, p.mesosDnsDomain)}:${p.probePort}/status`;
}

/** The collector's resources file: one entry per probe, with the very URLs the probes are given. */
export function renderResourcesFile(p: StarsParameters): string {
    return `${JSON.stringify(p.template.probes.map((probe) => ({ id: probe.resourceId, url: probeUrl(probe.id, p) })), null, 2)}\n`;
}

function fill(command: string, values: Record<string, string>): string {
    return command.replace(/\{\{([a-zA-Z]+)\}\}/g, (whole, name: string) => {
        if (!(name in values)) {
            throw new ConfigError(`stars template: unknown placeholder ${whole} (known: ${Object.keys(values).map((k) => `{{${k}}}`).join(", ")})`);
        }
        return values[name];
    });
}

export function renderStarsGroup(p: StarsParameters): MarathonGroup {
    const values = {
        collectorPort: String(p.collectorPort),
        probePort: String(p.probePort),
        resourcesFile: resourcesFileName,
    };
    const app = (id: string, cmd: string, sizing: { cpus: number; mem: number }, parameters: { key: string; value: string }[], uris: string[]): MarathonApp => ({
        id,
        cmd,
        cpus: sizing.cpus,
        mem: sizing.mem,
        instances: 1,
        uris,
        labels: { [ownerLabel]: p.ownerId },
        container: { type: "DOCKER", docker: { image: p.image, parameters } },
    });
    const resourcesHash = createHash("sha256").update(renderResourcesFile(p)).digest("hex").slice(0, 16);
    const collectorApp = (definition: MarathonApp): MarathonApp => ({
        ...definition,
        labels: { ...definition.labels, [resourcesHashLabel]: resourcesHash },
        upgradeStrategy: killFirstUpgradeStrategy,
    });
    const { collector, probes } = p.template;
    return {
        id: `/${p.groupId}`,
        apps: [
            collectorApp(app(collector.id, fill(collector.cmd, values), collector,
                [{ key: "net", value: collector.network }, { key: "ip", value: p.collectorIp }],
                [`file://${p.resourcesFilePath}`])),
            ...probes.map((probe) => app(probe.id,
                fill(p.template.probeCmd, { ...values, urls: probes.filter((other) => other.id !== probe.id).map((other) => probeUrl(other.id, p)).join(",") }),
                probe, [{ key: "net", value: probe.network }], [])),
        ],
    };
}
