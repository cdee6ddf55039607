import * as assert from "assert";
import { defaultStarsTemplate } from "../../components/config";
import { renderResourcesFile, renderStarsGroup, starsParameters } from "../../components/starsTemplate";
import { declaredMatrix } from "@calico-stars/providers/verify";
import { deployedApps, parseResourcesFile } from "@calico-stars/providers/verify";
import { DeclaredMatrix, profilesFromPolicy, VerifyInputError } from "@calico-stars/providers/verify";
import { marathonTaskName, mesosDnsName, resolveAppHost, rfc1123Label } from "@calico-stars/providers/verify";
import { declaredOf, stackConfig } from "../support/verifyFixtures";

function reachableEdges(matrix: DeclaredMatrix): string[] {
    return matrix.edges.filter((edge) => edge.reach === "reachable").map((edge) => `${edge.source} -> ${edge.target}`);
}

function edge(matrix: DeclaredMatrix, source: string, target: string) {
    const found = matrix.edges.find((e) => e.source === source && e.target === target);
    assert.ok(found, `no edge ${source} -> ${target}`);
    return found;
}

const runbookFinalGraph = [
    "outside -> management-ui",
    "management-ui -> client",
    "management-ui -> frontend",
    "management-ui -> backend",
    "client -> frontend",
    "frontend -> backend",
];

