// The Docker network, profile rules and DNAT providers against a real sshd on loopback, with recording
// stand-ins for docker, calicoctl and iptables behind it (test/support/standins/fakeCluster.ts).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "shell-quote";
import { dnatRules, ownerKey, providers } from "@calico-stars/providers";
import type { DockerNetworkOutputs, IptablesDnatOutputs, ProfileRulesOutputs } from "@calico-stars/providers";
import { runChecked, sshStats } from "@calico-stars/providers/ssh";
import { loopbackSshdSuite } from "../support/loopbackSshd";

const ownerId = "0a1b2c3d";

describe("cluster providers over a real sshd", function () {
    this.timeout(60000);
    const env = loopbackSshdSuite();

    /** A network made by someone else: the same name, no owner option. */
    const foreignNetwork = (name: string, options: Record<string, string> = {}) => {
        const state = env.sshd.cluster();
        const id = `f${"0".repeat(62)}${Object.keys(state.networks).length}`;
        state.networks[id] = {
            Name: name,
            Id: id,
            Driver: "calico",
            IPAM: { Driver: "calico", Config: [{ Subnet: "10.66.0.0/24" }] },
            Options: options,
            Containers: {},
        };
        state.profiles[name] = {
            inbound_rules: [{ action: "allow", src_tag: "theirs" }],
            outbound_rules: [{ action: "deny" }],
        };
        env.sshd.writeCluster(state);
        return id;
    };

    describe("DockerNetwork", function () {
        const inputs = () => ({ host: env.host, networkName: "management-ui", subnet: "192.168.0.0/16", ownerId });

        it("creates the network with the calico drivers and the stack's owner option in one command, and returns its ID", async function () {
            const { id, outs } = await providers.DockerNetwork.create(inputs());
            const network = env.sshd.cluster().networks[id];
            assert.deepStrictEqual(
                [
                    network.Name,
                    network.Driver,
                    network.IPAM.Driver,
                    network.IPAM.Config[0].Subnet,
                    network.Options[ownerKey],
                ],
                ["management-ui", "calico", "calico", "192.168.0.0/16", ownerId],
            );
            assert.deepStrictEqual([outs!.networkId, outs!.adopted], [id, false]);
            assert.strictEqual(sshStats().commands, 1);
        });

        it("recognises its own network after an interrupted run (on the host, not in state) and converges", async function () {
            const first = Object.keys(env.sshd.cluster().networks).find(
                (id) => env.sshd.cluster().networks[id].Name === "management-ui",
            );
            const { id, outs } = await providers.DockerNetwork.create(inputs());
            assert.deepStrictEqual([id, outs!.adopted], [first, false]);
        });

        it("refuses its own network when the spec differs", async function () {
            await assert.rejects(
                providers.DockerNetwork.create({ ...inputs(), subnet: "10.10.0.0/16" }),
                /Docker network "management-ui" \(ID [0-9a-f]+\) already exists on 127\.0\.0\.1 but its subnets are \[192\.168\.0\.0\/16\], not 10\.10\.0\.0\/16/,
            );
        });

        it("refuses a network of the same name that another stack or a person made, naming it, its ID and adoptNetworks, and touches nothing", async function () {
            const id = foreignNetwork("client");
            const otherStack = foreignNetwork("other", { [ownerKey]: "ffffffff" });
            const before = env.sshd.cluster();
            await assert.rejects(
                providers.DockerNetwork.create({ host: env.host, networkName: "client", ownerId }),
                new RegExp(
                    `OwnershipError: Docker network "client" \\(ID ${id}\\) already exists on 127\\.0\\.0\\.1 and was not made by this stack \\(it has no ${ownerKey} option\\); ` +
                        "refusing to take it over\\. .*calico-stars:adoptNetworks.*docker network rm client",
                ),
            );
            await assert.rejects(
                providers.DockerNetwork.create({ host: env.host, networkName: "other", ownerId }),
                new RegExp(`\\(ID ${otherStack}\\) .*its ${ownerKey} is ffffffff, not ${ownerId}`),
            );
            assert.deepStrictEqual(env.sshd.cluster(), before);
        });

        it("adopts a foreign network when told to, keeping its rules to restore, and on delete leaves it in place with those rules back", async function () {
            const id = foreignNetwork("backend");
            const { id: adoptedId, outs } = await providers.DockerNetwork.create({
                host: env.host,
                networkName: "backend",
                ownerId,
                adopt: true,
            });
            assert.deepStrictEqual(
                [adoptedId, outs!.adopted, outs!.rulesBeforeAdoption],
                [
                    id,
                    true,
                    { inbound_rules: [{ action: "allow", src_tag: "theirs" }], outbound_rules: [{ action: "deny" }] },
                ],
            );
            await providers.ProfileRules.create({
                host: env.host,
                profile: "backend",
                networkId: id,
                inbound: ["allow"],
                outbound: ["allow"],
                tagNetworkIds: {},
                rulesOnDelete: outs!.rulesBeforeAdoption,
            });
            assert.deepStrictEqual(env.sshd.cluster().profiles.backend.inbound_rules, [{ action: "allow" }]);
            await providers.DockerNetwork.delete!(id, outs!);
            assert.deepStrictEqual(
                [env.sshd.cluster().networks[id]?.Name, env.sshd.cluster().profiles.backend],
                [
                    "backend",
                    { inbound_rules: [{ action: "allow", src_tag: "theirs" }], outbound_rules: [{ action: "deny" }] },
                ],
            );
            assert.ok(
                !env.sshd.commands().some((c) => c.includes("network rm")),
                "an adopted network is never removed",
            );
        });

        it("reads a network back, and reports one removed by hand as gone", async function () {
            const { id, outs } = await providers.DockerNetwork.create({
                host: env.host,
                networkName: "client-2",
                ownerId,
            });
            // deepStrictEqual tells a key holding undefined (which gRPC's Struct cannot carry) from a missing one
            assert.deepStrictEqual(await providers.DockerNetwork.read!(id, outs), {
                id,
                props: { host: env.host, networkName: "client-2", ownerId, networkId: id, adopted: false },
            });
            await runChecked(env.host, ["docker", "network", "rm", id]);
            assert.strictEqual((await providers.DockerNetwork.read!(id, outs)).id, "");
        });

        it("reads a network from its ID, host and the importer's owner id, as an import would, as the importer's own when it made it", async function () {
            const { id } = await providers.DockerNetwork.create({ host: env.host, networkName: "imported", ownerId });
            assert.deepStrictEqual(
                await providers.DockerNetwork.read!(id, { host: env.host, ownerId } as DockerNetworkOutputs),
                {
                    id,
                    props: { host: env.host, networkName: "imported", networkId: id, ownerId, adopted: false },
                },
            );
        });

        it("reads an imported network that carries another stack's owner option as adopted, so destroy leaves it", async function () {
            const id = foreignNetwork("theirs", { [ownerKey]: "ffffffff" });
            for (const importer of [{ ownerId }, {}]) {
                const { props } = await providers.DockerNetwork.read!(id, {
                    host: env.host,
                    ...importer,
                } as DockerNetworkOutputs);
                assert.strictEqual(props!.adopted, true, JSON.stringify(importer));
                await providers.DockerNetwork.delete!(id, props as DockerNetworkOutputs);
                assert.strictEqual(env.sshd.cluster().networks[id]?.Name, "theirs");
            }
            assert.ok(!env.sshd.commands().some((c) => c.includes(`network rm ${id}`)));
        });

        it("reads a network from state written before owner options existed as its own, not adopted, so destroy still removes it", async function () {
            const id = foreignNetwork("older");
            const { props } = await providers.DockerNetwork.read!(id, {
                host: env.host,
                networkName: "older",
                networkId: id,
            } as DockerNetworkOutputs);
            assert.strictEqual(props!.adopted, false);
        });

        it("says what is missing when read has no host", async function () {
            await assert.rejects(
                providers.DockerNetwork.read!("abc", {} as DockerNetworkOutputs),
                /ConfigError: Docker network abc: cannot read it without its host/,
            );
        });

        it("deletes, and deleting again succeeds", async function () {
            const { id, outs } = await providers.DockerNetwork.create({
                host: env.host,
                networkName: "backend-2",
                ownerId,
            });
            await providers.DockerNetwork.delete!(id, outs!);
            await providers.DockerNetwork.delete!(id, outs!);
            assert.strictEqual(env.sshd.cluster().networks[id], undefined);
        });

        it("deletes with one command when the removal succeeds: the profile goes with the network", async function () {
            const { id, outs } = await providers.DockerNetwork.create({
                host: env.host,
                networkName: "backend-3",
                ownerId,
            });
            const before = sshStats().commands;
            await providers.DockerNetwork.delete!(id, outs!);
            assert.strictEqual(sshStats().commands - before, 1);
        });

        it("resets the profile of a network it cannot remove to libnetwork's defaults, and says so", async function () {
            const { id, outs } = await providers.DockerNetwork.create({ host: env.host, networkName: "kept", ownerId });
            const state = env.sshd.cluster();
            state.networks[id].Containers = { [`c0ffee${"2".repeat(58)}`]: { Name: "web-2" } };
            state.profiles.kept = {
                inbound_rules: [{ action: "allow", protocol: "tcp", src_tag: "backend", dst_ports: [5432] }],
                outbound_rules: [{ action: "deny" }],
            };
            env.sshd.writeCluster(state);
            await assert.rejects(
                providers.DockerNetwork.delete!(id, outs!),
                /has active endpoints; network kept \([0-9a-f]+\) is still used by web-2 \(c0ffee222222\): .*; its Calico profile was reset to libnetwork's defaults \(inbound "allow from tag kept", outbound "allow"\)$/,
            );
            assert.deepStrictEqual(env.sshd.cluster().profiles.kept, {
                inbound_rules: [{ action: "allow", src_tag: "kept" }],
                outbound_rules: [{ action: "allow" }],
            });
        });

        it("names the network and the containers still attached when it cannot be removed", async function () {
            const { id, outs } = await providers.DockerNetwork.create({ host: env.host, networkName: "busy", ownerId });
            const state = env.sshd.cluster();
            state.networks[id].Containers = { [`c0ffee${"1".repeat(58)}`]: { Name: "web-1" } };
            env.sshd.writeCluster(state);
            await assert.rejects(
                providers.DockerNetwork.delete!(id, outs!),
                /docker network rm [0-9a-f]+` exited 1: .*network busy id [0-9a-f]+ has active endpoints; network busy \([0-9a-f]+\) is still used by web-1 \(c0ffee111111\): stop or disconnect them/,
            );
        });
    });

    describe("ProfileRules", function () {
        const inputs = () => ({
            host: env.host,
            profile: "frontend",
            networkId: "n1",
            inbound: ["allow from tag frontend", "allow tcp from tag client to ports 9000"],
            outbound: ["allow"],
            tagNetworkIds: {},
        });

        before(async function () {
            await providers.DockerNetwork.create({ host: env.host, networkName: "frontend", ownerId });
        });

        it("writes the whole rule set with rule update and reads it back, in one command", async function () {
            const { outs } = await providers.ProfileRules.create(inputs());
            assert.deepStrictEqual(env.sshd.cluster().profiles.frontend.inbound_rules, [
                { action: "allow", src_tag: "frontend" },
                { action: "allow", protocol: "tcp", src_tag: "client", dst_ports: [9000] },
            ]);
            assert.deepStrictEqual(outs!.inbound, inputs().inbound);
            assert.strictEqual(sshStats().commands, 1);
        });

        it("shows what calicoctl printed (on stdout, as 0.x does) when the update fails", async function () {
            await assert.rejects(
                providers.ProfileRules.update!(
                    "n9",
                    { ...inputs(), profile: "ghost" },
                    { ...inputs(), profile: "ghost" },
                ),
                /on root@127\.0\.0\.1:\d+: `calicoctl profile ghost rule update` exited 1: Profile ghost not found\./,
            );
        });

        it("reads drift made by hand", async function () {
            const state = env.sshd.cluster();
            state.profiles.frontend.inbound_rules.push({ action: "deny", protocol: "udp" });
            env.sshd.writeCluster(state);
            const { props, inputs: refreshed } = await providers.ProfileRules.read!("n1", { ...inputs() });
            assert.deepStrictEqual(props!.inbound, [...inputs().inbound, "deny udp"]);
            assert.deepStrictEqual(refreshed!.inbound, props!.inbound);
        });

        it("reads a profile from the host and its name alone, as an import would", async function () {
            const { props } = await providers.ProfileRules.read!("n1", {
                host: env.host,
                profile: "frontend",
            } as ProfileRulesOutputs);
            assert.deepStrictEqual([props!.networkId, props!.outbound], ["n1", ["allow"]]);
        });

        it("re-applies when a concurrent writer slipped a rule in, and converges", async function () {
            const state = env.sshd.cluster();
            state.intruderRules = 1;
            env.sshd.writeCluster(state);
            const { outs } = await providers.ProfileRules.update!("n1", inputs(), inputs());
            assert.deepStrictEqual(outs!.inbound, inputs().inbound);
            assert.strictEqual(env.sshd.cluster().profiles.frontend.inbound_rules.length, 2);
        });

        it("gives up with the rules it saw when a writer keeps interfering", async function () {
            const state = env.sshd.cluster();
            state.intruderRules = 5;
            env.sshd.writeCluster(state);
            await assert.rejects(
                providers.ProfileRules.update!("n1", inputs(), inputs()),
                /profile frontend on root@127\.0\.0\.1:\d+: after 5 attempts the rules read back still differ.*deny from cidr 10\.66\.0\.0\/16/,
            );
            env.sshd.writeCluster({ ...env.sshd.cluster(), intruderRules: 0 });
        });

        it("restores libnetwork's defaults on delete", async function () {
            await providers.ProfileRules.delete!("n1", inputs());
            assert.deepStrictEqual(env.sshd.cluster().profiles.frontend, {
                inbound_rules: [{ action: "allow", src_tag: "frontend" }],
                outbound_rules: [{ action: "allow" }],
            });
        });

        it("restores an adopted network's own rules on delete", async function () {
            const theirs = {
                inbound_rules: [{ action: "allow", src_tag: "theirs" }],
                outbound_rules: [{ action: "deny" }],
            };
            await providers.ProfileRules.delete!("n1", { ...inputs(), rulesOnDelete: theirs });
            assert.deepStrictEqual(env.sshd.cluster().profiles.frontend, theirs);
        });

        it("deletes quietly when the profile is already gone", async function () {
            await providers.ProfileRules.delete!("n1", { ...inputs(), profile: "gone" });
        });

        it("reports a missing profile as gone on read", async function () {
            assert.strictEqual((await providers.ProfileRules.read!("n1", { ...inputs(), profile: "gone" })).id, "");
        });
    });

    describe("IptablesDnat", function () {
        const inputs = () => ({
            host: env.host,
            publicInterface: "eth1",
            publicPort: 9001,
            targetIp: "192.168.255.254",
            targetPort: 9001,
            ownerId,
        });
        const ruleText = () => dnatRules(inputs()).map((r) => r.join(" "));
        /** The stand-in's nat table in any order: a rule added back goes to the end. */
        const natTable = () => [...env.sshd.cluster().nat].sort();

        it("adds all three rules with -C first, in one command", async function () {
            await providers.IptablesDnat.create(inputs());
            assert.deepStrictEqual(env.sshd.cluster().nat, ruleText());
            assert.strictEqual(sshStats().commands, 1);
        });

        it("adds nothing twice when created again", async function () {
            await providers.IptablesDnat.create(inputs());
            assert.deepStrictEqual(env.sshd.cluster().nat, ruleText());
        });

        it("reads a rule deleted by hand as missing", async function () {
            await runChecked(env.host, ["iptables", "-t", "nat", "-D", ...dnatRules(inputs())[1]]);
            const { props } = await providers.IptablesDnat.read!("h", { ...inputs(), rules: dnatRules(inputs()) });
            assert.deepStrictEqual(props!.rules, [dnatRules(inputs())[0], dnatRules(inputs())[2]]);
        });

        it("repairs on update", async function () {
            await providers.IptablesDnat.update!(
                "h",
                { ...inputs(), rules: [dnatRules(inputs())[0], dnatRules(inputs())[2]] },
                inputs(),
            );
            assert.deepStrictEqual(natTable(), ruleText().sort());
        });

        it("moves the rules when the public port changes, keeping the masquerade, whose port is the collector's", async function () {
            await providers.IptablesDnat.update!(
                "h",
                { ...inputs(), rules: dnatRules(inputs()) },
                { ...inputs(), publicPort: 9101 },
            );
            assert.deepStrictEqual(
                natTable(),
                dnatRules({ ...inputs(), publicPort: 9101 })
                    .map((r) => r.join(" "))
                    .sort(),
            );
            assert.ok(
                env.sshd.cluster().nat.every((rule) => !rule.includes("--dport 9001 -m comment")),
                "no DNAT rule on the old port",
            );
        });

        it("leaves the old rules in place when the new host refuses the login", async function () {
            const { outs } = await providers.IptablesDnat.create(inputs());
            const before = env.sshd.cluster().nat;
            assert.ok(before.length >= 2);
            await assert.rejects(
                providers.IptablesDnat.update!("h", outs!, { ...inputs(), host: { ...env.host, user: "intruder" } }),
                /cannot log in to intruder@127\.0\.0\.1/,
            );
            assert.deepStrictEqual(env.sshd.cluster().nat, before);
            await providers.IptablesDnat.delete!("h", outs!);
        });

        it("deletes only its own rules and tolerates missing ones", async function () {
            const foreign = "PREROUTING -i eth1 -p tcp --dport 9001 -j DNAT --to-destination 10.0.0.1:9001";
            env.sshd.writeCluster({ ...env.sshd.cluster(), nat: [...env.sshd.cluster().nat, foreign] });
            await providers.IptablesDnat.delete!("h", { ...inputs(), publicPort: 9101, rules: [] });
            await providers.IptablesDnat.delete!("h", { ...inputs(), publicPort: 9101, rules: [] });
            assert.deepStrictEqual(env.sshd.cluster().nat, [foreign]);
        });

        it("never checks, adds, moves or deletes another stack's rules for the same port and target", async function () {
            const theirs = dnatRules({ ...inputs(), ownerId: "ffffffff" }).map((r) => r.join(" "));
            const unlabelled = "OUTPUT -o lo -p tcp --dport 9001 -j DNAT --to-destination 192.168.255.254:9001";
            env.sshd.writeCluster({ ...env.sshd.cluster(), nat: [...theirs, unlabelled] });
            const { outs } = await providers.IptablesDnat.create(inputs());
            assert.deepStrictEqual((await providers.IptablesDnat.read!("h", outs!)).props!.rules, dnatRules(inputs()));
            const { outs: moved } = await providers.IptablesDnat.update!("h", outs!, { ...inputs(), publicPort: 9101 });
            await providers.IptablesDnat.delete!("h", moved!);
            assert.deepStrictEqual(env.sshd.cluster().nat, [...theirs, unlabelled]);
            assert.ok(
                env.sshd
                    .commands()
                    .filter((c) => c.includes("iptables"))
                    .every((c) => !c.includes("calico-stars:ffffffff")),
            );
        });

        it("runs every iptables of create, read, update and delete as sudo -n iptables on a host with sudo", async function () {
            // a sudo that runs the command only when it may not prompt, as on a host whose sudo wants a password
            const sudo = path.join(env.sshd.dir, "bin", "sudo");
            fs.writeFileSync(
                sudo,
                '#!/bin/sh\n[ "$1" = "-n" ] || { echo "sudo: a password is required" >&2; exit 1; }\nshift\nexec "$@"\n',
                { mode: 0o755 },
            );
            const natBefore = env.sshd.cluster().nat;
            try {
                const sudoInputs = { ...inputs(), host: { ...env.host, sudo: true } };
                const steps: [string, () => Promise<unknown>][] = [
                    ["create", () => providers.IptablesDnat.create(sudoInputs)],
                    ["read", () => providers.IptablesDnat.read!("h", { ...sudoInputs, rules: [] })],
                    [
                        "update",
                        () =>
                            providers.IptablesDnat.update!(
                                "h",
                                { ...sudoInputs, rules: dnatRules(sudoInputs) },
                                { ...sudoInputs, publicPort: 9101 },
                            ),
                    ],
                    [
                        "delete",
                        () => providers.IptablesDnat.delete!("h", { ...sudoInputs, publicPort: 9101, rules: [] }),
                    ],
                ];
                for (const [step, run] of steps) {
                    const before = env.sshd.commands().length;
                    await run();
                    const words = env.sshd
                        .commands()
                        .slice(before)
                        .flatMap((text) => parse(text));
                    const iptables = words.flatMap((word, i) =>
                        word === "iptables" ? [words.slice(i - 2, i + 1)] : [],
                    );
                    assert.ok(iptables.length >= 3, `${step} runs iptables for each rule`);
                    assert.deepStrictEqual(
                        iptables.filter((run) => run[0] !== "sudo" || run[1] !== "-n"),
                        [],
                        `${step}: iptables without sudo -n`,
                    );
                }
                assert.deepStrictEqual(env.sshd.cluster().nat, natBefore);
            } finally {
                fs.rmSync(sudo);
            }
        });

        it("says what is missing when read lacks the owner id, since only its own rules are ever looked at", async function () {
            await assert.rejects(
                providers.IptablesDnat.read!("h", { host: env.host } as IptablesDnatOutputs),
                /DNAT rules h: cannot read them without .*ownerId/,
            );
        });
    });
});
