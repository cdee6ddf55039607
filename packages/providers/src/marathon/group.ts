// The Marathon apps and group this stack sends (Marathon's v2 app definition, the fields it sets), the label
// that marks them as this stack's, and the same group as Marathon answers it, read back in that shape.
import { z } from "zod";
import { absoluteMarathonGroupId, ownerKey } from "../validators";
import type { MarathonAppJson, MarathonGroupJson } from "./client";

/** How Marathon replaces an app's tasks: how many must keep running, and how many extra may start. */
const upgradeStrategySchema = z.object({
    minimumHealthCapacity: z.number().min(0).max(1),
    maximumOverCapacity: z.number().min(0).max(1),
});

/** One app of the group, in the fields this stack sets (Marathon v2's AppDefinition). */
const marathonAppSchema = z.object({
    /** Relative to the group. */
    id: z.string().min(1),
    cmd: z.string(),
    cpus: z.number().positive(),
    mem: z.number().positive(),
    instances: z.number().int().min(0),
    /** Fetched into the task's sandbox before it starts (the collector's resources file). */
    uris: z.array(z.string()),
    labels: z.record(z.string(), z.string()),
    container: z.object({
        type: z.literal("DOCKER"),
        /** `parameters` become `docker run --<key>=<value>`: the network (`net`) and a fixed address (`ip`). */
        docker: z.object({ image: z.string(), parameters: z.array(z.object({ key: z.string(), value: z.string() })) }),
    }),
    upgradeStrategy: upgradeStrategySchema.optional(),
});

/** The group this stack PUTs: its absolute id and its apps. */
export const marathonGroupSchema = z.object({
    id: absoluteMarathonGroupId,
    apps: z.array(marathonAppSchema).min(1),
});

export type UpgradeStrategy = z.output<typeof upgradeStrategySchema>;
export type MarathonApp = z.output<typeof marathonAppSchema>;
export type MarathonGroup = z.output<typeof marathonGroupSchema>;

/**
 * What Marathon gives an app that names none (v0.14.2 and v1.1.1 UpgradeStrategy.empty): start the new task, then kill
 * the old.
 */
const marathonDefaultUpgradeStrategy: UpgradeStrategy = { minimumHealthCapacity: 1, maximumOverCapacity: 1 };

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
            docker: {
                image: given.container?.docker?.image as string,
                parameters: given.container?.docker?.parameters ?? [],
            },
        },
        // what refresh compares: the collector's kill-first strategy is what lets its fixed IP move
        upgradeStrategy: {
            minimumHealthCapacity:
                given.upgradeStrategy?.minimumHealthCapacity ?? marathonDefaultUpgradeStrategy.minimumHealthCapacity,
            maximumOverCapacity:
                given.upgradeStrategy?.maximumOverCapacity ?? marathonDefaultUpgradeStrategy.maximumOverCapacity,
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
        const label = app.labels?.[ownerKey];
        if (label !== ownerId) {
            foreign.push(`app ${app.id} (${label === undefined ? `no ${ownerKey} label` : `${ownerKey}=${label}`})`);
        }
    }
    for (const group of tree.groups ?? []) {
        // this stack never makes a subgroup: one is foreign, with all it holds
        foreign.push(`group ${group.id}`);
    }
    return foreign;
}
