import assert from "node:assert";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { calicoctl as standInCommand } from "../../sandbox/calicoctl/main";
import { paths } from "../../sandbox/lib/layout";
import { waitUntil } from "../../sandbox/lib/wait";
import {
    Outcome,
    printedRules,
    ruleTextVectors,
    shownRules,
    storedByOthersVectors,
    storedRules,
    updateInput,
    vectorProfile,
} from "../unit/calicoRuleVectorTable";

// The calicoctl stand-in and the libnetwork plugin against a real etcd and a real dockerd, as the sandbox runs them.
// The stand-in is calicoctl v0.19.0: the table of vectors (test/unit/calicoRuleVectors.json, produced by that
// release's own code) runs here against it, and in test/unit against the program's grammar.

const etcdBinary = "/usr/bin/etcd";
const dockerdBinary = "/usr/sbin/dockerd";
const dockerClient = "/usr/bin/docker";
const calicoctlPath = path.join(paths.sandbox, "bin", "calicoctl");

interface Result {
    status: number | null;
    stdout: string;
    stderr: string;
}

interface Cluster {
    dir: string;
    etcdAuthority: string;
    dockerSocket: string;
    processes: Map<string, ChildProcess>;
}

const runbookShow = "Inbound rules:\n   1 allow from tag management-ui\nOutbound rules:\n   1 allow\n";

function missingPrerequisite(): string | undefined {
    if (process.getuid?.() !== 0) return "needs root (dockerd, a private mount namespace)";
    const missing = [etcdBinary, dockerdBinary, dockerClient].filter((binary) => !fs.existsSync(binary));
    return missing.length > 0 ? `needs ${missing.join(", ")}` : undefined;
}

async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

