// What the stack's config declares about the demo's traffic: every edge verify checks (the UI to the collector, the
// collector to each probe, each probe to each other probe), evaluated as Felix programs the policy
// (@calico-stars/providers, verify/). The stack output `connectivity` holds it as plain strings under sorted keys,
// so that `pulumi preview --diff` names exactly the edges a change opens or closes.
import {
    declaredMatrix,
    DeclaredEdge,
    DeclaredMatrix,
    edgeName,
    PolicyProfiles,
    profilesFromPolicy,
} from "@calico-stars/providers/verify";
import { clusterHosts, StarsConfig } from "./config";
import { renderResourcesFile, renderStarsGroup, StarsParameters, starsParameters } from "./starsTemplate";

export interface ClusterFacts {
    /** The address verify's fetch (and the UI) comes from, when known. */
    outsideAddress?: string;
    /** Task addresses learned from the cluster, app id -> IPv4. */
    addresses?: Readonly<Record<string, string>>;
}

/** Edge -> what the policy and the deployment make of it, e.g. "client -> frontend:9000" -> "allowed by ...". */
export type Connectivity = Record<string, string>;

/** The declared matrix of a stack: the group and resources file rendered as the program deploys them, and profiles. */
export function declaredMatrixForStack(
    parameters: StarsParameters,
    profiles: PolicyProfiles,
    facts: ClusterFacts = {},
): DeclaredMatrix {
    return declaredMatrix({
        group: renderStarsGroup(parameters),
        resourcesFile: renderResourcesFile(parameters),
        mesosDnsDomain: parameters.mesosDnsDomain,
        collectorPort: parameters.collectorPort,
        profiles,
        outsideAddress: facts.outsideAddress,
        addresses: facts.addresses,
    });
}

/** Every managed network's profile as the stack's `policy` gives it (libnetwork's defaults where it gives none). */
export function stackProfiles(config: StarsConfig): PolicyProfiles {
    return profilesFromPolicy(
        config.networks.map((network) => network.name),
        config.policy,
    );
}

/**
 * The declared matrix from the stack config alone, under the stack's own profiles unless others are given: the
 * group the program renders (the owner id only labels the apps, so a placeholder keeps it known in a first preview),
 * seen from the master, where verify's fetch comes from as the UI's browser does through the DNAT rules.
 */
export function configuredMatrix(
    config: StarsConfig,
    profiles: PolicyProfiles = stackProfiles(config),
): DeclaredMatrix {
    const { master } = clusterHosts(config);
    return declaredMatrixForStack(starsParameters(config, "0"), profiles, {
        outsideAddress: /^\d+\.\d+\.\d+\.\d+$/.test(master.address) ? master.address : undefined,
    });
}

/** An edge as verify names it, with the port the connection goes to when it has one: "client -> frontend:9000". */
export function connectivityKey(edge: Pick<DeclaredEdge, "source" | "target" | "port">): string {
    return `${edgeName(edge)}${edge.port === undefined ? "" : `:${edge.port}`}`;
}

/** What an edge comes to, in one line that starts with "allowed", "blocked" or "unknown" and names why. */
export function edgeEffect(edge: DeclaredEdge): string {
    if (edge.cause.kind === "policy") {
        // "allowed by <rules>", "blocked by <rule or default drop>", "depends on <rule>"
        return edge.reach === "unknown" ? `unknown: ${edge.reason}` : edge.reason;
    }
    return `blocked: ${edge.reason}`;
}

/** The stack output: every edge of the matrix, under sorted keys. */
export function connectivityOf(matrix: DeclaredMatrix): Connectivity {
    return Object.fromEntries(
        matrix.edges
            .map((edge) => [connectivityKey(edge), edgeEffect(edge)] as const)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
}
