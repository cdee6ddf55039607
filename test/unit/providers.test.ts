import * as assert from "assert";
import Module = require("module");
import * as pulumi from "@pulumi/pulumi";
import { dockerNetworkProvider } from "../../components/dockerNetwork";
import { dnatRules, iptablesDnatProvider } from "../../components/iptablesDnat";
import { marathonGroupProvider, normalizeGroup } from "../../components/marathonGroup";
import { profileRulesProvider } from "../../components/profileRules";
import { unknownValue } from "../../components/providerSupport";

const host = { address: "10.1.0.12", port: 22, user: "vagrant", sudo: false };
const rules = { host, profile: "frontend", networkId: "abc", inbound: ["allow from tag frontend"], outbound: ["allow"] };
const dnat = { host, publicInterface: "eth1", publicPort: 9001, targetIp: "192.168.255.254", targetPort: 9001, ownerId: "0a1b2c3d" };
const group = {
    id: "/calico-stars",
    apps: [{ id: "client", cmd: "star-probe", cpus: 0.1, mem: 64, instances: 1, uris: [], labels: { "calico-stars.owner": "0a1b2c3d" },
        container: { type: "DOCKER" as const, docker: { image: "djosborne/star:v0.5.0", parameters: [{ key: "net", value: "client" }] } } }],
};
const marathon = { host, marathonHost: "127.0.0.1", marathonPort: 8080, group, ownerId: "0a1b2c3d", deploymentTimeoutSeconds: 600 };

