// Renders the Marathon group and the collector's resources file from the
// stars.json template. Both come from the same probe names, because the UI
// draws an edge only when a probe's target URL equals a resource URL exactly.
import { createHash } from "crypto";
import { ConfigError, ownerKey } from "@calico-stars/providers";
import { MarathonApp, MarathonGroup, UpgradeStrategy } from "@calico-stars/providers/marathon";
import { dottedTaskName, mesosDnsName } from "@calico-stars/providers/verify";
import { StarsConfig, StarsTemplate, starsTemplateOf } from "./config";

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
const resourcesHashLabel = "calico-stars.resources-sha256";

/** Where every agent keeps the collector's resources file. */
export function resourcesFileLocation(config: Pick<StarsConfig, "resourcesDir" | "groupId">): {
    dir: string;
    path: string;
} {
    const dir = `${config.resourcesDir}/${config.groupId}`;
    return { dir, path: `${dir}/${resourcesFileName}` };
}

/** The template's parameters from the stack's config; `ownerId` marks what this stack made. */
export function starsParameters(config: StarsConfig, ownerId: string): StarsParameters {
    return {
        template: starsTemplateOf(config),
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

/** A probe's /status: by the name Mesos-DNS serves for its task ("hyphen"), or the runbook's dotted one ("dot"). */
function probeUrl(app: string, p: StarsParameters): string {
    const hostname = (p.mesosDnsStyle === "hyphen" ? mesosDnsName : dottedTaskName)(p.groupId, app, p.mesosDnsDomain);
    return `http://${hostname}:${p.probePort}/status`;
}

/** The collector's resources file: one entry per probe, with the very URLs the probes are given. */
export function renderResourcesFile(p: StarsParameters): string {
    return `${JSON.stringify(
        p.template.probes.map((probe) => ({ id: probe.resourceId, url: probeUrl(probe.id, p) })),
        null,
        2,
    )}\n`;
}

function fill(command: string, values: Record<string, string>): string {
    return command.replace(/\{\{([a-zA-Z]+)\}\}/g, (whole, name: string) => {
        if (!(name in values)) {
            throw new ConfigError(
                `stars template: unknown placeholder ${whole} (known: ${Object.keys(values)
                    .map((k) => `{{${k}}}`)
                    .join(", ")})`,
            );
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
    const app = (
        id: string,
        cmd: string,
        sizing: { cpus: number; mem: number },
        parameters: { key: string; value: string }[],
        uris: string[],
    ): MarathonApp => ({
        id,
        cmd,
        cpus: sizing.cpus,
        mem: sizing.mem,
        instances: 1,
        uris,
        labels: { [ownerKey]: p.ownerId },
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
            collectorApp(
                app(
                    collector.id,
                    fill(collector.cmd, values),
                    collector,
                    [
                        { key: "net", value: collector.network },
                        { key: "ip", value: p.collectorIp },
                    ],
                    [`file://${p.resourcesFilePath}`],
                ),
            ),
            ...probes.map((probe) =>
                app(
                    probe.id,
                    fill(p.template.probeCmd, {
                        ...values,
                        urls: probes
                            .filter((other) => other.id !== probe.id)
                            .map((other) => probeUrl(other.id, p))
                            .join(","),
                    }),
                    probe,
                    [{ key: "net", value: probe.network }],
                    [],
                ),
            ),
        ],
    };
}
