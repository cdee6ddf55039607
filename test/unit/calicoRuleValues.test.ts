// The rule grammar's values: ports, CIDRs, ICMP type and code.
import assert from "node:assert";
import { canonicalRule, parseRule } from "@calico-stars/providers/calico";
import { assertRuleRejected } from "./calicoRuleAssertions";

describe("calicoRule values", () => {
    describe("ports", () => {
        it("reads a comma list in order, as numbers", () => {
            assert.deepStrictEqual(
                parseRule("allow tcp to ports 9001,80,0,65535,80").dst_ports,
                [9001, 80, 0, 65535, 80],
            );
        });

        it("reads a leading zero as calicoctl's int() does, and stores the plain number", () => {
            assert.deepStrictEqual(
                canonicalRule("allow tcp from ports 0080,00 to ports 09000"),
                "allow tcp from ports 80,0 to ports 9000",
            );
        });

        const ranges = ["1000:2000", "1000-2000", "80,1000:2000", "53,1000-2000", "1-3,22", "5:5", "3:1", "1:70000"];
        for (const ports of ranges) {
            it(`refuses the port range in ${ports}, saying calicoctl 0.x has none and to list the ports`, () => {
                assertRuleRejected(
                    `allow tcp to ports ${ports}`,
                    "calicoctl 0.x has no port ranges",
                    "list the ports instead",
                );
            });
        }

        it("suggests the exact list for a short range, with the other ports kept", () => {
            assertRuleRejected("allow udp from ports 53,1000-1002", `e.g. "ports 53,1000,1001,1002"`);
        });

        it("suggests a list by example for a long range", () => {
            assertRuleRejected("allow tcp to ports 1000:2000", `e.g. "ports 1000,1001,1002"`);
        });

        const badPorts: [string, string][] = [
            ["70000", "out of range"],
            ["65536", "out of range"],
            ["-1", `"-1"`],
            ["+80", `"+80"`],
            ["0x50", `"0x50"`],
            ["1,,2", `"1,,2"`],
            [",1", `",1"`],
            ["1,", `"1,"`],
            ["a", `"a"`],
            ["1:2:3", `"1:2:3" is not a port number`],
            ["1-", `"1-" is not a port number`],
        ];
        for (const [ports, fragment] of badPorts) {
            it(`rejects ports ${ports}`, () => {
                assertRuleRejected(`allow tcp to ports ${ports}`, fragment);
            });
        }

        it("rejects ports with icmp in calicoctl's words", () => {
            assertRuleRejected("allow icmp to ports 80", "Ports are not valid with protocol 'icmp'");
        });

        it("rejects ports with icmpv6 in calicoctl's words", () => {
            assertRuleRejected("allow icmpv6 from ports 80", "Ports are not valid with protocol 'icmpv6'");
        });

        it("rejects ports without a protocol in calicoctl's words", () => {
            assertRuleRejected("allow to ports 80", "Ports are not valid with protocol None");
        });

        it("rejects ports that follow a tag inside an icmp clause as invalid with the protocol", () => {
            assertRuleRejected("allow icmp from tag a ports 80", "Ports are not valid with protocol 'icmp'");
        });

        it("rejects ports without a value", () => {
            assertRuleRejected("allow tcp to ports", `"ports" needs a value`);
        });
    });

    describe("cidr", () => {
        const stored: [string, string][] = [
            ["10.0.0.0/8", "10.0.0.0/8"],
            ["10.1.2.3", "10.1.2.3/32"],
            ["10.1.2.3/8", "10.1.2.3/8"],
            ["0.0.0.0/0", "0.0.0.0/0"],
            ["10.0.0.0/08", "10.0.0.0/8"],
            ["10.0.0.0/255.0.0.0", "10.0.0.0/8"],
            ["10.0.0.0/0.255.255.255", "10.0.0.0/8"],
            ["192.168.1.7/255.255.255.0", "192.168.1.7/24"],
            ["10.0.0.0/0.0.0.0", "10.0.0.0/0"],
            ["10.0.0.0/255.255.255.255", "10.0.0.0/32"],
            ["2001:DB8::1", "2001:db8::1/128"],
            ["2001:0db8:0000::1/64", "2001:db8::1/64"],
            ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"],
            ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128"],
            ["1:0:0:1:0:0:0:1", "1:0:0:1::1/128"],
            ["0:0:0:0:0:0:0:0", "::/128"],
            ["1::", "1::/128"],
            ["::ffff:10.0.0.1", "::ffff:10.0.0.1/128"],
            ["::ffff:a00:1/120", "::ffff:10.0.0.1/120"],
            ["::2:3", "::0.2.0.3/128"],
            ["::1", "::1/128"],
            ["2001:db8::/ffff:ffff::", "2001:db8::/32"],
            ["FD00::/8", "fd00::/8"],
            ["::/0", "::/0"],
        ];
        for (const [written, expected] of stored) {
            it(`stores cidr ${written} as ${expected}`, () => {
                assert.deepStrictEqual(parseRule(`allow to cidr ${written}`).dst_net, expected);
            });
        }

        const badCidrs = [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.256",
            "10.0.0.0/",
            "10.0.0.0/8/8",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/255.0.255.0",
            "010.0.0.1",
            "example.com",
            "fe80::1%eth0",
            "10.0.0",
            "/8",
            "10.0.0.0/8$(id)",
            "1:2:3:4:5:6:7:8::",
            "::1::",
            "1:",
            "12345::",
        ];
        for (const cidr of badCidrs) {
            it(`rejects cidr ${cidr}`, () => {
                assertRuleRejected(`allow from cidr ${cidr}`, JSON.stringify(cidr));
            });
        }

        it("refuses a partial IPv4 address, which netaddr fills in differently from other tools", () => {
            assertRuleRejected("allow to cidr 10.1", "partial IPv4 address", "write all four octets");
        });

        it("refuses an octet with a leading zero, which other tools read as octal", () => {
            assertRuleRejected("allow to cidr 010.0.0.1/8", "leading zero", "octal");
        });

        it("refuses a mask that is neither a netmask nor a hostmask", () => {
            assertRuleRejected(
                "allow to cidr 10.0.0.0/255.0.255.0",
                "neither a length 0..32 in digits nor a netmask or hostmask",
            );
        });

        it("rejects an IPv6 cidr with icmp", () => {
            assertRuleRejected("allow icmp from cidr ::1", "not IPv4");
        });

        it("rejects an IPv4 cidr with icmpv6", () => {
            assertRuleRejected("allow icmpv6 to cidr 10.0.0.0/8", "not IPv6");
        });

        it("rejects source and destination cidrs of different IP versions", () => {
            assertRuleRejected("allow tcp from cidr 10.0.0.0/8 to cidr fd00::/8", "different IP versions");
        });

        it("accepts source and destination cidrs of one IP version", () => {
            assert.deepStrictEqual(parseRule("allow from cidr fd00::/8 to cidr ::1"), {
                action: "allow",
                src_net: "fd00::/8",
                dst_net: "::1/128",
            });
        });
    });

    describe("icmp type and code", () => {
        it("reads type and code as numbers", () => {
            assert.deepStrictEqual(parseRule("deny icmp type 3 code 13"), {
                action: "deny",
                protocol: "icmp",
                icmp_type: 3,
                icmp_code: 13,
            });
        });

        it("accepts the bounds 0 and 254", () => {
            assert.deepStrictEqual(parseRule("allow icmpv6 type 0 code 254"), {
                action: "allow",
                protocol: "icmpv6",
                icmp_type: 0,
                icmp_code: 254,
            });
        });

        it("refuses 255, which calicoctl v0.17-v0.20 refuse", () => {
            assertRuleRejected("allow icmp type 255", `"255" is out of range 0..254`, "v0.17-v0.20 refuse 255");
            assertRuleRejected("allow icmp type 8 code 255", `"255" is out of range 0..254`);
        });

        it("reads a leading zero as calicoctl's int() does", () => {
            assert.deepStrictEqual(canonicalRule("allow icmp type 08 code 00"), "allow icmp type 8 code 0");
        });

        it("rejects code without type", () => {
            assertRuleRejected("allow icmp code 3", `"code"`, `"type`);
        });

        it("rejects code before type", () => {
            assertRuleRejected("allow icmp code 0 type 8", `"code"`);
        });

        for (const value of ["256", "-1", "+8", "x", "1.5"]) {
            it(`rejects icmp type ${value}`, () => {
                assertRuleRejected(`allow icmp type ${value}`, JSON.stringify(value));
            });
        }

        it("rejects an out-of-range code", () => {
            assertRuleRejected("allow icmp type 8 code 256", `"256"`);
        });

        it("rejects type without a value", () => {
            assertRuleRejected("allow icmp type", `"type" needs a value`);
        });

        it("rejects type with tcp", () => {
            assertRuleRejected("allow tcp type 8", `"type"`, "icmp");
        });

        it("rejects type without a protocol", () => {
            assertRuleRejected("allow type 8", `"type"`, "icmp");
        });
    });
});
