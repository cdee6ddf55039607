// The Marathon group that runs the demo's four apps (the runbook's step 2),
// reached through the master's sshd (marathonClient.ts). The stack owns a group
// only when everything in its subtree is its own: every app carries the stack's
// owner label and there is no subgroup (this stack never makes one). Anything
// else is refused, naming what is foreign; a subtree is force-deleted only when
// the stack owns all of it.
import { z } from "zod";
import { OwnershipError } from "./errors";
import { MarathonClient, MarathonEndpoint, MarathonGroupJson } from "./marathon/client";
import {
    checkInputs,
    configureFromStack,
    containsUnknown,
    gone,
    Provider,
    requireHost,
    sameHost,
    withoutUndefined,
} from "./provider";
import { sshHostSchema } from "./ssh";
import { absoluteGroupId, foreignContent, marathonGroupSchema, normalizeGroup } from "./marathon/group";
import { ownerId, ownerKey, port } from "./validators";

/** What the group is made from; the MarathonGroup resource (components/marathonGroup.ts) takes these as its args. */
const marathonGroupInputs = z
    .object({
        /** The host whose sshd forwards to Marathon (the master). */
        host: sshHostSchema,
        /** Marathon's address as seen from that host. */
        marathonHost: z.string().min(1),
        /** Marathon's port. */
        marathonPort: port,
        /**
         * The group to PUT, apps with ids relative to the group; every app carries the owner id under its ownerKey
         * label.
         */
        group: marathonGroupSchema,
        /** This stack's ownership id. */
        ownerId,
        /** How long one operation may take: retries, waiting out locks, and the deployment. */
        deploymentTimeoutSeconds: z.number().positive(),
        /** Send writes with ?force=true, which cancels the deployments in their way (config `forceDeployments`). */
        forceDeployments: z.boolean().optional(),
        /**
         * The ID of each Docker network the apps join, by name. A replaced network replaces the group: its tasks keep
         * the old network in use, so `docker network rm` would fail while they run.
         */
        networkIds: z.record(z.string(), z.string()).optional(),
    })
    .superRefine((inputs, ctx) => {
        inputs.group.apps.forEach((a, i) => {
            if (a.labels[ownerKey] !== inputs.ownerId) {
                ctx.addIssue({
                    code: "custom",
                    path: ["group", "apps", i, "labels", ownerKey],
                    message: `must be the stack's ownership id ${inputs.ownerId}`,
                });
            }
        });
    });

export type MarathonGroupInputs = z.output<typeof marathonGroupInputs>;

export interface MarathonGroupOutputs extends MarathonGroupInputs {
    /** The group's version after the last deployment. */
    version: string;
}

function clientFor(props: MarathonGroupInputs): MarathonClient {
    const endpoint: MarathonEndpoint = {
        host: props.host,
        marathonHost: props.marathonHost,
        marathonPort: props.marathonPort,
    };
    return new MarathonClient(endpoint, { timeoutSeconds: props.deploymentTimeoutSeconds });
}

/** Network IDs by name, in any key order (state read back over gRPC need not keep it). */
function sameIds(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
    const sorted = (ids: Record<string, string> | undefined) =>
        ids === undefined ? undefined : JSON.stringify(Object.entries(ids).sort());
    return sorted(a) === sorted(b);
}

function isEmpty(tree: MarathonGroupJson): boolean {
    return (tree.apps ?? []).length === 0 && (tree.groups ?? []).length === 0;
}

function refuseForeign(tree: MarathonGroupJson, ownerId: string, action: string): void {
    const foreign = foreignContent(tree, ownerId);
    if (foreign.length > 0) {
        throw new OwnershipError(
            `Marathon group ${tree.id} holds what this stack (owner ${ownerId}) did not make: ${foreign.join(", ")}; ` +
                `refusing to ${action} it. Move those elsewhere, or choose another calico-stars:groupId`,
        );
    }
}

/**
 * Refuses a group at `id` that is not this stack's to write. `madeByStack`: the state says this stack created the
 * group, so an empty group is its own (its apps were removed by hand); otherwise an empty group is someone else's,
 * since this stack never PUTs a group without its apps.
 */