function startProcess(cluster: Cluster, name: string, command: string, args: string[]): ChildProcess {
    const log = fs.openSync(path.join(cluster.dir, `${name}.log`), "a");
    const child = spawn(command, args, { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    cluster.processes.set(name, child);
    return child;
}

/**
 * Waits until `ready` holds; fails once `timeoutMs` has passed or the process has exited, quoting the end of its log.
 */
async function waitFor(
    what: string,
    child: ChildProcess,
    ready: () => Promise<boolean>,
    timeoutMs = 15000,
): Promise<void> {
    const exitStatus = () =>
        child.exitCode !== null || child.signalCode !== null
            ? `exited (${child.exitCode ?? child.signalCode})`
            : undefined;
    const logFile = path.join(cluster.dir, `${what}.log`);
    await waitUntil(what, ready, { timeoutMs, pauseMs: 50, process: { exitStatus, logFile } });
}

async function stopProcess(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const killLater = setTimeout(() => child.kill("SIGKILL"), 10000);
    await exited;
    clearTimeout(killLater);
}

async function startEtcd(cluster: Cluster): Promise<void> {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = startProcess(cluster, "etcd", etcdBinary, [
        "--name",
        "test",
        "--data-dir",
        path.join(cluster.dir, "etcd"),
        "--listen-client-urls",
        clientUrl,
        "--advertise-client-urls",
        clientUrl,
        "--listen-peer-urls",
        peerUrl,
        "--initial-advertise-peer-urls",
        peerUrl,
        "--initial-cluster",
        `test=${peerUrl}`,
        "--enable-v2=true",
        "--heartbeat-interval=10",
        "--election-timeout=100",
    ]);
    cluster.etcdAuthority = `127.0.0.1:${clientPort}`;
    await waitFor("etcd", etcd, async () => (await fetch(`${clientUrl}/health`)).ok);
}

async function startPlugin(cluster: Cluster): Promise<string> {
    const socket = path.join(cluster.dir, "calico.sock");
    const plugin = startProcess(cluster, "plugin", process.execPath, [
        paths.pluginScript,
        "--socket",
        socket,
        "--etcd",
        `http://${cluster.etcdAuthority}`,
        "--log-file",
        path.join(cluster.dir, "plugin-requests.log"),
    ]);
    await waitFor("plugin", plugin, async () => fs.existsSync(socket));
    return socket;
}

/**
 * dockerd finds plugins only in /run/docker/plugins (or /etc/docker/plugins): it runs in a private mount namespace
 * whose /run is a fresh tmpfs holding a link to the plugin's socket. Everything there vanishes with the namespace.
 * `unshare` and `sh` exec, so the child's PID is dockerd's.
 */
async function startDockerd(cluster: Cluster, pluginSocket: string): Promise<void> {
    const script =
        'mount -t tmpfs tmpfs /run && mkdir -p /run/docker/plugins && ln -s "$1" /run/docker/plugins/calico.sock && shift && exec "$@"';
    const dockerd = startProcess(cluster, "dockerd", "/usr/bin/unshare", [
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        script,
        "sh",
        pluginSocket,
        // calico-libnetwork's networks are global-scope: Docker needs a cluster store for them, as the reference's has
        dockerdBinary,
        "--storage-driver=vfs",
        "--bridge=none",
        "--iptables=false",
        `--cluster-store=etcd://${cluster.etcdAuthority}`,
        "--data-root",
        path.join(cluster.dir, "docker-data"),
        "--exec-root",
        path.join(cluster.dir, "docker-run"),
        "--pidfile",
        path.join(cluster.dir, "dockerd.pid"),
        "-H",
        `unix://${cluster.dockerSocket}`,
    ]);
    await waitFor(
        "dockerd",
        dockerd,
        async () => docker("version", "--format", "{{.Server.Version}}").status === 0,
        30000,
    );
}

let cluster: Cluster;

function calicoctl(args: string, input = ""): Result {
    const result = spawnSync(calicoctlPath, args.split(" "), {
        input,
        encoding: "utf8",
        // Node parses NODE_EXTRA_CA_CERTS at every start (~80 ms); the stand-in speaks no TLS.
        env: {
            ...process.env,
            NODE_EXTRA_CA_CERTS: undefined,
            ETCD_AUTHORITY: cluster.etcdAuthority,
            DOCKER_HOST: `unix://${cluster.dockerSocket}`,
        },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The stand-in in this process (no node start-up per command), with `stdin` for rule update. */
async function standIn(args: string[], stdin = ""): Promise<Result> {
    const { stdout, stderr, code } = await standInCommand(
        args,
        { ETCD_AUTHORITY: cluster.etcdAuthority, DOCKER_HOST: `unix://${cluster.dockerSocket}` },
        () => stdin,
    );
    return { status: code, stdout, stderr };
}

function docker(...args: string[]): Result {
    const result = spawnSync(dockerClient, ["-H", `unix://${cluster.dockerSocket}`, ...args], { encoding: "utf8" });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function createNetwork(name: string, ...options: string[]): string {
    const result = docker("network", "create", "--driver", "calico", "--ipam-driver", "calico", ...options, name);
    assert.strictEqual(result.status, 0, result.stderr);
    return result.stdout.trim();
}

function networkId(name: string): string {
    const result = docker("network", "inspect", "-f", "{{.Id}}", name);
    assert.strictEqual(result.status, 0, result.stderr);
    return result.stdout.trim();
}

async function etcdGet(key: string): Promise<{ value: string; modifiedIndex: number } | undefined> {
    const response = await fetch(`http://${cluster.etcdAuthority}/v2/keys${key}`);
    if (response.status === 404) return undefined;
    const { node } = (await response.json()) as { node: { value: string; modifiedIndex: number } };
    return node;
}

async function etcdPut(key: string, value: string): Promise<void> {
    const response = await fetch(`http://${cluster.etcdAuthority}/v2/keys${key}`, {
        method: "PUT",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ value }).toString(),
    });
    assert.ok(response.ok, await response.text());
}

function assertOutput(result: Result, status: number, stdout: string): void {
    assert.deepStrictEqual({ status: result.status, stdout: result.stdout }, { status, stdout }, result.stderr);
}

function assertUsageError(result: Result): void {
    assert.strictEqual(result.status, 1);
    assert.strictEqual(result.stdout, "");
    assert.match(result.stderr, /^Usage:\n {2}calicoctl profile show \[--detailed\]\n/);
    assert.match(result.stderr, /calicoctl profile <PROFILE> rule update\n$/);
}

const rulesKey = (id: string) => `/calico/v1/policy/profile/${id}/rules`;

/** The profile "vec" with no rules, written directly, as the table's commands start from it. */
async function emptyVectorProfile(): Promise<void> {
    const dir = `/calico/v1/policy/profile/${vectorProfile}`;
    await etcdPut(`${dir}/tags`, `["${vectorProfile}"]`);
    await etcdPut(`${dir}/labels`, "{}");
    await etcdPut(`${dir}/rules`, storedRules());
}

function lastLine(text: string): string {
    return text.trimEnd().split("\n").pop() ?? "";
}

/** A table row's command ran on an empty "vec": its output, what etcd holds, and what rule show and rule json print. */
async function assertOutcome(result: Result, outcome: Outcome): Promise<void> {
    assert.deepStrictEqual(
        { exit: result.status, stdout: result.stdout },
        { exit: outcome.exit, stdout: outcome.stdout },
        result.stderr,
    );
    if (outcome.stderrLast !== undefined) {
        assert.strictEqual(lastLine(result.stderr), outcome.stderrLast);
    }
    assert.strictEqual((await etcdGet(rulesKey(vectorProfile)))?.value, storedRules(outcome.stored));
    if (outcome.stored === undefined) return;
    const show = await standIn(["profile", vectorProfile, "rule", "show"]);
    assert.deepStrictEqual(
        { exit: show.status, stdout: show.stdout },
        outcome.show !== undefined ? { exit: 0, stdout: shownRules(outcome.show) } : outcome.showFailure,
    );
    const printed = await standIn(["profile", vectorProfile, "rule", "json"]);
    assert.deepStrictEqual(
        { exit: printed.status, stdout: printed.stdout },
        outcome.printed !== undefined ? { exit: 0, stdout: printedRules(outcome.printed) } : outcome.jsonFailure,
    );
}

describe("sandbox calicoctl stand-in and libnetwork plugin (real etcd and dockerd)", function () {
    before(async function () {
        const reason = missingPrerequisite();
        if (reason !== undefined) {
            console.log(`      skipped: ${reason}`);
            this.skip();
        }
        this.timeout(60000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "calicoctl-test-"));
        cluster = { dir, etcdAuthority: "", dockerSocket: path.join(dir, "docker.sock"), processes: new Map() };
        await startEtcd(cluster);
        // calico-node's startup creates the default pool before the plugin is used (sandbox/calico/datastore.ts
        // startNode)
        await etcdPut("/calico/v1/ipam/v4/pool/192.168.0.0-16", '{"cidr": "192.168.0.0/16"}');
        await startDockerd(cluster, await startPlugin(cluster));
    });

    after(async function () {
        this.timeout(60000);
        if (cluster === undefined) return;
        for (const name of ["dockerd", "plugin", "etcd"]) {
            const child = cluster.processes.get(name);
            if (child !== undefined) await stopProcess(child);
        }
        fs.rmSync(cluster.dir, { recursive: true, force: true });
    });

    describe("docker network create and rm, through the plugin", function () {
        let managementUi: string;

        before(function () {
            managementUi = createNetwork("management-ui", "--subnet=192.168.0.0/16");
        });

        it("writes the network's profile with calico-libnetwork's default tags and rules, and no labels (libcalico v0.12 create_profile)", async function () {
            const profile = `/calico/v1/policy/profile/${managementUi}`;
            assert.strictEqual((await etcdGet(`${profile}/tags`))?.value, `["${managementUi}"]`);
            assert.strictEqual(await etcdGet(`${profile}/labels`), undefined);
            assert.strictEqual(
                (await etcdGet(`${profile}/rules`))?.value,
                `{"id": "${managementUi}", "inbound_rules": [{"action": "allow", "src_tag": "${managementUi}"}], "outbound_rules": [{"action": "allow"}]}`,
            );
            const network = JSON.parse((await etcdGet(`/calico/libnetwork/v1/${managementUi}`))?.value ?? "{}");
            // calico-libnetwork answers RequestPool with the dummy 0.0.0.0/0 pool and gateway that mark Calico IPAM
            assert.deepStrictEqual(
                [network.NetworkID, network.IPv4Data[0].Pool, network.IPv4Data[0].Gateway],
                [managementUi, "0.0.0.0/0", "0.0.0.0/0"],
            );
        });

        it("shows the runbook's default rules under the network's name", function () {
            assertOutput(calicoctl("profile management-ui rule show"), 0, runbookShow);
        });

        it("gives a network created without --subnet Calico's dummy pool, and refuses a subnet that is no Calico pool", function () {
            createNetwork("pool-a");
            assert.strictEqual(
                docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "pool-a").stdout.trim(),
                "0.0.0.0/0",
            );
            const refused = docker(
                "network",
                "create",
                "--driver",
                "calico",
                "--ipam-driver",
                "calico",
                "--subnet=10.65.0.0/24",
                "pool-b",
            );
            assert.notStrictEqual(refused.status, 0);
            assert.match(refused.stderr, /The requested subnet must match the CIDR of a configured Calico IP Pool\./);
        });

        it("removes the profile and the network record on docker network rm", async function () {
            const id = createNetwork("short-lived");
            assert.strictEqual(docker("network", "rm", "short-lived").status, 0);
            assert.strictEqual(await etcdGet(`/calico/v1/policy/profile/${id}/rules`), undefined);
            assert.strictEqual(await etcdGet(`/calico/libnetwork/v1/${id}`), undefined);
            assertOutput(calicoctl("profile short-lived rule show"), 1, "Profile short-lived not found.\n");
        });
    });

    describe("the runbook's policy", function () {
        const ids = new Map<string, string>();

        before(function () {
            for (const name of ["client", "frontend", "backend"]) ids.set(name, createNetwork(name));
        });

        it("takes the runbook's commands, with `ports` for the `port` slip, and shows the resulting rules", function () {
            for (const command of [
                "profile management-ui rule remove inbound allow from tag management-ui",
                "profile management-ui rule add inbound allow tcp to ports 9001",
                "profile client rule add inbound allow tcp from tag management-ui to ports 9000",
                "profile backend rule add inbound allow tcp from tag management-ui to ports 9000",
                "profile frontend rule add inbound allow tcp from tag management-ui to ports 9000",
                "profile frontend rule add inbound allow tcp from tag client to ports 9001",
                "profile backend rule add inbound allow tcp from tag frontend to ports 9001",
            ]) {
                assertOutput(calicoctl(command), 0, "");
            }
            const expected: Record<string, string[]> = {
                "management-ui": ["allow tcp to ports 9001"],
                client: ["allow from tag client", "allow tcp from tag management-ui to ports 9000"],
                frontend: [
                    "allow from tag frontend",
                    "allow tcp from tag management-ui to ports 9000",
                    "allow tcp from tag client to ports 9001",
                ],
                backend: [
                    "allow from tag backend",
                    "allow tcp from tag management-ui to ports 9000",
                    "allow tcp from tag frontend to ports 9001",
                ],
            };
            for (const [profile, inbound] of Object.entries(expected)) {
                const lines = inbound.map((rule, i) => `   ${i + 1} ${rule}\n`).join("");
                assertOutput(
                    calicoctl(`profile ${profile} rule show`),
                    0,
                    `Inbound rules:\n${lines}Outbound rules:\n   1 allow\n`,
                );
            }
        });

        it("stores tags that name networks as the networks' IDs", async function () {
            const stored = JSON.parse((await etcdGet(rulesKey(ids.get("frontend") ?? "")))?.value ?? "{}");
            assert.deepStrictEqual(
                stored.inbound_rules.map((rule: { src_tag: string }) => rule.src_tag),
                [ids.get("frontend"), networkId("management-ui"), ids.get("client")],
            );
        });

        it("rejects the runbook's singular `to port` as a usage error, and writes nothing", async function () {
            const before = await etcdGet(rulesKey(ids.get("frontend") ?? ""));
            assertUsageError(calicoctl("profile frontend rule add inbound allow tcp from tag client to port 9000"));
            assert.deepStrictEqual(await etcdGet(rulesKey(ids.get("frontend") ?? "")), before);
        });

        it("refuses a tag that names no network nor profile, with the reference's message", async function () {
            const before = await etcdGet(rulesKey(ids.get("client") ?? ""));
            const result = calicoctl("profile client rule add inbound allow from tag no-such-net");
            assert.strictEqual(result.status, 1);
            assert.match(
                result.stdout,
                /^You are referencing a Docker network \(no-such-net\) that does not exist\.\s+Create/,
            );
            assert.deepStrictEqual(await etcdGet(rulesKey(ids.get("client") ?? "")), before);
        });
    });

    describe("messages and exit codes of the reference's table", function () {
        before(function () {
            createNetwork("table");
        });

        it("Profile <P> not found. (exit 1) for every command on a missing profile", function () {
            for (const command of [
                "rule show",
                "rule json",
                "tag show",
                "tag add x",
                "rule add inbound allow",
                "rule remove inbound --at=1",
            ]) {
                assertOutput(calicoctl(`profile missing ${command}`), 1, "Profile missing not found.\n");
            }
            assertOutput(
                calicoctl(
                    "profile missing rule update",
                    '{"id": "missing", "inbound_rules": [], "outbound_rules": []}',
                ),
                1,
                "Profile missing not found.\n",
            );
        });

        it("Rule already present, skipping. (exit 0) and no write", async function () {
            const key = rulesKey(networkId("table"));
            const before = await etcdGet(key);
            assertOutput(
                calicoctl("profile table rule add inbound allow from tag table"),
                0,
                "Rule already present, skipping.\n",
            );
            assert.deepStrictEqual(await etcdGet(key), before);
        });

        it("refuses the ports 53,1000-2000 as v0.19.0 does (no lists, no ranges on its command line), and writes nothing", async function () {
            const key = rulesKey(networkId("table"));
            const before = await etcdGet(key);
            assertOutput(
                calicoctl("profile table rule add inbound --at=7 deny udp from ports 53,1000-2000 cidr 10.1.0.0/16"),
                1,
                "Invalid SRCPORTS or DSTPORTS specified.\n",
            );
            assert.deepStrictEqual(await etcdGet(key), before);
        });

        it("Position <N> is out-of-range. (exit 0), and the rule is still added, at the end", function () {
            assertOutput(
                calicoctl("profile table rule add inbound --at=7 deny udp from ports 53 cidr 10.1.0.0/16"),
                0,
                "Position 7 is out-of-range.\n",
            );
            assertOutput(
                calicoctl("profile table rule show"),
                0,
                "Inbound rules:\n   1 allow from tag table\n   2 deny udp from ports 53 cidr 10.1.0.0/16\nOutbound rules:\n   1 allow\n",
            );
        });

        it("Rule not found. (exit 1) on removing a rule that is not there", function () {
            assertOutput(calicoctl("profile table rule remove inbound deny udp from ports 54"), 1, "Rule not found.\n");
        });

        it("Rule position out-of-range. (exit 0) on removing --at past the end", function () {
            assertOutput(calicoctl("profile table rule remove outbound --at=2"), 0, "Rule position out-of-range.\n");
        });

        it("ports with icmp or with no protocol: a usage error, as docopt has ports only in the tcp|udp branch", function () {
            assertUsageError(calicoctl("profile table rule add inbound allow icmp to ports 80"));
            assertUsageError(calicoctl("profile table rule add inbound allow to ports 80"));
        });

        it("Created profile <P> / Profile <P> already exists. (exit 0)", function () {
            assertOutput(calicoctl("profile add plain"), 0, "Created profile plain\n");
            assertOutput(calicoctl("profile add plain"), 0, "Profile plain already exists.\n");
            assertOutput(
                calicoctl("profile plain rule show"),
                0,
                "Inbound rules:\n   1 allow from tag plain\nOutbound rules:\n   1 allow\n",
            );
        });

        it("refuses to remove a profile in use by an endpoint unless --no-check (printed, but exit 0: profile_remove does not exit)", async function () {
            calicoctl("profile add busy");
            await etcdPut(
                "/calico/v1/host/agent1/workload/libnetwork/libnetwork/endpoint/ep1",
                JSON.stringify({
                    state: "active",
                    name: "caliep1",
                    mac: "EE:EE:EE:EE:EE:EE",
                    profile_ids: ["busy"],
                    ipv4_nets: [],
                    ipv6_nets: [],
                }),
            );
            assertOutput(
                calicoctl("profile remove busy"),
                0,
                "Cannot remove profile - profile in use by endpoint(s).\nUse the '--no-check' flag to remove the profile anyway.\n",
            );
            assert.notStrictEqual(await etcdGet(rulesKey("busy")), undefined);
            assertOutput(calicoctl("profile remove busy --no-check"), 0, "Deleted profile busy\n");
        });

        it("Profile <P> not found. (exit 0) on removing a missing profile", function () {
            assertOutput(calicoctl("profile remove never-was"), 0, "Profile never-was not found.\n");
        });

        it("Successfully updated rules on profile <P> (exit 0)", function () {
            const update =
                '{"id": "plain", "inbound_rules": [{"action": "deny", "protocol": "icmp", "icmp_type": 8}], "outbound_rules": []}';
            assertOutput(
                calicoctl("profile plain rule update", update),
                0,
                "Successfully updated rules on profile plain\n",
            );
            assertOutput(
                calicoctl("profile plain rule show"),
                0,
                "Inbound rules:\n   1 deny icmp type 8\nOutbound rules:\n",
            );
        });

        it("a Python KeyError (exit 1) when the update JSON lacks a key", function () {
            const result = calicoctl("profile plain rule update", '{"id": "plain", "outbound_rules": []}');
            assertOutput(result, 1, "KeyError: 'inbound_rules'\n\n");
            assert.match(result.stderr, /^Traceback \(most recent call last\):\n[\s\S]*KeyError: 'inbound_rules'\n$/);
        });

        it('Rules JSON "id"=<x> doesn\'t match profile name <P>. (exit 1)', function () {
            assertOutput(
                calicoctl("profile plain rule update", '{"id": "other", "inbound_rules": [], "outbound_rules": []}'),
                1,
                'Rules JSON "id"=other doesn\'t match profile name plain.\n',
            );
        });

        it("the usage text (exit 1) on a usage error", function () {
            assertUsageError(calicoctl("profile table rule add sideways allow"));
            assertUsageError(calicoctl("profile table rule remove inbound"));
            assertUsageError(calicoctl("profile show --no-check"));
        });
    });

    describe("rule json and rule update", function () {
        it("refuses the ports 1-3,22 as v0.19.0 does, and writes nothing", async function () {
            createNetwork("json-net");
            const key = rulesKey(networkId("json-net"));
            const before = await etcdGet(key);
            assertOutput(
                calicoctl(
                    "profile json-net rule add outbound --at=1 deny tcp from ports 1-3,22 tag json-net cidr 10.0.0.1 to ports 80 tag management-ui",
                ),
                1,
                "Invalid SRCPORTS or DSTPORTS specified.\n",
            );
            assert.deepStrictEqual(await etcdGet(key), before);
        });

        it("prints Python 2's json.dumps(indent=2) in v0.19.0's key order, names for network IDs, then a blank line", function () {
            assertOutput(
                calicoctl(
                    "profile json-net rule add outbound --at=1 deny tcp from ports 22 tag json-net cidr 10.0.0.1 to ports 80 tag management-ui",
                ),
                0,
                "",
            );
            // The key order is CPython 2.7's dict order for this rule on this path (the command line's locals(), then
            // etcd, json.loads and the network-name mapping's copy.copy), as calicoctl v0.19.0 itself prints it.
            const expected = [
                "{",
                '  "id": "json-net", ',
                '  "inbound_rules": [',
                "    {",
                '      "action": "allow", ',
                '      "src_tag": "json-net"',
                "    }",
                "  ], ",
                '  "outbound_rules": [',
                "    {",
                '      "protocol": "tcp", ',
                '      "action": "deny", ',
                '      "src_tag": "json-net", ',
                '      "dst_tag": "management-ui", ',
                '      "dst_ports": [',
                "        80",
                "      ], ",
                '      "src_ports": [',
                "        22",
                "      ], ",
                '      "src_net": "10.0.0.1/32"',
                "    }, ",
                "    {",
                '      "action": "allow"',
                "    }",
                "  ]",
                "}",
                "",
                "",
            ].join("\n");
            assertOutput(calicoctl("profile json-net rule json"), 0, expected);
        });

        it("stores the rule with network IDs, in v0.19.0's key order", async function () {
            const [own, managementUi] = [networkId("json-net"), networkId("management-ui")];
            assert.strictEqual(
                (await etcdGet(rulesKey(own)))?.value,
                `{"id": "${own}", "inbound_rules": [{"action": "allow", "src_tag": "${own}"}], "outbound_rules": [{"protocol": "tcp", "action": "deny", ` +
                    `"src_tag": "${own}", "dst_tag": "${managementUi}", "dst_ports": [80], "src_ports": [22], "src_net": "10.0.0.1/32"}, {"action": "allow"}]}`,
            );
        });

        it("takes rule json's output back unchanged, and stores network IDs again", async function () {
            const key = rulesKey(networkId("json-net"));
            const stored = (await etcdGet(key))?.value;
            const printed = calicoctl("profile json-net rule json").stdout;
            assertOutput(
                calicoctl("profile json-net rule update", printed),
                0,
                "Successfully updated rules on profile json-net\n",
            );
            assert.strictEqual((await etcdGet(key))?.value, stored);
            assertOutput(calicoctl("profile json-net rule json"), 0, printed);
        });

        it("checks the JSON id against the profile name as given, so the network's ID does not match", function () {
            const id = networkId("json-net");
            assertOutput(
                calicoctl("profile json-net rule update", `{"id": "${id}", "inbound_rules": [], "outbound_rules": []}`),
                1,
                `Rules JSON "id"=${id} doesn't match profile name json-net.\n`,
            );
        });
    });

    describe("the table of calicoctl v0.19.0's answers (test/unit/calicoRuleVectors.json)", function () {
        for (const vector of ruleTextVectors) {
            it(`rule add inbound ${JSON.stringify(vector.rule)}`, async function () {
                await emptyVectorProfile();
                await assertOutcome(
                    await standIn(["profile", vectorProfile, "rule", "add", "inbound", ...vector.rule.split(" ")]),
                    vector.ruleAdd,
                );
            });

            const { program, ruleUpdate } = vector;
            if ("json" in program && ruleUpdate !== undefined) {
                it(`rule update with the program's JSON for ${JSON.stringify(vector.rule)}`, async function () {
                    await emptyVectorProfile();
                    await assertOutcome(
                        await standIn(["profile", vectorProfile, "rule", "update"], updateInput(program.json)),
                        ruleUpdate,
                    );
                });
            }
        }

        for (const vector of storedByOthersVectors) {
            it(`rule update with ${JSON.stringify(vector.json)}`, async function () {
                await emptyVectorProfile();
                await assertOutcome(
                    await standIn(["profile", vectorProfile, "rule", "update"], updateInput(vector.json)),
                    vector.ruleUpdate,
                );
            });
        }
    });

    describe("without etcd", function () {
        it("exits 1 with the datastore error once etcd has stopped", async function () {
            const etcd = cluster.processes.get("etcd");
            assert.ok(etcd !== undefined);
            await stopProcess(etcd);
            const result = calicoctl("profile management-ui rule show");
            assert.strictEqual(result.status, 1);
            assert.match(
                result.stdout,
                /^get_profile: Error accessing etcd \(Connection to etcd at 127\.0\.0\.1:\d+ failed\s+due\s+to[\s\S]*ECONNREFUSED[\s\S]*Is etcd running\?\n\n$/,
            );
        });
    });
});
