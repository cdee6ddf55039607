// The Marathon group's path, claimed for this stack before anything is placed on the agents: the agents' prep
// (the resources file, @pulumi/command) waits for this check, so a group another stack or a person holds is
// refused, as the group itself would refuse it (marathonGroup.ts refuseTakeover), while the agents are untouched.
// Nothing is written anywhere: create and update check, delete leaves Marathon alone (the group's own delete does
// that), and refresh has nothing to read.
import { z } from "zod";
import { MarathonClient } from "./marathon/client";
import { refuseTakeover } from "./marathonGroup";
import { checkInputs, configureFromStack, Provider, sameHost } from "./provider";
import { sshHostSchema } from "./ssh";
import { absoluteMarathonGroupId, ownerId, port } from "./validators";

/**
 * What the claim checks; the MarathonGroupClaim resource (components/marathonGroupClaim.ts) takes these as its args.
 */
const marathonGroupClaimInputs = z.object({
    /** The host whose sshd forwards to Marathon (the master). */
    host: sshHostSchema,
    /** Marathon's address as seen from that host. */
    marathonHost: z.string().min(1),
    /** Marathon's port. */
    marathonPort: port,
    /** The group's absolute id ("/calico-stars"). */
    groupId: absoluteMarathonGroupId,
    /** This stack's ownership id, the label every app of the group must carry. */
    ownerId,
    /** How long the check may take, retries included. */
    deploymentTimeoutSeconds: z.number().positive(),
});

type MarathonGroupClaimInputs = z.output<typeof marathonGroupClaimInputs>;

function movedMarathon(olds: MarathonGroupClaimInputs, news: MarathonGroupClaimInputs): boolean {
    return (
        !sameHost(olds.host, news.host) ||
        olds.marathonHost !== news.marathonHost ||
        olds.marathonPort !== news.marathonPort
    );
}

async function claim(inputs: MarathonGroupClaimInputs, madeByStack: boolean): Promise<void> {
    const marathon = new MarathonClient(
        { host: inputs.host, marathonHost: inputs.marathonHost, marathonPort: inputs.marathonPort },
        { timeoutSeconds: inputs.deploymentTimeoutSeconds },
    );
    await refuseTakeover(marathon, inputs.groupId, inputs.ownerId, madeByStack);
}

export const marathonGroupClaimProvider: Provider<MarathonGroupClaimInputs, MarathonGroupClaimInputs> = {
    configure: configureFromStack,

    async check(_olds, news) {
        return checkInputs<MarathonGroupClaimInputs>(marathonGroupClaimInputs, news);
    },

    // another group, or another owner, is claimed anew; a longer timeout alone changes nothing on the cluster
    async diff(_id, olds, news) {
        const replaces = [
            ...(olds.groupId !== news.groupId ? ["groupId"] : []),
            ...(olds.ownerId !== news.ownerId ? ["ownerId"] : []),
        ];
        return {
            changes:
                replaces.length > 0 ||
                movedMarathon(olds, news) ||
                olds.deploymentTimeoutSeconds !== news.deploymentTimeoutSeconds,
            replaces,
        };
    },

    /** A group at that path is refused unless every app in it is this stack's; an empty one is someone else's. */
    async create(inputs) {
        await claim(inputs, false);
        return { id: inputs.groupId, outs: inputs };
    },

    /** The same group seen through another master or Marathon address: this stack's own, empty or not. */
    async update(_id, olds, news) {
        if (movedMarathon(olds, news)) {
            await claim(news, true);
        }
        return { outs: news };
    },
};
