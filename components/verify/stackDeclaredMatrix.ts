// The declared matrix of a stack: the group and resources file rendered by the
// very functions the program deploys with, and the stack's policy.
import { renderResourcesFile, renderStarsGroup, StarsParameters } from "../starsTemplate";
import { declaredMatrix } from "./declaredMatrix";
import type { DeclaredMatrix } from "@calico-stars/providers/verify/matrix";
import { PolicyText, profilesFromPolicy } from "@calico-stars/providers/verify/policyProfiles";

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