describe("provider decisions", function () {
    describe("DockerNetwork diff", function () {
        const olds = { host, networkName: "client", networkId: "abc" };

        it("sees no change when nothing changed", async function () {
            assert.deepStrictEqual(await dockerNetworkProvider.diff!("abc", olds, { host, networkName: "client" }),
                { changes: false, replaces: [], deleteBeforeReplace: true });
        });

        it("replaces, deleting first, when the name changes", async function () {
            assert.deepStrictEqual(await dockerNetworkProvider.diff!("abc", olds, { host, networkName: "clients" }),
                { changes: true, replaces: ["networkName"], deleteBeforeReplace: true });
        });

        it("replaces when the subnet changes", async function () {
            const result = await dockerNetworkProvider.diff!("abc", olds, { host, networkName: "client", subnet: "10.0.0.0/24" });
            assert.deepStrictEqual(result.replaces, ["subnet"]);
        });

        it("treats an unknown name as a replacement", async function () {
            const result = await dockerNetworkProvider.diff!("abc", olds, { host, networkName: unknownValue });
            assert.deepStrictEqual(result.replaces, ["networkName"]);
        });
    });

    describe("ProfileRules", function () {
        it("stores rules in calicoctl's spelling", async function () {
            const result = await profileRulesProvider.check!({}, { ...rules, inbound: ["allow  tcp from tag client to ports 09000,9002"] });
            assert.deepStrictEqual(result.inputs!.inbound, ["allow tcp from tag client to ports 9000,9002"]);
            assert.deepStrictEqual(result.failures, []);
        });

        it("fails check on the runbook's `to port` slip, naming the rule", async function () {
            const result = await profileRulesProvider.check!({}, { ...rules, inbound: ["allow tcp from tag client to port 9001"] });
            assert.strictEqual(result.failures!.length, 1);
            assert.strictEqual(result.failures![0].property, "inbound");
            assert.match(result.failures![0].reason, /rule 1 "allow tcp from tag client to port 9001": .*ports/);
        });

        it("passes unknown rules through check", async function () {
            const result = await profileRulesProvider.check!({}, { ...rules, inbound: [unknownValue] });
            assert.deepStrictEqual(result.inputs!.inbound, [unknownValue]);
        });

        it("updates in place when a rule changes", async function () {
            assert.deepStrictEqual(await profileRulesProvider.diff!("abc", rules, { ...rules, inbound: ["allow"] }),
                { changes: true, replaces: [], deleteBeforeReplace: true });
        });

        it("sees a reordering as a change, since calicoctl applies rules in order", async function () {
            const two = { ...rules, inbound: ["allow from tag frontend", "deny"] };
            const result = await profileRulesProvider.diff!("abc", two, { ...two, inbound: ["deny", "allow from tag frontend"] });
            assert.strictEqual(result.changes, true);
        });

        it("replaces when the network was replaced", async function () {
            const result = await profileRulesProvider.diff!("abc", rules, { ...rules, networkId: unknownValue });
            assert.deepStrictEqual(result.replaces, ["networkId"]);
        });

        it("updates in place when a network its tags name was replaced", async function () {
            const result = await profileRulesProvider.diff!("abc", { ...rules, tagNetworkIds: { frontend: "abc" } }, { ...rules, tagNetworkIds: { frontend: unknownValue } });
            assert.deepStrictEqual([result.changes, result.replaces], [true, []]);
        });

        it("sees no change for identical rules", async function () {
            assert.strictEqual((await profileRulesProvider.diff!("abc", rules, { ...rules })).changes, false);
        });
    });

    describe("IptablesDnat", function () {
        it("builds the runbook's two rules with the ownership comment", function () {
            assert.deepStrictEqual(dnatRules(dnat), [
                ["PREROUTING", "-i", "eth1", "-p", "tcp", "--dport", "9001", "-m", "comment", "--comment", "calico-stars:0a1b2c3d", "-j", "DNAT", "--to-destination", "192.168.255.254:9001"],
                ["OUTPUT", "-o", "lo", "-p", "tcp", "--dport", "9001", "-m", "comment", "--comment", "calico-stars:0a1b2c3d", "-j", "DNAT", "--to-destination", "192.168.255.254:9001"],
            ]);
        });

        it("sees a rule deleted by hand as a change", async function () {
            const olds = { ...dnat, rules: [dnatRules(dnat)[0]] };
            assert.strictEqual((await iptablesDnatProvider.diff!("h:9001", olds, dnat)).changes, true);
        });

        it("sees no change when both rules are present", async function () {
            const olds = { ...dnat, rules: dnatRules(dnat) };
            assert.strictEqual((await iptablesDnatProvider.diff!("h:9001", olds, dnat)).changes, false);
        });
    });

    describe("MarathonGroup", function () {
        it("ignores Marathon's defaults and absolute app ids when comparing", async function () {
            const asMarathonShowsIt = { ...group, version: "2026", apps: [{ ...group.apps[0], id: "/calico-stars/client", env: {}, ports: [0], disk: 0 }] };
            assert.deepStrictEqual(normalizeGroup(asMarathonShowsIt as any), normalizeGroup(group));
            assert.strictEqual((await marathonGroupProvider.diff!("/calico-stars", { ...marathon, group: asMarathonShowsIt, version: "v" }, marathon)).changes, false);
        });

        it("updates in place when an app changes", async function () {
            const changed = { ...group, apps: [{ ...group.apps[0], cmd: "star-probe --urls=x" }] };
            assert.deepStrictEqual(await marathonGroupProvider.diff!("/calico-stars", { ...marathon, version: "v" }, { ...marathon, group: changed }),
                { changes: true, replaces: [], deleteBeforeReplace: true });
        });

        it("replaces when the group id changes", async function () {
            const moved = { ...group, id: "/other" };
            assert.deepStrictEqual((await marathonGroupProvider.diff!("/calico-stars", { ...marathon, version: "v" }, { ...marathon, group: moved })).replaces, ["group"]);
        });
    });

    describe("serialization", function () {
        const readInputs: Record<string, object> = {
            dockerNetworkProvider: { host, networkName: "client", networkId: "abc" },
            profileRulesProvider: rules,
            iptablesDnatProvider: dnat,
            marathonGroupProvider: marathon,
        };

        /** Loads the text the way @pulumi/pulumi/cmd/dynamic-provider does: a module whose `handler` returns the provider. */
        async function revive(provider: pulumi.dynamic.ResourceProvider): Promise<pulumi.dynamic.ResourceProvider> {
            const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false });
            const loaded = new Module("serialized-provider.js", module);
            loaded.paths = module.paths;
            (loaded as unknown as { _compile(text: string, file: string): void })._compile(text, "serialized-provider.js");
            return loaded.exports.handler();
        }

        it("revives profileRulesProvider whose check still parses calicoctl rules", async function () {
            this.timeout(60000);
            const revived = await revive(profileRulesProvider);
            assert.deepStrictEqual(await revived.check!({}, { ...rules, inbound: ["allow tcp from tag a to ports 1,2,3"], outbound: ["allow tcp to port 9"] }), {
                inputs: { ...rules, inbound: ["allow tcp from tag a to ports 1,2,3"], outbound: ["allow tcp to port 9"] },
                failures: [{ property: "outbound", reason: 'rule 1 "allow tcp to port 9": Invalid calicoctl rule "allow tcp to port 9": ' +
                    'unexpected "port": the keyword is "ports", plural, not "port"' }],
            });
        });

        for (const [name, provider] of Object.entries({ dockerNetworkProvider, profileRulesProvider, iptablesDnatProvider, marathonGroupProvider })) {
            it(`serializes ${name} without capturing a client, a secret or zod`, async function () {
                this.timeout(60000);
                const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false });
                assert.ok(!/require\("zod"\)/.test(text), "zod should stay out of providers");
                assert.ok(/require\("ssh2"\)/.test(text), "ssh2 is required inside methods");
                assert.ok(text.length < 200_000, `serialized size ${text.length}`);
            });

            it(`revives ${name} from its serialized text, as the provider host does, with errors that keep their message`, async function () {
                this.timeout(60000);
                const revived = await revive(provider);
                const config = new Map([["calico-stars:sshPrivateKeyPath", "/nonexistent/key"], ["calico-stars:connectAttempts", "1"]]);
                await revived.configure!({ config } as unknown as pulumi.dynamic.ConfigureRequest);
                const closedPort = { address: "127.0.0.1", port: 1, user: "nobody", sudo: false };
                await assert.rejects(revived.read!("x", { ...readInputs[name], host: closedPort }),
                    (error: Error) => error.name === "SshError" && error.message.includes("127.0.0.1:1"));
            });
        }
    });
});
