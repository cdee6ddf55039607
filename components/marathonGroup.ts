// The Marathon group that runs the demo's four apps (the runbook's step 2),
// reached through the master's sshd. Writes wait until Marathon's deployment
// is gone from /v2/deployments, which is how Marathon says it finished.
import * as pulumi from "@pulumi/pulumi";
import { configureFromStack, Resolved, sameHost } from "./providerSupport";
import { hostLabel, httpOverSsh, HttpResponse, SshError, SshHost } from "./ssh";
import { MarathonApp, MarathonGroup as GroupDefinition, ownerLabel } from "./starsTemplate";

export interface MarathonGroupArgs {
    /** The host whose sshd forwards to Marathon (the master). */
    host: pulumi.Input<SshHost>;
    /** Marathon's address as seen from that host. */
    marathonHost: pulumi.Input<string>;
    /** Marathon's port. */
    marathonPort: pulumi.Input<number>;
    /** The group to PUT, apps with ids relative to the group. */
    group: pulumi.Input<GroupDefinition>;
    /** This stack's ownership id; every app carries it as a label. */
    ownerId: pulumi.Input<string>;
    /** How long to wait for a deployment to finish. */
    deploymentTimeoutSeconds: pulumi.Input<number>;
}

type MarathonGroupInputs = Resolved<MarathonGroupArgs>;

interface MarathonGroupOutputs extends MarathonGroupInputs {
    /** The group's version after the last deployment. */
    version: string;
}

interface Deployment {
    id: string;
    affectedApps?: string[];
    currentStep?: number;
    totalSteps?: number;
    currentActions?: { action: string; app: string }[];
}

class Marathon {
    constructor(private readonly inputs: MarathonGroupInputs) {}

    async request(method: string, path: string, body?: unknown): Promise<HttpResponse> {
        return httpOverSsh(this.inputs.host, {
            method,
            path,
            body: body === undefined ? undefined : JSON.stringify(body),
            targetHost: this.inputs.marathonHost,
            targetPort: this.inputs.marathonPort,
        });
    }

    /** Where Marathon was reached, for errors: its address as the master sees it, and the SSH hop. */
    where(): string {
        return `Marathon ${this.inputs.marathonHost}:${this.inputs.marathonPort} via ${hostLabel(this.inputs.host)}`;
    }

    fail(what: string, response: HttpResponse): SshError {
        return new SshError(`${this.where()}: ${what}: HTTP ${response.status}: ${response.body.slice(0, 500)}`);
    }

    async getGroup(groupId: string): Promise<GroupDefinition | undefined> {
        const response = await this.request("GET", `/v2/groups${groupId}?embed=group.apps`);
        if (response.status === 404) {
            return undefined;
        }
        if (response.status !== 200) {
            throw this.fail(`GET group ${groupId}`, response);
        }
        return JSON.parse(response.body) as GroupDefinition;
    }

    async deployments(): Promise<Deployment[]> {
        const response = await this.request("GET", "/v2/deployments");
        if (response.status !== 200) {
            throw this.fail("GET /v2/deployments", response);
        }
        return JSON.parse(response.body) as Deployment[];
    }

    /** Polls until none of `ids` is listed; on timeout the error shows where each deployment stands. */
    async waitForDeployments(ids: string[], deadline: number, what: string): Promise<void> {
        const log = pulumi.log;
        let delayMs = 200;
        for (;;) {
            const pending = (await this.deployments()).filter((d) => ids.includes(d.id));
            if (pending.length === 0) {
                return;
            }
            if (Date.now() >= deadline) {
                const states = pending.map((d) => `${d.id} at step ${d.currentStep ?? "?"}/${d.totalSteps ?? "?"}` +
                    ` (${(d.currentActions ?? []).map((a) => `${a.action} ${a.app}`).join(", ") || "no current action"})`);
                throw new SshError(`${this.where()}: ${what}: deployment not finished within ${this.inputs.deploymentTimeoutSeconds} s: ${states.join("; ")}`);
            }
            log.info(`Marathon ${what}: waiting for deployment ${pending.map((d) => d.id).join(", ")} (step ${pending[0].currentStep ?? "?"}/${pending[0].totalSteps ?? "?"})`);
            await new Promise((resolve) => setTimeout(resolve, delayMs));
            delayMs = Math.min(delayMs * 2, 2000);
        }
    }

    /** Sends a write; on 409 (the group is locked by a deployment) waits for those deployments and tries again. */
    async write(method: "PUT" | "DELETE", path: string, body: unknown, what: string): Promise<{ deploymentId: string; version: string }> {
        const deadline = Date.now() + this.inputs.deploymentTimeoutSeconds * 1000;
        for (;;) {
            const response = await this.request(method, path, body);
            if (response.status === 200 || response.status === 201 || response.status === 202) {
                const answer = JSON.parse(response.body) as { deploymentId: string; version: string };
                await this.waitForDeployments([answer.deploymentId], deadline, what);
                return answer;
            }
            if (response.status !== 409) {
                throw this.fail(what, response);
            }
            const locking = ((JSON.parse(response.body) as { deployments?: { id: string }[] }).deployments ?? []).map((d) => d.id);
            await this.waitForDeployments(locking, deadline, `${what} (locked by another deployment)`);
        }
    }
}

