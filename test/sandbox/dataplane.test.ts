// Calico's dataplane in the sandbox, with plain busybox containers on the star image: the libnetwork plugin's etcd
// records and IPAM, BIRD's routes, Felix's policy between endpoints on two agents, DNS to the master, and the
// UI's path through the master's DNAT from the root namespace (the runbook's dev box). Needs root, sshd, etcd,
// dockerd, iptables and ipset; skips otherwise.
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { dnatRules } from "@calico-stars/providers";
import * as sandbox from "../../sandbox/cli";
import type { EtcdNode } from "../../sandbox/calico/etcd";
import { collectorAddress, etcdUrl } from "../../sandbox/lib/layout";
import { sandboxUnavailable } from "../../sandbox/cli";
import { sandboxLeftovers } from "../support/sandboxLeftovers";
import {
    addressOf,
    DataplaneHost,
    docker,
    dockerChecked,
    eventually,
    httpFrom,
    inNamespace,
    pingFrom,
    runIdle,
    runServer,
    updateRules,
} from "../support/sandboxDataplane";

async function etcdGet(key: string): Promise<EtcdNode | undefined> {
    const response = await fetch(`${etcdUrl}/v2/keys${key}?recursive=true`);
    return response.status === 404 ? undefined : ((await response.json()) as { node: EtcdNode }).node;
}

/** A GET from this process (the root namespace, the runbook's dev box); undefined when nothing answers in time. */
function getFromDevBox(url: string, timeoutMs = 2000): Promise<string | undefined> {
    return new Promise((resolve) => {
        const request = http.get(url, { timeout: timeoutMs, agent: false }, (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => {
                body += chunk;
            });
            response.on("end", () => resolve(body));
        });
        request.on("timeout", () => request.destroy());
        request.on("error", () => resolve(undefined));
    });
}

