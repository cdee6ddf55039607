// Faults on the sandbox cluster while the program runs through the real dynamic provider host: each
// failed run must say what failed where, and the next run must converge to exactly what is declared.
// Needs root and the sandbox's Debian packages; skips, saying so, without them.
import type { MarathonApp, MarathonGroup } from "@calico-stars/providers/marathon";
import { waitUntil } from "../../sandbox/lib/wait";
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runbookPolicy } from "../../components/config";
import { managedResources, RunError, RunResult } from "../../engine";
import { restartEtcd, restartSshd, stopEtcd, stopSshd } from "../support/sandboxFaults";
import { profiles, SandboxStack, sandboxStackConfig, sshHostOf } from "../../scripts/sandboxStack";
import { startStackOrSkip } from "../support/sandboxStack";
import { startSshAgent } from "../support/sshAgent";

type Policy = typeof runbookPolicy;

describe("faults on the sandbox: a clear error, then convergence", function () {
    this.timeout(180000);
    let stack: SandboxStack;
    let keyDir: string;
    let policy: Policy = runbookPolicy;
    let dnsStyle: "hyphen" | "dot" = "hyphen";
    /** Every error and diagnostic line of every run, and the state after each, for the secrets check at the end. */
    const seen: string[] = [];
    const states: string[] = [];
    const faultsInjected: string[] = [];

    const record = (result: RunResult) => {
        seen.push(...result.diagnostics);
        states.push(stack.engine.stateText());
    };
    const up = async () => {
        const result = await stack.engine.up();
        record(result);
        return result;
    };
    /** The run must fail with an error matching `pattern`; what it printed is kept. */
    const fails = async (fault: string, run: () => Promise<RunResult>, pattern: RegExp): Promise<string> => {
        faultsInjected.push(fault);
        let message = "";
        await assert.rejects(run(), (error: Error) => {
            assert.ok(error instanceof RunError, String(error));
            message = error.message;
            seen.push(message, ...error.result.diagnostics);
            states.push(stack.engine.stateText());
            assert.match(message, pattern);
            return true;
        });
        return message;
    };
    const converges = async () => {
        await up();
        await stack.assertConverged(policy);
    };
    /** One rule more for `profile`: a change the program applies on the agent with calicoctl. */
    const changePolicy = (profile: string, rule: string) => {
        policy = { ...policy, [profile]: { ...policy[profile], inbound: [...policy[profile].inbound, rule] } };
        stack.engine.setConfig("calico-stars:policy", JSON.stringify(policy));
    };
    /** Another Mesos-DNS style: a change of the Marathon group, which the program PUTs through the master. */
    const changeGroup = () => {
        dnsStyle = dnsStyle === "hyphen" ? "dot" : "hyphen";
        stack.engine.setConfig("calico-stars:mesosDnsStyle", dnsStyle);
    };
    const withoutAuditGrowth = async (what: () => Promise<unknown>) => {
        const before = new Set(stack.auditEntries());
        await what();
        assert.deepStrictEqual(
            stack.auditEntries().filter((entry) => !before.has(entry)),
            [],
            "no command reached any host",
        );
    };

    before(async function () {
        keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-faults-"));
        execFileSync("ssh-keygen", [
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "stranger",
            "-f",
            path.join(keyDir, "stranger"),
        ]);
        stack = await startStackOrSkip(this);
        await converges();
    });

    after(async function () {
        await stack?.close();
        if (keyDir) {
            fs.rmSync(keyDir, { recursive: true, force: true });
        }
        console.log(`      faults injected: ${faultsInjected.length} (${faultsInjected.join("; ")})`);
    });

    describe("SSH", function () {
        it("names the master when its sshd refuses connections, and converges once it is back", async function () {
            await stopSshd("cs-master", { sessions: true });
            changeGroup();
            await fails("sshd down on the master", up, /cannot connect to vagrant@10\.197\.0\.11:22: .*ECONNREFUSED/);
            await restartSshd("cs-master");
            await converges();
        });

        it("names the master when its sshd dies in the middle of an up, and converges once it is back", async function () {
            await stack.marathonFaults({ hangDeployments: true });
            changeGroup();
            const running = up();
            running.catch(() => undefined);
            await waitUntil(
                "the group's deployment to start",
                async () => JSON.parse((await stack.marathon("GET", "/v2/deployments")).body).length > 0,
                { timeoutMs: 30000, pauseMs: 100 },
            );
            await stopSshd("cs-master", { sessions: true });
            await fails("sshd killed mid-up on the master", () => running, /vagrant@10\.197\.0\.11:22/);
            await restartSshd("cs-master");
            await stack.marathonFaults("reset");
            await converges();
        });

        it("refuses a wrong user at login, runs nothing, and converges with the right one", async function () {
            const master = JSON.parse(sandboxStackConfig(stack.cluster)["calico-stars:master"]);
            stack.engine.setConfig("calico-stars:master", JSON.stringify({ ...master, user: "intruder" }));
            try {
                await withoutAuditGrowth(() =>
                    fails(
                        "wrong user",
                        up,
                        /cannot log in to intruder@10\.197\.0\.11:22: the server refused every offered key/,
                    ),
                );
            } finally {
                stack.engine.setConfig("calico-stars:master", JSON.stringify(master));
            }
            await converges();
        });

        /**
         * The providers' pool names the host; @pulumi/command (v1.2.1, retrying every dial error) names its resource
         * and the attempts (an update when the prep's connection changed).
         */
        const wrongKey =
            /(cannot log in to vagrant@10\.197\.0\.1[1-3]:22: the server refused every offered key|(Create|Update) of agent-prep-10\.197\.0\.1[23] \(command:remote:Command\) failed: after 3 failed attempts: ssh: handshake failed: ssh: unable to authenticate, attempted methods \[none publickey\], no supported methods remain)/;

        it("refuses a wrong key at login, runs nothing, and converges with the right one", async function () {
            const keyPath = stack.cluster.sshPrivateKeyPath;
            stack.engine.setConfig("calico-stars:sshPrivateKeyPath", path.join(keyDir, "stranger"));
            changePolicy("client", "allow tcp from tag frontend to ports 9000");
            // whichever host is reached first refuses it: the providers' pool, or an agent's @pulumi/command prep
            try {
                await withoutAuditGrowth(() => fails("wrong key", up, wrongKey));
            } finally {
                stack.engine.setConfig("calico-stars:sshPrivateKeyPath", keyPath);
            }
            await converges();
        });

        it("refuses a wrong key even while an ssh-agent holds the right one: neither the providers nor @pulumi/command offer the agent's keys after a key", async function () {
            const keyPath = stack.cluster.sshPrivateKeyPath;
            const agent = await startSshAgent([keyPath]);
            const environment = process.env.SSH_AUTH_SOCK;
            // the agent is in the environment of pulumi and of every plugin and provider process it starts
            process.env.SSH_AUTH_SOCK = agent.socket;
            stack.engine.setConfig("calico-stars:sshPrivateKeyPath", path.join(keyDir, "stranger"));
            changePolicy("client", "allow udp from tag frontend to ports 53");
            try {
                await withoutAuditGrowth(() => fails("wrong key, right key in an ssh-agent", up, wrongKey));
            } finally {
                stack.engine.setConfig("calico-stars:sshPrivateKeyPath", keyPath);
                if (environment === undefined) {
                    delete process.env.SSH_AUTH_SOCK;
                } else {
                    process.env.SSH_AUTH_SOCK = environment;
                }
                await agent.stop();
            }
            await converges();
        });

        it("refuses a host whose key does not match, never accepting it, and converges with the right key", async function () {
            const strangerKey = fs.readFileSync(path.join(keyDir, "stranger.pub"), "utf8").trim();
            stack.engine.setConfig(
                "calico-stars:hostKeys",
                JSON.stringify({ ...stack.cluster.hostKeys, "10.197.0.12": [strangerKey] }),
            );
            changePolicy("client", "allow udp from tag backend to ports 53");
            try {
                await withoutAuditGrowth(() =>
                    fails(
                        "host key mismatch",
                        up,
                        /(refusing vagrant@10\.197\.0\.12:22: host key SHA256:\S+ is not among the configured hostKeys|(Create|Update) of agent-prep-10\.197\.0\.12 \(command:remote:Command\) failed: after 3 failed attempts: ssh: handshake failed: ssh: host key mismatch)/,
                    ),
                );
            } finally {
                stack.engine.setConfig("calico-stars:hostKeys", JSON.stringify(stack.cluster.hostKeys));
            }
            await converges();
        });
    });

    describe("Marathon", function () {
        it("waits out a deployment another client started (409), then applies", async function () {
            await stack.marathonFaults({ deployDelayMs: 1500 });
            const group = JSON.parse((await stack.marathon("GET", "/v2/groups/calico-stars")).body) as MarathonGroup;
            // The collector is left alone: its fixed ip makes a restart under the default upgradeStrategy hang
            // (test/sandbox/workload.test.ts), and this test is about the 409.
            const fixedIp = (app: MarathonApp) => app.container.docker.parameters.some((p) => p.key === "ip");
            const byHand = group.apps.map((app) => ({
                ...app,
                cmd: fixedIp(app) ? app.cmd : `${app.cmd} `,
                version: undefined,
            }));
            assert.strictEqual(
                (await stack.marathon("PUT", "/v2/groups/calico-stars", { id: "/calico-stars", apps: byHand })).status,
                200,
            );
            faultsInjected.push("409 deployment lock");
            changeGroup();
            await converges();
            const cmds = (
                JSON.parse((await stack.marathon("GET", "/v2/groups/calico-stars")).body) as MarathonGroup
            ).apps.map((a) => a.cmd);
            assert.ok(
                cmds.every((cmd: string) => !cmd.endsWith(" ")),
                "the program's definition won over the hand edit",
            );
            await stack.marathonFaults("reset");
        });

        it("names Marathon, the SSH hop and the request on a 500, and converges on the next up", async function () {
            await stack.marathonFaults({ failNext: { status: 500, count: 1, method: "PUT" } });
            changeGroup();
            await fails(
                "Marathon 500",
                up,
                /Marathon 127\.0\.0\.1:8080 via vagrant@10\.197\.0\.11:22: PUT \/calico-stars: HTTP 500/,
            );
            await converges();
        });

        it("shows where a deployment that never finishes stands when it times out, and converges after", async function () {
            await stack.marathonFaults({ hangDeployments: true });
            stack.engine.setConfig("calico-stars:deploymentTimeoutSeconds", "2");
            changeGroup();
            await fails(
                "deployment never finishes",
                up,
                /Marathon 127\.0\.0\.1:8080 via vagrant@10\.197\.0\.11:22: PUT \/calico-stars: deployment not finished within 2 s: \S+ at step \d+\/\d+ \(/,
            );
            await stack.marathonFaults("reset");
            stack.engine.setConfig("calico-stars:deploymentTimeoutSeconds", "60");
            await converges();
        });

        it("reports a group deleted by hand on refresh, and up puts it back", async function () {
            assert.strictEqual((await stack.marathon("DELETE", "/v2/groups/calico-stars?force=true")).status, 200);
            faultsInjected.push("group deleted by hand");
            await waitUntil(
                "the deletion",
                async () => JSON.parse((await stack.marathon("GET", "/v2/deployments")).body).length === 0,
                { timeoutMs: 30000, pauseMs: 100 },
            );
            const refreshed = await stack.engine.refresh();
            record(refreshed);
            assert.deepStrictEqual(
                refreshed.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name]),
                [["delete", "marathon-group"]],
            );
            await converges();
        });
    });

    describe("Calico and etcd", function () {
        it("reports a network and profile removed by hand on refresh, and up rebuilds both", async function () {
            // Docker removes no network a container uses: the client task's container goes with it, on its agent
            const [task] = JSON.parse((await stack.marathon("GET", "/v2/apps/calico-stars/client/tasks")).body).tasks;
            const taskAgent = sshHostOf(stack.cluster.agents.find((agent) => agent.address === task.host));
            await stack.on(taskAgent, [
                "sh",
                "-c",
                "docker rm -f $(docker ps -q --filter network=client) && docker network rm client",
            ]);
            faultsInjected.push("network and profile removed by hand");
            const refreshed = await stack.engine.refresh();
            record(refreshed);
            // calicoctl shows a tag whose network is gone as the old network's ID: drift in every profile naming it
            const naming = profiles.filter(
                (p) =>
                    p !== "client" &&
                    [...policy[p].inbound, ...policy[p].outbound].some((rule) => / tag client( |$)/.test(rule)),
            );
            assert.deepStrictEqual(
                refreshed.steps
                    .filter((s) => s.op !== "same")
                    .map((s) => [s.op, s.name])
                    .sort(),
                [
                    ["delete", "network-client"],
                    ["delete", "profile-client"],
                    ...naming.map((p) => ["update", `profile-${p}`]),
                ].sort(),
            );
            await converges();
        });

        it("names calicoctl, the host and etcd's error when etcd is down, and converges once it is back", async function () {
            await stopEtcd();
            changePolicy("backend", "allow tcp from tag client to ports 9000");
            await fails(
                "etcd unreachable",
                up,
                /on vagrant@10\.197\.0\.12:22: `.*calicoctl profile backend rule update` exited 1: .*(etcd|10\.197\.0\.11:2379)/i,
            );
            await restartEtcd();
            await converges();
        });
    });

    describe("Docker", function () {
        it("names the network a container still uses when destroy cannot remove it, and destroys once it is free", async function () {
            const container = (
                await stack.on(stack.agent, [
                    "docker",
                    "run",
                    "-d",
                    "--net",
                    "client",
                    stack.cluster.docker.image,
                    "sleep",
                    "600",
                ])
            ).trim();
            try {
                // Pulumi deletes in dependency levels and starts no level after a failure; each network depends on the
                // one before it, so backend and frontend go first, and network-client, the network before it and the
                // level after them (the group's claim) stay
                await fails(
                    "network in use on destroy",
                    () => stack.engine.destroy({ parallel: 8 }),
                    /Delete of network-client \(.*\) failed: .*docker network rm [0-9a-f]+` exited 1: .*network client id [0-9a-f]+ has active endpoints/,
                );
                // the network carries the owner id, so the id's level waits and the id stays in state as long as the
                // network does
                assert.deepStrictEqual(managedResources(stack.engine.state()), [
                    "owner",
                    "marathon-group-claim",
                    "network-management-ui",
                    "network-client",
                ]);
                assert.deepStrictEqual(await stack.networks(), ["client", "management-ui"]);
            } finally {
                await stack.on(stack.agent, ["docker", "rm", "-f", container]);
            }
            record(await stack.engine.destroy());
            assert.deepStrictEqual(managedResources(stack.engine.state()), []);
            assert.deepStrictEqual([await stack.networks(), await stack.natRules()], [[], []]);
            await converges();
        });
    });

    describe("interrupted and hand-cleaned runs", function () {
        it("destroys cleanly after everything was removed by hand", async function () {
            await stack.marathon("DELETE", "/v2/groups/calico-stars?force=true");
            // the tasks' containers go first: Docker removes no network a container uses
            await waitUntil(
                "the deletion",
                async () => JSON.parse((await stack.marathon("GET", "/v2/deployments")).body).length === 0,
                { timeoutMs: 30000, pauseMs: 100 },
            );
            for (const profile of profiles) {
                await stack.on(stack.agent, ["docker", "network", "rm", profile]);
            }
            for (const rule of await stack.natRules()) {
                await stack.on(stack.master, ["sh", "-c", `iptables -t nat ${rule.replace(/^-A /, "-D ")}`]);
            }
            faultsInjected.push("everything removed by hand before destroy");
            record(await stack.engine.destroy());
            assert.deepStrictEqual(managedResources(stack.engine.state()), []);
            assert.deepStrictEqual([await stack.networks(), await stack.natRules()], [[], []]);
        });

        it("after an up killed mid-run, does what README tells a user (cancel, refresh --clear-pending-creates, up) and converges with nothing lost or duplicated", async function () {
            const auditLog = stack.cluster.agents[0].auditLog;
            const creates = () =>
                fs
                    .readFileSync(auditLog, "utf8")
                    .split("\n")
                    .filter((line) => line.includes("docker network create")).length;
            const before = creates();
            const running = up();
            running.catch(() => undefined);
            await waitUntil("the first network create", async () => creates() > before, {
                timeoutMs: 30000,
                pauseMs: 100,
            });
            await stack.engine.close();
            await fails("up killed mid-run", () => running, /the update was killed before it finished/);
            const pending = stack.engine.state().deployment.pending_operations ?? [];
            assert.ok(
                pending.some((op) => op.type === "creating" && op.resource.urn.includes("::network-")),
                JSON.stringify(pending.map((op) => [op.type, op.resource.urn])),
            );
            // the killed run's lock: the next run is refused until `pulumi cancel`
            await fails(
                "stack locked by the killed up",
                up,
                /the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\./,
            );
            stack.engine.cancel();
            record(await stack.engine.refresh({ clearPendingCreates: true }));
            assert.strictEqual(stack.engine.state().deployment.pending_operations, undefined);
            await converges();
            const urns = stack.engine.state().deployment.resources.map((r) => r.urn);
            assert.deepStrictEqual(urns, [...new Set(urns)], "each resource once in state");
            assert.strictEqual(stack.engine.state().deployment.pending_operations, undefined);
            record(await stack.engine.destroy());
            assert.deepStrictEqual([await stack.networks(), await stack.natRules()], [[], []]);
        });
    });

    describe("secrets", function () {
        it("never shows the private key in state, a serialized provider, a log line or an error", function () {
            const key = fs.readFileSync(stack.cluster.sshPrivateKeyPath, "utf8");
            const keyLines = key.split("\n").filter((line) => line.length >= 20 && !line.startsWith("-----"));
            assert.ok(keyLines.length > 0);
            const places: Record<string, string> = {
                "the state after every run (pulumi stack export, serialized __provider included)": states.join("\n"),
                "errors and diagnostics of every run": seen.join("\n"),
                "the hosts' audit logs": stack.cluster.hosts.map((h) => fs.readFileSync(h.auditLog, "utf8")).join("\n"),
            };
            assert.ok(
                states.some((state) => state.includes("__provider")) &&
                    states.some((state) => state.includes("ciphertext")),
                "the states checked hold serialized providers and the secret key of remote.Command",
            );
            for (const [place, text] of Object.entries(places)) {
                assert.ok(!keyLines.some((line) => text.includes(line)), `the key shows in ${place}`);
            }
        });
    });
});
