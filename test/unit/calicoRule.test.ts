import assert from "node:assert";
import {
    CalicoRule,
    canonicalRule,
    formatRule,
    isValidTag,
    outsideGrammar,
    parseRule,
    ruleFromJson,
    ruleTags,
    ruleToJson,
    storedRuleText,
} from "@calico-stars/providers/calico";
import { assertJsonRejected, assertRuleRejected, syntaxErrorMessage } from "./calicoRuleAssertions";

// ---------------------------------------------------------------- the whole grammar, generated

interface ProtocolFamily {
    name: string;
    protocol: string[];
    prefixes: string[][];
    endpointSubClauses: string[];
}

/** Every subset of `items`, keeping their order (docopt's sub-clause order). */
function subsets<T>(items: T[]): T[][] {
    return items.reduce<T[][]>((all, item) => [...all, ...all.map((subset) => [...subset, item])], [[]]);
}

function endpointClauses(keyword: string, subClauses: string[]): string[][] {
    return subsets(subClauses).map((chosen) => (chosen.length === 0 ? [] : [keyword, ...chosen]));
}

const TAG = "tag management-ui";
const PORTS = "ports 9000,080";
const FAMILIES: ProtocolFamily[] = [
    { name: "tcp", protocol: ["tcp"], prefixes: [[]], endpointSubClauses: [PORTS, TAG, "cidr 10.0.0.0/8"] },
    { name: "udp", protocol: ["udp"], prefixes: [[]], endpointSubClauses: [PORTS, TAG, "cidr 2001:DB8::/32"] },
    {
        name: "icmp",
        protocol: ["icmp"],
        prefixes: [[], ["type 8"], ["type 3", "code 1"]],
        endpointSubClauses: [TAG, "cidr 192.168.0.1"],
    },
    {
        name: "icmpv6",
        protocol: ["icmpv6"],
        prefixes: [[], ["type 128"], ["type 1", "code 4"]],
        endpointSubClauses: [TAG, "cidr fd00::/8"],
    },
    { name: "no protocol", protocol: [], prefixes: [[]], endpointSubClauses: [TAG, "cidr 10.1.2.3/16"] },
];

function rulesOfFamily(family: ProtocolFamily): string[] {
    const texts: string[] = [];
    for (const action of ["allow", "deny"]) {
        for (const prefix of family.prefixes) {
            for (const from of endpointClauses("from", family.endpointSubClauses)) {
                for (const to of endpointClauses("to", family.endpointSubClauses)) {
                    texts.push([action, ...family.protocol, ...prefix, ...from, ...to].join(" "));
                }
            }
        }
    }
    return texts;
}

