// A network's subnet or name changed, under Pulumi's real step order, with the demo's tasks really running on the
// networks. A new subnet replaces the network delete before replace, which first deletes every dependent that would
// be replaced: the Marathon group (it takes the IDs of the networks its apps join), whose tasks would otherwise keep
// the network in use, and the profile's rules (their Delete resets the profile to libnetwork's defaults); then
// `docker network rm`, the new network, the rules written again and the group back on the new network. A new name
// creates the new network and rules first and deletes the old network at the end, its rules with it. Each case also
// with a hand-made container still on the network, which makes `docker network rm` fail: the run fails naming the
// network and the container, and the profile left behind holds libnetwork's defaults. The cluster is checked after
// every run (rule show, docker network ls). Two networks with new subnets in one up are replaced one after the other,
// each after the group is gone, and that up converges. Run by the test engine, and by the Pulumi CLI where one is
// installed; needs root and the sandbox, and skips, saying so, without.
import * as assert from "assert";
import { runbookNetworks, runbookPolicy } from "../../components/config";
import { managedResources, StackRunError } from "../../engine";
import { Policy, profiles, ruleShowOf, SandboxStack } from "../../scripts/sandboxStack";
import {
    driverTitle,
    libnetworkDefaults,
    lifecycleDrivers,
    withExtraNetwork,
    startStackOrSkip,
} from "../support/sandboxStack";
import { waitFor, Workload } from "../support/workload";
import { setTimeout as sleep } from "timers/promises";

