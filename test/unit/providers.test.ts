import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { dnatRules, providers } from "@calico-stars/providers";
import { foreignContent, normalizeGroup } from "@calico-stars/providers/marathon";
import * as pulumi from "@pulumi/pulumi";
import type { ProviderName } from "@calico-stars/providers";
import { providerModuleText } from "../../components/packagedResource";
import { killFirstUpgradeStrategy } from "../../components/starsTemplate";
import { verifyPolicyArgs } from "../../components/verifyPolicy";
import { stackConfig } from "../support/verifyFixtures";

const host = { address: "10.1.0.12", port: 22, user: "vagrant", sudo: false };
const network = { host, networkName: "client", ownerId: "0a1b2c3d" };
const rules = {
    host,
    profile: "frontend",
    networkId: "abc",
    inbound: ["allow from tag frontend"],
    outbound: ["allow"],
    tagNetworkIds: { frontend: "abc" },
};
const dnat = {
    host,
    publicInterface: "eth1",
    publicPort: 9001,
    targetIp: "192.168.255.254",
    targetPort: 9001,
    ownerId: "0a1b2c3d",
};
const group = {
    id: "/calico-stars",
    apps: [
        {
            id: "client",
            cmd: "star-probe",
            cpus: 0.1,
            mem: 64,
            instances: 1,
            uris: [],
            labels: { "calico-stars.owner": "0a1b2c3d" },
            container: {
                type: "DOCKER" as const,
                docker: { image: "djosborne/star:v0.5.0", parameters: [{ key: "net", value: "client" }] },
            },
        },
    ],
};
const marathon = {
    host,
    marathonHost: "127.0.0.1",
    marathonPort: 8080,
    group,
    ownerId: "0a1b2c3d",
    deploymentTimeoutSeconds: 600,
};
const marathonClaim = {
    host,
    marathonHost: "127.0.0.1",
    marathonPort: 8080,
    groupId: "/calico-stars",
    ownerId: "0a1b2c3d",
    deploymentTimeoutSeconds: 600,
};

