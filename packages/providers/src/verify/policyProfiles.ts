// The Calico profiles as Felix sees them, built from the program's policy:
// one profile per managed Docker network, named after the network, tagged
// with itself, holding its parsed rules. A network the policy leaves out keeps
// libnetwork's default rules, as the ProfileRules resource leaves it.
import { z } from "zod";
import { CalicoRule, parseRule } from "../calico/rule";
import { VerifyInputError } from "../errors";

export const directionSchema = z.enum(["inbound", "outbound"]);

export type Direction = z.output<typeof directionSchema>;

/** A profile's rules as the policy writes them: calicoctl rule text, in order. */
export interface PolicyText {
    /** Inbound rules, e.g. "allow tcp from tag management-ui to ports 9000". */
    inbound: readonly string[];
    /** Outbound rules. */
    outbound: readonly string[];
}

/** One Calico profile: what Felix programs into its two chains. */
export interface PolicyProfile {
    /** The profile's name: with libnetwork, the Docker network's name (calicoctl maps it to the network ID). */
    name: string;
    /** The tags it carries: libnetwork tags a network's profile with the network itself. */
    tags: readonly string[];
    /** The inbound rules, in order. */
    inbound: readonly CalicoRule[];
    /** The outbound rules, in order. */
    outbound: readonly CalicoRule[];
}

/** Profiles by name. A Map, because network names such as "constructor" are valid tags. */
export type PolicyProfiles = ReadonlyMap<string, PolicyProfile>;

/**
 * What calico-libnetwork writes when `docker network create --driver calico` makes the profile
 * (calicoctl-0x.md, "Profiles and Docker networks"): inbound only from the network's own
 * endpoints, outbound anything.
 */
export function libnetworkDefaultPolicy(network: string): PolicyText {
    return { inbound: [`allow from tag ${network}`], outbound: ["allow"] };
}

/** Every managed network's profile: the policy's rules where it gives them, libnetwork's defaults elsewhere. */
export function profilesFromPolicy(
    networks: readonly string[],
    policy: ReadonlyMap<string, PolicyText> | Readonly<Record<string, PolicyText>>,
): PolicyProfiles {
    const entries = policy instanceof Map ? [...policy.entries()] : Object.entries(policy);
    const unmanaged = entries.map(([name]) => name).filter((name) => !networks.includes(name));
    if (unmanaged.length > 0) {
        throw new VerifyInputError(
            `policy names profiles with no managed network: ${unmanaged.join(", ")} (networks: ${networks.join(", ")})`,
        );
    }
    const byName = new Map(entries);
    return new Map(
        networks.map((network) => {
            const text = byName.get(network) ?? libnetworkDefaultPolicy(network);
            return [
                network,
                {
                    name: network,
                    tags: [network],
                    inbound: parseRules(network, "inbound", text.inbound),
                    outbound: parseRules(network, "outbound", text.outbound),
                },
            ];
        }),
    );
}

function parseRules(profile: string, direction: Direction, rules: readonly string[]): CalicoRule[] {
    return rules.map((text, index) => {
        try {
            return parseRule(text);
        } catch (error) {
            throw new VerifyInputError(
                `policy.${profile}.${direction}[${index}]: ${error instanceof Error ? error.message : String(error)}`,
            );
        }
    });
}
