// The sandbox's Marathon stand-in beyond groups: deployments, tasks and upgrades, other routes, its files, fault
// injection and command line.
import * as assert from "assert";
import { spawn } from "child_process";
import * as path from "path";
import * as fs from "fs";
import { setTimeout as sleep } from "timers/promises";
import {
    marathonStandinSuite,
    App,
    call,
    ChangeReply,
    deployDelayMs,
    Group,
    Message,
    offerIntervalMs,
    probe,
    marathonScript,
    startMarathon,
    Task,
    waitFor,
} from "../support/marathonStandin";

describe("sandbox Marathon stand-in: deployments, tasks, routes, files and faults", function () {
    const { api, putGroup, listDeployments, isListed, holdDeployments, waitUntilFinished, deployedGroup, suite } =
        marathonStandinSuite();

    describe("DELETE /v2/deployments/{id}", function () {
        it("rolls back: a new deployment restores the group's previous definition", async function () {
            await holdDeployments();
            const created = await putGroup("rolled-back", { apps: [probe("client")] });
            const { status, body } = await api<ChangeReply>("DELETE", `/v2/deployments/${created.body.deploymentId}`);
            assert.strictEqual(status, 200);
            assert.notStrictEqual(body.deploymentId, created.body.deploymentId);
            assert.deepStrictEqual((await listDeployments()).find(({ id }) => id === body.deploymentId)?.steps, [
                [{ action: "StopApplication", app: "/rolled-back/client" }],
            ]);
            assert.strictEqual((await api("GET", "/v2/groups/rolled-back")).status, 404);
        });

        it("with force=true answers 202 and only removes the deployment", async function () {
            await holdDeployments();
            const created = await putGroup("stopped", { apps: [probe("client")] });
            const { status } = await api("DELETE", `/v2/deployments/${created.body.deploymentId}?force=true`);
            assert.deepStrictEqual([status, await isListed(created.body.deploymentId)], [202, false]);
            assert.strictEqual((await api("GET", "/v2/groups/stopped")).status, 200);
        });

        it("answers 404 with Marathon's text for an unknown deployment", async function () {
            const { status, body } = await api<Message>("DELETE", "/v2/deployments/no-such-plan");
            assert.deepStrictEqual([status, body], [404, { message: "DeploymentPlan no-such-plan does not exist" }]);
        });
    });

    describe("tasks and upgrades", function () {
        const taskCounts = async (appPath: string) =>
            (await api<{ tasks: Task[] }>("GET", `/v2/apps/${appPath}/tasks`)).body.tasks;

        it("names each task after its app's safe path and lists it under the app", async function () {
            await deployedGroup("named", [probe("client")]);
            const tasks = await taskCounts("named/client");
            assert.strictEqual(tasks.length, 1);
            assert.match(tasks[0].id, /^named_client\.[0-9a-f-]{36}$/);
            assert.strictEqual(tasks[0].appId, "/named/client");
        });

        /**
         * Whether the old and the new version ever had tasks at the same moment of a restart (sampled until its
         * deployment ends), after which only the new version runs.
         */
        async function versionsOverlapDuringRestart(group: string, upgradeStrategy?: object): Promise<boolean> {
            await deployedGroup(group, [{ ...probe("client"), ...(upgradeStrategy ? { upgradeStrategy } : {}) }]);
            const { body } = await putGroup(group, {
                apps: [{ ...probe("client", "star-probe --changed"), ...(upgradeStrategy ? { upgradeStrategy } : {}) }],
            });
            let overlap = false;
            while (await isListed(body.deploymentId)) {
                overlap ||= new Set((await taskCounts(`${group}/client`)).map((task) => task.version)).size > 1;
                await sleep(5);
            }
            const after = await taskCounts(`${group}/client`);
            assert.deepStrictEqual([after.length, after[0].version === body.version], [1, true]);
            return overlap;
        }

        it("with the default upgradeStrategy starts the new task before it kills the old one", async function () {
            assert.strictEqual(await versionsOverlapDuringRestart("start-first"), true);
        });

        it("with upgradeStrategy {0, 0} kills the old task before it starts the new one", async function () {
            assert.strictEqual(
                await versionsOverlapDuringRestart("kill-first", { minimumHealthCapacity: 0, maximumOverCapacity: 0 }),
                false,
            );
        });

        it("versions a change as Marathon does: a reconfigured app at the change, a scale only in lastScalingAt, an unchanged app not at all", async function () {
            const first = await deployedGroup("versioned", [probe("client"), probe("frontend"), probe("backend")]);
            const { body } = await putGroup("versioned", {
                apps: [
                    probe("client", "star-probe --changed"),
                    { ...probe("frontend"), instances: 2 },
                    probe("backend"),
                ],
            });
            await waitUntilFinished(body.deploymentId);
            const { body: listed } = await api<{ apps: App[] }>("GET", "/v2/apps?embed=apps.tasks");
            const versions = Object.fromEntries(
                listed.apps
                    .filter((app) => app.id.startsWith("/versioned/"))
                    .map((app) => [app.id, [app.version, app.versionInfo]]),
            );
            assert.deepStrictEqual(versions, {
                "/versioned/client": [body.version, { lastScalingAt: body.version, lastConfigChangeAt: body.version }],
                "/versioned/frontend": [
                    body.version,
                    { lastScalingAt: body.version, lastConfigChangeAt: first.version },
                ],
                "/versioned/backend": [
                    first.version,
                    { lastScalingAt: first.version, lastConfigChangeAt: first.version },
                ],
            });
        });

        it("lists the apps' tasks when asked (embed=apps.tasks), each with the version it started from", async function () {
            const { version } = await deployedGroup("embedded", [probe("client")]);
            const plain = (await api<{ apps: App[] }>("GET", "/v2/apps")).body.apps;
            const embedded = (await api<{ apps: App[] }>("GET", "/v2/apps?embed=apps.tasks")).body.apps;
            const client = (apps: App[]) => apps.find((app) => app.id === "/embedded/client")!;
            assert.strictEqual(client(plain).tasks, undefined);
            assert.deepStrictEqual(
                (client(embedded).tasks as Task[]).map((task) => [task.appId, task.version, task.startedAt !== null]),
                [["/embedded/client", version, true]],
            );
        });

        it("kills the tasks of a deleted group", async function () {
            await deployedGroup("doomed", [probe("client"), probe("frontend")]);
            const { body } = await api<ChangeReply>("DELETE", "/v2/groups/doomed");
            await waitUntilFinished(body.deploymentId);
            const left = (await api<{ tasks: Task[] }>("GET", "/v2/tasks")).body.tasks.filter(({ appId }) =>
                appId.startsWith("/doomed/"),
            );
            assert.deepStrictEqual(left, []);
        });
    });

    describe("other routes", function () {
        it("shows one app under GET /v2/apps/{id}", async function () {
            await deployedGroup("single", [probe("client")]);
            const { status, body } = await api<{ app: App }>("GET", "/v2/apps/single/client");
            assert.deepStrictEqual([status, body.app.id, body.app.tasksRunning], [200, "/single/client", 1]);
        });

        it("lists every app under GET /v2/apps", async function () {
            await deployedGroup("listing", [probe("client")]);
            const { body } = await api<{ apps: App[] }>("GET", "/v2/apps");
            assert.ok(body.apps.some(({ id }) => id === "/listing/client"));
        });

        it("answers 404 with Marathon's text for an unknown app", async function () {
            const { status, body } = await api<Message>("GET", "/v2/apps/x");
            assert.deepStrictEqual([status, body], [404, { message: "App '/x' does not exist" }]);
        });

        it("answers /v2/info as Marathon 0.14.2", async function () {
            const { body } = await api("GET", "/v2/info");
            assert.deepStrictEqual(body, { version: "0.14.2", name: "marathon" });
        });

        it("answers pong to /ping", async function () {
            const { status, body } = await api("GET", "/ping");
            assert.deepStrictEqual([status, body], [200, "pong"]);
        });

        it("answers 404 with a message for an unknown route", async function () {
            const { status, body } = await api<Message>("GET", "/v3/nothing");
            assert.deepStrictEqual([status, typeof body.message], [404, "string"]);
        });

        it("answers 405 for a method a route does not take", async function () {
            const { status } = await api("PATCH", "/v2/deployments");
            assert.strictEqual(status, 405);
        });
    });

    describe("files", function () {
        it("keeps its groups across a restart when given a state file", async function () {
            const options = { listen: "127.0.0.1:0", deployDelayMs, stateFile: path.join(suite.workDir, "state.json") };
            const first = await startMarathon(options);
            try {
                const reply = await call("http://127.0.0.1:" + first.port, "PUT", "/v2/groups/kept", {
                    apps: [probe("client")],
                });
                assert.strictEqual(reply.status, 200);
            } finally {
                await first.close();
            }
            const second = await startMarathon({ ...options, offerIntervalMs });
            try {
                const { body } = await call<Group>("http://127.0.0.1:" + second.port, "GET", "/v2/groups/kept");
                assert.deepStrictEqual(
                    body.apps.map(({ id }) => id),
                    ["/kept/client"],
                );
                // On taking the lead, Marathon scales every app to its instances.
                await waitFor(
                    "the app's task to run again",
                    async () =>
                        (await call<Group>("http://127.0.0.1:" + second.port, "GET", "/v2/groups/kept")).body.apps[0]
                            .tasksRunning === 1,
                );
            } finally {
                await second.close();
            }
        });

        it("appends one JSON line per request to the log file", async function () {
            await api("GET", "/v2/groups/logged?embed=group.apps");
            const lines = fs
                .readFileSync(path.join(suite.workDir, "requests.jsonl"), "utf8")
                .trim()
                .split("\n")
                .map((line) => JSON.parse(line));
            const entry = lines.find(({ path: loggedPath }) => loggedPath === "/v2/groups/logged");
            assert.deepStrictEqual([entry?.method, entry?.status, typeof entry?.ts], ["GET", 404, "string"]);
        });
    });

    describe("fault injection", function () {
        it("fails the next matching requests with the injected status, then answers normally", async function () {
            await api("POST", "/_sandbox/faults", {
                failNext: { status: 503, count: 2, method: "PUT", pathPrefix: "/v2/groups" },
            });
            const statuses: number[] = [];
            for (let attempt = 0; attempt < 3; attempt++)
                statuses.push((await putGroup("flaky", { apps: [probe("client")] })).status);
            assert.deepStrictEqual(statuses, [503, 503, 200]);
        });

        it("answers the injected failure with Marathon's message body", async function () {
            await api("POST", "/_sandbox/faults", { failNext: { status: 500, count: 1 } });
            const { status, body } = await api("GET", "/v2/info");
            assert.deepStrictEqual([status, body], [500, { message: "Internal server error (injected)" }]);
        });

        it("leaves requests that do not match failNext alone", async function () {
            await api("POST", "/_sandbox/faults", { failNext: { status: 500, count: 1, method: "PUT" } });
            assert.strictEqual((await api("GET", "/v2/info")).status, 200);
        });

        it("with hangDeployments keeps deployments listed until it is turned off", async function () {
            await holdDeployments();
            const { body } = await putGroup("hung", { apps: [probe("client")] });
            await sleep(deployDelayMs * 3);
            assert.ok(await isListed(body.deploymentId));
            await api("POST", "/_sandbox/faults", { hangDeployments: false });
            await waitUntilFinished(body.deploymentId);
        });

        it("shows the faults in force and resets them on DELETE", async function () {
            await api("POST", "/_sandbox/faults", { deployDelayMs: 5, hangDeployments: true });
            const shown = (await api("GET", "/_sandbox/faults")).body;
            await api("DELETE", "/_sandbox/faults");
            const reset = (await api("GET", "/_sandbox/faults")).body;
            assert.deepStrictEqual(
                [shown, reset],
                [
                    {
                        deployDelayMs: 5,
                        hangDeployments: true,
                        failNext: null,
                        lockAppsForMs: 0,
                        noLeaderForMs: 0,
                        deploymentStartDelayMs: 0,
                    },
                    {
                        deployDelayMs,
                        hangDeployments: false,
                        failNext: null,
                        lockAppsForMs: 0,
                        noLeaderForMs: 0,
                        deploymentStartDelayMs: 0,
                    },
                ],
            );
        });

        it("with lockAppsForMs answers 409 with an empty deployments list until the lock is gone", async function () {
            await api("POST", "/_sandbox/faults", { lockAppsForMs: 300 });
            const during = await putGroup("kill-locked", { apps: [probe("client")] });
            assert.deepStrictEqual([during.status, during.body.deployments], [409, []]);
            await sleep(350);
            assert.strictEqual((await putGroup("kill-locked", { apps: [probe("client")] })).status, 200);
        });

        it("with noLeaderForMs answers every /v2 request 503 with Jetty's HTML page, as Marathon without a leader", async function () {
            await api("POST", "/_sandbox/faults", { noLeaderForMs: 300 });
            const { status, headers, body } = await api<string>("GET", "/v2/groups/leaderless");
            assert.deepStrictEqual([status, headers.get("content-type")], [503, "text/html;charset=ISO-8859-1"]);
            assert.match(
                body,
                /<h2>HTTP ERROR 503<\/h2>\n<p>Problem accessing \/v2\/groups\/leaderless\. Reason:\n<pre> {4}Could not determine the current leader<\/pre>/,
            );
            await sleep(350);
            assert.strictEqual((await api("GET", "/v2/groups/leaderless")).status, 404);
        });

        it("with deploymentStartDelayMs a new deployment begins, and is listed in /v2/deployments and on its apps, only after the delay; its apps are locked meanwhile, with none listed", async function () {
            const first = await deployedGroup("late", [probe("client")]);
            await api("POST", "/_sandbox/faults", { deploymentStartDelayMs: 300 });
            const { body } = await putGroup("late", { apps: [probe("client", "star-probe --changed")] });
            const client = async () => (await api<{ app: App }>("GET", "/v2/apps/late/client")).body.app;
            assert.strictEqual(await isListed(body.deploymentId), false);
            assert.deepStrictEqual((await client()).deployments, []);
            assert.deepStrictEqual(
                ((await client()).tasks as Task[]).map((task) => task.version),
                [first.version],
                "the old task runs on",
            );
            const locked = await putGroup("late", { apps: [probe("client", "star-probe --again")] });
            assert.deepStrictEqual([locked.status, locked.body.deployments], [409, []]);
            await waitFor("the deployment to be listed", () => isListed(body.deploymentId));
            assert.deepStrictEqual((await client()).deployments, [{ id: body.deploymentId }]);
            await waitUntilFinished(body.deploymentId);
            assert.deepStrictEqual(
                ((await client()).tasks as Task[]).map((task) => task.version),
                [body.version],
            );
        });

        it("gives an injected 409 the lock's body with no deployments", async function () {
            await api("POST", "/_sandbox/faults", { failNext: { status: 409, count: 1, method: "PUT" } });
            const { status, body } = await putGroup("conflicted", { apps: [probe("client")] });
            assert.deepStrictEqual([status, body.deployments], [409, []]);
        });

        it("answers 400 for a fault it does not understand", async function () {
            const { status } = await api("POST", "/_sandbox/faults", { deployDelayMs: "soon" });
            assert.strictEqual(status, 400);
        });
    });

    describe("command line", function () {
        it("prints the port it listens on and exits 0 on SIGTERM", async function () {
            const child = spawn(
                process.execPath,
                [marathonScript, "--listen", "127.0.0.1:0", "--deploy-delay-ms", "10"],
                {
                    stdio: ["ignore", "pipe", "inherit"],
                },
            );
            const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
            try {
                const firstLine = await new Promise<string>((resolve) =>
                    child.stdout.once("data", (chunk) => resolve(String(chunk))),
                );
                const match = /^marathon listening on 127\.0\.0\.1:(\d+)\n$/.exec(firstLine);
                assert.ok(match, firstLine);
                assert.strictEqual((await call(`http://127.0.0.1:${match[1]}`, "GET", "/ping")).body, "pong");
            } finally {
                child.kill("SIGTERM");
            }
            assert.strictEqual(await exited, 0);
        });
    });
});
