// The check that the policy took effect, as a step of `pulumi up` (config `verifyPolicy`): its provider,
// @calico-stars/providers' verifyPolicy.ts, waits until the collector shows the declared matrix. The inputs hold
// that matrix as plain data, so `pulumi preview` shows what will be checked.
import * as pulumi from "@pulumi/pulumi";
import type { SshHost } from "@calico-stars/providers/ssh";
import { declaredMatrix, DeclaredMatrix, PolicyText, probeRoundMs, profilesFromPolicy, VerifyResult } from "@calico-stars/providers/verify";
import type { StarsConfig } from "./config";
import { PackagedResource } from "./packagedResource";
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
export function declaredMatrixForStack(parameters: StarsParameters, stack: StackPolicy, facts: ClusterFacts = {}): DeclaredMatrix {
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

export interface VerifyPolicyArgs {
    /** The host whose sshd forwards to the collector (the master). */
    host: pulumi.Input<SshHost>;
    /** The collector's fixed Calico address, as the master reaches it. */
    collectorIp: pulumi.Input<string>;
    /** star-collect's port. */
    collectorPort: pulumi.Input<number>;
    /** What the observed matrix must equal: every edge, with its declared reach and the rules behind it. */
    declared: pulumi.Input<DeclaredMatrix>;
    /** One probe round (the slowest probe's interval plus the collector's), in seconds. */
    roundSeconds: pulumi.Input<number>;
    /** How long to wait for a fresh reading that matches. */
    timeoutSeconds: pulumi.Input<number>;
    /** The deployment checked: the group's version after its last deployment. */
    groupVersion: pulumi.Input<string>;
    /** The deployment checked: each network's ID. */
    networkIds: pulumi.Input<pulumi.Input<string>[]>;
}

export class VerifyPolicy extends PackagedResource {
    declare readonly result: pulumi.Output<VerifyResult>;
    declare readonly summary: pulumi.Output<string>;

    constructor(name: string, args: VerifyPolicyArgs, opts?: pulumi.CustomResourceOptions) {
        super("VerifyPolicy", name, { result: undefined, summary: undefined, ...args }, opts);
    }
}

/**
 * The check's inputs from the stack config: the declared matrix of the group the program renders (the owner id
 * only labels the apps, so a placeholder keeps the matrix known in a first preview), as plain data.
 */
export function verifyPolicyArgs(config: StarsConfig, master: SshHost, deployment: Pick<VerifyPolicyArgs, "groupVersion" | "networkIds">): VerifyPolicyArgs {
    const parameters = starsParameters(config, "0");
    const declared = declaredMatrixForStack(parameters, { networks: config.networks.map((network) => network.name), policy: config.policy },
        // the check's own fetch comes from the master, as the UI's browser does through its DNAT rules
        { outsideAddress: /^\d+\.\d+\.\d+\.\d+$/.test(master.address) ? master.address : undefined });
    return {
        host: master,
        collectorIp: config.collectorIp,
        collectorPort: config.collectorPort,
        // plain JSON: gRPC's Struct carries no `undefined`
        declared: JSON.parse(JSON.stringify(declared)) as DeclaredMatrix,
        roundSeconds: probeRoundMs(renderStarsGroup(parameters)) / 1000,
        timeoutSeconds: config.verifyTimeoutSeconds,
        ...deployment,
    };
}
