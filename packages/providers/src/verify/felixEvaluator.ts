// Calico 0.x policy evaluated for one connection as Felix programs it into iptables: the source's outbound
// rules, then the target's inbound rules, first match wins, no match drops. Felix 1.4.0b1, the one in
// calico-node v0.19.0 (projectcalico/felix, calico/felix/plugins/fiptgenerator.py); each step cites its function.
import { CalicoRule, formatRule } from "../calico/rule";
import { z } from "zod";
import { Direction, directionSchema, PolicyProfiles } from "./policyProfiles";
import { Clause, clauseSchema, matchRule, Packet, PacketEnd } from "./ruleMatch";

/** One end of a flow: a Calico endpoint, or an address outside Calico. */
export type FlowEnd =
    | {
          kind: "endpoint";
          /** The app that owns it. */ name: string;
          /** Its profile (network). */ profile: string;
          /** Its IPv4 address, when known. */ address?: string;
      }
    | {
          kind: "outside";
          /** A label for reports, e.g. "outside". */ name: string;
          /** Its IPv4 address, when known. */ address?: string;
      };

export interface Flow {
    /** Who opens the connection. */
    source: FlowEnd;
    /** Who it is opened to. */
    target: FlowEnd;
    /** Its first packet. */
    packet: Packet;
}

/** A rule as `calicoctl profile <P> rule show` lists it. */
export const ruleRefSchema = z
    .object({
        profile: z.string().describe("the profile (Docker network) that holds the rule"),
        direction: directionSchema,
        position: z.number().int().min(1).describe("1-based, as `calicoctl profile <P> rule show` numbers it"),
        text: z.string().describe("the rule as calicoctl prints it"),
    })
    .strict();

/**
 * An allow rule meant for these peers that failed on one clause only (a port, the protocol): the likely slip when
 * nothing matched.
 */
export const nearMissSchema = z
    .object({ rule: ruleRefSchema, clause: clauseSchema.describe("the one clause that did not match") })
    .strict();

/** What one profile chain did with the packet. */
const chainOutcomeSchema = z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("allowed"), rule: ruleRefSchema }),
    /** `unprogrammable`: set when Felix put a DROP in place of a rule it cannot program. */
    z.object({ kind: z.literal("denied"), rule: ruleRefSchema, unprogrammable: z.string().optional() }),
    z.object({
        kind: z.literal("default-drop"),
        profile: z.string(),
        direction: directionSchema,
        nearMisses: z.array(nearMissSchema),
    }),
    z.object({ kind: z.literal("missing-profile"), profile: z.string(), direction: directionSchema }),
    z.object({ kind: z.literal("undecided"), rule: ruleRefSchema, clauses: z.array(clauseSchema) }),
    z.object({ kind: z.literal("not-policed"), direction: directionSchema, reason: z.string() }),
]);

export const flowVerdictSchema = z.object({
    /** true: let through; false: dropped; undefined: depends on something unknown (see `deciding`). */
    allowed: z.boolean().optional(),
    /** The source's outbound rules. */
    outbound: chainOutcomeSchema,
    /** The target's inbound rules. */
    inbound: chainOutcomeSchema,
    /**
     * The outcome that settles it: the first drop (or undecided) on the path, else the inbound allow (or the outbound
     * one when inbound is not policed).
     */
    deciding: chainOutcomeSchema,
});

export type RuleRef = z.output<typeof ruleRefSchema>;
export type NearMiss = z.output<typeof nearMissSchema>;
export type ChainOutcome = z.output<typeof chainOutcomeSchema>;
export type FlowVerdict = z.output<typeof flowVerdictSchema>;

const unprogrammableIcmpType = 255;
/** The clauses that pick the peers; a rule failing on one of these was never meant for them. */
const peerClauses: readonly Clause[] = ["src_tag", "src_net", "dst_tag", "dst_net"];

/**
 * filter_forward_chain: a packet from a workload meets its "from" chain (outbound rules), one to a workload its
 * "to" chain (inbound rules); an address outside Calico has no chain. RELATED,ESTABLISHED packets are accepted
 * before any of it, so the connection's first packet decides.
 */
