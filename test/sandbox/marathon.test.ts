import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

interface MarathonOptions {
    listen: string;
    deployDelayMs?: number;
    stateFile?: string;
    logFile?: string;
    offerIntervalMs?: number;
    simulatedTaskStartMs?: number;
}

interface RunningMarathon {
    port: number;
    close(): Promise<void>;
}

// The stand-in is plain JavaScript without declarations, so its one export is typed here.
const { startMarathon }: { startMarathon(options: MarathonOptions): Promise<RunningMarathon> } = require("../../sandbox/marathon");

interface Reply<T> {
    status: number;
    headers: Headers;
    body: T;
}

interface ChangeReply {
    version: string;
    deploymentId: string;
}

interface Action {
    action: string;
    app: string;
}

interface Deployment {
    id: string;
    version: string;
    affectedApps: string[];
    steps: Action[][];
    currentActions: Action[];
    currentStep: number;
    totalSteps: number;
}

interface App {
    id: string;
    instances: number;
    tasksRunning: number;
    tasksStaged: number;
    [field: string]: unknown;
}

interface Task {
    id: string;
    appId: string;
    version: string;
    host: string;
    startedAt: string | null;
}

interface Group {
    id: string;
    apps: App[];
    groups: Group[];
    dependencies: string[];
    version: string;
}

interface Message {
    message: string;
    details?: { path: string; errors: string[] }[];
    deployments?: { id: string }[];
}

const DEPLOY_DELAY_MS = 50;
/** Offers come this often, and a simulated agent's task runs this long after its launch. */
const OFFER_INTERVAL_MS = 20;
const TASK_START_MS = 100;
const PROBE_CMD = "star-probe --http-port=9000";
const WAIT_LIMIT_MS = 2000;
const SCRIPT = path.join(__dirname, "../../sandbox/marathon.js");

