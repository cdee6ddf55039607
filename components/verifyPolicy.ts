// The check that the policy took effect, as a step of `pulumi up` (config `verifyPolicy`): it waits until the
// collector shows the declared matrix. Its inputs hold that matrix as plain data, so `pulumi preview` shows what
// will be checked. Its args and behaviour: @calico-stars/providers, verifyPolicy.ts.
import type { SshHost } from "@calico-stars/providers/ssh";
import {
    declaredMatrix,
    DeclaredMatrix,
    parseResourcesFile,
    PolicyText,
    profilesFromPolicy,
    starSchedules,
} from "@calico-stars/providers/verify";
import { clusterHosts, StarsConfig } from "./config";
import { packagedResource, ResourceArgs } from "./packagedResource";
import { renderResourcesFile, renderStarsGroup, StarsParameters, starsParameters } from "./starsTemplate";

export interface StackPolicy {
    /** The managed networks' names (each one's profile). */
    networks: readonly string[];
    /** Profile -> its rules, as the stack's `policy` gives them; networks left out keep libnetwork's defaults. */
    policy: Readonly<Record<string, PolicyText>>;
}

export interface ClusterFacts {
    /** The address verify's fetch (and the UI) comes from, when known. */
    outsideAddress?: string;
    /** Task addresses learned from the cluster, app id -> IPv4. */
    addresses?: Readonly<Record<string, string>>;
}

/** The declared matrix of a stack: the group and resources file rendered as the program deploys them, and its policy. */
export function declaredMatrixForStack(
    parameters: StarsParameters,
    stack: StackPolicy,
    facts: ClusterFacts = {},
): DeclaredMatrix {
    return declaredMatrix({
        group: renderStarsGroup(parameters),
        resourcesFile: renderResourcesFile(parameters),
        mesosDnsDomain: parameters.mesosDnsDomain,
        collectorPort: parameters.collectorPort,
        profiles: profilesFromPolicy(stack.networks, stack.policy),
        outsideAddress: facts.outsideAddress,
        addresses: facts.addresses,
    });
}

export class VerifyPolicy extends packagedResource("VerifyPolicy", { result: undefined, summary: undefined }) {}

type VerifyPolicyArgs = ResourceArgs<"VerifyPolicy">;

/**
 * The check's inputs from the stack config: the declared matrix of the group the program renders (the owner id
 * only labels the apps, so a placeholder keeps the matrix known in a first preview), as plain data, and the star apps'
 * rounds from the same commands.
 */
export function verifyPolicyArgs(
    config: StarsConfig,
    master: SshHost,
    deployment: Pick<VerifyPolicyArgs, "groupVersion" | "networkIds">,
): VerifyPolicyArgs {
    const parameters = starsParameters(config, "0");
    const declared = declaredMatrixForStack(
        parameters,
        { networks: config.networks.map((network) => network.name), policy: config.policy },
        // the check's own fetch comes from the master, as the UI's browser does through its DNAT rules
        { outsideAddress: /^\d+\.\d+\.\d+\.\d+$/.test(master.address) ? master.address : undefined },
    );
    return {
        host: master,
        collectorIp: config.collectorIp,
        collectorPort: config.collectorPort,
        // plain JSON: gRPC's Struct carries no `undefined`
        declared: JSON.parse(JSON.stringify(declared)) as DeclaredMatrix,
        agents: clusterHosts(config).agents,
        groupId: config.groupId,
        schedules: starSchedules(renderStarsGroup(parameters), parseResourcesFile(renderResourcesFile(parameters))),
        ...(config.verifyTimeoutSeconds === undefined ? {} : { timeoutSeconds: config.verifyTimeoutSeconds }),
        ...deployment,
    };
}