export function evaluateFlow(profiles: PolicyProfiles, flow: Flow): FlowVerdict {
    const source = packetEnd(profiles, flow.source);
    const target = packetEnd(profiles, flow.target);
    const outbound =
        flow.source.kind === "endpoint"
            ? evaluateChain(profiles, flow.source.profile, "outbound", flow.packet, source, target)
            : {
                  kind: "not-policed" as const,
                  direction: "outbound" as const,
                  reason: `${flow.source.name} is outside Calico: no outbound rules apply`,
              };
    const inbound =
        flow.target.kind === "endpoint"
            ? evaluateChain(profiles, flow.target.profile, "inbound", flow.packet, source, target)
            : {
                  kind: "not-policed" as const,
                  direction: "inbound" as const,
                  reason: `${flow.target.name} is outside Calico: no inbound rules apply`,
              };
    const path = [outbound, inbound];
    const dropped = path.find(isDrop);
    const undecided = path.find((outcome) => outcome.kind === "undecided");
    if (dropped !== undefined) {
        return { allowed: false, outbound, inbound, deciding: dropped };
    }
    if (undecided !== undefined) {
        return { allowed: undefined, outbound, inbound, deciding: undecided };
    }
    return { allowed: true, outbound, inbound, deciding: inbound.kind === "allowed" ? inbound : outbound };
}

export function isDrop(outcome: ChainOutcome): boolean {
    return outcome.kind === "denied" || outcome.kind === "default-drop" || outcome.kind === "missing-profile";
}

function packetEnd(profiles: PolicyProfiles, end: FlowEnd): PacketEnd {
    const tags = end.kind === "endpoint" ? (profiles.get(end.profile)?.tags ?? []) : undefined;
    return { tags, address: end.address };
}

/**
 * _build_to_or_from_chain and profile_updates (on_allow="RETURN", calico/felix/profilerules.py): each rule in order,
 * allow returns accepted, deny drops, no match falls through to the endpoint chain's final DROP. A profile missing
 * from etcd is a stub chain that drops everything (calico/felix/fiptables.py, IptablesUpdater).
 */
function evaluateChain(
    profiles: PolicyProfiles,
    profileName: string,
    direction: Direction,
    packet: Packet,
    source: PacketEnd,
    target: PacketEnd,
): ChainOutcome {
    const profile = profiles.get(profileName);
    if (profile === undefined) {
        return { kind: "missing-profile", profile: profileName, direction };
    }
    const nearMisses: NearMiss[] = [];
    const rules = profile[direction];
    for (let index = 0; index < rules.length; index++) {
        const rule = rules[index];
        const ref: RuleRef = { profile: profileName, direction, position: index + 1, text: ruleText(rule) };
        // _rule_to_iptables_fragments puts an unconditional DROP where a rule cannot be programmed
        if (rule.icmp_type === unprogrammableIcmpType) {
            return {
                kind: "denied",
                rule: ref,
                unprogrammable: "Felix cannot program ICMP type 255 and drops everything at this rule instead",
            };
        }
        const match = matchRule(rule, packet, source, target);
        if (match.result === "maybe") {
            return { kind: "undecided", rule: ref, clauses: match.undecided };
        }
        if (match.result === "yes") {
            return rule.action === "allow" ? { kind: "allowed", rule: ref } : { kind: "denied", rule: ref };
        }
        if (rule.action === "allow" && isNearMiss(match.failed)) {
            nearMisses.push({ rule: ref, clause: match.failed[0] });
        }
    }
    return { kind: "default-drop", profile: profileName, direction, nearMisses };
}

/**
 * As `rule show` prints it; a rule read back from a cluster may hold what this grammar refuses (ICMP type 255 from
 * calicoctl v0.21 on).
 */
function ruleText(rule: CalicoRule): string {
    try {
        return formatRule(rule);
    } catch {
        return JSON.stringify(rule);
    }
}

/** A rule meant for these peers (its tags and CIDRs match) that fails on one thing only: the likely slip. */
function isNearMiss(failed: Clause[]): boolean {
    return failed.length === 1 && !peerClauses.includes(failed[0]);
}

/**
 * One line naming what an outcome rests on, e.g. `frontend inbound rule 3 "allow tcp from tag client to ports 9000"`.
 */
export function describeOutcome(outcome: ChainOutcome): string {
    switch (outcome.kind) {
        case "allowed":
        case "denied":
            return `${describeRule(outcome.rule)}${outcome.kind === "denied" && outcome.unprogrammable ? ` (${outcome.unprogrammable})` : ""}`;
        case "undecided":
            return `${describeRule(outcome.rule)}, whose ${outcome.clauses.join(", ")} verify cannot decide`;
        case "default-drop": {
            const misses = outcome.nearMisses.map(
                (miss) => `rule ${miss.rule.position} "${miss.rule.text}" fails only on ${miss.clause}`,
            );
            return `${outcome.profile} ${outcome.direction}: no rule matched (default drop)${misses.length > 0 ? `; ${misses.join("; ")}` : ""}`;
        }
        case "missing-profile":
            return `profile ${outcome.profile} does not exist: Felix drops everything on its ${outcome.direction} chain`;
        case "not-policed":
            return outcome.reason;
    }
}

export function describeRule(rule: RuleRef): string {
    return `${rule.profile} ${rule.direction} rule ${rule.position} "${rule.text}"`;
}