describe("verify's declared matrix", function () {
    describe("of the default config", function () {
        const matrix = declaredOf(stackConfig());

        it("is the runbook's final graph: client -> frontend -> backend, the collector to each probe, the UI to the collector", function () {
            assert.deepStrictEqual(reachableEdges(matrix), runbookFinalGraph);
        });

        it("blocks every other edge between probes, each drawn by the UI as unreachable", function () {
            const others = matrix.edges.filter((e) => !runbookFinalGraph.includes(`${e.source} -> ${e.target}`));
            assert.deepStrictEqual(
                others.map((e) => [`${e.source} -> ${e.target}`, e.reach, e.drawn]),
                [
                    ["client -> backend", "blocked", true],
                    ["frontend -> client", "blocked", true],
                    ["backend -> client", "blocked", true],
                    ["backend -> frontend", "blocked", true],
                ],
            );
        });

        it("has the outside world, the collector and the probes in resources-file order, labelled as the UI labels them", function () {
            assert.deepStrictEqual(
                matrix.nodes.map((node) => [
                    node.id,
                    node.kind,
                    node.label,
                    node.resourceUrl,
                    node.profile,
                    node.address,
                ]),
                [
                    ["outside", "outside", "outside", undefined, undefined, undefined],
                    ["management-ui", "collector", "management-ui", undefined, "management-ui", "192.168.255.254"],
                    [
                        "client",
                        "probe",
                        "C",
                        "http://client-calico-stars.marathon.mesos:9000/status",
                        "client",
                        undefined,
                    ],
                    [
                        "frontend",
                        "probe",
                        "F",
                        "http://frontend-calico-stars.marathon.mesos:9000/status",
                        "frontend",
                        undefined,
                    ],
                    [
                        "backend",
                        "probe",
                        "B",
                        "http://backend-calico-stars.marathon.mesos:9000/status",
                        "backend",
                        undefined,
                    ],
                ],
            );
        });

        it("names the rules that let client -> frontend through", function () {
            assert.strictEqual(
                edge(matrix, "client", "frontend").reason,
                'allowed by client outbound rule 1 "allow" and frontend inbound rule 3 "allow tcp from tag client to ports 9000"',
            );
        });

        it("reaches the collector on the DNAT target port, from outside Calico", function () {
            assert.deepStrictEqual(
                [edge(matrix, "outside", "management-ui").port, edge(matrix, "outside", "management-ui").reason],
                [9001, 'allowed by management-ui inbound rule 1 "allow tcp to ports 9001"'],
            );
        });

        it("has no notes", function () {
            assert.deepStrictEqual(matrix.notes, []);
        });
    });

    describe("with the runbook's slips", function () {
        it("leaves every probe edge blocked when the URLs use the dotted names, which Mesos-DNS does not serve", function () {
            const matrix = declaredOf(stackConfig({ mesosDnsStyle: "dot" }));
            assert.deepStrictEqual(reachableEdges(matrix), ["outside -> management-ui"]);
            assert.deepStrictEqual(edge(matrix, "client", "frontend").cause, {
                kind: "unresolved",
                host: "frontend.calico-stars.marathon.mesos",
                served: "frontend-calico-stars.marathon.mesos",
            });
            assert.strictEqual(
                edge(matrix, "management-ui", "backend").reason,
                '"backend.calico-stars.marathon.mesos" does not resolve: Mesos-DNS serves "backend-calico-stars.marathon.mesos"',
            );
        });

        it("leaves frontend-from-client and backend-from-frontend missing with `to ports 9001`, naming the rules", function () {
            const policy = {
                "management-ui": { inbound: ["allow tcp to ports 9001"], outbound: ["allow"] },
                client: {
                    inbound: ["allow from tag client", "allow tcp from tag management-ui to ports 9000"],
                    outbound: ["allow"],
                },
                frontend: {
                    inbound: [
                        "allow from tag frontend",
                        "allow tcp from tag management-ui to ports 9000",
                        "allow tcp from tag client to ports 9001",
                    ],
                    outbound: ["allow"],
                },
                backend: {
                    inbound: [
                        "allow from tag backend",
                        "allow tcp from tag management-ui to ports 9000",
                        "allow tcp from tag frontend to ports 9001",
                    ],
                    outbound: ["allow"],
                },
            };
            const matrix = declaredOf(stackConfig({ policy }));
            assert.deepStrictEqual(
                reachableEdges(matrix),
                runbookFinalGraph.filter((e) => e !== "client -> frontend" && e !== "frontend -> backend"),
            );
            assert.strictEqual(
                edge(matrix, "client", "frontend").reason,
                'blocked by frontend inbound: no rule matched (default drop); rule 3 "allow tcp from tag client to ports 9001" fails only on dst_ports',
            );
            assert.strictEqual(
                edge(matrix, "frontend", "backend").reason,
                'blocked by backend inbound: no rule matched (default drop); rule 3 "allow tcp from tag frontend to ports 9001" fails only on dst_ports',
            );
        });

        it("refuses the UI while management-ui keeps libnetwork's default rules", function () {
            const { "management-ui": _opened, ...rest } = stackConfig().policy;
            const matrix = declaredOf(stackConfig({ policy: rest }));
            assert.deepStrictEqual(
                [edge(matrix, "outside", "management-ui").reach, edge(matrix, "outside", "management-ui").reason],
                ["blocked", "blocked by management-ui inbound: no rule matched (default drop)"],
            );
        });
    });

    describe("from the deployment", function () {
        it("blocks an edge whose port nothing listens on, naming the port the probe does listen on", function () {
            const template = {
                ...defaultStarsTemplate,
                probeCmd: "/star/target/debug/star-probe --http-port=9100 --urls={{urls}}",
            };
            const matrix = declaredOf(stackConfig({ starsTemplate: template }));
            assert.deepStrictEqual(
                [edge(matrix, "client", "frontend").reach, edge(matrix, "client", "frontend").reason],
                ["blocked", "nothing listens on frontend:9000 (its star-probe listens on 9100)"],
            );
            assert.strictEqual(edge(matrix, "management-ui", "client").reach, "blocked");
        });

        it("has no drawn edge for a target a probe's --urls leave out, and notes a URL that is no resource", function () {
            const parameters = starsParameters(stackConfig(), "test-owner");
            const group = renderStarsGroup(parameters);
            const client = group.apps.find((app) => app.id === "client")!;
            client.cmd =
                "/star/target/debug/star-probe --urls=http://frontend-calico-stars.marathon.mesos:9000/status,http://example.invalid/status";
            const matrix = declaredMatrix({
                group,
                resourcesFile: renderResourcesFile(parameters),
                mesosDnsDomain: "marathon.mesos",
                collectorPort: 9001,
                profiles: profilesFromPolicy(["management-ui", "client", "frontend", "backend"], stackConfig().policy),
            });
            const clientBackend = edge(matrix, "client", "backend");
            assert.deepStrictEqual(
                [clientBackend.reach, clientBackend.drawn, clientBackend.cause.kind],
                ["blocked", false, "not-probed"],
            );
            assert.deepStrictEqual(matrix.notes, [
                "client probes http://example.invalid/status, which is no resource of the collector: the UI draws no edge for it",
            ]);
        });

        it("cannot decide a cidr rule without the probes' addresses, and decides it once they are given", function () {
            const policy = {
                ...stackConfig().policy,
                frontend: { inbound: ["allow tcp from cidr 192.168.1.0/24 to ports 9000"], outbound: ["allow"] },
            };
            const config = stackConfig({ policy });
            assert.deepStrictEqual(
                [
                    edge(declaredOf(config), "client", "frontend").reach,
                    edge(declaredOf(config), "client", "frontend").reason,
                ],
                [
                    "unknown",
                    'depends on frontend inbound rule 1 "allow tcp from cidr 192.168.1.0/24 to ports 9000", whose src_net verify cannot decide',
                ],
            );
            assert.strictEqual(
                edge(declaredOf(config, { client: "192.168.1.5", frontend: "192.168.7.1" }), "client", "frontend")
                    .reach,
                "reachable",
            );
            assert.strictEqual(
                edge(declaredOf(config, { client: "192.168.2.5", frontend: "192.168.7.1" }), "client", "frontend")
                    .reach,
                "blocked",
            );
        });

        it("refuses a group without exactly one collector", function () {
            const parameters = starsParameters(stackConfig(), "test-owner");
            const group = renderStarsGroup(parameters);
            group.apps = group.apps.filter((app) => app.id !== "management-ui");
            assert.throws(
                () =>
                    declaredMatrix({
                        group,
                        resourcesFile: renderResourcesFile(parameters),
                        mesosDnsDomain: "marathon.mesos",
                        collectorPort: 9001,
                        profiles: new Map(),
                    }),
                (error: Error) =>
                    error instanceof VerifyInputError &&
                    error.message === "the group must run exactly one star-collect app, but runs 0",
            );
        });
    });

    describe("reading the rendered apps", function () {
        it("finds role, network, fixed address, port and URLs in the group the program deploys", function () {
            const apps = deployedApps(renderStarsGroup(starsParameters(stackConfig(), "test-owner")));
            assert.deepStrictEqual(
                apps.map((app) => [app.id, app.role, app.network, app.fixedAddress, app.listenPort, app.urls.length]),
                [
                    ["management-ui", "collector", "management-ui", "192.168.255.254", 9001, 0],
                    ["client", "probe", "client", undefined, 9000, 2],
                    ["frontend", "probe", "frontend", undefined, 9000, 2],
                    ["backend", "probe", "backend", undefined, 9000, 2],
                ],
            );
        });

        it("reads `--flag value` as docopt does, and star's default ports when none is given", function () {
            const app = (id: string, cmd: string) => ({
                id,
                cmd,
                cpus: 0.1,
                mem: 64,
                instances: 1,
                uris: [],
                labels: {},
                container: { type: "DOCKER" as const, docker: { image: "x", parameters: [] } },
            });
            const apps = deployedApps({
                id: "/g",
                apps: [
                    app("p", "star-probe --urls http://a/status,,http://b/status"),
                    app("c", "/x/star-collect"),
                    app("o", "sleep 1"),
                ],
            });
            assert.deepStrictEqual(
                apps.map((a) => [a.role, a.listenPort, a.urls]),
                [
                    ["probe", 9000, ["http://a/status", "http://b/status"]],
                    ["collector", 9001, []],
                    ["other", undefined, []],
                ],
            );
        });

        it("refuses a resources file that is not a list of {id, url}", function () {
            assert.throws(
                () => parseResourcesFile('[{"id": "C"}]'),
                (error: Error) => error instanceof VerifyInputError && error.message.includes("entry 0"),
            );
            assert.throws(
                () => parseResourcesFile("nope"),
                (error: Error) =>
                    error instanceof VerifyInputError && error.message.startsWith("the resources file is not JSON"),
            );
        });
    });
});