for (const kind of lifecycleDrivers)
    describe(`a network's subnet or name changed, run by ${driverTitle(kind)}`, function () {
        this.timeout(300000);
        let stack: SandboxStack;
        let policy: Policy;
        let networks: string[];
        const containers: string[] = [];
        const defaultCollectorIp = "192.168.255.254";
        /** A pool apart from the default 192.168.0.0/16, and the collector's address in it. */
        const otherSubnet = { subnet: "10.99.0.0/16", collectorIp: "10.99.255.254" };

        const configure = async (
            changed: { networks: { name: string; subnet?: string }[]; policy: Policy },
            collectorIp = defaultCollectorIp,
        ) => {
            await stack.driver.setConfig("calico-stars:networks", JSON.stringify(changed.networks));
            await stack.driver.setConfig("calico-stars:policy", JSON.stringify(changed.policy));
            await stack.driver.setConfig("calico-stars:collectorIp", collectorIp);
            policy = changed.policy;
            networks = changed.networks.map((n) => n.name);
        };
        /**
         * A network's --subnet must be a Calico pool, and calicoctl refuses a pool overlapping another, so a new subnet
         * for the collector's network is a new pool, written as `calicoctl pool add <cidr>` writes it (libcalico's
         * add_ip_pool; the calicoctl stand-in has the profile command only).
         */
        const addPool = async (cidr: string) => {
            const response = await fetch(
                `${stack.cluster.etcd.url}/v2/keys/calico/v1/ipam/v4/pool/${cidr.replace("/", "-")}`,
                { method: "PUT", body: new URLSearchParams({ value: JSON.stringify({ cidr }) }) },
            );
            assert.ok(response.ok, `etcd: HTTP ${response.status}`);
        };
        const subnetOf = async (network: string) =>
            JSON.parse(await stack.on(stack.agent, ["docker", "network", "inspect", network]))[0].IPAM.Config.map(
                (c: { Subnet: string }) => c.Subnet,
            );
        const runContainerOn = async (network: string) => {
            const id = (
                await stack.on(stack.agent, [
                    "docker",
                    "run",
                    "-d",
                    "--net",
                    network,
                    stack.cluster.docker.image,
                    "sleep",
                    "600",
                ])
            ).trim();
            containers.push(id);
            return id;
        };
        const removeContainers = async () => {
            for (const id of containers.splice(0)) {
                await stack.on(stack.agent, ["docker", "rm", "-f", id]);
            }
        };
        /**
         * The up fails on `docker network rm`, naming the network and the container still on it, and saying the profile
         * was reset.
         */
        const failsOnRemoval = async (network: string, container: string) => {
            await assert.rejects(stack.driver.up(), (error: Error) => {
                assert.ok(error instanceof StackRunError, String(error));
                assert.match(
                    error.message,
                    new RegExp(
                        `network-${network}.*docker network rm [0-9a-f]+.*network ${network} id [0-9a-f]+ has active endpoints`,
                        "s",
                    ),
                );
                assert.match(
                    error.message,
                    new RegExp(
                        `network ${network} \\([0-9a-f]+\\) is still used by \\S+ \\(${container.slice(0, 12)}\\)`,
                    ),
                );
                assert.match(
                    error.message,
                    new RegExp(
                        `its Calico profile was reset to libnetwork's defaults \\(inbound "allow from tag ${network}", outbound "allow"\\)`,
                    ),
                );
                return true;
            });
        };
        /** The address of every endpoint on the network, asked of every agent's Docker (each endpoint once). */
        const addressesOn = async (network: string) => {
            const workload = new Workload(stack.cluster);
            const inspected = await Promise.all(
                stack.cluster.agents.map((agent) => workload.docker(agent, ["network", "inspect", network])),
            );
            const endpoints = new Map(
                inspected.flatMap((text) =>
                    Object.values(
                        (
                            JSON.parse(text) as {
                                Containers?: Record<string, { EndpointID: string; IPv4Address: string }>;
                            }[]
                        )[0].Containers ?? {},
                    ).map((c): [string, string] => [c.EndpointID, c.IPv4Address.split("/")[0]]),
                ),
            );
            return [...endpoints.values()];
        };
        /**
         * Holds the group's next delete (its deployment stops at its first step) for `ms` once it is listed, unless
         * the run `ended` before it began.
         */
        const holdGroupDelete = async (ms: number, ended: () => boolean) => {
            await stack.marathonFaults({ hangDeployments: true });
            try {
                const workload = new Workload(stack.cluster);
                const stopping = async () =>
                    (await workload.deployments()).some((deployment) =>
                        deployment.currentActions.some((action) => action.action === "StopApplication"),
                    );
                await waitFor("the group's delete to begin", async () => (await stopping()) || ended(), 120000);
                await sleep(ended() ? 0 : ms);
            } finally {
                await stack.marathonFaults("reset");
            }
        };
        /** The commands the hosts ran since `before` (audit entries, by time). */
        const commandsSince = (before: Set<string>) =>
            stack
                .auditEntries()
                .filter((line) => !before.has(line))
                .map((line) => JSON.parse(line) as { ts: number; command: string })
                .sort((a, b) => a.ts - b.ts)
                .map((entry) => entry.command);

        before(async function () {
            stack = await startStackOrSkip(this, kind);
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

        it("a new subnet for the collector's network: the group and the profile's rules go first, the network is replaced, the rules written again and the collector back on the new network", async function () {
            await addPool(otherSubnet.subnet);
            const before = new Set(stack.auditEntries());
            await configure(
                {
                    networks: [{ name: "management-ui", subnet: otherSubnet.subnet }, ...runbookNetworks.slice(1)],
                    policy: runbookPolicy,
                },
                otherSubnet.collectorIp,
            );
            const result = await stack.driver.up();
            const naming = profiles.filter((p) => p !== "management-ui");
            assert.deepStrictEqual(
                result.steps
                    .filter((s) => s.op !== "same")
                    .map((s) => [s.op, s.name])
                    .sort(),
                [
                    ["replace", "marathon-group"],
                    ["replace", "network-management-ui"],
                    ["replace", "profile-management-ui"],
                    ...naming.map((p) => ["update", `profile-${p}`]),
                    ["update", "dnat-10.197.0.11"],
                ].sort(),
            );
            const commands = commandsSince(before);
            const reset = commands.findIndex(
                (c) => /calicoctl.*profile.*management-ui.*rule.*update/.test(c) && !c.includes("json"),
            );
            const removed = commands.findIndex((c) => /docker.*network.*rm/.test(c));
            assert.ok(
                reset !== -1 && removed > reset,
                `the profile's rules are reset before docker network rm: ${commands.join("\n")}`,
            );
            assert.deepStrictEqual(await subnetOf("management-ui"), [otherSubnet.subnet]);
            assert.deepStrictEqual(
                await addressesOn("management-ui"),
                [otherSubnet.collectorIp],
                "the collector's task, on the new network",
            );
            await stack.assertConverged(policy, networks);
        });

        it("a new subnet while a container still uses the network: the run fails naming it and the container, the profile holds libnetwork's defaults, and the next up converges", async function () {
            const container = await runContainerOn("management-ui");
            await configure({ networks: runbookNetworks, policy: runbookPolicy });
            await failsOnRemoval("management-ui", container);
            assert.deepStrictEqual(await stack.networks(), [...networks].sort());
            assert.strictEqual(await stack.ruleShow("management-ui"), libnetworkDefaults("management-ui"));
            for (const profile of profiles.filter((p) => p !== "management-ui")) {
                assert.strictEqual(await stack.ruleShow(profile), ruleShowOf(policy[profile]), `profile ${profile}`);
            }
            await removeContainers();
            await stack.driver.up();
            assert.deepStrictEqual(await subnetOf("management-ui"), ["192.168.0.0/16"]);
            assert.deepStrictEqual(
                await addressesOn("management-ui"),
                [defaultCollectorIp],
                "the collector's task, on the new network",
            );
            await stack.assertConverged(policy, networks);
        });

        it("new subnets for two app networks in one up, the group's tasks slow to stop: the group goes first, both networks are replaced one after the other, and that one up converges", async function () {
            const clientSubnet = "10.98.0.0/16";
            await addPool(otherSubnet.subnet);
            await addPool(clientSubnet);
            await configure(
                {
                    networks: [
                        { name: "management-ui", subnet: otherSubnet.subnet },
                        { name: "client", subnet: clientSubnet },
                        ...runbookNetworks.slice(2),
                    ],
                    policy: runbookPolicy,
                },
                otherSubnet.collectorIp,
            );
            // The group's delete is held 5 s once it began, as tasks slow to stop hold it: a network removed in that
            // time still has their containers on it. Marathon's faults are the engine's alone to switch.
            let ended = false;
            const held = kind === "engine" ? holdGroupDelete(5000, () => ended) : Promise.resolve();
            let result;
            try {
                result = await stack.driver.up();
            } finally {
                ended = true;
                await held;
            }
            assert.deepStrictEqual(
                result.steps
                    .filter((s) => s.op === "replace")
                    .map((s) => s.name)
                    .sort(),
                [
                    "marathon-group",
                    "network-client",
                    "network-management-ui",
                    "profile-client",
                    "profile-management-ui",
                ],
            );
            assert.deepStrictEqual(await subnetOf("management-ui"), [otherSubnet.subnet]);
            assert.deepStrictEqual(await subnetOf("client"), [clientSubnet]);
            assert.deepStrictEqual(
                await addressesOn("management-ui"),
                [otherSubnet.collectorIp],
                "the collector's task, on the new network",
            );
            const [clientAddress] = await addressesOn("client");
            assert.ok(clientAddress?.startsWith("10.98."), `the client's task, on the new network: ${clientAddress}`);
            await stack.assertConverged(policy, networks);
            // back to the runbook's networks for the cases below, in one up as well
            await configure({ networks: runbookNetworks, policy: runbookPolicy });
            await stack.driver.up();
            await stack.assertConverged(policy, networks);
        });

        it("a network renamed: the new network and its rules first, the old network deleted at the end with its rules", async function () {
            await configure(withExtraNetwork("db"));
            await stack.driver.up();
            await stack.assertConverged(policy, networks);
            await configure(withExtraNetwork("store"));
            const result = await stack.driver.up();
            assert.deepStrictEqual(
                result.steps
                    .filter((s) => s.op !== "same")
                    .map((s) => [s.op, s.name])
                    .sort(),
                [
                    ["create", "network-store"],
                    ["create", "profile-store"],
                    ["delete", "network-db"],
                    ["delete", "profile-db"],
                ].sort(),
            );
            await stack.assertConverged(policy, networks);
        });

        // The old network's rules went with it (deletedWith), so their Delete never ran and the checkpoint no longer
        // holds them: only the network's own failed delete can take the stack's rules off the profile it leaves behind.
        it("a network renamed while a container still uses the old one: the run fails naming it and the container, the old profile holds libnetwork's defaults, the new one its rules, and the next up converges", async function () {
            const container = await runContainerOn("store");
            await configure(withExtraNetwork("db"));
            await failsOnRemoval("store", container);
            assert.deepStrictEqual(await stack.networks(), [...networks, "store"].sort());
            assert.deepStrictEqual(
                managedResources(await stack.driver.exportStack()).filter((name) => name.endsWith("-store")),
                ["network-store"],
            );
            assert.strictEqual(await stack.ruleShow("store"), libnetworkDefaults("store"));
            for (const profile of Object.keys(policy)) {
                assert.strictEqual(await stack.ruleShow(profile), ruleShowOf(policy[profile]), `profile ${profile}`);
            }
            await removeContainers();
            await stack.driver.up();
            await stack.assertConverged(policy, networks);
        });
    });