function absoluteGroupId(group: GroupDefinition): string {
    return group.id.startsWith("/") ? group.id : `/${group.id}`;
}

/** The fields this program sets, in the shape it sends them, so that Marathon's defaults are not a diff. */
function normalizeApp(app: MarathonApp, groupId: string): MarathonApp {
    const prefix = `${groupId}/`;
    return {
        id: app.id.startsWith(prefix) ? app.id.slice(prefix.length) : app.id,
        cmd: app.cmd,
        cpus: app.cpus,
        mem: app.mem,
        instances: app.instances ?? 1,
        uris: app.uris ?? [],
        labels: app.labels ?? {},
        container: {
            type: app.container?.type,
            docker: { image: app.container?.docker?.image, parameters: app.container?.docker?.parameters ?? [] },
        },
    };
}

export function normalizeGroup(group: GroupDefinition): GroupDefinition {
    const id = absoluteGroupId(group);
    return {
        id,
        apps: (group.apps ?? []).map((app) => normalizeApp(app, id)).sort((a, b) => a.id.localeCompare(b.id)),
    };
}

function ownedBy(group: GroupDefinition, ownerId: string): boolean {
    return group.apps.length > 0 && group.apps.every((app) => app.labels?.[ownerLabel] === ownerId);
}

function refuseForeign(group: GroupDefinition, ownerId: string, action: string): void {
    if (!ownedBy(group, ownerId)) {
        throw new SshError(`Marathon group ${group.id} exists but was not made by this stack (its apps lack the label ${ownerLabel}=${ownerId}); refusing to ${action} it`);
    }
}

async function putGroup(inputs: MarathonGroupInputs): Promise<MarathonGroupOutputs> {
    const marathon = new Marathon(inputs);
    const id = absoluteGroupId(inputs.group);
    const existing = await marathon.getGroup(id);
    if (existing !== undefined && existing.apps?.length) {
        refuseForeign(existing, inputs.ownerId, "take over");
    }
    const { version } = await marathon.write("PUT", `/v2/groups${id}`, inputs.group, `PUT ${id}`);
    return { ...inputs, version };
}

export const marathonGroupProvider: pulumi.dynamic.ResourceProvider = {
    configure: configureFromStack,

    async diff(_id: string, olds: MarathonGroupOutputs, news: MarathonGroupInputs) {
        const groupIdChanged = typeof news.group !== "object" || absoluteGroupId(olds.group) !== absoluteGroupId(news.group);
        const definitionChanged = groupIdChanged || JSON.stringify(normalizeGroup(olds.group)) !== JSON.stringify(normalizeGroup(news.group));
        return {
            changes: definitionChanged || !sameHost(olds.host, news.host) || olds.marathonHost !== news.marathonHost
                || olds.marathonPort !== news.marathonPort || olds.deploymentTimeoutSeconds !== news.deploymentTimeoutSeconds,
            replaces: groupIdChanged ? ["group"] : [],
            // the collector asks for a fixed IP: two groups cannot both run it
            deleteBeforeReplace: true,
        };
    },

    async create(inputs: MarathonGroupInputs) {
        const outs = await putGroup(inputs);
        return { id: absoluteGroupId(inputs.group), outs };
    },

    async read(id: string, props: MarathonGroupOutputs) {
        const found = await new Marathon(props).getGroup(id);
        if (found === undefined || !found.apps?.length) {
            return { id: "", props: {} };
        }
        const live = normalizeGroup(found);
        // refresh shows only real drift, not Marathon's spelling of the same group
        const unchanged = JSON.stringify(live) === JSON.stringify(normalizeGroup(props.group));
        return { id, props: unchanged ? props : { ...props, group: live } };
    },

    async update(_id: string, _olds: MarathonGroupOutputs, news: MarathonGroupInputs) {
        return { outs: await putGroup(news) };
    },

    async delete(id: string, props: MarathonGroupOutputs) {
        const marathon = new Marathon(props);
        const existing = await marathon.getGroup(id);
        if (existing === undefined) {
            return;
        }
        if (existing.apps?.length) {
            refuseForeign(existing, props.ownerId, "delete");
        }
        await marathon.write("DELETE", `/v2/groups${id}?force=true`, undefined, `DELETE ${id}`);
    },
};

export class MarathonGroup extends pulumi.dynamic.Resource {
    declare readonly version: pulumi.Output<string>;

    constructor(name: string, args: MarathonGroupArgs, opts?: pulumi.CustomResourceOptions) {
        super(marathonGroupProvider, name, { version: undefined, ...args }, opts, "calico-stars", "MarathonGroup");
    }
}
