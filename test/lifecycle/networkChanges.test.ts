// A network's subnet or name changed, under Pulumi's real step order: a new subnet replaces the network delete
// before replace, which first deletes its profile's rules (their Delete resets the profile to libnetwork's
// defaults) and writes them again after; a new name creates the new network and rules first and deletes the old
// network at the end, its rules with it. Each case also with a container still on the network, which makes
// `docker network rm` fail. The cluster is checked after every run (rule show, docker network ls). Run by the test
// engine, and by the Pulumi CLI where one is installed; needs root and the sandbox, and skips, saying so, without.
import * as assert from "assert";
import { runbookNetworks, runbookPolicy } from "../../components/config";
import { StackRunError } from "./stackDriver";
import { driverTitle, libnetworkDefaults, lifecycleDrivers, Policy, profiles, ruleShowOf, SandboxStack, withExtraNetwork } from "../support/sandboxStack";

for (const kind of lifecycleDrivers) describe(`a network's subnet or name changed, run by ${driverTitle(kind)}`, function () {
    this.timeout(300000);
    let stack: SandboxStack;
    let policy: Policy;
    let networks: string[];
    const containers: string[] = [];

    const configure = async (changed: { networks: { name: string; subnet?: string }[]; policy: Policy }) => {
        await stack.driver.setConfig("calico-stars:networks", JSON.stringify(changed.networks));
        await stack.driver.setConfig("calico-stars:policy", JSON.stringify(changed.policy));
        policy = changed.policy;
        networks = changed.networks.map((n) => n.name);
    };
    const subnetOf = async (network: string) =>
        JSON.parse(await stack.on(stack.agent, ["docker", "network", "inspect", network]))[0].IPAM.Config.map((c: { Subnet: string }) => c.Subnet);
    const runContainerOn = async (network: string) => {
        const id = (await stack.on(stack.agent, ["docker", "run", "-d", "--net", network, stack.cluster.docker.image, "sleep", "600"])).trim();
        containers.push(id);
        return id;
    };
    const removeContainers = async () => {
        for (const id of containers.splice(0)) {
            await stack.on(stack.agent, ["docker", "rm", "-f", id]);
        }
    };
    const failsWith = async (pattern: RegExp) => {
        await assert.rejects(stack.driver.up(), (error: Error) => {
            assert.ok(error instanceof StackRunError, String(error));
            assert.match(error.message, pattern);
            return true;
        });
    };
    /** The commands the hosts ran since `before` (audit entries, by time). */
    const commandsSince = (before: Set<string>) => stack.auditEntries().filter((line) => !before.has(line))
        .map((line) => JSON.parse(line) as { ts: number; command: string }).sort((a, b) => a.ts - b.ts).map((entry) => entry.command);

    before(async function () {
        stack = await SandboxStack.startOrSkip(this, kind);
        await configure({ networks: runbookNetworks, policy: runbookPolicy });
        await stack.driver.up();
        await stack.assertConverged(policy, networks);
    });

    after(async function () {
        if (stack !== undefined) {
            await removeContainers();
            await stack.close();
        }
    });

    it("a new subnet for the collector's network: its rules are reset first, the network replaced, the rules written again", async function () {
        const before = new Set(stack.auditEntries());
        await configure({ networks: [{ name: "management-ui", subnet: "192.168.128.0/17" }, ...runbookNetworks.slice(1)], policy: runbookPolicy });
        const result = await stack.driver.up();
        const naming = profiles.filter((p) => p !== "management-ui");
        assert.deepStrictEqual(result.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name]).sort(), [
            ["replace", "network-management-ui"], ["replace", "profile-management-ui"], ...naming.map((p) => ["update", `profile-${p}`]),
        ].sort());
        const commands = commandsSince(before);
        const reset = commands.findIndex((c) => /calicoctl.*profile.*management-ui.*rule.*update/.test(c) && !c.includes("json"));
        const removed = commands.findIndex((c) => /docker.*network.*rm/.test(c));
        assert.ok(reset !== -1 && removed > reset, `the profile's rules are reset before docker network rm: ${commands.join("\n")}`);
        assert.deepStrictEqual(await subnetOf("management-ui"), ["192.168.128.0/17"]);
        await stack.assertConverged(policy, networks);
    });

    it("a new subnet while a container still uses the network: the run fails naming it, the profile holds libnetwork's defaults, and the next up converges", async function () {
        await runContainerOn("management-ui");
        await configure({ networks: runbookNetworks, policy: runbookPolicy });
        await failsWith(/network-management-ui.*docker network rm [0-9a-f]+.*network management-ui id [0-9a-f]+ has active endpoints/s);
        assert.deepStrictEqual(await stack.networks(), [...networks].sort());
        assert.strictEqual(await stack.ruleShow("management-ui"), libnetworkDefaults("management-ui"));
        for (const profile of profiles.filter((p) => p !== "management-ui")) {
            assert.strictEqual(await stack.ruleShow(profile), ruleShowOf(policy[profile]), `profile ${profile}`);
        }
        await removeContainers();
        await stack.driver.up();
        assert.deepStrictEqual(await subnetOf("management-ui"), ["192.168.0.0/16"]);
        await stack.assertConverged(policy, networks);
    });

    it("a network renamed: the new network and its rules first, the old network deleted at the end with its rules", async function () {
        await configure(withExtraNetwork("db"));
        await stack.driver.up();
        await stack.assertConverged(policy, networks);
        await configure(withExtraNetwork("store"));
        const result = await stack.driver.up();
        assert.deepStrictEqual(result.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name]).sort(), [
            ["create", "network-store"], ["create", "profile-store"], ["delete", "network-db"], ["delete", "profile-db"],
        ].sort());
        await stack.assertConverged(policy, networks);
    });

    it("a network renamed while a container still uses the old one: the run fails naming it, the new one holds its rules, and the next up converges", async function () {
        await runContainerOn("store");
        await configure(withExtraNetwork("db"));
        await failsWith(/network-store.*docker network rm [0-9a-f]+.*network store id [0-9a-f]+ has active endpoints/s);
        assert.deepStrictEqual(await stack.networks(), [...networks, "store"].sort());
        for (const profile of Object.keys(policy)) {
            assert.strictEqual(await stack.ruleShow(profile), ruleShowOf(policy[profile]), `profile ${profile}`);
        }
        await removeContainers();
        await stack.driver.up();
        await stack.assertConverged(policy, networks);
    });
});
