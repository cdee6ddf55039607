// The Marathon group provider and its client through a real sshd's forwarded channel: against the
// sandbox's Marathon stand-in for the ordinary flow, and against a scripted Marathon for what real
// Marathon does that a client must survive (mesosphere/marathon v0.14.2 and v1.1.1).
import * as assert from "assert";
import { providers } from "@calico-stars/providers";
import { sshStats } from "@calico-stars/providers/ssh";
import { freePort, loopbackSshdSuite } from "../support/loopbackSshd";
import {
    allRunning,
    appStatus,
    deployment,
    locked,
    MarathonReply,
    MarathonRequest,
    ScriptedMarathon,
    scriptedVersion,
    startScriptedMarathon,
    task,
} from "../support/standins/scriptedMarathon";
import { startMarathon } from "../../sandbox/marathon";

const ownerId = "0a1b2c3d";
const app = (id: string, cmd = "star-probe") => ({
    id,
    cmd,
    cpus: 0.1,
    mem: 64,
    instances: 1,
    uris: [],
    labels: { "calico-stars.owner": ownerId },
    container: {
        type: "DOCKER" as const,
        docker: { image: "djosborne/star:v0.5.0", parameters: [{ key: "net", value: "client" }] },
    },
});
const group = (cmd?: string) => ({ id: "/calico-stars", apps: [app("client", cmd)] });

/** An app as GET /v2/apps/{id} shows it, in the fields these tests read. */
interface StandinApp {
    cmd: string;
    versionInfo: { lastConfigChangeAt: string };
    tasks: { version: string; startedAt: string | null }[];
}

