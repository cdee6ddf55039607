// The Marathon apps and group this stack sends (Marathon's v2 app definition, the fields it sets), the label
// that marks them as this stack's, and the same group as Marathon answers it, read back in that shape.
import type { MarathonAppJson, MarathonGroupJson } from "./client";

export interface UpgradeStrategy {
    minimumHealthCapacity: number;
    maximumOverCapacity: number;
}

export interface MarathonApp {
    id: string;
    cmd: string;
    cpus: number;
    mem: number;
    instances: number;
    uris: string[];
    labels: Record<string, string>;
    container: { type: "DOCKER"; docker: { image: string; parameters: { key: string; value: string }[] } };
    upgradeStrategy?: UpgradeStrategy;
}

export interface MarathonGroup {
    id: string;
    apps: MarathonApp[];
}

/** What Marathon gives an app that names none (v0.14.2 and v1.1.1 UpgradeStrategy.empty): start the new task, then kill the old. */
export const marathonDefaultUpgradeStrategy: UpgradeStrategy = { minimumHealthCapacity: 1, maximumOverCapacity: 1 };

/** Every app this stack makes carries its ownership id under this label. */
export const ownerLabel = "calico-stars.owner";

export function absoluteGroupId(group: { id: string }): string {
    return group.id.startsWith("/") ? group.id : `/${group.id}`;
}

/** The fields this program sets, in the shape it sends them, so that Marathon's defaults are not a diff. */
function normalizeApp(app: MarathonApp | MarathonAppJson, groupId: string): MarathonApp {
    const prefix = `${groupId}/`;
    const given = app as Partial<MarathonApp>;
    return {
        id: app.id.startsWith(prefix) ? app.id.slice(prefix.length) : app.id,
        cmd: given.cmd!,
        cpus: given.cpus!,
        mem: given.mem!,
        instances: given.instances ?? 1,
        uris: given.uris ?? [],
        labels: given.labels ?? {},
        container: {
            type: given.container?.type as "DOCKER",
            docker: { image: given.container?.docker?.image as string, parameters: given.container?.docker?.parameters ?? [] },
        },
        // what refresh compares: the collector's kill-first strategy is what lets its fixed IP move
        upgradeStrategy: {
            minimumHealthCapacity: given.upgradeStrategy?.minimumHealthCapacity ?? marathonDefaultUpgradeStrategy.minimumHealthCapacity,
            maximumOverCapacity: given.upgradeStrategy?.maximumOverCapacity ?? marathonDefaultUpgradeStrategy.maximumOverCapacity,
        },
    };
}

export function normalizeGroup(group: { id: string; apps?: (MarathonApp | MarathonAppJson)[] | null }): MarathonGroup {
    const id = absoluteGroupId(group);
    return {
        id,
        apps: (group.apps ?? []).map((app) => normalizeApp(app, id)).sort((a, b) => a.id.localeCompare(b.id)),
    };
}

/** Everything in the subtree this stack did not make: apps without its owner label, and any subgroup. */
export function foreignContent(tree: MarathonGroupJson, ownerId: string): string[] {
    const foreign: string[] = [];
    for (const app of tree.apps ?? []) {
        const label = app.labels?.[ownerLabel];
        if (label !== ownerId) {
            foreign.push(`app ${app.id} (${label === undefined ? `no ${ownerLabel} label` : `${ownerLabel}=${label}`})`);
        }
    }
    for (const group of tree.groups ?? []) {
        // this stack never makes a subgroup: one is foreign, with all it holds
        foreign.push(`group ${group.id}`);
    }
    return foreign;
}