describe("provider decisions", function () {
    describe("DockerNetwork diff", function () {
        const olds = { ...network, networkId: "abc", adopted: false };

        it("sees no change when nothing changed", async function () {
            assert.deepStrictEqual(await providers.DockerNetwork.diff!("abc", olds, network), {
                changes: false,
                replaces: [],
                deleteBeforeReplace: true,
            });
        });

        it("replaces, deleting first, when the name changes", async function () {
            assert.deepStrictEqual(
                await providers.DockerNetwork.diff!("abc", olds, { ...network, networkName: "clients" }),
                { changes: true, replaces: ["networkName"], deleteBeforeReplace: true },
            );
        });

        it("replaces when the subnet changes", async function () {
            const result = await providers.DockerNetwork.diff!("abc", olds, { ...network, subnet: "10.0.0.0/24" });
            assert.deepStrictEqual(result.replaces, ["subnet"]);
        });

        it("treats an unknown name as a replacement", async function () {
            const result = await providers.DockerNetwork.diff!("abc", olds, {
                ...network,
                networkName: pulumi.runtime.unknownValue,
            });
            assert.deepStrictEqual(result.replaces, ["networkName"]);
        });

        it("leaves a network alone when only adoption or the owner id changes, which do not change the network", async function () {
            assert.strictEqual(
                (await providers.DockerNetwork.diff!("abc", olds, { ...network, ownerId: "ffffffff", adopt: true }))
                    .changes,
                false,
            );
        });
    });

    describe("DockerNetwork check", function () {
        it("passes good inputs and an owner id not known yet", async function () {
            assert.deepStrictEqual(
                (await providers.DockerNetwork.check!(network, { ...network, ownerId: pulumi.runtime.unknownValue }))
                    .failures,
                [],
            );
        });

        it("names a bad input", async function () {
            assert.deepStrictEqual(
                (
                    await providers.DockerNetwork.check!(network, { ...network, networkName: "-rf", ownerId: "xyz" })
                ).failures!.map((f) => f.property),
                ["networkName", "ownerId"],
            );
        });
    });

    describe("ProfileRules", function () {
        it("stores rules in calicoctl's spelling", async function () {
            const result = await providers.ProfileRules.check!(rules, {
                ...rules,
                inbound: ["allow  tcp from tag client to ports 09000,9002"],
            });
            assert.deepStrictEqual(result.inputs!.inbound, ["allow tcp from tag client to ports 9000,9002"]);
            assert.deepStrictEqual(result.failures, []);
        });

        it("fails check on the runbook's `to port` slip, naming the rule", async function () {
            const result = await providers.ProfileRules.check!(rules, {
                ...rules,
                inbound: ["allow tcp from tag client to port 9001"],
            });
            assert.strictEqual(result.failures!.length, 1);
            assert.strictEqual(result.failures![0].property, "inbound");
            assert.match(result.failures![0].reason, /rule 1 "allow tcp from tag client to port 9001": .*ports/);
        });

        it("fails check on a missing host, naming it", async function () {
            const { host: _omitted, ...withoutHost } = rules;
            assert.deepStrictEqual(
                (await providers.ProfileRules.check!(rules, withoutHost as typeof rules)).failures!.map(
                    (f) => f.property,
                ),
                ["host"],
            );
        });

        it("passes unknown rules through check", async function () {
            const result = await providers.ProfileRules.check!(rules, {
                ...rules,
                inbound: [pulumi.runtime.unknownValue],
            });
            assert.deepStrictEqual(result.inputs!.inbound, [pulumi.runtime.unknownValue]);
        });

        it("updates in place when a rule changes", async function () {
            assert.deepStrictEqual(await providers.ProfileRules.diff!("abc", rules, { ...rules, inbound: ["allow"] }), {
                changes: true,
                replaces: [],
                deleteBeforeReplace: true,
            });
        });

        it("sees a reordering as a change, since calicoctl applies rules in order", async function () {
            const two = { ...rules, inbound: ["allow from tag frontend", "deny"] };
            const result = await providers.ProfileRules.diff!("abc", two, {
                ...two,
                inbound: ["deny", "allow from tag frontend"],
            });
            assert.strictEqual(result.changes, true);
        });

        it("replaces when the network was replaced", async function () {
            const result = await providers.ProfileRules.diff!("abc", rules, {
                ...rules,
                networkId: pulumi.runtime.unknownValue,
            });
            assert.deepStrictEqual(result.replaces, ["networkId"]);
        });

        it("updates in place when a network its tags name was replaced", async function () {
            const result = await providers.ProfileRules.diff!(
                "abc",
                { ...rules, tagNetworkIds: { frontend: "abc" } },
                { ...rules, tagNetworkIds: { frontend: pulumi.runtime.unknownValue } },
            );
            assert.deepStrictEqual([result.changes, result.replaces], [true, []]);
        });

        it("sees no change for identical rules", async function () {
            assert.strictEqual((await providers.ProfileRules.diff!("abc", rules, { ...rules })).changes, false);
        });
    });

    describe("IptablesDnat", function () {
        it("builds the runbook's two rules and the masquerade of what they forward, each with the ownership comment", function () {
            assert.deepStrictEqual(dnatRules({ ...dnat, publicPort: 8080, targetPort: 9001 }), [
                [
                    "PREROUTING",
                    "-i",
                    "eth1",
                    "-p",
                    "tcp",
                    "--dport",
                    "8080",
                    "-m",
                    "comment",
                    "--comment",
                    "calico-stars:0a1b2c3d",
                    "-j",
                    "DNAT",
                    "--to-destination",
                    "192.168.255.254:9001",
                ],
                [
                    "OUTPUT",
                    "-o",
                    "lo",
                    "-p",
                    "tcp",
                    "--dport",
                    "8080",
                    "-m",
                    "comment",
                    "--comment",
                    "calico-stars:0a1b2c3d",
                    "-j",
                    "DNAT",
                    "--to-destination",
                    "192.168.255.254:9001",
                ],
                [
                    "POSTROUTING",
                    "-d",
                    "192.168.255.254",
                    "-p",
                    "tcp",
                    "--dport",
                    "9001",
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "DNAT",
                    "-m",
                    "comment",
                    "--comment",
                    "calico-stars:0a1b2c3d",
                    "-j",
                    "MASQUERADE",
                ],
            ]);
        });

        it("sees state holding only the two DNAT rules (written before the masquerade existed) as a change, which adds it", async function () {
            const olds = { ...dnat, rules: dnatRules(dnat).slice(0, 2) };
            assert.strictEqual((await providers.IptablesDnat.diff!("h:9001", olds, dnat)).changes, true);
        });

        it("sees a rule deleted by hand as a change", async function () {
            const olds = { ...dnat, rules: [dnatRules(dnat)[0]] };
            assert.strictEqual((await providers.IptablesDnat.diff!("h:9001", olds, dnat)).changes, true);
        });

        it("fails check on a port out of range and an interface name with a space", async function () {
            const result = await providers.IptablesDnat.check!(dnat, {
                ...dnat,
                publicPort: 70000,
                publicInterface: "eth 1",
            });
            assert.deepStrictEqual(result.failures!.map((f) => f.property).sort(), ["publicInterface", "publicPort"]);
        });

        it("sees no change when all three rules are present", async function () {
            const olds = { ...dnat, rules: dnatRules(dnat) };
            assert.strictEqual((await providers.IptablesDnat.diff!("h:9001", olds, dnat)).changes, false);
        });
    });

    describe("MarathonGroup", function () {
        it("ignores Marathon's defaults and absolute app ids when comparing", async function () {
            const asMarathonShowsIt = {
                ...group,
                version: "2026",
                apps: [{ ...group.apps[0], id: "/calico-stars/client", env: {}, ports: [0], disk: 0 }],
            };
            assert.deepStrictEqual(normalizeGroup(asMarathonShowsIt), normalizeGroup(group));
            assert.strictEqual(
                (
                    await providers.MarathonGroup.diff!(
                        "/calico-stars",
                        { ...marathon, group: asMarathonShowsIt, version: "v" },
                        marathon,
                    )
                ).changes,
                false,
            );
        });

        it("updates in place when an app changes", async function () {
            const changed = { ...group, apps: [{ ...group.apps[0], cmd: "star-probe --urls=x" }] };
            assert.deepStrictEqual(
                await providers.MarathonGroup.diff!(
                    "/calico-stars",
                    { ...marathon, version: "v" },
                    { ...marathon, group: changed },
                ),
                { changes: true, replaces: [], deleteBeforeReplace: true },
            );
        });

        it("keeps an app's upgrade strategy in what it compares, with Marathon's default for an app that names none", function () {
            const killFirst = { ...group, apps: [{ ...group.apps[0], upgradeStrategy: killFirstUpgradeStrategy }] };
            assert.notDeepStrictEqual(
                normalizeGroup(killFirst),
                normalizeGroup(group),
                "a collector put back to start-before-kill is drift",
            );
            const spelledOut = {
                ...group,
                apps: [{ ...group.apps[0], upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 } }],
            };
            assert.deepStrictEqual(normalizeGroup(spelledOut), normalizeGroup(group));
        });

        it("updates in place when only the collector's upgrade strategy differs", async function () {
            const killFirst = { ...group, apps: [{ ...group.apps[0], upgradeStrategy: killFirstUpgradeStrategy }] };
            assert.strictEqual(
                (
                    await providers.MarathonGroup.diff!(
                        "/calico-stars",
                        { ...marathon, version: "v" },
                        { ...marathon, group: killFirst },
                    )
                ).changes,
                true,
            );
        });

        it("sees no change when only forceDeployments is set, which changes nothing on the cluster", async function () {
            assert.strictEqual(
                (
                    await providers.MarathonGroup.diff!(
                        "/calico-stars",
                        { ...marathon, version: "v" },
                        { ...marathon, forceDeployments: true },
                    )
                ).changes,
                false,
            );
        });

        it("fails check on a group id Marathon routes to another listing, and on an app without the owner label", async function () {
            const result = await providers.MarathonGroup.check!(marathon, {
                ...marathon,
                group: { id: "/team/apps", apps: [{ ...group.apps[0], labels: {} }] },
            });
            assert.deepStrictEqual(
                result.failures!.map((f) => [f.property, f.reason]),
                [
                    [
                        "group",
                        'id: must not contain a segment "apps" or "versions": Marathon routes /v2/groups/<id>/apps and /versions to other listings',
                    ],
                    ["group", "apps[0].labels.calico-stars.owner: must be the stack's ownership id 0a1b2c3d"],
                ],
            );
        });

        it("passes a group not known yet (preview before the owner id exists)", async function () {
            assert.deepStrictEqual(
                (
                    await providers.MarathonGroup.check!(marathon, {
                        ...marathon,
                        group: pulumi.runtime.unknownValue as never,
                        ownerId: pulumi.runtime.unknownValue,
                    })
                ).failures,
                [],
            );
        });

        it("finds every foreign thing in a group's subtree: other owners' apps, unlabelled apps, any subgroup", function () {
            const tree = {
                id: "/prod",
                apps: [
                    { id: "/prod/ours", labels: { "calico-stars.owner": "0a1b2c3d" } },
                    { id: "/prod/theirs", labels: { "calico-stars.owner": "ffffffff" } },
                    { id: "/prod/bare" },
                ],
                groups: [
                    {
                        id: "/prod/payments",
                        apps: [{ id: "/prod/payments/api", labels: { "calico-stars.owner": "0a1b2c3d" } }],
                        groups: [],
                    },
                ],
            };
            assert.deepStrictEqual(foreignContent(tree, "0a1b2c3d"), [
                "app /prod/theirs (calico-stars.owner=ffffffff)",
                "app /prod/bare (no calico-stars.owner label)",
                "group /prod/payments",
            ]);
        });

        it("replaces, deleting first, when a network its apps join is being replaced: its ID is unknown", async function () {
            const olds = { ...marathon, networkIds: { client: "abc" }, version: "v" };
            assert.deepStrictEqual(
                await providers.MarathonGroup.diff!("/calico-stars", olds, {
                    ...marathon,
                    networkIds: pulumi.runtime.unknownValue as never,
                }),
                { changes: true, replaces: ["networkIds"], deleteBeforeReplace: true },
            );
        });

        it("replaces when a network its apps join has a new ID", async function () {
            const olds = { ...marathon, networkIds: { client: "abc", frontend: "def" }, version: "v" };
            assert.deepStrictEqual(
                (
                    await providers.MarathonGroup.diff!("/calico-stars", olds, {
                        ...marathon,
                        networkIds: { frontend: "def", client: "xyz" },
                    })
                ).replaces,
                ["networkIds"],
            );
            assert.strictEqual(
                (
                    await providers.MarathonGroup.diff!("/calico-stars", olds, {
                        ...marathon,
                        networkIds: { frontend: "def", client: "abc" },
                    })
                ).changes,
                false,
            );
        });

        it("only records the network IDs in state written before it took them: nothing was replaced", async function () {
            assert.deepStrictEqual(
                await providers.MarathonGroup.diff!(
                    "/calico-stars",
                    { ...marathon, version: "v" },
                    { ...marathon, networkIds: { client: "abc" } },
                ),
                { changes: true, replaces: [], deleteBeforeReplace: true },
            );
        });

        it("replaces when the group id changes", async function () {
            const moved = { ...group, id: "/other" };
            assert.deepStrictEqual(
                (
                    await providers.MarathonGroup.diff!(
                        "/calico-stars",
                        { ...marathon, version: "v" },
                        { ...marathon, group: moved },
                    )
                ).replaces,
                ["group"],
            );
        });
    });

    describe("the stored provider, revived as the provider host does", function () {
        const projectDir = path.resolve(__dirname, "../..");
        const verifyInputs = verifyPolicyArgs(
            stackConfig(),
            { address: "10.1.0.11", port: 22, user: "vagrant", sudo: false },
            { groupVersion: "v", networkIds: ["a"] },
        );
        /** Inputs each provider accepts (check) and reads from (read, with the host replaced). */
        const inputsOf: Record<ProviderName, object> = {
            DockerNetwork: { ...network, networkId: "abc", adopted: false },
            ProfileRules: rules,
            IptablesDnat: dnat,
            MarathonGroupClaim: marathonClaim,
            MarathonGroup: marathon,
            VerifyPolicy: verifyInputs,
        };
        let keyDir: string;

        before(function () {
            keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-revive-"));
            // any readable file passes config validation; nothing ever logs in with it here
            fs.writeFileSync(path.join(keyDir, "key"), "not a key\n");
        });

        after(function () {
            fs.rmSync(keyDir, { recursive: true, force: true });
        });

        type Outcome = { value: unknown } | { error: { name: string; message: string } };

        /**
         * In a fresh plain `node` (no ts-node) in the project directory, from the text alone, as the provider host does
         * it (sdk/nodejs/cmd/dynamic-provider/index.ts, getProvider: require-from-string, handler(), then configure
         * with the stack config): configure, then each call in turn; what each returned or threw.
         */
        function reviveAndCall(
            text: string,
            config: Record<string, string>,
            calls: [method: string, ...args: unknown[]][],
        ): Outcome[] {
            const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [projectDir] }));
            const script = `
                const requireFromString = require(require.resolve("require-from-string", { paths: [${JSON.stringify(sdkDir)}] }));
                const { text, config, calls } = JSON.parse(require("fs").readFileSync(0, "utf8"));
                const provider = requireFromString(text).handler();
                const settle = (promise) => promise.then((value) => ({ value }), (e) => ({ error: { name: e.name, message: e.message } }));
                (async () => {
                    const outcomes = [await settle(provider.configure({ config: new Map(Object.entries(config)) }))];
                    for (const [method, ...args] of calls) {
                        outcomes.push(await settle(Promise.resolve().then(() => provider[method](...args))));
                    }
                    process.stdout.write(JSON.stringify(outcomes));
                })();`;
            const output = execFileSync(process.execPath, ["-e", script], {
                cwd: projectDir,
                input: JSON.stringify({ text, config, calls }),
                encoding: "utf8",
                timeout: 60000,
            });
            return JSON.parse(output) as Outcome[];
        }

        const types: ProviderName[] = [
            "DockerNetwork",
            "ProfileRules",
            "IptablesDnat",
            "MarathonGroupClaim",
            "MarathonGroup",
            "VerifyPolicy",
        ];
        /** The claim only checks, and has nothing on the cluster to read: the provider host keeps its state. */
        const readsTheCluster = (name: ProviderName) => name !== "MarathonGroupClaim";
        for (const name of types) {
            it(`revives ${name}'s stored provider in a plain node process, as the provider host does, and runs the installed package's provider`, async function () {
                this.timeout(60000);
                const inputs = inputsOf[name];
                const closedPort = { address: "127.0.0.1", port: 1, user: "nobody", sudo: false };
                const [configured, good, bad, read] = reviveAndCall(
                    providerModuleText(name),
                    { "calico-stars:sshPrivateKeyPath": path.join(keyDir, "key"), "calico-stars:connectAttempts": "1" },
                    [
                        ["check", inputs, inputs],
                        ["check", inputs, { ...inputs, host: { ...host, port: 0 } }],
                        readsTheCluster(name)
                            ? ["read", "x", { ...inputs, host: closedPort }]
                            : ["hasOwnProperty", "read"],
                    ],
                );
                assert.ok(!("error" in configured), JSON.stringify(configured));
                assert.deepStrictEqual((good as { value: { failures: unknown[] } }).value.failures, []);
                assert.deepStrictEqual(
                    (bad as { value: { failures: { property: string }[] } }).value.failures.map((f) => f.property),
                    ["host"],
                );
                assert.ok(
                    readsTheCluster(name)
                        ? "error" in read &&
                              read.error.name === "SshError" &&
                              read.error.message.includes("127.0.0.1:1")
                        : "value" in read && read.value === false,
                    JSON.stringify(read),
                );
            });

            it(`${name}'s revived configure() refuses connectAttempts 0 with the program's own message`, async function () {
                this.timeout(60000);
                const [configured] = reviveAndCall(
                    providerModuleText(name),
                    { "calico-stars:sshPrivateKeyPath": path.join(keyDir, "key"), "calico-stars:connectAttempts": "0" },
                    [],
                );
                assert.ok(
                    "error" in configured &&
                        configured.error.name === "ConfigError" &&
                        /invalid stack configuration:\n {2}calico-stars:connectAttempts: Too small: expected number to be >=1/.test(
                            configured.error.message,
                        ),
                    JSON.stringify(configured),
                );
            });
        }

        it("revives ProfileRules' stored provider whose check still parses calicoctl rules", async function () {
            this.timeout(60000);
            const [, checked] = reviveAndCall(
                providerModuleText("ProfileRules"),
                { "calico-stars:sshPrivateKeyPath": path.join(keyDir, "key") },
                [
                    [
                        "check",
                        rules,
                        {
                            ...rules,
                            inbound: ["allow tcp from tag a to ports 1,2,3"],
                            outbound: ["allow tcp to port 9"],
                        },
                    ],
                ],
            );
            assert.deepStrictEqual(checked, {
                value: {
                    inputs: {
                        ...rules,
                        inbound: ["allow tcp from tag a to ports 1,2,3"],
                        outbound: ["allow tcp to port 9"],
                    },
                    failures: [
                        {
                            property: "outbound",
                            reason:
                                'rule 1 "allow tcp to port 9": Invalid calicoctl rule "allow tcp to port 9": ' +
                                'unexpected "port": the keyword is "ports", plural, not "port"',
                        },
                    ],
                },
            });
        });
    });
});
