// The sandbox's Marathon stand-in, its group API: PUT, validation, POST, GET and DELETE as Marathon v0.14.2 answers
// them.
import * as assert from "assert";
import {
    marathonStandinSuite,
    App,
    ChangeReply,
    Group,
    Message,
    probe,
    probeCommand,
    taskStartMs,
    waitFor,
} from "../support/marathonStandin";

describe("sandbox Marathon stand-in: groups", function () {
    const { api, putGroup, listDeployments, isListed, holdDeployments, waitUntilFinished, deployedGroup } =
        marathonStandinSuite();

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
            assert.ok(Date.now() - started >= taskStartMs, `finished after ${Date.now() - started} ms`);
        });

        it("keeps the deployment listed while its tasks are staged", async function () {
            const { body } = await putGroup("slow", { apps: [probe("client")] });
            await waitFor(
                "the task to be staged",
                async () => (await api<Group>("GET", "/v2/groups/slow")).body.apps[0].tasksStaged === 1,
            );
            assert.ok(await isListed(body.deploymentId));
            await waitUntilFinished(body.deploymentId);
        });

        it("shows the apps with absolute ids, Marathon's defaults and running tasks once deployed", async function () {
            const { version } = await deployedGroup("shown", [{ ...probe("client"), unknownField: true }]);
            const { status, body } = await api<Group>(
                "GET",
                "/v2/groups/shown?embed=group.apps&embed=group.apps.counts",
            );
            assert.strictEqual(status, 200);
            assert.deepStrictEqual(body, {
                id: "/shown",
                apps: [
                    {
                        id: "/shown/client",
                        cmd: probeCommand,
                        args: null,
                        user: null,
                        env: {},
                        instances: 1,
                        cpus: 0.1,
                        mem: 64,
                        disk: 0,
                        executor: "",
                        constraints: [],
                        uris: [],
                        storeUrls: [],
                        ports: [0],
                        requirePorts: false,
                        backoffSeconds: 1,
                        backoffFactor: 1.15,
                        maxLaunchDelaySeconds: 3600,
                        container: null,
                        healthChecks: [],
                        dependencies: [],
                        upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
                        labels: {},
                        acceptedResourceRoles: null,
                        ipAddress: null,
                        version,
                        versionInfo: { lastScalingAt: version, lastConfigChangeAt: version },
                        tasksStaged: 0,
                        tasksRunning: 1,
                        tasksHealthy: 0,
                        tasksUnhealthy: 0,
                        deployments: [],
                    },
                ],
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
            assert.deepStrictEqual(
                body.apps.map(({ id }) => id),
                ["/absolute/client"],
            );
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
            assert.deepStrictEqual(
                [steps, app.tasksRunning],
                [[[{ action: "ScaleApplication", app: "/scaled/client" }]], 2],
            );
        });

        it("leaves an unchanged app alone, keeping its version, with a deployment that is never listed", async function () {
            const first = await deployedGroup("unchanged", [probe("client")]);
            await holdDeployments();
            const { status, body } = await putGroup("unchanged", {
                apps: [{ mem: 64, cpus: 0.1, cmd: probeCommand, id: "client" }],
            });
            const group = (await api<Group>("GET", "/v2/groups/unchanged")).body;
            assert.deepStrictEqual(
                [status, await isListed(body.deploymentId), group.apps[0].version],
                [200, false, first.version],
            );
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
                message:
                    "App is locked by one or more deployments. Override with the option '?force=true'. " +
                    "View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
                deployments: [{ id: first.body.deploymentId }],
            });
        });

        it("with force=true cancels the locking deployment and proceeds", async function () {
            await holdDeployments();
            const first = await putGroup("forced", { apps: [probe("client")] });
            const second = await putGroup("forced", { apps: [probe("client", "other")] }, "?force=true");
            assert.strictEqual(second.status, 200);
            const listed = (await listDeployments()).map(({ id }) => id);
            assert.deepStrictEqual(
                [listed.includes(first.body.deploymentId), listed.includes(second.body.deploymentId)],
                [false, true],
            );
        });

        it("with dryRun=true answers the steps and changes nothing", async function () {
            const reply = await putGroup("dry", { apps: [probe("client")] }, "?dryRun=true");
            assert.deepStrictEqual(reply.body, {
                steps: [
                    [{ action: "StartApplication", app: "/dry/client" }],
                    [{ action: "ScaleApplication", app: "/dry/client" }],
                ],
            });
            assert.strictEqual((await api("GET", "/v2/groups/dry")).status, 404);
            assert.ok(!(await listDeployments()).some(({ affectedApps }) => affectedApps.includes("/dry/client")));
        });

        it("creates the missing parents of a nested group", async function () {
            await deployedGroup("outer/inner", [probe("client")]);
            const { body } = await api<Group>("GET", "/v2/groups/outer");
            assert.deepStrictEqual(
                [body.apps, body.groups.map(({ id }) => id), body.groups[0].apps[0].id],
                [[], ["/outer/inner"], "/outer/inner/client"],
            );
        });

        it("keeps the group's apps when the body leaves apps out", async function () {
            await deployedGroup("kept-apps", [probe("client")]);
            await holdDeployments();
            const { body } = await putGroup("kept-apps", { dependencies: ["/other"] });
            const group = (await api<Group>("GET", "/v2/groups/kept-apps")).body;
            assert.deepStrictEqual(
                [await isListed(body.deploymentId), group.apps.map(({ id }) => id), group.dependencies],
                [false, ["/kept-apps/client"], ["/other"]],
            );
        });

        it("replaces the subgroups with those the body's groups lists", async function () {
            await deployedGroup("parent/old", [probe("client")]);
            await holdDeployments();
            const { body } = await putGroup("parent", { groups: [{ id: "new", apps: [probe("client")] }] });
            const deployment = (await listDeployments()).find(({ id }) => id === body.deploymentId);
            const group = (await api<Group>("GET", "/v2/groups/parent")).body;
            assert.deepStrictEqual(
                [deployment?.steps, group.groups.map(({ id }) => id)],
                [
                    [
                        [{ action: "StopApplication", app: "/parent/old/client" }],
                        [{ action: "StartApplication", app: "/parent/new/client" }],
                        [{ action: "ScaleApplication", app: "/parent/new/client" }],
                    ],
                    ["/parent/new"],
                ],
            );
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
            assert.deepStrictEqual(
                [status, body.details],
                [400, [{ path: "/apps(0)/cpus", errors: ["error.expected.jsnumber"] }]],
            );
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
            assert.deepStrictEqual(
                [status, body.details],
                [
                    422,
                    [
                        {
                            path: "/apps(0)",
                            errors: ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."],
                        },
                    ],
                ],
            );
        });

        it("answers 422 for negative cpus or mem", async function () {
            const { status, body } = await putGroup("negative", { apps: [{ ...probe("client"), cpus: -1, mem: -64 }] });
            assert.deepStrictEqual(
                [status, body.details?.map(({ path }) => path)],
                [422, ["/apps(0)/cpus", "/apps(0)/mem"]],
            );
        });

        it("answers 422 for two apps with the same id", async function () {
            const { status, body } = await putGroup("twice", { apps: [probe("client"), probe("/twice/client")] });
            assert.deepStrictEqual([status, body.details?.[0].path], [422, "/apps"]);
        });

        it("answers 422 for an upgradeStrategy capacity outside [0, 1]", async function () {
            const { status, body } = await putGroup("capacity", {
                apps: [{ ...probe("client"), upgradeStrategy: { maximumOverCapacity: 2 } }],
            });
            assert.deepStrictEqual(
                [status, body.details],
                [422, [{ path: "/apps(0)/upgradeStrategy.maximumOverCapacity", errors: ["is greater than 1"] }]],
            );
        });

        it("answers 422 for an id Marathon would not accept", async function () {
            const { status, body } = await putGroup("ids", { apps: [probe("Client_1")] });
            assert.deepStrictEqual([status, body.details?.[0].path], [422, "/apps(0)/id"]);
        });
    });

    describe("POST /v2/groups", function () {
        it("creates a group and answers 201 with its location", async function () {
            const { status, headers, body } = await api<ChangeReply>("POST", "/v2/groups", {
                id: "posted",
                apps: [probe("client")],
            });
            assert.deepStrictEqual(
                [status, headers.get("location"), typeof body.deploymentId],
                [201, "/v2/groups/posted", "string"],
            );
        });

        it("refuses a group that already exists", async function () {
            await deployedGroup("existing");
            const { status, body } = await api<Message>("POST", "/v2/groups", { id: "existing" });
            assert.deepStrictEqual(
                [status, body.message],
                [409, "Group /existing is already created. Use PUT to change this group."],
            );
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
            assert.deepStrictEqual(
                [middle.id, middle.groups[0].id, middle.groups[0].apps.map(({ id }) => id)],
                ["/top/middle", "/top/middle/bottom", ["/top/middle/bottom/client"]],
            );
        });

        it("routes .../apps and .../versions to listings, not to groups of those names", async function () {
            await deployedGroup("listings", [probe("client")]);
            const apps = await api<App[]>("GET", "/v2/groups/listings/apps");
            const versions = await api<string[]>("GET", "/v2/groups/listings/versions");
            assert.deepStrictEqual(
                [apps.body.map(({ id }) => id), Array.isArray(versions.body)],
                [["/listings/client"], true],
            );
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
            assert.deepStrictEqual(
                [status, deployment?.steps],
                [200, [[{ action: "StopApplication", app: "/deleted/client" }]]],
            );
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
});