describe("MarathonGroup through a forwarded channel", function () {
    this.timeout(60000);
    const env = loopbackSshdSuite();

    describe("with the sandbox's Marathon stand-in", function () {
        let marathon: { port: number; close(): Promise<void> };
        const inputs = (cmd?: string) => ({
            host: env.host,
            marathonHost: "127.0.0.1",
            marathonPort: marathon.port,
            group: group(cmd),
            ownerId,
            deploymentTimeoutSeconds: 5,
        });

        /** The stand-in, asked directly (not through sshd), as a test looks at it. */
        const standin = async <T>(method: string, urlPath: string, body?: unknown): Promise<T> => {
            const response = await fetch(`http://127.0.0.1:${marathon.port}${urlPath}`, {
                method,
                ...(body !== undefined && { body: JSON.stringify(body) }),
            });
            assert.strictEqual(response.status, 200, `${method} ${urlPath}`);
            return (await response.json()) as T;
        };

        before(async function () {
            marathon = await startMarathon({ listen: "127.0.0.1:0", deployDelayMs: 150, simulatedTaskStartMs: 200 });
        });

        after(async function () {
            await marathon?.close();
        });

        it("PUTs the group and returns once the deployment is gone and the apps run", async function () {
            const { id, outs } = await providers.MarathonGroup.create(inputs());
            assert.strictEqual(id, "/calico-stars");
            assert.ok(outs!.version);
            assert.deepStrictEqual(
                await providers.MarathonGroup.read!(id, outs),
                { id, props: outs },
                "Marathon's spelling of the same group is no drift",
            );
            assert.ok(sshStats().forwards >= 4);
            assert.strictEqual(sshStats().connections, 1);
        });

        it("waits out a deployment lock (409) and then applies", async function () {
            await providers.MarathonGroup.update!(
                "/calico-stars",
                { ...inputs(), version: "v" },
                inputs("star-probe --a"),
            );
            await providers.MarathonGroup.update!(
                "/calico-stars",
                { ...inputs(), version: "v" },
                inputs("star-probe --b"),
            );
            const { props } = await providers.MarathonGroup.read!("/calico-stars", { ...inputs(), version: "v" });
            assert.strictEqual(props!.group.apps[0].cmd, "star-probe --b");
        });

        it("an update (a restart) returns only once the new version's tasks run, though its deployment is not listed for a while", async function () {
            await providers.MarathonGroup.update!(
                "/calico-stars",
                { ...inputs(), version: "v" },
                inputs("star-probe --b"),
            );
            // the old task runs and no deployment is listed: all that "the apps run" used to look at
            await standin("POST", "/_sandbox/faults", { deploymentStartDelayMs: 1500 });
            try {
                const started = Date.now();
                await providers.MarathonGroup.update!(
                    "/calico-stars",
                    { ...inputs(), version: "v" },
                    inputs("star-probe --c"),
                );
                assert.ok(Date.now() - started >= 1500, `returned after ${Date.now() - started} ms`);
                const { app } = await standin<{ app: StandinApp }>("GET", "/v2/apps/calico-stars/client");
                assert.strictEqual(app.cmd, "star-probe --c");
                assert.deepStrictEqual(
                    app.tasks.map((task) => [task.version, task.startedAt !== null]),
                    [[app.versionInfo.lastConfigChangeAt, true]],
                    "the new version's task runs, the old one is gone",
                );
            } finally {
                await standin("DELETE", "/_sandbox/faults");
            }
        });

        it("refuses to take over a group another stack made, naming its apps", async function () {
            await assert.rejects(
                providers.MarathonGroup.create({
                    ...inputs(),
                    ownerId: "ffffffff",
                    group: { ...group(), apps: [{ ...app("client"), labels: { "calico-stars.owner": "ffffffff" } }] },
                }),
                /OwnershipError: Marathon group \/calico-stars holds what this stack \(owner ffffffff\) did not make: app \/calico-stars\/client \(calico-stars\.owner=0a1b2c3d\); refusing to take over it/,
            );
        });

        it("deletes with force and waits; deleting again succeeds; read then reports it gone", async function () {
            await providers.MarathonGroup.delete!("/calico-stars", { ...inputs(), version: "v" });
            await providers.MarathonGroup.delete!("/calico-stars", { ...inputs(), version: "v" });
            assert.strictEqual(
                (await providers.MarathonGroup.read!("/calico-stars", { ...inputs(), version: "v" })).id,
                "",
            );
        });
    });

    describe("with a scripted Marathon", function () {
        let marathon: ScriptedMarathon | undefined;
        const inputs = (overrides: object = {}) => ({
            host: env.host,
            marathonHost: "127.0.0.1",
            marathonPort: marathon!.port,
            group: group(),
            ownerId,
            deploymentTimeoutSeconds: 1,
            ...overrides,
        });
        /** A Marathon where the group does not exist yet and everything succeeds, unless `answer` says otherwise. */
        const script = async (answer: (request: MarathonRequest) => MarathonReply | undefined, port?: number) => {
            marathon = await startScriptedMarathon((request) => answer(request) ?? ordinary(request), port);
            return marathon;
        };
        const ordinary = (request: MarathonRequest): MarathonReply => {
            if (request.method === "GET" && request.path === "/v2/groups/calico-stars") {
                return { status: 404, json: { message: "Group '/calico-stars' does not exist" } };
            }
            if (request.method === "GET" && request.path === "/v2/deployments") {
                return { status: 200, json: [] };
            }
            if (request.method === "GET" && request.path === "/v2/apps") {
                return allRunning("/calico-stars", group().apps);
            }
            if (request.method === "PUT" || request.method === "DELETE") {
                return { status: 200, json: { version: "2026-01-01T00:00:00.000Z", deploymentId: "d-ok" } };
            }
            return { status: 404, json: { message: "not scripted" } };
        };
        const ownApps = [{ ...app("client"), id: "/prod/client" }];

        afterEach(async function () {
            await marathon?.close();
            marathon = undefined;
        });

        it("asks for the whole subtree, and refuses to create into a group that holds a subgroup, naming it", async function () {
            await script((r) =>
                r.method === "GET" && r.path === "/v2/groups/prod"
                    ? {
                          status: 200,
                          json: {
                              id: "/prod",
                              apps: ownApps,
                              groups: [{ id: "/prod/payments", apps: [], groups: [] }],
                          },
                      }
                    : undefined,
            );
            await assert.rejects(
                providers.MarathonGroup.create(inputs({ group: { id: "/prod", apps: [app("client")] } })),
                /Marathon group \/prod holds what this stack \(owner 0a1b2c3d\) did not make: group \/prod\/payments; refusing to take over it/,
            );
            assert.deepStrictEqual(marathon!.requests[0].query.getAll("embed"), ["group.groups", "group.apps"]);
            assert.strictEqual(marathon!.count("PUT", "/"), 0);
        });

        it("refuses to delete a group holding anything foreign, and never sends the forced DELETE", async function () {
            await script((r) =>
                r.method === "GET" && r.path === "/v2/groups/prod"
                    ? {
                          status: 200,
                          json: { id: "/prod", apps: [...ownApps, { id: "/prod/billing", labels: {} }], groups: [] },
                      }
                    : undefined,
            );
            await assert.rejects(
                providers.MarathonGroup.delete!("/prod", {
                    ...inputs({ group: { id: "/prod", apps: [app("client")] } }),
                    version: "v",
                }),
                /holds what this stack \(owner 0a1b2c3d\) did not make: app \/prod\/billing \(no calico-stars\.owner label\); refusing to delete it/,
            );
            assert.strictEqual(marathon!.count("DELETE", "/"), 0);
        });

        it("claims a free path or the stack's own group before the agents are touched, refuses what the group itself would refuse, and writes nothing to Marathon", async function () {
            let group: object | undefined;
            await script((r) =>
                r.method === "GET" && r.path === "/v2/groups/calico-stars" && group !== undefined
                    ? { status: 200, json: group }
                    : undefined,
            );
            const claim = {
                host: env.host,
                marathonHost: "127.0.0.1",
                marathonPort: marathon!.port,
                groupId: "/calico-stars",
                ownerId,
                deploymentTimeoutSeconds: 1,
            };
            const withApp = (labels: Record<string, string>) => ({
                id: "/calico-stars",
                apps: [{ ...app("client"), id: "/calico-stars/client", labels }],
                groups: [],
            });
            assert.deepStrictEqual(await providers.MarathonGroupClaim.create(claim), {
                id: "/calico-stars",
                outs: claim,
            });
            group = withApp({ "calico-stars.owner": ownerId });
            assert.strictEqual((await providers.MarathonGroupClaim.create(claim)).id, "/calico-stars");
            group = withApp({ "calico-stars.owner": "ffffffff" });
            await assert.rejects(
                providers.MarathonGroupClaim.create(claim),
                /OwnershipError: Marathon group \/calico-stars holds what this stack \(owner 0a1b2c3d\) did not make: app \/calico-stars\/client \(calico-stars\.owner=ffffffff\); refusing to take over it/,
            );
            group = { id: "/calico-stars", apps: [], groups: [] };
            await assert.rejects(
                providers.MarathonGroupClaim.create(claim),
                /Marathon group \/calico-stars exists, empty, and was not made by this stack/,
            );
            // once the stack holds the claim, an emptied group is its own, seen through another Marathon address too
            await providers.MarathonGroupClaim.update!("/calico-stars", claim, { ...claim, marathonHost: "localhost" });
            assert.deepStrictEqual([marathon!.count("PUT", "/"), marathon!.count("DELETE", "/")], [0, 0]);
        });

        it("refuses to create into an existing empty group it did not make, but deletes its own emptied group without force", async function () {
            await script((r) =>
                r.method === "GET" && r.path === "/v2/groups/calico-stars"
                    ? { status: 200, json: { id: "/calico-stars", apps: [], groups: [] } }
                    : undefined,
            );
            await assert.rejects(
                providers.MarathonGroup.create(inputs()),
                /Marathon group \/calico-stars exists, empty, and was not made by this stack/,
            );
            await providers.MarathonGroup.delete!("/calico-stars", { ...inputs(), version: "v" });
            assert.deepStrictEqual(
                marathon!.requests.filter((r) => r.method === "DELETE").map((r) => r.query.get("force")),
                [null],
            );
        });

        it("pauses, growing, on a 409 that lists no deployment, and gives up at the deadline with a clear error", async function () {
            await script((r) =>
                r.method === "PUT"
                    ? marathon!.count("PUT", "/") > 200
                        ? { status: 500, json: { message: "too many PUTs" } }
                        : locked([])
                    : undefined,
            );
            await assert.rejects(
                providers.MarathonGroup.create(inputs()),
                /PUT \/calico-stars: still locked \(HTTP 409\) after 1 s with no deployment listed: a scale or a task kill holds the lock .*forceDeployments/,
            );
            assert.ok(marathon!.count("PUT", "/") <= 6, `${marathon!.count("PUT", "/")} PUTs in 1 s`);
        });

        it("treats a 409 that lists only finished deployments like one that lists none", async function () {
            await script((r) =>
                r.method === "PUT"
                    ? marathon!.count("PUT", "/") > 200
                        ? { status: 500, json: { message: "too many PUTs" } }
                        : locked(["gone-1"])
                    : undefined,
            );
            await assert.rejects(
                providers.MarathonGroup.create(inputs()),
                /still locked \(HTTP 409\) after 1 s with only finished deployments listed \(gone-1\)/,
            );
            assert.ok(marathon!.count("PUT", "/") <= 6, `${marathon!.count("PUT", "/")} PUTs in 1 s`);
        });

        it("tries again, with a pause, while Marathon answers 503 (no leader yet), and then applies", async function () {
            await script(() =>
                marathon!.requests.length <= 3 ? { status: 503, json: { message: "no leader" } } : undefined,
            );
            const { outs } = await providers.MarathonGroup.create(inputs({ deploymentTimeoutSeconds: 5 }));
            assert.strictEqual(outs!.version, "2026-01-01T00:00:00.000Z");
        });

        it("gives up at the deadline when Marathon stays unavailable, naming the last answer", async function () {
            await script(() => ({ status: 503, json: { message: "no leader" } }));
            await assert.rejects(
                providers.MarathonGroup.create(inputs()),
                /GET group \/calico-stars: Marathon stayed unavailable for 1 s: HTTP 503: \{"message":"no leader"\}/,
            );
            assert.ok(marathon!.requests.length <= 6, `${marathon!.requests.length} requests in 1 s`);
        });

        it("tries again while sshd cannot reach Marathon (connection refused), and applies once it listens", async function () {
            const port = await freePort();
            const listening = new Promise<void>((resolve) =>
                setTimeout(async () => {
                    await script(() => undefined, port);
                    resolve();
                }, 700),
            );
            const { outs } = await providers.MarathonGroup.create({
                host: env.host,
                marathonHost: "127.0.0.1",
                marathonPort: port,
                group: group(),
                ownerId,
                deploymentTimeoutSeconds: 5,
            });
            await listening;
            assert.strictEqual(outs!.version, "2026-01-01T00:00:00.000Z");
        });

        it("reports a deployment that never finishes with its id, step and actions, and the way out", async function () {
            await script((r) => {
                if (r.method === "PUT") {
                    return { status: 200, json: { version: "v2", deploymentId: "d-stuck" } };
                }
                return r.path === "/v2/deployments"
                    ? {
                          status: 200,
                          json: [deployment("d-stuck", "/calico-stars/management-ui", "RestartApplication")],
                      }
                    : undefined;
            });
            await assert.rejects(
                providers.MarathonGroup.create(inputs()),
                /PUT \/calico-stars: deployment not finished within 1 s: d-stuck at step 1\/1 \(RestartApplication \/calico-stars\/management-ui\); .*cancel it \(DELETE \/v2\/deployments\/<id>\), or set calico-stars:forceDeployments to true/,
            );
        });

        it("sends the PUT with ?force=true when forceDeployments is set", async function () {
            await script((r) =>
                r.method === "PUT" && r.query.get("force") !== "true" ? locked(["d-stuck"]) : undefined,
            );
            await providers.MarathonGroup.create(inputs({ forceDeployments: true }));
            assert.deepStrictEqual(
                marathon!.requests.filter((r) => r.method === "PUT").map((r) => r.query.get("force")),
                ["true"],
            );
        });

        it("after an unchanged PUT (nothing planned), waits for the apps and fails naming the one that does not run", async function () {
            await script((r) =>
                r.path === "/v2/apps"
                    ? {
                          status: 200,
                          json: {
                              apps: [appStatus("/calico-stars/client", 1, [task(scriptedVersion, false)], ["d-old"])],
                          },
                      }
                    : undefined,
            );
            await assert.rejects(
                providers.MarathonGroup.create(inputs()),
                /PUT \/calico-stars: the group's apps are not running within 1 s: app \/calico-stars\/client: 0 of 1 tasks of its current version running \(1 staged\); app \/calico-stars\/client: deployment d-old still in progress/,
            );
        });

        it("after a PUT, waits until the apps run, then succeeds", async function () {
            await script((r) =>
                r.path === "/v2/apps" && marathon!.count("GET", "/v2/apps") < 3
                    ? {
                          status: 200,
                          json: { apps: [appStatus("/calico-stars/client", 1, [task(scriptedVersion, false)])] },
                      }
                    : undefined,
            );
            await providers.MarathonGroup.create(inputs({ deploymentTimeoutSeconds: 5 }));
            assert.strictEqual(marathon!.count("GET", "/v2/apps"), 3);
            assert.deepStrictEqual(
                marathon!.requests
                    .filter((r) => r.path === "/v2/apps")
                    .map((r) => [r.query.get("id"), r.query.getAll("embed")]),
                Array(3).fill(["/calico-stars/", ["apps.tasks"]]),
            );
        });

        it("after a PUT whose deployment is not listed yet, a task of the app's earlier version does not count: it waits, and names it at the deadline", async function () {
            const earlier = "2025-12-31T23:59:00.000Z";
            await script((r) =>
                r.path === "/v2/apps"
                    ? {
                          status: 200,
                          json: { apps: [appStatus("/calico-stars/client", 1, [task(earlier, true)])] },
                      }
                    : undefined,
            );
            await assert.rejects(
                providers.MarathonGroup.create(inputs()),
                /PUT \/calico-stars: the group's apps are not running within 1 s: app \/calico-stars\/client: 0 of 1 tasks of its current version running \(0 staged\); app \/calico-stars\/client: 1 tasks of an earlier version still there/,
            );
        });

        it("refuses an answer of the wrong shape, naming the request", async function () {
            await script((r) =>
                r.path === "/v2/deployments" ? { status: 200, json: { deployments: "none" } } : undefined,
            );
            await assert.rejects(
                providers.MarathonGroup.create(inputs()),
                /MarathonError: Marathon 127\.0\.0\.1:\d+ via root@127\.0\.0\.1:\d+: GET \/v2\/deployments: unexpected answer \(HTTP 200\): \(body\): /,
            );
        });
    });
});