describe("sandbox Calico dataplane (calico-libnetwork, Felix and BIRD stand-ins)", function () {
    let cluster: sandbox.Cluster;
    let agent1: DataplaneHost;
    let agent2: DataplaneHost;
    let started = false;
    /** serves 9000 and 9001 on agent1, in network dp-a */
    let server: string;
    let clientAddress: string;
    const url = (port: number) => `http://${server}:${port}/`;

    before(async function () {
        const missing =
            sandboxUnavailable() ??
            (fs.existsSync("/usr/sbin/ipset")
                ? undefined
                : "the sandbox's Felix needs /usr/sbin/ipset (.ci/run installs it)");
        if (missing !== undefined) {
            console.log(`      skipped: ${missing}`);
            this.skip();
        }
        this.timeout(60000);
        started = true;
        cluster = await sandbox.up();
        [agent1, agent2] = cluster.agents;
        dockerChecked(agent1, "network", "create", "--driver", "calico", "--ipam-driver", "calico", "dp-a");
        dockerChecked(agent1, "network", "create", "--driver", "calico", "--ipam-driver", "calico", "dp-b");
        dockerChecked(
            agent2,
            "network",
            "create",
            "--driver",
            "calico",
            "--ipam-driver",
            "calico",
            "--subnet=192.168.0.0/16",
            "dp-ui",
        );
        server = runServer(agent1, "server", "dp-a", cluster.docker.image, [9000, 9001]);
        runIdle(agent2, "peer", "dp-a", cluster.docker.image);
        clientAddress = runIdle(agent2, "client", "dp-b", cluster.docker.image);
    });

    after(async function () {
        if (!started) {
            return;
        }
        this.timeout(30000);
        await sandbox.down();
        assert.deepEqual(sandboxLeftovers(), []);
    });

    it("records each endpoint and profile in etcd as calico-libnetwork v0.8.0 writes them", async function () {
        const networkId = dockerChecked(agent1, "network", "inspect", "-f", "{{.Id}}", "dp-a");
        const endpointId = dockerChecked(
            agent1,
            "inspect",
            "-f",
            '{{(index .NetworkSettings.Networks "dp-a").EndpointID}}',
            "server",
        );
        const node = await etcdGet(`/calico/v1/host/cs-agent1/workload/libnetwork/libnetwork/endpoint/${endpointId}`);
        assert.ok(node, "the endpoint is recorded under its own host's name");
        assert.deepStrictEqual(JSON.parse(node.value ?? ""), {
            state: "active",
            name: `cali${endpointId.slice(0, 11)}`,
            mac: "EE:EE:EE:EE:EE:EE",
            profile_ids: [networkId],
            ipv4_nets: [`${server}/32`],
            ipv6_nets: [],
            ipv4_gateway: "10.197.0.12",
            ipv6_gateway: null,
        });
        const profile = await etcdGet(`/calico/v1/policy/profile/${networkId}`);
        assert.deepStrictEqual(profile?.nodes?.map((child) => path.basename(child.key)).sort(), ["rules", "tags"]);
        const peerId = dockerChecked(
            agent2,
            "inspect",
            "-f",
            '{{(index .NetworkSettings.Networks "dp-a").EndpointID}}',
            "peer",
        );
        assert.ok(
            await etcdGet(`/calico/v1/host/cs-agent2/workload/libnetwork/libnetwork/endpoint/${peerId}`),
            "the peer's is under cs-agent2",
        );
    });

    it("refuses a fixed --ip while any host holds it, as calico-libnetwork does, and hands it out again once released", function () {
        this.timeout(30000);
        runServer(agent1, "holder", "dp-ui", cluster.docker.image, [9001], collectorAddress);
        const refused = docker(
            agent2,
            "run",
            "-d",
            "--pull=never",
            "--name",
            "second",
            "--net",
            "dp-ui",
            "--ip",
            collectorAddress,
            cluster.docker.image,
            "sleep",
            "60",
        );
        assert.notEqual(refused.status, 0);
        assert.match(refused.stderr, /IpamDriver\.RequestAddress: The address 192\.168\.255\.254 is already in use/);
        docker(agent2, "rm", "-f", "second");
        dockerChecked(agent1, "rm", "-f", "holder");
        dockerChecked(
            agent2,
            "run",
            "-d",
            "--pull=never",
            "--name",
            "second",
            "--net",
            "dp-ui",
            "--ip",
            collectorAddress,
            cluster.docker.image,
            "sleep",
            "60",
        );
        assert.equal(addressOf(agent2, "second", "dp-ui"), collectorAddress);
        dockerChecked(agent2, "rm", "-f", "second");
    });

    it("routes each endpoint on its own host by a /32 and on every other host the way BIRD's mesh would", function () {
        assert.match(inNamespace("cs-agent1", ["ip", "-4", "route", "get", server]).stdout, /dev cali[0-9a-f]{11} /);
        for (const other of ["cs-master", "cs-agent2"]) {
            assert.match(
                inNamespace(other, ["ip", "-4", "route", "get", server]).stdout,
                /via 10\.197\.0\.12 dev eth1/,
                other,
            );
        }
        assert.match(
            inNamespace("cs-master", ["ip", "-4", "route", "get", clientAddress]).stdout,
            /via 10\.197\.0\.13 dev eth1/,
        );
    });

    it("follows libnetwork's default profile across agents: the network's own tag is let in, another network's is dropped", async function () {
        this.timeout(20000);
        assert.deepEqual(
            await Promise.all([httpFrom(agent2, "peer", url(9000)), httpFrom(agent2, "client", url(9000))]),
            [true, false],
        );
    });

    it("lets a rule update open a port to another network's tag within a second, and no other port", async function () {
        this.timeout(20000);
        updateRules(agent1, "dp-a", [{ action: "allow", protocol: "tcp", src_tag: "dp-b", dst_ports: [9000] }]);
        const tookMs = await eventually("client -> server:9000", () => httpFrom(agent2, "client", url(9000)), 1000);
        assert.ok(tookMs < 1000, `${tookMs} ms`);
        assert.deepEqual(
            await Promise.all([httpFrom(agent2, "client", url(9001)), httpFrom(agent2, "peer", url(9000))]),
            [false, false],
        );
    });

    it("matches on protocol", async function () {
        this.timeout(20000);
        updateRules(agent1, "dp-a", [{ action: "allow", protocol: "icmp", src_tag: "dp-b" }]);
        assert.deepEqual(
            await Promise.all([pingFrom(agent2, "client", server), httpFrom(agent2, "client", url(9000))]),
            [true, false],
        );
        updateRules(agent1, "dp-a", [{ action: "allow", protocol: "icmp", icmp_type: 13, src_tag: "dp-b" }]);
        assert.equal(await pingFrom(agent2, "client", server), false, "an echo request is ICMP type 8, not 13");
    });

    it("matches on source CIDR", async function () {
        this.timeout(20000);
        updateRules(agent1, "dp-a", [{ action: "allow", src_net: `${clientAddress}/32` }]);
        assert.deepEqual(
            await Promise.all([httpFrom(agent2, "client", url(9000)), httpFrom(agent2, "peer", url(9000))]),
            [true, false],
        );
        updateRules(agent1, "dp-a", [{ action: "allow", src_net: "10.0.0.0/8" }]);
        assert.equal(await httpFrom(agent2, "client", url(9000)), false);
    });

    it("takes the first rule that matches, and drops what none matches", async function () {
        this.timeout(20000);
        updateRules(agent1, "dp-a", [
            { action: "deny", protocol: "tcp", src_tag: "dp-b" },
            { action: "allow", src_tag: "dp-b" },
        ]);
        assert.deepEqual(
            await Promise.all([httpFrom(agent2, "client", url(9000)), pingFrom(agent2, "client", server)]),
            [false, true],
        );
        updateRules(agent1, "dp-a", [
            { action: "allow", protocol: "tcp", src_tag: "dp-b", dst_ports: [9001] },
            { action: "deny" },
        ]);
        assert.deepEqual(
            await Promise.all([httpFrom(agent2, "client", url(9001)), pingFrom(agent2, "client", server)]),
            [true, false],
        );
    });

    it("applies the source's outbound rules as well as the target's inbound ones", async function () {
        this.timeout(20000);
        updateRules(agent1, "dp-a", [{ action: "allow", src_tag: "dp-b" }]);
        updateRules(agent1, "dp-b", [{ action: "allow", src_tag: "dp-b" }], [{ action: "allow", protocol: "icmp" }]);
        assert.deepEqual(
            await Promise.all([httpFrom(agent2, "client", url(9000)), pingFrom(agent2, "client", server)]),
            [false, true],
        );
        updateRules(agent1, "dp-b", [{ action: "allow", src_tag: "dp-b" }], [{ action: "allow" }]);
        assert.equal(await httpFrom(agent2, "client", url(9000)), true);
    });

    describe("DNS to the master", function () {
        let responder: ChildProcess | undefined;
        let ours = false;

        before(async function () {
            this.timeout(10000);
            responder = spawn(
                "/usr/sbin/ip",
                [
                    "netns",
                    "exec",
                    "cs-master",
                    process.execPath,
                    "-r",
                    require.resolve("ts-node/register/transpile-only"),
                    path.join(__dirname, "../support/dnsResponder.ts"),
                    "10.197.0.11",
                    "192.0.2.7",
                ],
                { stdio: ["ignore", "pipe", "inherit"] },
            );
            const firstLine = await new Promise<string>((resolve) =>
                responder!.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())),
            );
            // Mesos-DNS's stand-in may hold the port already; then any answer it gives proves the path.
            ours = firstLine === "ready";
        });

        after(function () {
            if (responder?.pid !== undefined && responder.exitCode === null) {
                responder.kill("SIGTERM");
            }
        });

        const answered = (output: string) =>
            ours ? /Address:\s+192\.0\.2\.7/.test(output) : /Name:|NXDOMAIN|can't find/.test(output);

        it("passes a container's queries to 10.197.0.11:53 and their answers, directly and through Docker's resolver", async function () {
            this.timeout(20000);
            // busybox nslookup exits 1 on NXDOMAIN, which is what Mesos-DNS answers for a task that does not run
            const direct = docker(
                agent2,
                "exec",
                "client",
                "nslookup",
                "client-calico-stars.marathon.mesos",
                "10.197.0.11",
            );
            assert.ok(answered(direct.stdout + direct.stderr), direct.stdout + direct.stderr);
            const resolver = docker(agent2, "exec", "client", "nslookup", "client-calico-stars.marathon.mesos");
            assert.ok(answered(resolver.stdout + resolver.stderr), resolver.stdout + resolver.stderr);
        });

        it("drops them when the container's outbound rules do not allow them", async function () {
            this.timeout(20000);
            updateRules(agent1, "dp-b", [{ action: "allow", src_tag: "dp-b" }], [{ action: "allow", protocol: "tcp" }]);
            try {
                const blocked = docker(
                    agent2,
                    "exec",
                    "client",
                    "timeout",
                    "3",
                    "nslookup",
                    "client-calico-stars.marathon.mesos",
                    "10.197.0.11",
                );
                assert.ok(!answered(blocked.stdout), blocked.stdout);
            } finally {
                updateRules(agent1, "dp-b", [{ action: "allow", src_tag: "dp-b" }], [{ action: "allow" }]);
            }
        });
    });

    describe("the UI through the master's DNAT, with the program's rules added by hand", function () {
        const programRules = dnatRules({
            publicInterface: "eth1",
            publicPort: 9001,
            targetIp: collectorAddress,
            targetPort: 9001,
            ownerId: "0a1b2c3d",
        } as Parameters<typeof dnatRules>[0]);
        /** The runbook's two: PREROUTING and OUTPUT; then what the program adds to them. */
        const rules = programRules.filter((rule) => rule[0] !== "POSTROUTING");
        const masquerade = programRules.filter((rule) => rule[0] === "POSTROUTING");
        const nat = (operation: string, rule: string[]) =>
            inNamespace("cs-master", ["iptables", "-w", "-t", "nat", operation, ...rule]);
        const fromMaster = () =>
            inNamespace("cs-master", [
                "/bin/busybox",
                "timeout",
                "2",
                "/bin/busybox",
                "wget",
                "-q",
                "-O",
                "-",
                "http://10.197.0.11:9001/",
            ]);

        before(function () {
            this.timeout(30000);
            runServer(agent1, "collector", "dp-ui", cluster.docker.image, [9001], collectorAddress);
            rules.forEach((rule) => assert.equal(nat("-A", rule).status, 0));
        });

        after(function () {
            programRules.forEach((rule) => nat("-D", rule));
        });

        it("keeps the UI closed under libnetwork's default profile (allow from tag self), from the master and from the dev box", async function () {
            this.timeout(20000);
            assert.notEqual(fromMaster().stdout, "collector\n");
            assert.equal(await getFromDevBox("http://10.197.0.11:9001/"), undefined);
        });

        it("opens it to the master's own OUTPUT rule once the profile allows tcp to ports 9001", async function () {
            this.timeout(20000);
            updateRules(agent1, "dp-ui", [{ action: "allow", protocol: "tcp", dst_ports: [9001] }]);
            await eventually("master -> 10.197.0.11:9001", async () => fromMaster().stdout === "collector\n", 3000);
        });

        it("gets no answer on the dev box with the runbook's two rules: the collector's replies go from its agent straight to the dev box, around the master's DNAT", async function () {
            this.timeout(20000);
            assert.match(
                inNamespace("cs-agent1", [
                    "ip",
                    "-4",
                    "route",
                    "get",
                    "10.197.0.1",
                    "from",
                    collectorAddress,
                    "iif",
                    inNamespace("cs-agent1", ["ip", "-o", "route", "get", collectorAddress]).stdout.split(/\s+/)[2],
                ]).stdout,
                /^10\.197\.0\.1 from .* dev eth1/,
            );
            assert.equal(await getFromDevBox("http://10.197.0.11:9001/"), undefined);
        });

        it("answers the dev box once the master also masquerades what it DNATed to the collector (the program's third rule)", async function () {
            this.timeout(20000);
            assert.equal(masquerade.length, 1, "the program masquerades in POSTROUTING");
            assert.equal(nat("-A", masquerade[0]).status, 0);
            assert.equal(await getFromDevBox("http://10.197.0.11:9001/"), "collector\n");
            assert.equal(fromMaster().stdout, "collector\n", "and the master itself, through the OUTPUT rule, still");
        });
    });
});
