// The sandbox cluster (sandbox/cli.ts) as the program sees it: real sshd per host, audit log, etcd, dockerd
// with the star image, Marathon behind the master's sshd. Needs root, sshd, etcd and dockerd; skips otherwise.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type * as net from "node:net";
import * as path from "node:path";
import { Client } from "ssh2";
import * as YAML from "yaml";
import { runbookPolicy } from "../../components/config";
import * as sandbox from "../../sandbox/cli";
import { Cluster, ClusterHost, sandboxUnavailable } from "../../sandbox/cli";
import { paths } from "../../sandbox/lib/layout";
import { waitUntil } from "../../sandbox/lib/wait";
import { isZombie, sandboxLeftovers } from "../support/sandboxLeftovers";

interface RemoteResult {
    code: number | null;
    stdout: string;
    stderr: string;
}

interface AuditEntry {
    ts: number;
    host: string;
    command: string;
}

type Sandbox = typeof sandbox;

const sandboxDir = paths.sandbox;
const stateDir = paths.state;
/** The machine's own account and sudo files, which the hosts' own are bound over, never written. */
const machineEtc = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/hosts", "/etc/sudoers", "/etc/sudoers.d"];

function skipBecause(context: Mocha.Context, reason: string): never {
    console.log(`      skipped: ${reason}`);
    return context.skip();
}

function sha256Fingerprint(key: Buffer): string {
    return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

function connect(host: ClusterHost, privateKey: Buffer, username = host.user): Promise<Client> {
    return new Promise((resolve, reject) => {
        const client = new Client();
        client.once("ready", () => resolve(client));
        client.once("error", reject);
        client.connect({
            host: host.address,
            port: host.port,
            username,
            privateKey,
            readyTimeout: 5000,
            hostVerifier: (key: Buffer) => sha256Fingerprint(key) === host.hostKeyFingerprint,
        });
    });
}

function runRemote(client: Client, command: string, input?: string): Promise<RemoteResult> {
    return new Promise((resolve, reject) => {
        client.exec(command, (error, channel) => {
            if (error) {
                reject(error);
                return;
            }
            const result: RemoteResult = { code: null, stdout: "", stderr: "" };
            channel.on("data", (chunk: Buffer) => {
                result.stdout += chunk.toString();
            });
            channel.stderr.on("data", (chunk: Buffer) => {
                result.stderr += chunk.toString();
            });
            channel.on("exit", (code: number | null) => {
                result.code = code;
            });
            channel.on("close", () => resolve(result));
            channel.end(input);
        });
    });
}

function forwardedGet(client: Client, port: number, urlPath: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        client.forwardOut("127.0.0.1", 0, "127.0.0.1", port, (error, channel) => {
            if (error) {
                reject(error);
                return;
            }
            const request = http.request(
                {
                    path: urlPath,
                    headers: { Host: `127.0.0.1:${port}`, Connection: "close" },
                    createConnection: () => channel as unknown as net.Socket,
                },
                (response) => {
                    let body = "";
                    response.setEncoding("utf8");
                    response.on("data", (chunk: string) => {
                        body += chunk;
                    });
                    response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
                },
            );
            request.on("error", reject);
            request.end();
        });
    });
}

/** What a directory or file holds, names and contents, to see that nothing wrote to it. */
function fingerprintOf(file: string): string {
    const hash = createHash("sha256");
    const walk = (entry: string) => {
        const stat = fs.lstatSync(entry);
        hash.update(`${entry} ${stat.mode} ${stat.uid} ${stat.gid}\n`);
        if (stat.isDirectory()) {
            fs.readdirSync(entry)
                .sort()
                .forEach((name) => walk(path.join(entry, name)));
        } else if (stat.isFile()) {
            hash.update(fs.readFileSync(entry));
        }
    };
    walk(file);
    return hash.digest("hex");
}