async function call<T>(baseUrl: string, method: string, urlPath: string, body?: unknown): Promise<Reply<T>> {
    const response = await fetch(baseUrl + urlPath, {
        method,
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const isJson = response.headers.get("content-type") === "application/json";
    return { status: response.status, headers: response.headers, body: (isJson ? JSON.parse(text) : text) as T };
}

function probe(id: string, cmd = PROBE_CMD) {
    return { id, cmd, cpus: 0.1, mem: 64 };
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while (!(await check())) {
        if (Date.now() > deadline) assert.fail(`${what}: not within ${WAIT_LIMIT_MS} ms`);
        await sleep(5);
    }
}

describe("sandbox Marathon stand-in", function () {
    let workDir: string;
    let marathon: RunningMarathon | undefined;
    let baseUrl: string;

    const api = <T>(method: string, urlPath: string, body?: unknown) => call<T>(baseUrl, method, urlPath, body);
    const putGroup = (id: string, body: unknown, query = "") => api<ChangeReply & Message>("PUT", `/v2/groups/${id}${query}`, body);
    const listDeployments = async () => (await api<Deployment[]>("GET", "/v2/deployments")).body;
    const isListed = async (deploymentId: string) => (await listDeployments()).some(({ id }) => id === deploymentId);
    const holdDeployments = () => api("POST", "/_sandbox/faults", { hangDeployments: true });

    async function waitUntilFinished(deploymentId: string): Promise<void> {
        const deadline = Date.now() + WAIT_LIMIT_MS;
        while (await isListed(deploymentId)) {
            if (Date.now() > deadline) assert.fail(`deployment ${deploymentId} still listed after ${WAIT_LIMIT_MS} ms`);
            await sleep(5);
        }
    }

    async function deployedGroup(id: string, apps: object[] = [probe("client"), probe("frontend")]): Promise<ChangeReply> {
        const reply = await putGroup(id, { id, apps });
        assert.strictEqual(reply.status, 200);
        await waitUntilFinished(reply.body.deploymentId);
        return reply.body;
    }

    before(async function () {
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "marathon-test-"));
        marathon = await startMarathon({
            listen: "127.0.0.1:0",
            deployDelayMs: DEPLOY_DELAY_MS,
            offerIntervalMs: OFFER_INTERVAL_MS,
            simulatedTaskStartMs: TASK_START_MS,
            logFile: path.join(workDir, "requests.jsonl"),
        });
        baseUrl = `http://127.0.0.1:${marathon.port}`;
    });

    afterEach(async function () {
        await api("DELETE", "/_sandbox/faults");
    });

    after(async function () {
        await marathon?.close();
        fs.rmSync(workDir, { recursive: true, force: true });
    });

    describe("PUT /v2/groups/{id}", function () {
        it("creates the group and answers its version and deployment id", async function () {
            const reply = await putGroup("created", { id: "/created", apps: [probe("client")] });
            assert.strictEqual(reply.status, 200);
            assert.strictEqual(reply.headers.get("content-type"), "application/json");
            assert.ok(!Number.isNaN(Date.parse(reply.body.version)), reply.body.version);
            assert.match(reply.body.deploymentId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        });

        it("lists the new deployment: a StartApplication per app, then a ScaleApplication per app", async function () {
            await holdDeployments();
            const { body } = await putGroup("listed", { apps: [probe("client"), probe("frontend")] });
            const deployment = (await listDeployments()).find(({ id }) => id === body.deploymentId);
            const starts = [
                { action: "StartApplication", app: "/listed/client" },
                { action: "StartApplication", app: "/listed/frontend" },
            ];
            const scales = [
                { action: "ScaleApplication", app: "/listed/client" },
                { action: "ScaleApplication", app: "/listed/frontend" },
            ];
            assert.deepStrictEqual(deployment, {
                id: body.deploymentId,
                version: body.version,
                affectedApps: ["/listed/client", "/listed/frontend"],
                steps: [starts, scales],
                currentActions: starts,
                currentStep: 1,
                totalSteps: 2,
            });
        });

        it("takes the deployment off the list once its tasks run, and not before the deploy delay has passed", async function () {
            const started = Date.now();
            const { body } = await putGroup("finishing", { apps: [probe("client")] });
            await waitUntilFinished(body.deploymentId);
            const { body: group } = await api<Group>("GET", "/v2/groups/finishing");
            assert.strictEqual(group.apps[0].tasksRunning, 1);
            assert.ok(Date.now() - started >= TASK_START_MS, `finished after ${Date.now() - started} ms`);
        });

        it("keeps the deployment listed while its tasks are staged", async function () {
            const { body } = await putGroup("slow", { apps: [probe("client")] });
            await waitFor("the task to be staged", async () => (await api<Group>("GET", "/v2/groups/slow")).body.apps[0].tasksStaged === 1);
            assert.ok(await isListed(body.deploymentId));
            await waitUntilFinished(body.deploymentId);
        });

        it("shows the apps with absolute ids, Marathon's defaults and running tasks once deployed", async function () {
            const { version } = await deployedGroup("shown", [{ ...probe("client"), unknownField: true }]);
            const { status, body } = await api<Group>("GET", "/v2/groups/shown?embed=group.apps&embed=group.apps.counts");
            assert.strictEqual(status, 200);
            assert.deepStrictEqual(body, {
                id: "/shown",
                apps: [{
                    id: "/shown/client", cmd: PROBE_CMD, args: null, user: null, env: {}, instances: 1, cpus: 0.1, mem: 64,
                    disk: 0, executor: "", constraints: [], uris: [], storeUrls: [], ports: [0], requirePorts: false,
                    backoffSeconds: 1, backoffFactor: 1.15, maxLaunchDelaySeconds: 3600, container: null, healthChecks: [],
                    dependencies: [], upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 }, labels: {},
                    acceptedResourceRoles: null, ipAddress: null, version,
                    tasksStaged: 0, tasksRunning: 1, tasksHealthy: 0, tasksUnhealthy: 0, deployments: [],
                }],
                groups: [],
                dependencies: [],
                version,
            });
        });

        it("counts tasks as staged until the agent reports them running", async function () {
            const { body } = await putGroup("staging", { apps: [{ ...probe("client"), instances: 2 }] });
            await waitFor("both tasks staged", async () => {
                const app = (await api<Group>("GET", "/v2/groups/staging")).body.apps[0];
                return app.tasksStaged === 2 && app.tasksRunning === 0;
            });
            await waitUntilFinished(body.deploymentId);
            const app = (await api<Group>("GET", "/v2/groups/staging")).body.apps[0];
            assert.deepStrictEqual([app.tasksRunning, app.tasksStaged], [2, 0]);
        });

        it("fills in each field of a partial upgradeStrategy with the default's", async function () {
            await deployedGroup("strategy", [{ ...probe("client"), upgradeStrategy: { minimumHealthCapacity: 0 } }]);
            const { body } = await api<{ app: App }>("GET", "/v2/apps/strategy/client");
            assert.deepStrictEqual(body.app.upgradeStrategy, { minimumHealthCapacity: 0, maximumOverCapacity: 1 });
        });

        it("accepts an absolute app id that is a child of the group", async function () {
            await deployedGroup("absolute", [probe("/absolute/client")]);
            const { body } = await api<Group>("GET", "/v2/groups/absolute");
            assert.deepStrictEqual(body.apps.map(({ id }) => id), ["/absolute/client"]);
        });

        it("stops a removed app first, then restarts a changed one", async function () {
            await deployedGroup("changed", [probe("client"), probe("frontend")]);
            await holdDeployments();
            const { body } = await putGroup("changed", { apps: [probe("client", "star-probe --http-port=9001")] });
            const deployment = (await listDeployments()).find(({ id }) => id === body.deploymentId);
            assert.deepStrictEqual(deployment?.steps, [
                [{ action: "StopApplication", app: "/changed/frontend" }],
                [{ action: "RestartApplication", app: "/changed/client" }],
            ]);
        });

        it("scales an app whose instances alone changed", async function () {
            await deployedGroup("scaled", [probe("client")]);
            const { body } = await putGroup("scaled", { apps: [{ ...probe("client"), instances: 2 }] });
            const steps = (await listDeployments()).find(({ id }) => id === body.deploymentId)?.steps;
            await waitUntilFinished(body.deploymentId);
            const app = (await api<Group>("GET", "/v2/groups/scaled")).body.apps[0];
            assert.deepStrictEqual([steps, app.tasksRunning], [[[{ action: "ScaleApplication", app: "/scaled/client" }]], 2]);
        });

        it("leaves an unchanged app alone, keeping its version, with a deployment that is never listed", async function () {
            const first = await deployedGroup("unchanged", [probe("client")]);
            await holdDeployments();
            const { status, body } = await putGroup("unchanged", { apps: [{ mem: 64, cpus: 0.1, cmd: PROBE_CMD, id: "client" }] });
            const group = (await api<Group>("GET", "/v2/groups/unchanged")).body;
            assert.deepStrictEqual([status, await isListed(body.deploymentId), group.apps[0].version], [200, false, first.version]);
        });

        it("does not refuse an unchanged PUT while a deployment runs: its empty plan locks nothing", async function () {
            await holdDeployments();
            const first = await putGroup("unlocked", { apps: [probe("client")] });
            const second = await putGroup("unlocked", { apps: [probe("client")] });
            assert.deepStrictEqual([second.status, await isListed(first.body.deploymentId)], [200, true]);
        });

        it("answers 409 with the locking deployment while one is in progress on the group's apps", async function () {
            await holdDeployments();
            const first = await putGroup("locked", { apps: [probe("client")] });
            const second = await putGroup("locked", { apps: [probe("client", "other")] });
            assert.strictEqual(second.status, 409);
            assert.deepStrictEqual(second.body, {
                message: "App is locked by one or more deployments. Override with the option '?force=true'. "
                    + "View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
                deployments: [{ id: first.body.deploymentId }],
            });
        });

        it("with force=true cancels the locking deployment and proceeds", async function () {
            await holdDeployments();
            const first = await putGroup("forced", { apps: [probe("client")] });
            const second = await putGroup("forced", { apps: [probe("client", "other")] }, "?force=true");
            assert.strictEqual(second.status, 200);
            const listed = (await listDeployments()).map(({ id }) => id);
            assert.deepStrictEqual([listed.includes(first.body.deploymentId), listed.includes(second.body.deploymentId)], [false, true]);
        });

        it("with dryRun=true answers the steps and changes nothing", async function () {
            const reply = await putGroup("dry", { apps: [probe("client")] }, "?dryRun=true");
            assert.deepStrictEqual(reply.body, { steps: [
                [{ action: "StartApplication", app: "/dry/client" }],
                [{ action: "ScaleApplication", app: "/dry/client" }],
            ] });
            assert.strictEqual((await api("GET", "/v2/groups/dry")).status, 404);
            assert.ok(!(await listDeployments()).some(({ affectedApps }) => affectedApps.includes("/dry/client")));
        });

        it("creates the missing parents of a nested group", async function () {
            await deployedGroup("outer/inner", [probe("client")]);
            const { body } = await api<Group>("GET", "/v2/groups/outer");
            assert.deepStrictEqual([body.apps, body.groups.map(({ id }) => id), body.groups[0].apps[0].id],
                [[], ["/outer/inner"], "/outer/inner/client"]);
        });

        it("keeps the group's apps when the body leaves apps out", async function () {
            await deployedGroup("kept-apps", [probe("client")]);
            await holdDeployments();
            const { body } = await putGroup("kept-apps", { dependencies: ["/other"] });
            const group = (await api<Group>("GET", "/v2/groups/kept-apps")).body;
            assert.deepStrictEqual([await isListed(body.deploymentId), group.apps.map(({ id }) => id), group.dependencies],
                [false, ["/kept-apps/client"], ["/other"]]);
        });

        it("replaces the subgroups with those the body's groups lists", async function () {
            await deployedGroup("parent/old", [probe("client")]);
            await holdDeployments();
            const { body } = await putGroup("parent", { groups: [{ id: "new", apps: [probe("client")] }] });
            const deployment = (await listDeployments()).find(({ id }) => id === body.deploymentId);
            const group = (await api<Group>("GET", "/v2/groups/parent")).body;
            assert.deepStrictEqual([deployment?.steps, group.groups.map(({ id }) => id)], [[
                [{ action: "StopApplication", app: "/parent/old/client" }],
                [{ action: "StartApplication", app: "/parent/new/client" }],
                [{ action: "ScaleApplication", app: "/parent/new/client" }],
            ], ["/parent/new"]]);
        });
    });

    describe("validation", function () {
        it("answers 400 Invalid JSON for a body that does not parse", async function () {
            const { status, body } = await putGroup("broken", '{"apps": [');
            assert.strictEqual(status, 400);
            assert.strictEqual(body.message, "Invalid JSON");
            assert.ok((body.details ?? []).length > 0);
        });

        it("answers 400 Invalid JSON naming the field when a field has the wrong type", async function () {
            const { status, body } = await putGroup("typed", { apps: [{ ...probe("client"), cpus: "lots" }] });
            assert.deepStrictEqual([status, body.details], [400, [{ path: "/apps(0)/cpus", errors: ["error.expected.jsnumber"] }]]);
        });

        it("answers 422 for an absolute app id that is not a child of the group", async function () {
            const { status, body } = await putGroup("group", { apps: [probe("/app")] });
            assert.strictEqual(status, 422);
            assert.deepStrictEqual(body.details, [
                { path: "/apps(0)/id", errors: ["identifier /app is not child of /group. Hint: use relative paths."] },
            ]);
        });

        it("answers 422 when the body's id is not the path's id", async function () {
            const { status, body } = await putGroup("here", { id: "/elsewhere", apps: [probe("client")] });
            assert.deepStrictEqual([status, body.details?.[0].path], [422, "/id"]);
        });

        it("answers 422 for an app with neither cmd nor container", async function () {
            const { status, body } = await putGroup("commandless", { apps: [{ id: "client", cpus: 0.1, mem: 64 }] });
            assert.deepStrictEqual([status, body.details], [422, [{
                path: "/apps(0)",
                errors: ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."],
            }]]);
        });

        it("answers 422 for negative cpus or mem", async function () {
            const { status, body } = await putGroup("negative", { apps: [{ ...probe("client"), cpus: -1, mem: -64 }] });
            assert.deepStrictEqual([status, body.details?.map(({ path }) => path)], [422, ["/apps(0)/cpus", "/apps(0)/mem"]]);
        });

        it("answers 422 for two apps with the same id", async function () {
            const { status, body } = await putGroup("twice", { apps: [probe("client"), probe("/twice/client")] });
            assert.deepStrictEqual([status, body.details?.[0].path], [422, "/apps"]);
        });

        it("answers 422 for an upgradeStrategy capacity outside [0, 1]", async function () {
            const { status, body } = await putGroup("capacity", { apps: [{ ...probe("client"), upgradeStrategy: { maximumOverCapacity: 2 } }] });
            assert.deepStrictEqual([status, body.details], [422, [{ path: "/apps(0)/upgradeStrategy.maximumOverCapacity", errors: ["is greater than 1"] }]]);
        });

        it("answers 422 for an id Marathon would not accept", async function () {
            const { status, body } = await putGroup("ids", { apps: [probe("Client_1")] });
            assert.deepStrictEqual([status, body.details?.[0].path], [422, "/apps(0)/id"]);
        });
    });

    describe("POST /v2/groups", function () {
        it("creates a group and answers 201 with its location", async function () {
            const { status, headers, body } = await api<ChangeReply>("POST", "/v2/groups", { id: "posted", apps: [probe("client")] });
            assert.deepStrictEqual([status, headers.get("location"), typeof body.deploymentId], [201, "/v2/groups/posted", "string"]);
        });

        it("refuses a group that already exists", async function () {
            await deployedGroup("existing");
            const { status, body } = await api<Message>("POST", "/v2/groups", { id: "existing" });
            assert.deepStrictEqual([status, body.message], [409, "Group /existing is already created. Use PUT to change this group."]);
        });
    });

    describe("GET /v2/groups", function () {
        it("answers 404 with Marathon's text for an unknown group", async function () {
            const { status, body } = await api<Message>("GET", "/v2/groups/calico-stars");
            assert.deepStrictEqual([status, body], [404, { message: "Group '/calico-stars' does not exist" }]);
        });

        it("shows the root group with its child groups", async function () {
            await deployedGroup("rooted");
            const { status, body } = await api<Group>("GET", "/v2/groups");
            assert.deepStrictEqual([status, body.id, body.groups.some(({ id }) => id === "/rooted")], [200, "/", true]);
        });

        it("embeds nested groups with their apps, all the way down", async function () {
            await deployedGroup("top/middle/bottom", [probe("client")]);
            const { body } = await api<Group>("GET", "/v2/groups/top");
            const middle = body.groups[0];
            assert.deepStrictEqual([middle.id, middle.groups[0].id, middle.groups[0].apps.map(({ id }) => id)],
                ["/top/middle", "/top/middle/bottom", ["/top/middle/bottom/client"]]);
        });

        it("routes .../apps and .../versions to listings, not to groups of those names", async function () {
            await deployedGroup("listings", [probe("client")]);
            const apps = await api<App[]>("GET", "/v2/groups/listings/apps");
            const versions = await api<string[]>("GET", "/v2/groups/listings/versions");
            assert.deepStrictEqual([apps.body.map(({ id }) => id), Array.isArray(versions.body)], [["/listings/client"], true]);
        });
    });

    describe("DELETE /v2/groups/{id}", function () {
        it("answers 404 with Marathon's text for an unknown group", async function () {
            const { status, body } = await api<Message>("DELETE", "/v2/groups/nowhere");
            assert.deepStrictEqual([status, body], [404, { message: "Group '/nowhere' does not exist" }]);
        });

        it("removes the group with a StopApplication deployment for its apps", async function () {
            await deployedGroup("deleted", [probe("client")]);
            await holdDeployments();
            const { status, body } = await api<ChangeReply>("DELETE", "/v2/groups/deleted");
            const deployment = (await listDeployments()).find(({ id }) => id === body.deploymentId);
            assert.deepStrictEqual([status, deployment?.steps], [200, [[{ action: "StopApplication", app: "/deleted/client" }]]]);
            assert.strictEqual((await api("GET", "/v2/groups/deleted")).status, 404);
        });

        it("answers 409 while a deployment is in progress on its apps", async function () {
            await holdDeployments();
            const created = await putGroup("busy", { apps: [probe("client")] });
            const { status, body } = await api<Message>("DELETE", "/v2/groups/busy");
            assert.deepStrictEqual([status, body.deployments], [409, [{ id: created.body.deploymentId }]]);
        });

        it("with force=true cancels the deployment in progress and removes the group", async function () {
            await holdDeployments();
            const created = await putGroup("busy-forced", { apps: [probe("client")] });
            const { status } = await api("DELETE", "/v2/groups/busy-forced?force=true");
            assert.deepStrictEqual([status, await isListed(created.body.deploymentId)], [200, false]);
            assert.strictEqual((await api("GET", "/v2/groups/busy-forced")).status, 404);
        });
    });

    describe("DELETE /v2/deployments/{id}", function () {
        it("rolls back: a new deployment restores the group's previous definition", async function () {
            await holdDeployments();
            const created = await putGroup("rolled-back", { apps: [probe("client")] });
            const { status, body } = await api<ChangeReply>("DELETE", `/v2/deployments/${created.body.deploymentId}`);
            assert.strictEqual(status, 200);
            assert.notStrictEqual(body.deploymentId, created.body.deploymentId);
            assert.deepStrictEqual((await listDeployments()).find(({ id }) => id === body.deploymentId)?.steps,
                [[{ action: "StopApplication", app: "/rolled-back/client" }]]);
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
        const taskCounts = async (appPath: string) => (await api<{ tasks: Task[] }>("GET", `/v2/apps/${appPath}/tasks`)).body.tasks;

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
            const { body } = await putGroup(group, { apps: [{ ...probe("client", "star-probe --changed"), ...(upgradeStrategy ? { upgradeStrategy } : {}) }] });
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
            assert.strictEqual(await versionsOverlapDuringRestart("kill-first", { minimumHealthCapacity: 0, maximumOverCapacity: 0 }), false);
        });

        it("kills the tasks of a deleted group", async function () {
            await deployedGroup("doomed", [probe("client"), probe("frontend")]);
            const { body } = await api<ChangeReply>("DELETE", "/v2/groups/doomed");
            await waitUntilFinished(body.deploymentId);
            const left = (await api<{ tasks: Task[] }>("GET", "/v2/tasks")).body.tasks.filter(({ appId }) => appId.startsWith("/doomed/"));
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
            const options = { listen: "127.0.0.1:0", deployDelayMs: DEPLOY_DELAY_MS, stateFile: path.join(workDir, "state.json") };
            const first = await startMarathon(options);
            try {
                const reply = await call("http://127.0.0.1:" + first.port, "PUT", "/v2/groups/kept", { apps: [probe("client")] });
                assert.strictEqual(reply.status, 200);
            } finally {
                await first.close();
            }
            const second = await startMarathon({ ...options, offerIntervalMs: OFFER_INTERVAL_MS });
            try {
                const { body } = await call<Group>("http://127.0.0.1:" + second.port, "GET", "/v2/groups/kept");
                assert.deepStrictEqual(body.apps.map(({ id }) => id), ["/kept/client"]);
                // On taking the lead, Marathon scales every app to its instances.
                await waitFor("the app's task to run again", async () =>
                    (await call<Group>("http://127.0.0.1:" + second.port, "GET", "/v2/groups/kept")).body.apps[0].tasksRunning === 1);
            } finally {
                await second.close();
            }
        });

        it("appends one JSON line per request to the log file", async function () {
            await api("GET", "/v2/groups/logged?embed=group.apps");
            const lines = fs.readFileSync(path.join(workDir, "requests.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line));
            const entry = lines.find(({ path: loggedPath }) => loggedPath === "/v2/groups/logged");
            assert.deepStrictEqual([entry?.method, entry?.status, typeof entry?.ts], ["GET", 404, "string"]);
        });
    });

    describe("fault injection", function () {
        it("fails the next matching requests with the injected status, then answers normally", async function () {
            await api("POST", "/_sandbox/faults", { failNext: { status: 503, count: 2, method: "PUT", pathPrefix: "/v2/groups" } });
            const statuses: number[] = [];
            for (let attempt = 0; attempt < 3; attempt++) statuses.push((await putGroup("flaky", { apps: [probe("client")] })).status);
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
            await sleep(DEPLOY_DELAY_MS * 3);
            assert.ok(await isListed(body.deploymentId));
            await api("POST", "/_sandbox/faults", { hangDeployments: false });
            await waitUntilFinished(body.deploymentId);
        });

        it("shows the faults in force and resets them on DELETE", async function () {
            await api("POST", "/_sandbox/faults", { deployDelayMs: 5, hangDeployments: true });
            const shown = (await api("GET", "/_sandbox/faults")).body;
            await api("DELETE", "/_sandbox/faults");
            const reset = (await api("GET", "/_sandbox/faults")).body;
            assert.deepStrictEqual([shown, reset], [
                { deployDelayMs: 5, hangDeployments: true, failNext: null, lockAppsForMs: 0, noLeaderForMs: 0 },
                { deployDelayMs: DEPLOY_DELAY_MS, hangDeployments: false, failNext: null, lockAppsForMs: 0, noLeaderForMs: 0 },
            ]);
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
            assert.match(body, /<h2>HTTP ERROR 503<\/h2>\n<p>Problem accessing \/v2\/groups\/leaderless\. Reason:\n<pre>    Could not determine the current leader<\/pre>/);
            await sleep(350);
            assert.strictEqual((await api("GET", "/v2/groups/leaderless")).status, 404);
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
            const child = spawn(process.execPath, [SCRIPT, "--listen", "127.0.0.1:0", "--deploy-delay-ms", "10"], {
                stdio: ["ignore", "pipe", "inherit"],
            });
            const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
            try {
                const firstLine = await new Promise<string>((resolve) => child.stdout.once("data", (chunk) => resolve(String(chunk))));
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
