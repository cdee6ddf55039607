import * as assert from "assert";
import type { CalicoRule } from "@calico-stars/providers/calico";
import {
    describeOutcome,
    evaluateFlow,
    FlowEnd,
    FlowVerdict,
    libnetworkDefaultPolicy,
    Packet,
    PolicyProfiles,
    PolicyText,
    profilesFromPolicy,
    VerifyInputError,
} from "@calico-stars/providers/verify";

const networks = ["management-ui", "client", "frontend", "backend"];

function profiles(policy: Record<string, PolicyText>): PolicyProfiles {
    return profilesFromPolicy(networks, policy);
}

function endpoint(profile: string, address?: string): FlowEnd {
    return { kind: "endpoint", name: profile, profile, address };
}

function outside(address?: string): FlowEnd {
    return { kind: "outside", name: "outside", address };
}

const http9000: Packet = { protocol: "tcp", dstPort: 9000 };
const http9001: Packet = { protocol: "tcp", dstPort: 9001 };

/** The verdict in a few comparable words: allowed, and what decided it. */
function summary(verdict: FlowVerdict): { allowed: boolean | undefined; by: string } {
    return { allowed: verdict.allowed, by: describeOutcome(verdict.deciding) };
}

function evaluate(policy: Record<string, PolicyText>, source: FlowEnd, target: FlowEnd, packet: Packet = http9000) {
    return summary(evaluateFlow(profiles(policy), { source, target, packet }));
}

/**
 * The runbook's commands, as written, turned into policy (with `port` read as `ports`, the only way calicoctl takes
 * it).
 */
const runbookAsWritten: Record<string, PolicyText> = {
    "management-ui": { inbound: ["allow tcp to ports 9001"], outbound: ["allow"] },
    client: {
        inbound: ["allow from tag client", "allow tcp from tag management-ui to ports 9000"],
        outbound: ["allow"],
    },
    frontend: {
        inbound: [
            "allow from tag frontend",
            "allow tcp from tag management-ui to ports 9000",
            "allow tcp from tag client to ports 9001",
        ],
        outbound: ["allow"],
    },
    backend: {
        inbound: [
            "allow from tag backend",
            "allow tcp from tag management-ui to ports 9000",
            "allow tcp from tag frontend to ports 9001",
        ],
        outbound: ["allow"],
    },
};