function auditEntries(host: ClusterHost): AuditEntry[] {
    return fs
        .readFileSync(host.auditLog, "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as AuditEntry);
}

describe("sandbox cluster (sandbox/cli.ts)", function () {
    let cluster: Cluster;
    let privateKey: Buffer;
    const clients = new Map<string, Client>();
    let started = false;
    let machineEtcBefore: string[];

    /** A session on the host as `user`: root (which the tests look at hosts with) unless named. */
    async function clientFor(hostName: string, user = "root"): Promise<Client> {
        const existing = clients.get(`${user}@${hostName}`);
        if (existing !== undefined) {
            return existing;
        }
        const host = cluster.hosts.find((candidate) => candidate.name === hostName);
        assert.ok(host, `no host ${hostName} in cluster.json`);
        const client = await connect(host, privateKey, user);
        clients.set(`${user}@${hostName}`, client);
        return client;
    }

    function closeClients(): void {
        clients.forEach((client) => client.end());
        clients.clear();
    }

    function host(name: string): ClusterHost {
        const found = cluster.hosts.find((candidate) => candidate.name === name);
        assert.ok(found, `no host ${name} in cluster.json`);
        return found;
    }

    before(async function () {
        const missing = sandboxUnavailable();
        if (missing !== undefined) {
            skipBecause(this, missing);
        }
        this.timeout(60000);
        started = true;
        machineEtcBefore = machineEtc.filter((file) => fs.existsSync(file)).map(fingerprintOf);
        cluster = await sandbox.up();
        privateKey = fs.readFileSync(cluster.sshPrivateKeyPath);
    });

    after(async function () {
        if (!started) {
            return;
        }
        this.timeout(30000);
        closeClients();
        await sandbox.down();
        assert.deepEqual(sandboxLeftovers(), []);
    });

    it("gives the program vagrant with sudo, in cluster.json and in Pulumi.sandbox.yaml (YAML objects, as `pulumi config set --path` writes them)", function () {
        assert.deepEqual(
            cluster.hosts.map((each) => each.user),
            ["vagrant", "vagrant", "vagrant"],
        );
        assert.equal(cluster.sudo, true);
        const text = fs.readFileSync(cluster.pulumiConfigPath, "utf8");
        const config = YAML.parse(text).config;
        assert.deepEqual(config["calico-stars:master"], { address: "10.197.0.11", port: 22, user: "vagrant" });
        assert.deepEqual(config["calico-stars:agents"], [
            { address: "10.197.0.12", port: 22, user: "vagrant" },
            { address: "10.197.0.13", port: 22, user: "vagrant" },
        ]);
        assert.equal(config["calico-stars:sudo"], true);
        assert.equal(config["calico-stars:etcdAuthority"], "10.197.0.11:2379");
        assert.deepEqual(config["calico-stars:hostKeyFingerprints"], cluster.hostKeyFingerprints);
        assert.deepEqual(config["calico-stars:hostKeys"], cluster.hostKeys);
        assert.ok(
            text.includes(`\n      - ${cluster.hostKeys["10.197.0.11"][0]}\n`),
            `each host key on one line, as Pulumi writes it:\n${text}`,
        );
        // written in full, so that README's `pulumi config set --path 'policy.backend.inbound[2]' ...` edits a rule in
        // place
        assert.deepEqual(config["calico-stars:policy"], runbookPolicy);
        assert.equal(config["calico-stars:verifyPolicy"], true);
    });

    it("runs each host's commands on that host, for vagrant and root alike, over ssh pinned to the recorded host key, and audits each once", async function () {
        for (const user of ["vagrant", "root"]) {
            for (const { name, address } of cluster.hosts) {
                const logged = auditEntries(host(name)).length;
                const command = "hostname; id -un; ip -4 -o addr show dev eth1";
                const result = await runRemote(await clientFor(name, user), command);
                assert.equal(result.code, 0, result.stderr);
                const [hostname, whoami, addressLine] = result.stdout.trim().split("\n");
                assert.deepEqual([hostname, whoami], [name, user]);
                assert.match(addressLine, new RegExp(` ${address.replace(/\./g, "\\.")}/24 `));
                const entries = auditEntries(host(name));
                assert.equal(entries.length, logged + 1);
                assert.equal(entries[logged].command, command);
                assert.equal(entries[logged].host, name);
                assert.deepEqual(cluster.hostKeyFingerprints[address], [host(name).hostKeyFingerprint]);
            }
        }
    });

    it("logs a command with quotes, a tab, a newline and backslashes faithfully", async function () {
        const agent2 = host("cs-agent2");
        const command = "printf '%s|' \"double \\\"quoted\\\"\" 'single' 'back\\slash'\necho \"tab\there\"";
        const logged = auditEntries(agent2).length;
        const startedAt = Date.now();
        const result = await runRemote(await clientFor(agent2.name, "vagrant"), command);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, 'double "quoted"|single|back\\slash|tab\there\n');
        const entries = auditEntries(agent2);
        assert.equal(entries.length, logged + 1);
        assert.equal(entries[logged].command, command);
        assert.ok(
            entries[logged].ts >= startedAt - 1000 && entries[logged].ts <= Date.now(),
            `ts ${entries[logged].ts}`,
        );
    });

    it("passes stdin, stdout, stderr and the exit code through", async function () {
        const client = await clientFor("cs-agent1", "vagrant");
        const input = '{"id": "/calico-stars",\n "apps": ["a\\\\b"]}\n';
        assert.deepEqual(await runRemote(client, "cat", input), { code: 0, stdout: input, stderr: "" });
        assert.deepEqual(await runRemote(client, "echo out; echo err >&2; exit 7"), {
            code: 7,
            stdout: "out\n",
            stderr: "err\n",
        });
        assert.deepEqual(await runRemote(client, "sudo -n sh -c 'cat; echo err >&2; exit 5'", input), {
            code: 5,
            stdout: input,
            stderr: "err\n",
        });
    });

    it("has vagrant as on the reference hosts: its own group and docker, passwordless sudo for everything without a tty, root's env_reset and secure_path", async function () {
        for (const name of ["cs-master", "cs-agent1", "cs-agent2"]) {
            const vagrant = await clientFor(name, "vagrant");
            const ids = await runRemote(vagrant, "id -un; id -Gn; echo $HOME; sudo -n id -un");
            assert.deepEqual([ids.code, ids.stdout], [0, "vagrant\nvagrant docker\n/home/vagrant\nroot\n"], ids.stderr);
            const environment = await runRemote(
                vagrant,
                'echo "$PATH|$DOCKER_HOST|$ETCD_AUTHORITY"; sudo -n sh -c \'echo "$PATH|$DOCKER_HOST|$ETCD_AUTHORITY|$HOME"\'',
            );
            const [session, underSudo] = environment.stdout.trim().split("\n");
            assert.doesNotMatch(
                session,
                /\/sbin/,
                "sshd's PATH for a user has no sbin, so iptables is not found without sudo",
            );
            assert.match(session, /^[^|]+\|\|10\.197\.0\.11:2379$/);
            assert.equal(
                underSudo,
                "/sbin:/bin:/usr/sbin:/usr/bin|||/root",
                "env_reset drops DOCKER_HOST and ETCD_AUTHORITY; secure_path is CentOS 7's",
            );
        }
    });

    it("has each host's dockerd at /var/run/docker.sock (root:docker, 0660) and calicoctl at /usr/bin/calicoctl, for sessions and for sudo", async function () {
        for (const name of ["cs-master", "cs-agent1", "cs-agent2"]) {
            const vagrant = await clientFor(name, "vagrant");
            const result = await runRemote(
                vagrant,
                "stat -L -c '%U:%G %a %F' /var/run/docker.sock; command -v calicoctl; sudo -n sh -c 'command -v calicoctl'" +
                    " && docker info --format '{{.Name}}' && sudo -n docker info --format '{{.Name}}'" +
                    " && sudo -n env ETCD_AUTHORITY=10.197.0.11:2379 calicoctl profile show >/dev/null && echo calicoctl ok",
            );
            assert.equal(result.code, 0, result.stdout + result.stderr);
            assert.equal(
                result.stdout,
                `root:docker 660 socket\n/usr/bin/calicoctl\n/bin/calicoctl\n${name}\n${name}\ncalicoctl ok\n`,
            );
            const asRoot = await runRemote(
                await clientFor(name),
                "docker info --format '{{.Name}}'; echo \"$DOCKER_HOST\"",
            );
            assert.equal(asRoot.stdout, `${name}\n\n`, "root's docker, with no DOCKER_HOST, is the host's own daemon");
        }
    });

    it("refuses vagrant, without sudo, what root alone may do: iptables, writing under /etc, /var/lib or a directory root made", async function () {
        const vagrant = await clientFor("cs-agent1", "vagrant");
        const made = await runRemote(vagrant, "sudo -n mkdir -p /var/tmp/made-by-root && echo ok");
        assert.deepEqual([made.code, made.stdout], [0, "ok\n"], made.stderr);
        const refusals: [string, RegExp][] = [
            ["iptables -t nat -S", /iptables: not found/],
            ["/usr/sbin/iptables -t nat -S", /Permission denied \(you must be root\)/],
            ["echo x > /etc/calico-stars-test", /cannot create \/etc\/calico-stars-test: Permission denied/],
            ["mkdir /var/lib/calico-stars-test", /Permission denied/],
            ["echo x > /var/tmp/made-by-root/file", /Permission denied/],
        ];
        for (const [command, error] of refusals) {
            const result = await runRemote(vagrant, command);
            assert.notEqual(result.code, 0, `${command} succeeded without sudo`);
            assert.match(result.stderr, error, command);
            const withSudo = await runRemote(vagrant, `sudo -n sh -c '${command} >/dev/null'`);
            assert.equal(withSudo.code, 0, `sudo -n ${command}: ${withSudo.stderr}`);
        }
        await runRemote(
            vagrant,
            "sudo -n rm -rf /etc/calico-stars-test /var/lib/calico-stars-test /var/tmp/made-by-root",
        );
        const root = await clientFor("cs-agent1");
        assert.equal(
            (
                await runRemote(
                    root,
                    "ls /etc/calico-stars-test /var/lib/calico-stars-test 2>&1 | grep -c 'No such file'",
                )
            ).stdout,
            "2\n",
        );
        assert.ok(!fs.existsSync("/etc/calico-stars-test"), "no file reached the machine's /etc");
    });

    it("leaves the machine's own passwd, group, shadow, hosts and sudoers as they were", function () {
        assert.deepEqual(machineEtc.filter((file) => fs.existsSync(file)).map(fingerprintOf), machineEtcBefore);
    });

    it("resolves names through the master in the agents' sessions", async function () {
        for (const name of ["cs-agent1", "cs-agent2"]) {
            const result = await runRemote(await clientFor(name), "cat /etc/resolv.conf");
            assert.equal(result.stdout, "nameserver 10.197.0.11\n");
        }
    });

    it("has no default route anywhere, and no address or route of Calico's until a container needs one", function () {
        for (const namespace of cluster.namespaces) {
            for (const family of ["-4", "-6"]) {
                assert.equal(
                    execFileSync("/usr/sbin/ip", [family, "-n", namespace, "route", "show", "default"], {
                        encoding: "utf8",
                    }),
                    "",
                    `${namespace} ${family}`,
                );
            }
            assert.doesNotMatch(
                execFileSync("/usr/sbin/ip", ["-n", namespace, "-4", "addr", "show"], { encoding: "utf8" }),
                /192\.168\./,
                namespace,
            );
            assert.doesNotMatch(
                execFileSync("/usr/sbin/ip", ["-n", namespace, "-4", "route", "show"], { encoding: "utf8" }),
                /192\.168\./,
                namespace,
            );
        }
    });

    it("has iptables in cs-master separate from the root namespace's", async function () {
        const rule = "-A OUTPUT -o lo -p tcp -m tcp --dport 9001 -j DNAT --to-destination 192.168.255.254:9001";
        const master = await clientFor("cs-master");
        const added = await runRemote(master, `iptables -t nat ${rule} && iptables -t nat -S OUTPUT`);
        try {
            assert.equal(added.code, 0, added.stderr);
            assert.ok(added.stdout.split("\n").includes(rule), added.stdout);
            assert.ok(
                !execFileSync("/usr/sbin/iptables", ["-t", "nat", "-S"], { encoding: "utf8" }).includes(
                    "192.168.255.254",
                ),
            );
        } finally {
            await runRemote(master, `iptables -t nat ${rule.replace("-A", "-D")}`);
        }
    });

    it("has the star image preloaded, runnable without a registry", async function () {
        this.timeout(20000);
        const agent2 = await clientFor("cs-agent2");
        const inspected = await runRemote(
            agent2,
            `/usr/bin/docker image inspect --format '{{.RepoTags}}' ${cluster.docker.image}`,
        );
        assert.equal(inspected.code, 0, inspected.stderr);
        assert.equal(inspected.stdout.trim(), `[${cluster.docker.image}]`);
        const binaries = "/star/target/debug/star-probe /star/target/debug/star-collect";
        const ran = await runRemote(
            agent2,
            `/usr/bin/docker run --rm --pull=never --network none ${cluster.docker.image} sh -c 'for f in ${binaries}; do test -x $f || exit 1; done; echo ok'`,
        );
        assert.deepEqual([ran.code, ran.stdout], [0, "ok\n"], ran.stderr);
    });

    it("reaches Marathon's GET /v2/info through a direct-tcpip channel of the master's sshd", async function () {
        const reply = await forwardedGet(await clientFor("cs-master"), 8080, "/v2/info");
        assert.equal(reply.status, 200, reply.body);
        assert.equal((JSON.parse(reply.body) as { name?: string }).name, "marathon");
    });

    it("creates a calico network whose profile has libnetwork's default rules", async function () {
        this.timeout(20000);
        const agent1 = await clientFor("cs-agent1");
        const created = await runRemote(
            agent1,
            "/usr/bin/docker network create --driver calico --ipam-driver calico --subnet=192.168.0.0/16 management-ui",
        );
        try {
            assert.equal(created.code, 0, created.stderr);
            const shown = await runRemote(agent1, "calicoctl profile management-ui rule show");
            assert.equal(shown.code, 0, shown.stdout + shown.stderr);
            assert.equal(
                shown.stdout,
                "Inbound rules:\n   1 allow from tag management-ui\nOutbound rules:\n   1 allow\n",
            );
        } finally {
            await runRemote(agent1, "/usr/bin/docker network rm management-ui");
        }
    });

    it("reports every component up", async function () {
        const { allUp, components } = await sandbox.status();
        assert.ok(allUp, JSON.stringify(components.filter((component) => !component.alive)));
    });

    it("only verifies when up is run again", async function () {
        const again = await sandbox.up();
        assert.deepEqual(
            again.hosts.map((each) => each.sshdPid),
            cluster.hosts.map((each) => each.sshdPid),
        );
        assert.deepEqual(
            again.hosts.map((each) => each.dockerdPid),
            cluster.hosts.map((each) => each.dockerdPid),
        );
    });

    it("with --root gives the program root without sudo, keeping the cluster, Pulumi's own keys and the user's other config; and vagrant again without", async function () {
        const pulumiOwn = "encryptionsalt: v1:c2FuZGJveA==:v1:AAAA:BBBB\n";
        const original = fs.readFileSync(cluster.pulumiConfigPath, "utf8");
        const userKey = "  calico-stars:deploymentTimeoutSeconds: 120\n";
        const edited = YAML.parseDocument(original);
        edited.setIn(
            ["config", "calico-stars:policy", "backend", "inbound", 2],
            "allow tcp from tag client to ports 9000",
        );
        edited.setIn(["config", "calico-stars:verifyPolicy"], false);
        fs.writeFileSync(
            cluster.pulumiConfigPath,
            pulumiOwn + edited.toString({ lineWidth: 0 }).replace("config:\n", `config:\n${userKey}`),
        );
        try {
            const asRoot = await sandbox.up({ root: true });
            assert.deepEqual(
                asRoot.hosts.map((each) => [each.user, each.sshdPid]),
                cluster.hosts.map((each) => ["root", each.sshdPid]),
            );
            assert.equal(asRoot.sudo, false);
            const written = fs.readFileSync(cluster.pulumiConfigPath, "utf8");
            assert.ok(written.startsWith(pulumiOwn), written);
            const config = YAML.parse(written).config;
            assert.deepEqual(config["calico-stars:master"], { address: "10.197.0.11", port: 22, user: "root" });
            assert.deepEqual(
                config["calico-stars:agents"].map((agent: { user: string }) => agent.user),
                ["root", "root"],
            );
            assert.equal(config["calico-stars:sudo"], false);
            assert.equal(config["calico-stars:deploymentTimeoutSeconds"], 120);
            assert.equal(config["calico-stars:policy"].backend.inbound[2], "allow tcp from tag client to ports 9000");
            assert.equal(config["calico-stars:verifyPolicy"], false);
            assert.deepEqual(
                JSON.parse(fs.readFileSync(path.join(stateDir, "cluster.json"), "utf8")).master.user,
                "root",
            );
            const again = await sandbox.up();
            assert.deepEqual([again.master.user, again.sudo], ["vagrant", true]);
            assert.equal(
                YAML.parse(fs.readFileSync(cluster.pulumiConfigPath, "utf8")).config["calico-stars:sudo"],
                true,
            );
        } finally {
            fs.writeFileSync(cluster.pulumiConfigPath, original);
        }
    });

    it("refuses to overwrite a Pulumi.sandbox.yaml it cannot read, before touching the cluster", async function () {
        const original = fs.readFileSync(cluster.pulumiConfigPath, "utf8");
        fs.writeFileSync(cluster.pulumiConfigPath, "config:\n  calico-stars:master: {address: [\n");
        try {
            await assert.rejects(
                sandbox.up({ root: true }),
                /Pulumi\.sandbox\.yaml is not valid YAML \(.*\): fix it or remove it/,
            );
            assert.equal(
                JSON.parse(fs.readFileSync(path.join(stateDir, "cluster.json"), "utf8")).master.user,
                "vagrant",
            );
        } finally {
            fs.writeFileSync(cluster.pulumiConfigPath, original);
        }
    });

    it("rebuilds the cluster when up follows a crash", async function () {
        this.timeout(60000);
        process.kill(cluster.master.sshdPid, "SIGKILL");
        // SIGKILL lands when the process is next scheduled: on a busy machine status could still find it alive
        await waitUntil("the killed sshd to be gone", async () => isZombie(String(cluster.master.sshdPid)), {
            timeoutMs: 2000,
            pauseMs: 20,
        });
        assert.equal((await sandbox.status()).allUp, false);
        closeClients();
        cluster = await sandbox.up();
        privateKey = fs.readFileSync(cluster.sshPrivateKeyPath);
        const result = await runRemote(await clientFor("cs-master"), "hostname");
        assert.equal(result.stdout, "cs-master\n");
    });

    it("leaves nothing behind when down follows a crash, sessions and Calico endpoints included", async function () {
        this.timeout(30000);
        const agent1 = await clientFor("cs-agent1");
        const detached = await runRemote(agent1, "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!");
        const sleeper = Number(detached.stdout);
        assert.ok(Number.isInteger(sleeper) && sleeper > 0, detached.stdout);
        const workload = await runRemote(
            agent1,
            "/usr/bin/docker network create --driver calico --ipam-driver calico crashed >/dev/null" +
                ` && /usr/bin/docker run -d --pull=never --net crashed ${cluster.docker.image} sleep 600 >/dev/null && ip -o link show | grep -c ' cali'`,
        );
        assert.deepEqual([workload.code, workload.stdout], [0, "1\n"], workload.stderr);
        for (const agent of cluster.agents) {
            process.kill(agent.calicoNodePid, "SIGKILL");
            process.kill(agent.pluginPid, "SIGKILL");
        }
        process.kill(host("cs-agent1").sshdPid, "SIGKILL");
        closeClients();
        await sandbox.down();
        assert.deepEqual(sandboxLeftovers(), []);
        assert.ok(
            !fs.existsSync(`/proc/${sleeper}`) || isZombie(String(sleeper)),
            `the session's detached process ${sleeper} survived`,
        );
    });
});

