// The sandbox's workload (sandbox/marathon.ts, sandbox/mesosAgent.ts, sandbox/mesosDns.ts): Marathon runs each
// task as a real container on an agent's dockerd, counts what really runs, follows the app's upgrade strategy
// (a fixed address makes the default one hang), restarts what exits, kills what it deletes; Mesos-DNS answers
// for running tasks; the fetcher copies from the agent's own view. Needs root and the sandbox's programs.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import * as sandbox from "../../sandbox/cli";
import { image } from "../../sandbox/lib/layout";
import type { AgentStateJson } from "../../sandbox/mesos/protocol";
import { sandboxUnavailable } from "../../sandbox/cli";
import { sandboxLeftovers } from "../support/sandboxLeftovers";
import { MarathonTask, waitFor, Workload } from "../support/workload";

const fixedIp = "192.168.255.250";

function app(
    id: string,
    cmd: string,
    network: string,
    extra: object = {},
    parameters: { key: string; value: string }[] = [],
) {
    return {
        id,
        cmd,
        cpus: 0.1,
        mem: 32,
        container: { type: "DOCKER", docker: { image, parameters: [{ key: "net", value: network }, ...parameters] } },
        ...extra,
    };
}

/** What `docker inspect` shows of a container, in the fields these tests read (Docker Engine API, ContainerJSON). */
interface InspectedContainer {
    Config: { Env: string[]; Entrypoint: string[]; Cmd: string[] };
    State: { Running: boolean };
    NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
    Mounts: { Destination: string }[];
}