describe("calicoRule", () => {
    describe("round trips over the whole grammar", () => {
        it("generates every combination of action, protocol, icmp type/code and from/to sub-clauses", () => {
            const counts = FAMILIES.map((family) => rulesOfFamily(family).length);
            // 2 actions × prefixes × (2^subclauses)² per family
            assert.deepStrictEqual(counts, [128, 128, 96, 96, 32]);
        });

        for (const family of FAMILIES) {
            it(`formats every ${family.name} rule to a text that canonicalises to itself`, () => {
                for (const text of rulesOfFamily(family)) {
                    const formatted = formatRule(parseRule(text));
                    assert.deepStrictEqual(canonicalRule(formatted), formatted, text);
                }
            });

            it(`parses the formatted text of every ${family.name} rule back to the same rule`, () => {
                for (const text of rulesOfFamily(family)) {
                    const rule = parseRule(text);
                    assert.deepStrictEqual(parseRule(formatRule(rule)), rule, text);
                }
            });

            it(`reads back ruleToJson of every ${family.name} rule as the same rule`, () => {
                for (const text of rulesOfFamily(family)) {
                    const rule = parseRule(text);
                    assert.deepStrictEqual(ruleFromJson(ruleToJson(rule)), rule, text);
                }
            });

            it(`keeps every ${family.name} rule text in pprint order, changing only leading zeros and addresses`, () => {
                for (const text of rulesOfFamily(family)) {
                    const expected = text
                        .replaceAll("9000,080", "9000,80")
                        .replaceAll("2001:DB8::/32", "2001:db8::/32")
                        .replaceAll("192.168.0.1", "192.168.0.1/32");
                    assert.deepStrictEqual(canonicalRule(text), expected);
                }
            });
        }
    });

    describe("the runbook's rules", () => {
        const accepted: [string, string, CalicoRule][] = [
            ["management-ui (removed)", "allow from tag management-ui", { action: "allow", src_tag: "management-ui" }],
            ["management-ui", "allow tcp to ports 9001", { action: "allow", protocol: "tcp", dst_ports: [9001] }],
            ...["client", "backend", "frontend"].map((profile): [string, string, CalicoRule] => [
                profile,
                "allow tcp from tag management-ui to ports 9000",
                { action: "allow", protocol: "tcp", src_tag: "management-ui", dst_ports: [9000] },
            ]),
        ];
        for (const [profile, text, expected] of accepted) {
            it(`parses ${profile}'s rule "${text}"`, () => {
                assert.deepStrictEqual(parseRule(text), expected);
            });
        }

        for (const text of ["allow tcp from tag client to port 9001", "allow tcp from tag frontend to port 9001"]) {
            it(`rejects "${text}", saying the keyword is "ports"`, () => {
                assertRuleRejected(text, `"port"`, `the keyword is "ports"`);
            });
        }

        it("formats the management-ui probe rule exactly as calicoctl's rule show does", () => {
            assert.deepStrictEqual(
                canonicalRule("allow tcp from tag management-ui to ports 9000"),
                "allow tcp from tag management-ui to ports 9000",
            );
        });
    });

    describe("tokens", () => {
        it("ignores runs of spaces and tabs, and leading and trailing ones", () => {
            assert.deepStrictEqual(
                canonicalRule(" \tallow  tcp\tfrom tag client   to ports 9000 \t"),
                "allow tcp from tag client to ports 9000",
            );
        });

        it("rejects an empty rule", () => {
            assertRuleRejected("   ", "empty");
        });

        it("rejects anything but allow or deny as the action", () => {
            assertRuleRejected("permit tcp", `"permit"`);
        });

        it("is case-sensitive, as docopt is", () => {
            assertRuleRejected("allow TCP", `"TCP"`);
        });

        it("rejects an unknown word", () => {
            assertRuleRejected("allow tcp please", `"please"`);
        });
    });

    describe("formatRule", () => {
        const cases: [CalicoRule, string][] = [
            [{ action: "allow" }, "allow"],
            [{ action: "allow", src_tag: "management-ui" }, "allow from tag management-ui"],
            [
                { action: "deny", protocol: "udp", dst_ports: [53, 1000], dst_net: "10.0.0.0/8" },
                "deny udp to ports 53,1000 cidr 10.0.0.0/8",
            ],
            [
                { action: "allow", protocol: "icmp", icmp_type: 3, icmp_code: 1, src_net: "10.0.0.0/8" },
                "allow icmp type 3 code 1 from cidr 10.0.0.0/8",
            ],
            [
                { dst_ports: [80], src_tag: "a", protocol: "tcp", action: "allow", src_ports: [1], dst_tag: "b" },
                "allow tcp from ports 1 tag a to ports 80 tag b",
            ],
        ];
        for (const [rule, expected] of cases) {
            it(`prints ${JSON.stringify(rule)} as "${expected}"`, () => {
                assert.deepStrictEqual(formatRule(rule), expected);
            });
        }

        it("refuses to print a rule the grammar cannot express", () => {
            const message = syntaxErrorMessage(() =>
                formatRule({ action: "allow", protocol: "icmp", dst_ports: [80] }),
            );
            assert.ok(message.includes("Ports are not valid with protocol 'icmp'"), message);
        });

        it("refuses to print a hand-built rule with a hostile tag", () => {
            const message = syntaxErrorMessage(() => formatRule({ action: "allow", src_tag: "a; rm -rf /" }));
            assert.ok(message.includes(`"a; rm -rf /"`), message);
        });
    });

    describe("clause order", () => {
        const misordered: [string, string][] = [
            ["allow to tag a from tag b", `"from"`],
            ["allow tcp from tag a ports 80", `"ports"`],
            ["allow from cidr 10.0.0.0/8 tag a", `"tag"`],
            ["allow from tag a tag b", `"tag"`],
            ["allow from tag a from tag b", `"from"`],
            ["allow tcp to ports 80 to ports 81", `"to"`],
            ["allow icmp type 8 type 9", `"type"`],
            ["allow tcp udp", `"udp"`],
            ["allow deny", `"deny"`],
            ["allow from tag a tcp", `"tcp"`],
            ["allow ports 80", `"ports"`],
        ];
        for (const [text, offending] of misordered) {
            it(`rejects "${text}"`, () => {
                assertRuleRejected(text, offending);
            });
        }

        it("accepts from with nothing after it, as calicoctl does, and drops it", () => {
            assert.deepStrictEqual(canonicalRule("allow from"), "allow");
        });

        it("accepts to with nothing after it, and drops it", () => {
            assert.deepStrictEqual(canonicalRule("allow tcp to"), "allow tcp");
        });

        it("accepts from followed directly by to", () => {
            assert.deepStrictEqual(canonicalRule("allow from to tag a"), "allow to tag a");
        });

        it("rejects tag without a value", () => {
            assertRuleRejected("allow from tag", `"tag" needs a value`);
        });
    });

    describe("hostile strings stay errors", () => {
        const hostile: [string, string][] = [
            ["allow tcp to ports 9000; rm -rf /", `"9000;"`],
            ["allow from tag $(id)", `"$(id)"`],
            ["allow from tag `id`", JSON.stringify("`id`")],
            ['allow from tag "management-ui"', JSON.stringify('"management-ui"')],
            ["allow from tag 'management-ui'", `"'management-ui'"`],
            ["allow\nfrom tag a", JSON.stringify("allow\nfrom")],
            ["allow from tag a\n", JSON.stringify("a\n")],
            ["allow from tag a\rb", JSON.stringify("a\rb")],
            ["allow --at=1", `"--at=1"`],
            ["--at=1 allow", `"--at=1"`],
            ["allow from tag -rf", `"-rf"`],
            ["allow from tag --no-check", `"--no-check"`],
            ["allow from tag a;deny", `"a;deny"`],
            ["allow tcp to ports 9000 && id", `"&&"`],
            ["allow from tag a|b", `"a|b"`],
            ["allow from tag a>b", `"a>b"`],
            ["allow from tag ../x", `"../x"`],
            ["allow from tag caf\u00e9", JSON.stringify("caf\u00e9")],
            ["allow from tag a\u0000", JSON.stringify("a\u0000")],
        ];
        for (const [text, offending] of hostile) {
            it(`rejects ${JSON.stringify(text)}`, () => {
                assertRuleRejected(text, offending);
            });
        }

        it("rejects a hostile tag in rule JSON", () => {
            assertJsonRejected({ action: "allow", src_tag: "x; rm -rf /" }, `"x; rm -rf /"`);
        });
    });

    describe("ruleToJson", () => {
        it("writes keys in calicoctl's order", () => {
            const rule = parseRule("allow icmp type 8 code 0 from tag a cidr 10.0.0.0/8 to tag b cidr 10.1.0.0/16");
            assert.deepStrictEqual(Object.keys(ruleToJson(rule)), [
                "action",
                "protocol",
                "icmp_type",
                "icmp_code",
                "src_tag",
                "src_net",
                "dst_tag",
                "dst_net",
            ]);
        });

        it("writes port keys before tag and net, in pprint's order", () => {
            const rule = parseRule("deny tcp from ports 1 tag a cidr ::/0 to ports 2 tag b cidr ::1");
            assert.deepStrictEqual(Object.keys(ruleToJson(rule)), [
                "action",
                "protocol",
                "src_ports",
                "src_tag",
                "src_net",
                "dst_ports",
                "dst_tag",
                "dst_net",
            ]);
        });

        it("writes ports as ints", () => {
            assert.deepStrictEqual(ruleToJson(parseRule("allow tcp to ports 80,443")), {
                action: "allow",
                protocol: "tcp",
                dst_ports: [80, 443],
            });
        });

        it("omits absent and undefined keys", () => {
            assert.deepStrictEqual(ruleToJson({ action: "allow", protocol: undefined }), { action: "allow" });
        });
    });

    describe("ruleFromJson", () => {
        it("reads calico-libnetwork's default inbound rule", () => {
            assert.deepStrictEqual(ruleFromJson({ action: "allow", src_tag: "f7a0c1d2e3" }), {
                action: "allow",
                src_tag: "f7a0c1d2e3",
            });
        });

        it("reads calico-libnetwork's default outbound rule", () => {
            assert.deepStrictEqual(ruleFromJson({ action: "allow" }), { action: "allow" });
        });

        it("reads ports as ints", () => {
            assert.deepStrictEqual(ruleFromJson({ action: "deny", protocol: "udp", src_ports: [53, 1000] }), {
                action: "deny",
                protocol: "udp",
                src_ports: [53, 1000],
            });
        });

        it("reads a net in calicoctl's spelling", () => {
            assert.deepStrictEqual(ruleFromJson({ action: "allow", dst_net: "2001:0DB8:0::1/64" }), {
                action: "allow",
                dst_net: "2001:db8::1/64",
            });
        });

        it("stores a bare address as a full-length network", () => {
            assert.deepStrictEqual(ruleFromJson({ action: "allow", dst_net: "10.1.2.3" }), {
                action: "allow",
                dst_net: "10.1.2.3/32",
            });
        });

        it("rejects an unknown key", () => {
            assertJsonRejected({ action: "allow", src_port: [80] }, `unknown key "src_port"`);
        });

        it("rejects src_selector as not expressible in the 0.x grammar", () => {
            assertJsonRejected({ action: "allow", src_selector: "role == 'ui'" }, `"src_selector" is a selector`);
        });

        it("rejects dst_selector as not expressible in the 0.x grammar", () => {
            assertJsonRejected({ action: "allow", dst_selector: "all()" }, `"dst_selector" is a selector`);
        });

        it("rejects a rule without an action", () => {
            assertJsonRejected({ protocol: "tcp" }, `"action" is missing`);
        });

        const notObjects: unknown[] = [null, [], "allow", 1, undefined];
        for (const value of notObjects) {
            it(`rejects ${JSON.stringify(value) ?? "undefined"} as not an object`, () => {
                assertJsonRejected(value, "must be a JSON object");
            });
        }

        const badFields: [Record<string, unknown>, string][] = [
            [{ action: "ALLOW" }, `"action" must be one of`],
            [{ action: "allow", protocol: "sctp" }, `"protocol" must be one of`],
            [{ action: "allow", src_tag: null }, `"src_tag" must be a string`],
            [{ action: "allow", protocol: "tcp", dst_ports: [70000] }, "70000"],
            [{ action: "allow", protocol: "tcp", dst_ports: [-1] }, "-1"],
            [{ action: "allow", protocol: "tcp", dst_ports: [1.5] }, "1.5"],
            [{ action: "allow", protocol: "tcp", dst_ports: ["80"] }, `"80"`],
            [{ action: "allow", protocol: "tcp", dst_ports: ["1-3"] }, `"1-3"`],
            [{ action: "allow", protocol: "tcp", dst_ports: ["1:3"] }, "calicoctl 0.x has no port ranges"],
            [{ action: "allow", protocol: "tcp", dst_ports: ["5:5"] }, `"5:5"`],
            [{ action: "allow", protocol: "tcp", dst_ports: [true] }, "true"],
            [{ action: "allow", protocol: "tcp", dst_ports: [] }, "non-empty list"],
            [{ action: "allow", protocol: "tcp", dst_ports: 80 }, "non-empty list"],
            [{ action: "allow", dst_ports: [80] }, "Ports are not valid with protocol None"],
            [{ action: "allow", protocol: "icmp", src_ports: [80] }, "Ports are not valid with protocol 'icmp'"],
            [{ action: "allow", protocol: "icmp", icmp_code: 0 }, "icmp code is only valid with an icmp type"],
            [{ action: "allow", protocol: "tcp", icmp_type: 8 }, "only valid with protocol icmp"],
            [{ action: "allow", protocol: "icmp", icmp_type: 256 }, "256"],
            [{ action: "allow", protocol: "icmp", icmp_type: 255 }, "0..254"],
            [{ action: "allow", protocol: "icmp", icmp_type: "8" }, `"8"`],
            [{ action: "allow", src_net: "10.0.0.0/33" }, `"10.0.0.0/33"`],
            [{ action: "allow", protocol: "icmpv6", dst_net: "10.0.0.0/8" }, "not IPv6"],
            [{ action: "allow", src_net: "10.0.0.0/8", dst_net: "::/0" }, "different IP versions"],
        ];
        for (const [value, fragment] of badFields) {
            it(`rejects ${JSON.stringify(value)}`, () => {
                assertJsonRejected(value, fragment);
            });
        }
    });

    describe("storedRuleText", () => {
        it("shows a rule the grammar expresses in its canonical text", () => {
            assert.deepStrictEqual(
                storedRuleText({ dst_ports: [9000], src_tag: "management-ui", protocol: "tcp", action: "allow" }),
                "allow tcp from tag management-ui to ports 9000",
            );
        });

        it("shows a rule outside the grammar as its JSON, marked, keys in pprint's order then the rest", () => {
            assert.deepStrictEqual(
                storedRuleText({ src_selector: "all()", zz: 1, protocol: null, action: "allow" }),
                `${outsideGrammar} {"action":"allow","protocol":null,"src_selector":"all()","zz":1}`,
            );
        });

        it("shows anything that is not a rule object as its JSON, marked", () => {
            assert.deepStrictEqual(storedRuleText("allow"), `${outsideGrammar} "allow"`);
        });

        it("never shows two different stored rules the same way", () => {
            assert.notDeepStrictEqual(
                storedRuleText({ action: "allow", protocol: "icmp", icmp_type: "8" }),
                storedRuleText({ action: "allow", protocol: "icmp", icmp_type: 8 }),
            );
        });
    });

    describe("ruleTags", () => {
        it("lists the source tag, then the destination tag", () => {
            assert.deepStrictEqual(ruleTags(parseRule("allow from tag client to tag backend")), ["client", "backend"]);
        });

        it("lists a tag named twice once", () => {
            assert.deepStrictEqual(ruleTags(parseRule("allow from tag client to tag client")), ["client"]);
        });

        it("lists nothing for a rule without tags", () => {
            assert.deepStrictEqual(ruleTags(parseRule("allow tcp to ports 9001")), []);
        });
    });

    describe("isValidTag", () => {
        for (const tag of ["management-ui", "a.b_c-1", "0abc", "_x", ".hidden", "f7a0c1d2e3"]) {
            it(`accepts ${tag}`, () => {
                assert.deepStrictEqual(isValidTag(tag), true);
            });
        }

        for (const tag of ["", "-x", "--at=1", "a b", "a/b", "a;b", "a\n", "caf\u00e9"]) {
            it(`rejects ${JSON.stringify(tag)}`, () => {
                assert.deepStrictEqual(isValidTag(tag), false);
            });
        }

        it("rejects a non-string", () => {
            assert.deepStrictEqual(isValidTag(42), false);
        });
    });
});
