// Provider handlers against a real OpenSSH server on loopback, with
// recording stand-ins for docker, calicoctl and iptables behind it.
import * as assert from "assert";
import { dockerNetworkProvider } from "../../components/dockerNetwork";
import { dnatRules, iptablesDnatProvider } from "../../components/iptablesDnat";
import { marathonGroupProvider } from "../../components/marathonGroup";
import { profileRulesProvider } from "../../components/profileRules";
import { closeAllConnections, configureSsh, resetSshStats, runChecked, runCommand, SshHost, sshStats } from "../../components/ssh";
import { LoopbackSshd, sshdUnavailable, startLoopbackSshd } from "../support/loopbackSshd";

const { startMarathon } = require("../../sandbox/marathon.js");

describe("providers over a real sshd", function () {
    this.timeout(60000);
    let sshd: LoopbackSshd;
    let host: SshHost;

    before(async function () {
        const missing = sshdUnavailable();
        if (missing) {
            console.log(`      skipped: ${missing}`);
            this.skip();
        }
        sshd = await startLoopbackSshd();
        host = { address: "127.0.0.1", port: sshd.port, user: "root", sudo: false };
        configureSsh(sshd.settings());
    });

    after(async function () {
        await closeAllConnections();
        await sshd?.stop();
    });

    beforeEach(async function () {
        await closeAllConnections();
        configureSsh(sshd.settings());
        resetSshStats();
    });

    describe("SSH layer", function () {
        it("returns stdout, stderr and the exit code", async function () {
            const result = await runCommand(host, { script: "echo out; echo err >&2; exit 3" });
            assert.deepStrictEqual(result, { stdout: "out\n", stderr: "err\n", code: 3 });
        });

        it("passes stdin through", async function () {
            assert.strictEqual((await runCommand(host, ["cat"], { stdin: "{\"a\": 1}" })).stdout, "{\"a\": 1}");
        });

        it("queues past sshd's MaxSessions on one connection", async function () {
            const results = await Promise.all(Array.from({ length: 60 }, (_, i) => runCommand(host, ["echo", String(i)])));
            assert.deepStrictEqual(results.map((r) => r.stdout.trim()), Array.from({ length: 60 }, (_, i) => String(i)));
            assert.deepStrictEqual(sshStats(), { connections: 1, commands: 60, forwards: 0 });
        });

        it("times a command out, naming host and command", async function () {
            await assert.rejects(runCommand(host, ["sleep", "5"], { timeoutMs: 300 }), /on root@127\.0\.0\.1:\d+: `sleep 5` timed out after 300 ms/);
        });

        it("names host, command and output when a command fails", async function () {
            await assert.rejects(runChecked(host, { script: "echo nope >&2; exit 4" }), /on root@127\.0\.0\.1:\d+: `echo nope >&2; exit 4` exited 4: nope/);
        });

        it("refuses a host whose key matches no configured fingerprint", async function () {
            configureSsh(sshd.settings({ hostKeyFingerprints: { "127.0.0.1": ["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] } }));
            await assert.rejects(runCommand(host, ["true"]), /refusing root@127\.0\.0\.1:\d+: host key SHA256:\S+ is not among the configured hostKeyFingerprints/);
            assert.strictEqual(sshd.commands().filter((c) => c === "true").length, 0);
        });

        it("refuses a host it has no key for", async function () {
            configureSsh(sshd.settings({ hostKeyFingerprints: {} }));
            await assert.rejects(runCommand(host, ["true"]), /no hostKeys or hostKeyFingerprints entry for 127\.0\.0\.1/);
        });

        it("accepts a host listed by public key", async function () {
            configureSsh(sshd.settings({ hostKeyFingerprints: {}, hostKeys: { "127.0.0.1": [sshd.hostPublicKey] } }));
            assert.strictEqual((await runCommand(host, ["true"])).code, 0);
        });

        it("says so when the user is refused, without retrying or showing the key", async function () {
            const wrongUser = { ...host, user: "nobody-here" };
            await assert.rejects(runCommand(wrongUser, ["true"]), (err: Error) => {
                assert.match(err.message, /cannot log in to nobody-here@127\.0\.0\.1:\d+/);
                assert.ok(!err.message.includes("PRIVATE KEY"));
                return true;
            });
        });

        it("names the host when nothing listens, after bounded retries", async function () {
            configureSsh(sshd.settings({ connectAttempts: 2, hostKeyFingerprints: { "127.0.0.1": [sshd.hostKeyFingerprint] } }));
            const started = Date.now();
            await assert.rejects(runCommand({ ...host, port: 1 }, ["true"]), /cannot connect to root@127\.0\.0\.1:1: .*ECONNREFUSED/);
            assert.ok(Date.now() - started < 3000);
        });
    });

    describe("DockerNetwork", function () {
        const inputs = () => ({ host, networkName: "management-ui", subnet: "192.168.0.0/16" });

        it("creates the network with the calico drivers in one command and returns its ID", async function () {
            const { id, outs } = await dockerNetworkProvider.create(inputs());
            const network = sshd.cluster().networks[id];
            assert.deepStrictEqual([network.Name, network.Driver, network.IPAM.Driver, network.IPAM.Config[0].Subnet], ["management-ui", "calico", "calico", "192.168.0.0/16"]);
            assert.strictEqual(outs.networkId, id);
            assert.strictEqual(sshStats().commands, 1);
        });

        it("adopts an existing network with the same spec on a second create", async function () {
            const first = Object.keys(sshd.cluster().networks).find((id) => sshd.cluster().networks[id].Name === "management-ui");
            const { id } = await dockerNetworkProvider.create(inputs());
            assert.strictEqual(id, first);
        });

        it("refuses an existing network with a different spec", async function () {
            await assert.rejects(dockerNetworkProvider.create({ ...inputs(), subnet: "10.10.0.0/16" }),
                /Docker network "management-ui" already exists on 127\.0\.0\.1 but its subnets are \[192\.168\.0\.0\/16\], not 10\.10\.0\.0\/16/);
        });

        it("reads a network back, and reports one removed by hand as gone", async function () {
            const { id, outs } = await dockerNetworkProvider.create({ host, networkName: "client" });
            // deepStrictEqual tells a key holding undefined (which gRPC's Struct cannot carry) from a missing one
            assert.deepStrictEqual(await dockerNetworkProvider.read!(id, outs), { id, props: { host, networkName: "client", networkId: id } });
            await runChecked(host, ["docker", "network", "rm", id]);
            assert.strictEqual((await dockerNetworkProvider.read!(id, outs)).id, "");
        });

        it("deletes, and deleting again succeeds", async function () {
            const { id, outs } = await dockerNetworkProvider.create({ host, networkName: "backend" });
            await dockerNetworkProvider.delete!(id, outs);
            await dockerNetworkProvider.delete!(id, outs);
            assert.strictEqual(sshd.cluster().networks[id], undefined);
        });

        it("reports a network still in use, naming it", async function () {
            const { id, outs } = await dockerNetworkProvider.create({ host, networkName: "busy" });
            const state = sshd.cluster();
            state.networks[id].inUse = true;
            sshd.writeCluster(state);
            await assert.rejects(dockerNetworkProvider.delete!(id, outs), /docker network rm [0-9a-f]+` exited 1: .*network busy has active endpoints/);
        });
    });

    describe("ProfileRules", function () {
        const inputs = () => ({ host, profile: "frontend", networkId: "n1", inbound: ["allow from tag frontend", "allow tcp from tag client to ports 9000"], outbound: ["allow"] });

        before(async function () {
            await dockerNetworkProvider.create({ host, networkName: "frontend" });
        });

        it("writes the whole rule set with rule update and reads it back, in one command", async function () {
            resetSshStats();
            const { outs } = await profileRulesProvider.create(inputs());
            assert.deepStrictEqual(sshd.cluster().profiles.frontend.inbound_rules, [{ action: "allow", src_tag: "frontend" }, { action: "allow", protocol: "tcp", src_tag: "client", dst_ports: [9000] }]);
            assert.deepStrictEqual(outs.inbound, inputs().inbound);
            assert.strictEqual(sshStats().commands, 1);
        });

        it("shows what calicoctl printed (on stdout, as 0.x does) when the update fails", async function () {
            await assert.rejects(profileRulesProvider.update!("n9", { ...inputs(), profile: "ghost" }, { ...inputs(), profile: "ghost" }),
                /on root@127\.0\.0\.1:\d+: `calicoctl profile ghost rule update` exited 1: Profile ghost not found\./);
        });

        it("reads drift made by hand", async function () {
            const state = sshd.cluster();
            state.profiles.frontend.inbound_rules.push({ action: "deny", protocol: "udp" });
            sshd.writeCluster(state);
            const { props, inputs: refreshed } = await profileRulesProvider.read!("n1", { ...inputs() });
            assert.deepStrictEqual(props.inbound, [...inputs().inbound, "deny udp"]);
            assert.deepStrictEqual(refreshed!.inbound, props.inbound);
        });

        it("re-applies when a concurrent writer slipped a rule in, and converges", async function () {
            const state = sshd.cluster();
            state.intruderRules = 1;
            sshd.writeCluster(state);
            const { outs } = await profileRulesProvider.update!("n1", inputs(), inputs());
            assert.deepStrictEqual(outs.inbound, inputs().inbound);
            assert.strictEqual(sshd.cluster().profiles.frontend.inbound_rules.length, 2);
        });

        it("gives up with the rules it saw when a writer keeps interfering", async function () {
            const state = sshd.cluster();
            state.intruderRules = 5;
            sshd.writeCluster(state);
            await assert.rejects(profileRulesProvider.update!("n1", inputs(), inputs()), /profile frontend on root@127\.0\.0\.1:\d+: after 5 attempts the rules read back still differ.*deny from cidr 10\.66\.0\.0\/16/);
            sshd.writeCluster({ ...sshd.cluster(), intruderRules: 0 });
        });

        it("restores libnetwork's defaults on delete", async function () {
            await profileRulesProvider.delete!("n1", inputs());
            assert.deepStrictEqual(sshd.cluster().profiles.frontend, { inbound_rules: [{ action: "allow", src_tag: "frontend" }], outbound_rules: [{ action: "allow" }] });
        });

        it("deletes quietly when the profile is already gone", async function () {
            await profileRulesProvider.delete!("n1", { ...inputs(), profile: "gone" });
        });

        it("reports a missing profile as gone on read", async function () {
            assert.strictEqual((await profileRulesProvider.read!("n1", { ...inputs(), profile: "gone" })).id, "");
        });
    });

    describe("IptablesDnat", function () {
        const inputs = () => ({ host, publicInterface: "eth1", publicPort: 9001, targetIp: "192.168.255.254", targetPort: 9001, ownerId: "0a1b2c3d" });
        const ruleText = () => dnatRules(inputs()).map((r) => r.join(" "));

        it("adds both rules with -C first, in one command", async function () {
            await iptablesDnatProvider.create(inputs());
            assert.deepStrictEqual(sshd.cluster().nat, ruleText());
            assert.strictEqual(sshStats().commands, 1);
        });

        it("adds nothing twice when created again", async function () {
            await iptablesDnatProvider.create(inputs());
            assert.deepStrictEqual(sshd.cluster().nat, ruleText());
        });

        it("reads a rule deleted by hand as missing", async function () {
            await runChecked(host, ["iptables", "-t", "nat", "-D", ...dnatRules(inputs())[1]]);
            const { props } = await iptablesDnatProvider.read!("h", { ...inputs(), rules: dnatRules(inputs()) });
            assert.deepStrictEqual(props.rules, [dnatRules(inputs())[0]]);
        });

        it("repairs on update", async function () {
            await iptablesDnatProvider.update!("h", { ...inputs(), rules: [dnatRules(inputs())[0]] }, inputs());
            assert.deepStrictEqual(sshd.cluster().nat, ruleText());
        });

        it("moves the rules when the port changes", async function () {
            await iptablesDnatProvider.update!("h", { ...inputs(), rules: dnatRules(inputs()) }, { ...inputs(), publicPort: 9101 });
            assert.deepStrictEqual(sshd.cluster().nat, dnatRules({ ...inputs(), publicPort: 9101 }).map((r) => r.join(" ")));
        });

        it("leaves the old rules in place when the new host refuses the login", async function () {
            const { outs } = await iptablesDnatProvider.create(inputs());
            const before = sshd.cluster().nat;
            assert.ok(before.length >= 2);
            await assert.rejects(iptablesDnatProvider.update!("h", outs, { ...inputs(), host: { ...host, user: "intruder" } }),
                /cannot log in to intruder@127\.0\.0\.1/);
            assert.deepStrictEqual(sshd.cluster().nat, before);
            await iptablesDnatProvider.delete!("h", outs);
        });

        it("deletes only its own rules and tolerates missing ones", async function () {
            const foreign = "PREROUTING -i eth1 -p tcp --dport 9001 -j DNAT --to-destination 10.0.0.1:9001";
            sshd.writeCluster({ ...sshd.cluster(), nat: [...sshd.cluster().nat, foreign] });
            await iptablesDnatProvider.delete!("h", { ...inputs(), publicPort: 9101, rules: [] });
            await iptablesDnatProvider.delete!("h", { ...inputs(), publicPort: 9101, rules: [] });
            assert.deepStrictEqual(sshd.cluster().nat, [foreign]);
        });
    });

    describe("MarathonGroup through a forwarded channel", function () {
        let marathon: { port: number; close(): Promise<void> };
        const group = (cmd = "star-probe") => ({
            id: "/calico-stars",
            apps: [{ id: "client", cmd, cpus: 0.1, mem: 64, instances: 1, uris: [], labels: { "calico-stars.owner": "0a1b2c3d" },
                container: { type: "DOCKER" as const, docker: { image: "djosborne/star:v0.5.0", parameters: [{ key: "net", value: "client" }] } } }],
        });
        const inputs = (cmd?: string) => ({ host, marathonHost: "127.0.0.1", marathonPort: marathon.port, group: group(cmd), ownerId: "0a1b2c3d", deploymentTimeoutSeconds: 5 });

        before(async function () {
            marathon = await startMarathon({ listen: "127.0.0.1:0", deployDelayMs: 150 });
        });

        after(async function () {
            await marathon?.close();
        });

        it("PUTs the group and returns once the deployment is gone", async function () {
            const { id, outs } = await marathonGroupProvider.create(inputs());
            assert.strictEqual(id, "/calico-stars");
            assert.ok(outs.version);
            assert.deepStrictEqual(await marathonGroupProvider.read!(id, outs), { id, props: outs }, "Marathon's spelling of the same group is no drift");
            assert.ok(sshStats().forwards >= 3);
            assert.strictEqual(sshStats().connections, 1);
        });

        it("waits out a deployment lock (409) and then applies", async function () {
            await marathonGroupProvider.update!("/calico-stars", inputs(), inputs("star-probe --a"));
            await marathonGroupProvider.update!("/calico-stars", inputs(), inputs("star-probe --b"));
            const { props } = await marathonGroupProvider.read!("/calico-stars", inputs());
            assert.strictEqual(props.group.apps[0].cmd, "star-probe --b");
        });

        it("refuses to take over a group another stack made", async function () {
            await assert.rejects(marathonGroupProvider.create({ ...inputs(), ownerId: "ffffffff" }),
                /Marathon group \/calico-stars exists but was not made by this stack .*refusing to take over it/);
        });

        it("deletes with force and waits; deleting again succeeds; read then reports it gone", async function () {
            await marathonGroupProvider.delete!("/calico-stars", inputs());
            await marathonGroupProvider.delete!("/calico-stars", inputs());
            assert.strictEqual((await marathonGroupProvider.read!("/calico-stars", inputs())).id, "");
        });
    });
});