describe("the sandbox's workload: Marathon's tasks on the Mesos agents, and Mesos-DNS", function () {
    this.timeout(120000);
    let cluster: sandbox.Cluster;
    let workload: Workload;

    before(async function () {
        const missing = sandboxUnavailable();
        if (missing) {
            console.log(`      skipped: ${missing}`);
            this.skip();
        }
        cluster = await sandbox.up();
        workload = new Workload(cluster);
        const agent = cluster.agents[0];
        await workload.docker(agent, [
            "network",
            "create",
            "--driver",
            "calico",
            "--ipam-driver",
            "calico",
            "--subnet=192.168.0.0/16",
            "work-fixed",
        ]);
        await workload.docker(agent, ["network", "create", "--driver", "calico", "--ipam-driver", "calico", "work"]);
    });

    after(async function () {
        await sandbox.down();
    });

    it("runs each instance as a container on an agent, and counts it running", async function () {
        const deploymentId = await workload.putGroup({
            id: "/counted",
            apps: [{ ...app("sleeper", "sleep 1000", "work"), instances: 2 }],
        });
        await workload.waitUntilDeployed(deploymentId);
        const tasks = await workload.tasks("/counted/sleeper");
        const containers = await workload.mesosContainers();
        assert.strictEqual((await workload.app("/counted/sleeper")).tasksRunning, 2);
        assert.strictEqual(containers.length, 2, containers.join(", "));
        for (const task of tasks) {
            const agent = workload.agentOf(task);
            const inspected = JSON.parse(
                await workload.docker(agent, ["inspect", ...containers]).catch(() => "[]"),
            ) as InspectedContainer[];
            const container = inspected.find((c) => c.Config.Env.includes(`MESOS_TASK_ID=${task.id}`));
            assert.ok(container, `no container on ${agent.name} runs task ${task.id}`);
            assert.deepStrictEqual(
                [
                    container.State.Running,
                    container.NetworkSettings.Networks.work.IPAddress,
                    container.Config.Entrypoint,
                    container.Config.Cmd,
                ],
                [true, task.ipAddresses[0].ipAddress, ["/bin/sh"], ["-c", "sleep 1000"]],
            );
            assert.ok(
                container.Mounts.some((mount) => mount.Destination === "/mnt/mesos/sandbox"),
                "the task's sandbox is mounted at /mnt/mesos/sandbox",
            );
        }
        await workload.deleteGroup("/counted");
    });

    it("keeps a deployment listed while its task cannot run (an image the agents do not have)", async function () {
        const missingImage = {
            ...app("pull", "sleep 1000", "work"),
            container: { type: "DOCKER", docker: { image: "djosborne/star:missing", parameters: [] } },
        };
        const deploymentId = await workload.putGroup({ id: "/unpulled", apps: [missingImage] });
        await sleep(4000);
        const listed = (await workload.deployments()).find((deployment) => deployment.id === deploymentId);
        assert.deepStrictEqual(listed?.currentActions, [{ action: "ScaleApplication", app: "/unpulled/pull" }]);
        assert.strictEqual((await workload.app("/unpulled/pull")).tasksRunning, 0);
        await workload.deleteGroup("/unpulled");
    });

    it("restarts a task whose container exits, after the app's backoff (1 s)", async function () {
        const deploymentId = await workload.putGroup({ id: "/restarted", apps: [app("victim", "sleep 1000", "work")] });
        await workload.waitUntilDeployed(deploymentId);
        const [first] = await workload.tasks("/restarted/victim");
        const containers = await workload.docker(workload.agentOf(first), ["ps", "-q", "--filter", `name=^mesos-`]);
        const killedAt = Date.now();
        for (const id of containers.split("\n").filter(Boolean))
            await workload.docker(workload.agentOf(first), ["kill", id]);
        const next = await waitFor("a new task to run", async () => {
            const tasks = await workload.tasks("/restarted/victim");
            return tasks.find((task) => task.id !== first.id && task.startedAt !== null);
        });
        const delay = Date.parse(next.stagedAt) - killedAt;
        assert.ok(delay >= 950, `the new task was launched ${delay} ms after the old one was killed`);
        assert.deepStrictEqual(
            (await workload.tasks("/restarted/victim")).map((task) => task.id),
            [next.id],
        );
        await workload.deleteGroup("/restarted");
    });

    describe("an upgrade of an app with a fixed address (the collector's `ip` parameter)", function () {
        const fixedApp = (cmd: string, strategy?: object) =>
            app("collector", cmd, "work-fixed", strategy ? { upgradeStrategy: strategy } : {}, [
                { key: "ip", value: fixedIp },
            ]);

        it("hangs with the default upgradeStrategy: the new task cannot have the address the old one holds", async function () {
            await workload.waitUntilDeployed(await workload.putGroup({ id: "/fixed", apps: [fixedApp("sleep 1000")] }));
            const [old] = await workload.tasks("/fixed/collector");
            assert.strictEqual(old.ipAddresses[0].ipAddress, fixedIp);
            const deploymentId = await workload.putGroup({ id: "/fixed", apps: [fixedApp("sleep 2000")] });
            await sleep(6000);
            const listed = (await workload.deployments()).find((deployment) => deployment.id === deploymentId);
            assert.deepStrictEqual(
                listed?.currentActions,
                [{ action: "RestartApplication", app: "/fixed/collector" }],
                "the deployment still runs",
            );
            const tasks = await workload.tasks("/fixed/collector");
            assert.ok(
                tasks.some((task) => task.id === old.id && task.startedAt !== null),
                "the old task still runs",
            );
            const failures = await failedTasks("/fixed/collector");
            assert.ok(failures.length >= 2, `the new task was tried again and again (${failures.length} failures)`);
            assert.match(
                failures[0].stderr,
                new RegExp(`The address ${fixedIp.replace(/\./g, "\\.")} is already in use`),
            );
            await workload.deleteGroup("/fixed");
        });

        it("completes with upgradeStrategy {0, 0}: the old task goes first and frees the address", async function () {
            const killFirst = { minimumHealthCapacity: 0, maximumOverCapacity: 0 };
            await workload.waitUntilDeployed(
                await workload.putGroup({ id: "/fixed-stop-first", apps: [fixedApp("sleep 1000", killFirst)] }),
            );
            const [old] = await workload.tasks("/fixed-stop-first/collector");
            await workload.waitUntilDeployed(
                await workload.putGroup({ id: "/fixed-stop-first", apps: [fixedApp("sleep 2000", killFirst)] }),
            );
            const tasks = await workload.tasks("/fixed-stop-first/collector");
            assert.deepStrictEqual(
                tasks.map((task) => [task.id === old.id, task.ipAddresses[0]?.ipAddress]),
                [[false, fixedIp]],
            );
            await workload.deleteGroup("/fixed-stop-first");
        });
    });

    it("kills the containers of a deleted group", async function () {
        const deploymentId = await workload.putGroup({
            id: "/doomed",
            apps: [app("one", "sleep 1000", "work"), app("two", "sleep 1000", "work")],
        });
        await workload.waitUntilDeployed(deploymentId);
        assert.strictEqual((await workload.mesosContainers()).length, 2);
        await workload.deleteGroup("/doomed");
        assert.deepStrictEqual(await workload.mesosContainers(), []);
    });

    describe("Mesos-DNS", function () {
        let task: MarathonTask;

        before(async function () {
            await workload.waitUntilDeployed(
                await workload.putGroup({ id: "/named/group", apps: [app("web", "sleep 1000", "work")] }),
            );
            [task] = await workload.tasks("/named/group/web");
        });

        it("answers <task>.marathon.mesos with the task's Calico address, over UDP and TCP, the task name's dots as hyphens", async function () {
            const expected = { rcode: "NOERROR", addresses: [task.ipAddresses[0].ipAddress] };
            await waitFor(
                "the record",
                async () => (await workload.dns("web-group-named.marathon.mesos")).addresses.length > 0,
                5000,
            );
            assert.deepStrictEqual(await workload.dns("web-group-named.marathon.mesos"), expected);
            assert.deepStrictEqual(await workload.dns("web-group-named.marathon.mesos", { tcp: true }), expected);
        });

        it("answers NXDOMAIN for the dotted form and for unknown names, and AAAA for a known name without records", async function () {
            assert.deepStrictEqual(await workload.dns("web.group.named.marathon.mesos"), {
                rcode: "NXDOMAIN",
                addresses: [],
            });
            assert.deepStrictEqual(await workload.dns("nobody.marathon.mesos"), { rcode: "NXDOMAIN", addresses: [] });
            assert.deepStrictEqual(await workload.dns("web-group-named.marathon.mesos", { type: "AAAA" }), {
                rcode: "NOERROR",
                addresses: [],
            });
        });

        it("is the resolver of the containers, through Docker's embedded DNS", async function () {
            const agent = workload.agentOf(task);
            const [container] = (await workload.docker(agent, ["ps", "-q", "--filter", "name=^mesos-"]))
                .split("\n")
                .filter(Boolean);
            const answer = await workload.docker(agent, [
                "exec",
                container,
                "nslookup",
                "web-group-named.marathon.mesos",
            ]);
            assert.match(answer, new RegExp(`Address: ${task.ipAddresses[0].ipAddress.replace(/\./g, "\\.")}`));
        });

        it("forgets a task once it no longer runs", async function () {
            await workload.deleteGroup("/named");
            await waitFor(
                "NXDOMAIN",
                async () => (await workload.dns("web-group-named.marathon.mesos")).rcode === "NXDOMAIN",
                5000,
            );
        });
    });

    it("fetches a file:// URI from the agent's own view of its files into the task's sandbox, at $MESOS_SANDBOX", async function () {
        for (const agent of cluster.agents) {
            const sshd = cluster.hosts.find((host) => host.name === agent.name)!;
            execFileSync("/usr/bin/nsenter", [
                `--target=${sshd.sshdPid}`,
                "--mount",
                "--",
                "/bin/sh",
                "-c",
                `mkdir -p /var/tmp/work-fetch && echo '["written on ${agent.name}"]' > /var/tmp/work-fetch/fetched.json`,
            ]);
        }
        assert.ok(
            !fs.existsSync("/var/tmp/work-fetch/fetched.json") ||
                fs.readFileSync("/var/tmp/work-fetch/fetched.json", "utf8") === "",
            "the file is only in the agents' private /var/tmp",
        );
        const fetching = {
            ...app("fetcher", "cat $MESOS_SANDBOX/fetched.json; sleep 1000", "work"),
            uris: ["file:///var/tmp/work-fetch/fetched.json"],
        };
        await workload.waitUntilDeployed(await workload.putGroup({ id: "/fetched", apps: [fetching] }));
        const [task] = await workload.tasks("/fetched/fetcher");
        const agent = workload.agentOf(task);
        const mesosAgent = cluster.mesosAgents.find((candidate) => candidate.host === agent.name)!;
        const runs = path.join(
            mesosAgent.workDir,
            "slaves",
            mesosAgent.id,
            "frameworks",
            task.slaveId.replace(/-S\d+$/, "-0000"),
            "executors",
            task.id,
            "runs",
        );
        const [run] = fs.readdirSync(runs);
        assert.strictEqual(
            fs.readFileSync(path.join(runs, run, "fetched.json"), "utf8"),
            `["written on ${agent.name}"]\n`,
        );
        await waitFor(
            "the task's output",
            async () => fs.readFileSync(path.join(runs, run, "stdout"), "utf8") === `["written on ${agent.name}"]\n`,
            5000,
        );
        await workload.deleteGroup("/fetched");
    });

    // last: mocha runs a suite's own tests before its nested suites
    describe("down", function () {
        it("after a crash of Marathon and the agents leaves no container, process or task sandbox behind", async function () {
            await workload.waitUntilDeployed(
                await workload.putGroup({
                    id: "/crashed",
                    apps: [{ ...app("left", "sleep 1000", "work"), instances: 2 }],
                }),
            );
            const crashed = [cluster.marathon, ...cluster.mesosAgents].map((service) => service.pid);
            crashed.forEach((pid) => process.kill(pid, "SIGKILL"));
            assert.strictEqual((await workload.mesosContainers()).length, 2, "the containers outlive the crash");
            await sandbox.down();
            assert.deepStrictEqual(sandboxLeftovers(), []);
        });
    });

    /** The ended tasks of an app on every agent (the agents' /state), with each task's stderr. */
    async function failedTasks(appId: string): Promise<{ id: string; message: string; stderr: string }[]> {
        const failures = await Promise.all(
            cluster.mesosAgents.map(async (agent) => {
                const state = (await (await fetch(`${agent.url}/state`)).json()) as AgentStateJson;
                return state.frameworks
                    .flatMap((framework) => framework.completed_executors)
                    .filter(
                        (executor) =>
                            executor.completed_tasks[0]?.state === "TASK_FAILED" &&
                            executor.id.startsWith(appId.slice(1).replace(/\//g, "_") + "."),
                    )
                    .map((executor) => ({
                        id: executor.id,
                        message: executor.completed_tasks[0].statuses.at(-1)?.message ?? "",
                        stderr: fs.readFileSync(path.join(executor.directory, "stderr"), "utf8"),
                    }));
            }),
        );
        return failures.flat();
    }
});