describe("Mesos-DNS names", function () {
    it("names a task after its app's path reversed, as Marathon does", function () {
        assert.strictEqual(marathonTaskName("/calico-stars", "frontend"), "frontend.calico-stars");
        assert.strictEqual(marathonTaskName("/demo/calico-stars", "frontend"), "frontend.calico-stars.demo");
    });

    it("serves the task name as one RFC 1123 label under the framework's domain", function () {
        assert.strictEqual(
            mesosDnsName("/calico-stars", "frontend", "marathon.mesos"),
            "frontend-calico-stars.marathon.mesos",
        );
        assert.strictEqual(
            mesosDnsName("/demo/calico-stars", "frontend", "marathon.mesos"),
            "frontend-calico-stars-demo.marathon.mesos",
        );
    });

    it("maps case, dots and underscores, drops other characters, and trims and cuts the label as labels.RFC1123 does", function () {
        assert.strictEqual(rfc1123Label("Web_App.calico-stars"), "web-app-calico-stars");
        assert.strictEqual(rfc1123Label("--a+b--"), "ab");
        assert.strictEqual(rfc1123Label(`${"a".repeat(62)}-${"b".repeat(10)}`), `${"a".repeat(62)}b`);
    });

    it("tells a served name from the dotted one meant for the same app, and from a stranger", function () {
        const apps = ["client", "frontend"];
        assert.deepStrictEqual(
            resolveAppHost("Frontend-Calico-Stars.marathon.mesos.", "/calico-stars", apps, "marathon.mesos"),
            { kind: "resolves", app: "frontend" },
        );
        assert.deepStrictEqual(
            resolveAppHost("client.calico-stars.marathon.mesos", "/calico-stars", apps, "marathon.mesos"),
            { kind: "unserved", app: "client", served: "client-calico-stars.marathon.mesos" },
        );
        assert.deepStrictEqual(
            resolveAppHost("backend-calico-stars.marathon.mesos", "/calico-stars", apps, "marathon.mesos"),
            { kind: "unknown" },
        );
    });
});
