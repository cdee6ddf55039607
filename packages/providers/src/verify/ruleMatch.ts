// Does one Calico rule match one packet? Each clause becomes one iptables match in Felix, and the rule matches when
// all of them do; a clause that needs what verify does not know (an address IPAM handed out, a client's source
// port) answers "maybe". Felix 1.4.0b1 (calico-node v0.19.0), calico/felix/plugins/fiptgenerator.py,
// _rule_to_iptables_fragments_inner; each clause's match is said beside it in matchRule.
import { BlockList, isIPv4 } from "net";
import { z } from "zod";
import type { CalicoRule } from "../calico/rule";

type Tri = "yes" | "no" | "maybe";

/** The rule keys that each become one match. */
export const clauseSchema = z.enum([
    "protocol",
    "icmp_type",
    "icmp_code",
    "src_tag",
    "src_net",
    "src_ports",
    "dst_tag",
    "dst_net",
    "dst_ports",
]);

export type Clause = z.output<typeof clauseSchema>;

/** An inclusive range of ports. */
interface PortRange {
    /** First port. */
    first: number;
    /** Last port. */
    last: number;
}

/** One packet (the first of a connection) as iptables sees it; always IPv4 here. */
export interface Packet {
    /** The IP protocol. */
    protocol: "tcp" | "udp" | "icmp";
    /** The source port, or the range it is drawn from when the client picks it. */
    srcPort?: number | PortRange;
    /** The destination port (tcp and udp). */
    dstPort?: number;
    /** ICMP type (icmp). */
    icmpType?: number;
    /** ICMP code (icmp). */
    icmpCode?: number;
}

/** One end of a packet, as Felix's matches see it. */
export interface PacketEnd {
    /** The tags of the endpoint's profile; undefined for an address outside Calico (no ipset holds it). */
    tags?: readonly string[];
    /** Its IPv4 address, when known. */
    address?: string;
}

export interface RuleMatch {
    /** yes: every clause matches; no: some clause cannot match; maybe: no clause fails but some cannot be decided. */
    result: Tri;
    /** The clauses that do not match. */
    failed: Clause[];
    /** The clauses that cannot be decided with what is known. */
    undecided: Clause[];
}

/** Linux's default net.ipv4.ip_local_port_range: where a client's source port comes from. */
const ephemeralPorts: PortRange = { first: 32768, last: 60999 };

export function matchRule(rule: CalicoRule, packet: Packet, source: PacketEnd, target: PacketEnd): RuleMatch {
    const clauses: [Clause, Tri][] = [
        // --protocol; absent, any protocol
        ["protocol", rule.protocol === undefined || rule.protocol === packet.protocol ? "yes" : "no"],
        // --match icmp --icmp-type T[/C]
        ["icmp_type", rule.icmp_type === undefined ? "yes" : matchValue(rule.icmp_type, packet.icmpType)],
        ["icmp_code", rule.icmp_code === undefined ? "yes" : matchValue(rule.icmp_code, packet.icmpCode)],
        // --match set: the tag's ipset holds the addresses of the endpoints whose profiles carry the tag
        // (calico/felix/ipsets.py, IpsetManager)
        ["src_tag", rule.src_tag === undefined ? "yes" : matchTag(rule.src_tag, source)],
        // --source/--destination, only in the chain of the CIDR's IP version
        ["src_net", rule.src_net === undefined ? "yes" : matchNet(rule.src_net, source.address)],
        // --match multiport, ports and "a:b" ranges
        [
            "src_ports",
            rule.src_ports === undefined ? "yes" : matchPorts(rule.src_ports, packet.srcPort ?? ephemeralPorts),
        ],
        ["dst_tag", rule.dst_tag === undefined ? "yes" : matchTag(rule.dst_tag, target)],
        ["dst_net", rule.dst_net === undefined ? "yes" : matchNet(rule.dst_net, target.address)],
        ["dst_ports", rule.dst_ports === undefined ? "yes" : matchPorts(rule.dst_ports, packet.dstPort)],
    ];
    const failed = clauses.filter(([, tri]) => tri === "no").map(([clause]) => clause);
    const undecided = clauses.filter(([, tri]) => tri === "maybe").map(([clause]) => clause);
    return { result: failed.length > 0 ? "no" : undecided.length > 0 ? "maybe" : "yes", failed, undecided };
}

function matchValue(wanted: number, actual: number | undefined): Tri {
    return actual === undefined ? "maybe" : wanted === actual ? "yes" : "no";
}

function matchTag(tag: string, end: PacketEnd): Tri {
    return end.tags?.includes(tag) === true ? "yes" : "no";
}

function matchNet(cidr: string, address: string | undefined): Tri {
    const [base, prefix] = cidr.split("/");
    if (!isIPv4(base)) {
        return "yes"; // left out of the IPv4 chain (see the header)
    }
    if (address === undefined) {
        return "maybe";
    }
    // iptables compares under the mask, so host bits in the rule's CIDR do not matter
    const block = new BlockList();
    block.addSubnet(base, prefix === undefined ? 32 : Number(prefix), "ipv4");
    return block.check(address, "ipv4") ? "yes" : "no";
}

/** A port spec as calicoctl stores it: a number, or an "a:b" range string another writer may have stored. */
function portSpecRange(spec: number | string): PortRange {
    if (typeof spec === "number") {
        return { first: spec, last: spec };
    }
    const [first, last] = spec.split(":").map(Number);
    return { first, last: last ?? first };
}

function matchPorts(specs: readonly (number | string)[], port: number | PortRange | undefined): Tri {
    if (port === undefined) {
        return "no"; // a packet without ports never matches a multiport match
    }
    const wanted = typeof port === "number" ? { first: port, last: port } : port;
    const size = wanted.last - wanted.first + 1;
    const covered = new Set<number>();
    for (const range of specs.map(portSpecRange)) {
        for (let p = Math.max(range.first, wanted.first); p <= Math.min(range.last, wanted.last); p++) {
            covered.add(p);
        }
    }
    return covered.size === 0 ? "no" : covered.size === size ? "yes" : "maybe";
}