describe("verify's Felix evaluator", function () {
    describe("libnetwork's default rules", function () {
        it("gives each network's profile inbound from its own tag and outbound anything", function () {
            assert.deepStrictEqual(libnetworkDefaultPolicy("client"), {
                inbound: ["allow from tag client"],
                outbound: ["allow"],
            });
        });

        it("lets two endpoints of one network talk, allowed by the inbound tag rule", function () {
            assert.deepStrictEqual(evaluate({}, endpoint("client"), endpoint("client")), {
                allowed: true,
                by: 'client inbound rule 1 "allow from tag client"',
            });
        });

        it("drops traffic from another network at the target's inbound chain", function () {
            assert.deepStrictEqual(evaluate({}, endpoint("client"), endpoint("frontend")), {
                allowed: false,
                by: "frontend inbound: no rule matched (default drop)",
            });
        });

        it("drops traffic from outside Calico, which no tag's ipset holds (the UI refused before management-ui opens)", function () {
            assert.deepStrictEqual(
                evaluate({}, outside("172.24.197.101"), endpoint("management-ui", "192.168.255.254"), http9001),
                { allowed: false, by: "management-ui inbound: no rule matched (default drop)" },
            );
        });
    });

    describe("the runbook's slips", function () {
        it("leaves frontend-from-client closed when the rule says ports 9001 and the probe listens on 9000, naming the near miss", function () {
            assert.deepStrictEqual(evaluate(runbookAsWritten, endpoint("client"), endpoint("frontend")), {
                allowed: false,
                by: 'frontend inbound: no rule matched (default drop); rule 3 "allow tcp from tag client to ports 9001" fails only on dst_ports',
            });
        });

        it("leaves backend-from-frontend closed the same way", function () {
            assert.deepStrictEqual(evaluate(runbookAsWritten, endpoint("frontend"), endpoint("backend")), {
                allowed: false,
                by: 'backend inbound: no rule matched (default drop); rule 3 "allow tcp from tag frontend to ports 9001" fails only on dst_ports',
            });
        });

        it("opens the UI once management-ui takes tcp to 9001 from anywhere", function () {
            assert.deepStrictEqual(evaluate(runbookAsWritten, outside(), endpoint("management-ui"), http9001), {
                allowed: true,
                by: 'management-ui inbound rule 1 "allow tcp to ports 9001"',
            });
        });

        it("lets the collector fetch each probe on 9000", function () {
            for (const probe of ["client", "frontend", "backend"]) {
                assert.deepStrictEqual(evaluate(runbookAsWritten, endpoint("management-ui"), endpoint(probe)), {
                    allowed: true,
                    by: `${probe} inbound rule 2 "allow tcp from tag management-ui to ports 9000"`,
                });
            }
        });
    });

    describe("rule order", function () {
        const denyFirst = {
            backend: { inbound: ["deny tcp from tag frontend", "allow from tag frontend"], outbound: ["allow"] },
        };

        it("stops at a deny before a later allow", function () {
            assert.deepStrictEqual(evaluate(denyFirst, endpoint("frontend"), endpoint("backend")), {
                allowed: false,
                by: 'backend inbound rule 1 "deny tcp from tag frontend"',
            });
        });

        it("goes on past a deny that does not match, to the allow", function () {
            assert.deepStrictEqual(
                evaluate(denyFirst, endpoint("frontend"), endpoint("backend"), { protocol: "udp", dstPort: 53 }),
                { allowed: true, by: 'backend inbound rule 2 "allow from tag frontend"' },
            );
        });

        it("stops at an allow before a later deny", function () {
            const allowFirst = {
                backend: { inbound: ["allow from tag frontend", "deny from tag frontend"], outbound: ["allow"] },
            };
            assert.deepStrictEqual(evaluate(allowFirst, endpoint("frontend"), endpoint("backend")), {
                allowed: true,
                by: 'backend inbound rule 1 "allow from tag frontend"',
            });
        });
    });

    describe("outbound then inbound", function () {
        it("drops at the source's outbound chain even when the target's inbound allows", function () {
            const policy = {
                client: { inbound: ["allow"], outbound: ["allow tcp to tag frontend"] },
                backend: { inbound: ["allow"], outbound: ["allow"] },
            };
            const verdict = evaluateFlow(profiles(policy), {
                source: endpoint("client"),
                target: endpoint("backend"),
                packet: http9000,
            });
            assert.deepStrictEqual(
                [verdict.allowed, describeOutcome(verdict.deciding), describeOutcome(verdict.inbound)],
                [false, "client outbound: no rule matched (default drop)", 'backend inbound rule 1 "allow"'],
            );
        });

        it("names the outbound drop when both chains would drop, as the packet never reaches the target's host", function () {
            const policy = { client: { inbound: [], outbound: ["deny to tag backend", "allow"] } };
            assert.deepStrictEqual(evaluate(policy, endpoint("client"), endpoint("backend")), {
                allowed: false,
                by: 'client outbound rule 1 "deny to tag backend"',
            });
        });

        it("matches `to tag` in the outbound chain against the target's profile", function () {
            const policy = {
                client: { inbound: [], outbound: ["allow tcp to tag frontend"] },
                frontend: { inbound: ["allow"], outbound: [] },
            };
            const verdict = evaluateFlow(profiles(policy), {
                source: endpoint("client"),
                target: endpoint("frontend"),
                packet: http9000,
            });
            assert.deepStrictEqual(
                [verdict.allowed, describeOutcome(verdict.outbound)],
                [true, 'client outbound rule 1 "allow tcp to tag frontend"'],
            );
        });

        it("applies only the source's outbound rules to a target outside Calico", function () {
            const policy = { client: { inbound: [], outbound: ["deny udp to cidr 10.0.0.0/8", "allow"] } };
            assert.deepStrictEqual(
                evaluate(policy, endpoint("client"), outside("10.9.9.9"), { protocol: "udp", dstPort: 53 }),
                { allowed: false, by: 'client outbound rule 1 "deny udp to cidr 10.0.0.0/8"' },
            );
            assert.deepStrictEqual(
                evaluate(policy, endpoint("client"), outside("172.24.197.101"), { protocol: "udp", dstPort: 53 }),
                { allowed: true, by: 'client outbound rule 2 "allow"' },
            );
        });

        it("drops everything on an endpoint whose profile does not exist (Felix's stub chain)", function () {
            const ghost: FlowEnd = { kind: "endpoint", name: "ghost", profile: "ghost" };
            assert.deepStrictEqual(evaluate({}, endpoint("client"), ghost), {
                allowed: false,
                by: "profile ghost does not exist: Felix drops everything on its inbound chain",
            });
        });
    });

    describe("cidr", function () {
        const fromTen = { frontend: { inbound: ["allow tcp from cidr 10.0.0.0/8"], outbound: ["allow"] } };

        it("allows a source inside the block", function () {
            assert.strictEqual(evaluate(fromTen, outside("10.1.2.3"), endpoint("frontend")).allowed, true);
        });

        it("drops a source outside the block", function () {
            assert.strictEqual(evaluate(fromTen, outside("11.0.0.1"), endpoint("frontend")).allowed, false);
        });

        it("cannot decide for a source whose address it does not know, and says which clause", function () {
            assert.deepStrictEqual(evaluate(fromTen, outside(), endpoint("frontend")), {
                allowed: undefined,
                by: 'frontend inbound rule 1 "allow tcp from cidr 10.0.0.0/8", whose src_net verify cannot decide',
            });
        });

        it("compares under the mask, so host bits in a CIDR read back from a cluster do not matter", function () {
            // calicoctl 0.x stores an IPv4 CIDR as typed (calicoctl-0x.md); Felix's netaddr and iptables mask it
            const built = profiles({});
            const withRule = new Map(built);
            withRule.set("frontend", {
                ...built.get("frontend")!,
                inbound: [{ action: "allow", src_net: "10.1.2.3/8" }],
            });
            const verdict = evaluateFlow(withRule, {
                source: outside("10.200.0.1"),
                target: endpoint("frontend"),
                packet: http9000,
            });
            assert.strictEqual(verdict.allowed, true);
        });

        it("matches the destination cidr against the target's address", function () {
            const toCollector = {
                "management-ui": { inbound: ["allow tcp to cidr 192.168.255.254/32"], outbound: ["allow"] },
            };
            assert.strictEqual(
                evaluate(toCollector, outside(), endpoint("management-ui", "192.168.255.254"), http9001).allowed,
                true,
            );
            assert.strictEqual(
                evaluate(toCollector, outside(), endpoint("management-ui", "192.168.0.7"), http9001).allowed,
                false,
            );
        });

        it("ignores an IPv6 cidr on IPv4 traffic, as Felix leaves it out of the IPv4 chain", function () {
            const v6 = { frontend: { inbound: ["allow from cidr 2001:db8::/32"], outbound: ["allow"] } };
            assert.deepStrictEqual(evaluate(v6, outside("10.0.0.1"), endpoint("frontend")), {
                allowed: true,
                by: 'frontend inbound rule 1 "allow from cidr 2001:db8::/32"',
            });
        });
    });

    describe("ports", function () {
        const port9000 = { frontend: { inbound: ["allow tcp to ports 9000"], outbound: ["allow"] } };

        it("allows the listed destination port", function () {
            assert.strictEqual(evaluate(port9000, endpoint("client"), endpoint("frontend")).allowed, true);
        });

        it("drops another destination port, naming the rule as a near miss on dst_ports", function () {
            assert.deepStrictEqual(evaluate(port9000, endpoint("client"), endpoint("frontend"), http9001), {
                allowed: false,
                by: 'frontend inbound: no rule matched (default drop); rule 1 "allow tcp to ports 9000" fails only on dst_ports',
            });
        });

        it("matches any port of a list", function () {
            const list = { frontend: { inbound: ["allow tcp to ports 80,9000"], outbound: ["allow"] } };
            assert.strictEqual(evaluate(list, endpoint("client"), endpoint("frontend")).allowed, true);
        });

        it("knows a client's source port is ephemeral, so `from ports 22` never matches an HTTP client", function () {
            const fromSsh = { frontend: { inbound: ["allow tcp from ports 22"], outbound: ["allow"] } };
            assert.strictEqual(evaluate(fromSsh, endpoint("client"), endpoint("frontend")).allowed, false);
            assert.strictEqual(
                evaluate(fromSsh, endpoint("client"), endpoint("frontend"), {
                    protocol: "tcp",
                    srcPort: 22,
                    dstPort: 9000,
                }).allowed,
                true,
            );
        });

        it("cannot decide a source port inside the ephemeral range", function () {
            const fromEphemeral = { frontend: { inbound: ["allow tcp from ports 40000"], outbound: ["allow"] } };
            assert.strictEqual(evaluate(fromEphemeral, endpoint("client"), endpoint("frontend")).allowed, undefined);
        });
    });

    describe("protocols", function () {
        it("drops tcp at a udp-only rule, naming it a near miss on protocol", function () {
            const udp = { frontend: { inbound: ["allow udp"], outbound: ["allow"] } };
            assert.deepStrictEqual(evaluate(udp, endpoint("client"), endpoint("frontend")), {
                allowed: false,
                by: 'frontend inbound: no rule matched (default drop); rule 1 "allow udp" fails only on protocol',
            });
        });

        it("matches a rule without protocol for every protocol", function () {
            const any = { frontend: { inbound: ["allow from tag client"], outbound: ["allow"] } };
            for (const packet of [
                http9000,
                { protocol: "udp", dstPort: 53 },
                { protocol: "icmp", icmpType: 8, icmpCode: 0 },
            ] as Packet[]) {
                assert.strictEqual(
                    evaluate(any, endpoint("client"), endpoint("frontend"), packet).allowed,
                    true,
                    packet.protocol,
                );
            }
        });

        it("matches icmp type and code", function () {
            const ping = { frontend: { inbound: ["allow icmp type 8 code 0"], outbound: ["allow"] } };
            assert.strictEqual(
                evaluate(ping, endpoint("client"), endpoint("frontend"), { protocol: "icmp", icmpType: 8, icmpCode: 0 })
                    .allowed,
                true,
            );
            assert.strictEqual(
                evaluate(ping, endpoint("client"), endpoint("frontend"), { protocol: "icmp", icmpType: 0, icmpCode: 0 })
                    .allowed,
                false,
            );
            assert.strictEqual(
                evaluate(ping, endpoint("client"), endpoint("frontend"), { protocol: "icmp", icmpType: 8, icmpCode: 1 })
                    .allowed,
                false,
            );
        });

        it("drops everything at an ICMP type 255 rule, which Felix replaces by a DROP", function () {
            const type255: CalicoRule = { action: "allow", protocol: "icmp", icmp_type: 255 };
            const built = profiles({});
            const withRule = new Map(built);
            withRule.set("frontend", { ...built.get("frontend")!, inbound: [type255, { action: "allow" }] });
            const verdict = evaluateFlow(withRule, {
                source: endpoint("client"),
                target: endpoint("frontend"),
                packet: http9000,
            });
            assert.strictEqual(verdict.allowed, false);
            assert.ok(
                describeOutcome(verdict.deciding).startsWith("frontend inbound rule 1 "),
                describeOutcome(verdict.deciding),
            );
            assert.ok(
                describeOutcome(verdict.deciding).includes("cannot program ICMP type 255"),
                describeOutcome(verdict.deciding),
            );
        });
    });

    describe("building profiles", function () {
        it("refuses a policy for a network that is not managed, naming it", function () {
            assert.throws(
                () => profilesFromPolicy(["client"], { clinet: { inbound: [], outbound: [] } }),
                (error: Error) => error instanceof VerifyInputError && error.message.includes("clinet"),
            );
        });

        it("refuses a rule outside calicoctl's grammar, naming where it is", function () {
            assert.throws(
                () => profilesFromPolicy(["client"], { client: { inbound: ["allow tcp to port 9000"], outbound: [] } }),
                (error: Error) =>
                    error instanceof VerifyInputError && error.message.startsWith("policy.client.inbound[0]: "),
            );
        });

        it("keeps a network named like an Object property apart from the prototype", function () {
            const built = profilesFromPolicy(["constructor"], {});
            assert.deepStrictEqual(built.get("constructor")?.tags, ["constructor"]);
            assert.strictEqual(built.get("toString"), undefined);
        });
    });
});