export async function refuseTakeover(
    marathon: MarathonClient,
    id: string,
    ownerId: string,
    madeByStack: boolean,
): Promise<void> {
    const existing = await marathon.group(id);
    if (existing === undefined) {
        return;
    }
    if (!madeByStack && isEmpty(existing)) {
        throw new OwnershipError(
            `Marathon group ${id} exists, empty, and was not made by this stack (it never makes a group without its apps); ` +
                `refusing to take it over. Remove it (DELETE /v2/groups${id}) or choose another calico-stars:groupId`,
        );
    }
    refuseForeign(existing, ownerId, "take over");
}

/** PUTs the group after checking what is there (refuseTakeover). */
async function putGroup(inputs: MarathonGroupInputs, madeByStack: boolean): Promise<MarathonGroupOutputs> {
    const marathon = clientFor(inputs);
    const id = absoluteGroupId(inputs.group);
    await refuseTakeover(marathon, id, inputs.ownerId, madeByStack);
    const { version } = await marathon.putGroup(id, inputs.group, inputs.forceDeployments ?? false);
    return withoutUndefined({ ...inputs, version });
}

export const marathonGroupProvider: Provider<MarathonGroupInputs, MarathonGroupOutputs> = {
    configure: configureFromStack,

    async check(_olds, news) {
        return checkInputs<MarathonGroupInputs>(marathonGroupInputs, news);
    },

    // forceDeployments alone changes nothing on the cluster: it only says how the next write is sent
    async diff(_id, olds, news) {
        const groupIdChanged =
            typeof news.group !== "object" || absoluteGroupId(olds.group) !== absoluteGroupId(news.group);
        const definitionChanged =
            groupIdChanged || JSON.stringify(normalizeGroup(olds.group)) !== JSON.stringify(normalizeGroup(news.group));
        // A network being replaced shows here as unknown (Pulumi's dependents of a delete-before-replace), and the
        // group must go first. State from before networkIds existed only records them: nothing was replaced.
        const networksUnknown = containsUnknown(news.networkIds);
        const networksChanged = networksUnknown || !sameIds(olds.networkIds, news.networkIds);
        const networksReplaced = networksUnknown || (olds.networkIds !== undefined && networksChanged);
        return {
            changes:
                definitionChanged ||
                networksChanged ||
                !sameHost(olds.host, news.host) ||
                olds.marathonHost !== news.marathonHost ||
                olds.marathonPort !== news.marathonPort ||
                olds.deploymentTimeoutSeconds !== news.deploymentTimeoutSeconds,
            replaces: [...(groupIdChanged ? ["group"] : []), ...(networksReplaced ? ["networkIds"] : [])],
            // the collector asks for a fixed IP: two groups cannot both run it
            deleteBeforeReplace: true,
        };
    },

    async create(inputs) {
        const outs = await putGroup(inputs, false);
        return { id: absoluteGroupId(inputs.group), outs };
    },

    /** Needs the host; Marathon's address, the owner id and the group itself are read when missing. */
    async read(id, props) {
        const known = {
            marathonHost: "127.0.0.1",
            marathonPort: 8080,
            deploymentTimeoutSeconds: 600,
            ...props,
            host: requireHost(props, `Marathon group ${id}`),
        } as MarathonGroupOutputs;
        const found = await clientFor(known).group(id);
        if (found === undefined) {
            return gone();
        }
        const live = normalizeGroup(found);
        // refresh shows only real drift, not Marathon's spelling of the same group; an empty group is drift too
        const unchanged =
            known.group !== undefined && JSON.stringify(live) === JSON.stringify(normalizeGroup(known.group));
        const ownerId = known.ownerId ?? (found.apps ?? [])[0]?.labels?.[ownerKey] ?? "";
        return { id, props: withoutUndefined({ ...known, ownerId, group: unchanged ? known.group : live }) };
    },

    async update(_id, _olds, news) {
        return { outs: await putGroup(news, true) };
    },

    async delete(id, props) {
        const marathon = clientFor(props);
        const existing = await marathon.group(id);
        if (existing === undefined) {
            return;
        }
        refuseForeign(existing, props.ownerId, "delete");
        // wholly this stack's: force cancels its own deployments in the way; an empty group has none to cancel
        await marathon.deleteGroup(id, !isEmpty(existing));
    },
};
