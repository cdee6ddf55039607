// What `npm run verify` checks against, read from the cluster rather than
// rendered from config: the Marathon group as deployed (GET through the
// master's sshd, as the MarathonGroup resource reads it), the resources the
// collector holds (its GET /resources), and the tasks' addresses (GET /v2/tasks).
//
// - mesosphere/star v0.5.0, src/collect/http/server.rs get_resources and json.rs
//   ResourcesSerializer: GET /resources answers `{"resources": [{"id": .., "url": ..}]}`,
//   in the order of a HashMap's keys, so verify puts them back in the template's order.
// - Marathon v0.14.2 GET /v2/tasks: `{"tasks": [{"appId": .., "ipAddresses": [{"ipAddress": ..}], "startedAt": ..}]}`
// (mesosphere/marathon v0.14.2, api/v2/TasksResource.scala); the addresses are what Mesos reports for the task, which
// may be none. When the collector does not answer, the resources file is rendered from the stack config by the function
// the program deploys it with: it is the only other copy here, and with no answer from the collector every edge that
// depends on it is unknown anyway; the report notes it.
import { z } from "zod";
import type { StarsConfig } from "../../components/config";
import { ownerKey } from "@calico-stars/providers";
import { MarathonClient, MarathonGroup, normalizeGroup } from "@calico-stars/providers/marathon";
import { DeployedResource, resolveAppHost, VerifyInputError } from "@calico-stars/providers/verify";
import { httpOverSsh, isForwardRefused, SshError, SshHost } from "@calico-stars/providers/ssh";
import { starsTemplateOf } from "../../components/config";
import { renderResourcesFile, starsParameters } from "../../components/starsTemplate";

export interface DeployedStack {
    /** The group as Marathon has it, in the shape the program sends it. */
    group: MarathonGroup;
    /** The resources file's text: the collector's resources, or rendered from config when it does not answer. */
    resourcesFile: string;
    /** App id -> its task's address, where Marathon knows one. */
    addresses: Record<string, string>;
    /** Where each part came from, when not from the cluster. */
    notes: string[];
}

const resourceTimeoutMs = 5000;

const resourcesSchema = z.object({ resources: z.array(z.object({ id: z.string(), url: z.string() }).loose()) }).loose();

const tasksSchema = z
    .object({
        tasks: z.array(
            z
                .object({
                    appId: z.string(),
                    startedAt: z.string().nullish(),
                    ipAddresses: z.array(z.object({ ipAddress: z.string() }).loose()).nullish(),
                })
                .loose(),
        ),
    })
    .loose();

export async function readDeployedStack(config: StarsConfig, master: SshHost): Promise<DeployedStack> {
    const groupId = `/${config.groupId}`;
    const marathon = new MarathonClient(
        { host: master, marathonHost: config.marathonHost, marathonPort: config.marathonPort },
        { timeoutSeconds: config.commandTimeoutSeconds },
    );
    const found = await marathon.group(groupId);
    if (found === undefined || (found.apps ?? []).length === 0) {
        throw new VerifyInputError(
            `${marathon.where()} has no ${found === undefined ? "group" : "app in group"} ${groupId}: nothing to verify (run pulumi up first)`,
        );
    }
    const group = normalizeGroup(found);
    const notes: string[] = [];
    const template = starsTemplateOf(config);
    const resources = await collectorResources(config, master);
    let resourcesFile: string;
    if (resources.kind === "read") {
        resourcesFile = JSON.stringify(
            inTemplateOrder(
                resources.list,
                group,
                template.probes.map((probe) => probe.id),
                config.mesosDnsDomain,
            ),
        );
    } else {
        const ownerId = (found.apps ?? [])[0]?.labels?.[ownerKey] ?? "";
        resourcesFile = renderResourcesFile(starsParameters(config, ownerId));
        notes.push(
            `the resources were rendered from the stack config: the collector did not answer GET /resources (${resources.reason})`,
        );
    }
    return { group, resourcesFile, addresses: await taskAddresses(config, master, groupId, notes), notes };
}

async function collectorResources(
    config: StarsConfig,
    master: SshHost,
): Promise<{ kind: "read"; list: DeployedResource[] } | { kind: "failed"; reason: string }> {
    try {
        const response = await httpOverSsh(master, {
            method: "GET",
            path: "/resources",
            targetHost: config.collectorIp,
            targetPort: config.collectorPort,
            timeoutMs: resourceTimeoutMs,
        });
        const parsed = response.status === 200 ? resourcesSchema.safeParse(safeJson(response.body)) : undefined;
        if (parsed?.success) {
            return { kind: "read", list: parsed.data.resources.map(({ id, url }) => ({ id, url })) };
        }
        return { kind: "failed", reason: `HTTP ${response.status}: ${response.body.slice(0, 120)}` };
    } catch (error) {
        // as fetchResponses tells the collector's silence from a failing connection to the master
        const request = `GET http://${config.collectorIp}:${config.collectorPort}/resources via `;
        if (
            isForwardRefused(error) ||
            (error instanceof SshError && error.message.startsWith(request) && !error.message.includes("(waiting for"))
        ) {
            return { kind: "failed", reason: (error as Error).message };
        }
        throw error;
    }
}

function safeJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** The collector's resources in the order the template lists the probes their URLs name; the others after, by id. */
function inTemplateOrder(
    resources: DeployedResource[],
    group: MarathonGroup,
    probeOrder: string[],
    domain: string,
): DeployedResource[] {
    const appIds = group.apps.map((app) => app.id);
    const rank = (resource: DeployedResource) => {
        let host: string;
        try {
            host = new URL(resource.url).hostname;
        } catch {
            return probeOrder.length;
        }
        const named = resolveAppHost(host, group.id, appIds, domain);
        const index = named.kind === "unknown" ? -1 : probeOrder.indexOf(named.app);
        return index === -1 ? probeOrder.length : index;
    };
    return [...resources].sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
}

async function taskAddresses(
    config: StarsConfig,
    master: SshHost,
    groupId: string,
    notes: string[],
): Promise<Record<string, string>> {
    const prefix = `${groupId}/`;
    let response;
    try {
        response = await httpOverSsh(master, {
            method: "GET",
            path: "/v2/tasks",
            targetHost: config.marathonHost,
            targetPort: config.marathonPort,
        });
    } catch (error) {
        notes.push(
            `the tasks' addresses are unknown (GET /v2/tasks: ${error instanceof Error ? error.message : String(error)})`,
        );
        return {};
    }
    const parsed = response.status === 200 ? tasksSchema.safeParse(safeJson(response.body)) : undefined;
    if (!parsed?.success) {
        notes.push(`the tasks' addresses are unknown (GET /v2/tasks answered HTTP ${response.status})`);
        return {};
    }
    const byApp = new Map<string, Set<string>>();
    for (const task of parsed.data.tasks.filter((t) => t.appId.startsWith(prefix) && t.startedAt)) {
        const app = task.appId.slice(prefix.length);
        const addresses = byApp.get(app) ?? new Set<string>();
        (task.ipAddresses ?? []).forEach((entry) => addresses.add(entry.ipAddress));
        byApp.set(app, addresses);
    }
    // an app with more than one address (two tasks during a restart) has no one address to evaluate a rule with
    return Object.fromEntries(
        [...byApp].filter(([, addresses]) => addresses.size === 1).map(([app, addresses]) => [app, [...addresses][0]]),
    );
}