describe("sandbox cluster from a checkout under /tmp, a directory every host and dockerd get empty", function () {
    let copy: { sandbox: Sandbox; dir: string } | undefined;

    before(function () {
        const missing = sandboxUnavailable();
        if (missing !== undefined) {
            skipBecause(this, missing);
        }
    });

    after(async function () {
        this.timeout(30000);
        if (copy !== undefined) {
            await copy.sandbox.down();
            fs.rmSync(copy.dir, { recursive: true, force: true });
        }
    });

    it("comes up with sshd, the audited shell and dockerd reaching the checkout, and goes down leaving nothing", async function () {
        this.timeout(60000);
        const dir = fs.mkdtempSync("/tmp/calico-stars-checkout-");
        fs.cpSync(sandboxDir, path.join(dir, "sandbox"), {
            recursive: true,
            filter: (source) => !source.startsWith(stateDir),
        });
        // the sandbox's stack file takes the program's default policy from components/
        fs.mkdirSync(path.join(dir, "components"));
        fs.copyFileSync(
            path.resolve(sandboxDir, "../components/runbookPolicy.json"),
            path.join(dir, "components", "runbookPolicy.json"),
        );
        // as a checkout after `npm ci` (Mesos-DNS needs dns-packet)
        fs.symlinkSync(path.resolve(sandboxDir, "../node_modules"), path.join(dir, "node_modules"));
        // the copy's own compiled cli, so its layout is the copy's; a module known only at run time
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- its path is the copy's
        copy = { sandbox: require(path.join(dir, "sandbox", "dist", "cli.js")) as Sandbox, dir };
        const cluster = await copy.sandbox.up();
        assert.ok(cluster.sshPrivateKeyPath.startsWith(`${dir}/`), cluster.sshPrivateKeyPath);
        const client = await connect(cluster.master, fs.readFileSync(cluster.sshPrivateKeyPath));
        try {
            assert.equal((await runRemote(client, "hostname")).stdout, "cs-master\n");
        } finally {
            client.end();
        }
        assert.ok(auditEntries(cluster.master).some((entry) => entry.command === "hostname"));
        assert.equal(cluster.docker.image, "djosborne/star:v0.5.0");
        await copy.sandbox.down();
        assert.deepEqual(sandboxLeftovers(path.join(dir, "sandbox")), []);
    });
});
