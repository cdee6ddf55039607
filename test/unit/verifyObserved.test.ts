import * as assert from "assert";
import { ObservedMatrix, observedMatrix, parseResponses, VerifyInputError } from "@calico-stars/providers/verify";
import {
    declaredOf,
    healthyProbes as healthy,
    probeUrl as url,
    responsesBody,
    stackConfig,
} from "../support/verifyFixtures";

const declared = declaredOf(stackConfig());

function reaches(matrix: ObservedMatrix): string[] {
    return matrix.edges.map(
        (edge) => `${edge.source} -> ${edge.target}: ${edge.reach}${edge.drawn ? "" : " (not drawn)"}`,
    );
}

describe("verify's observed matrix", function () {
    describe("parsing /responses", function () {
        it("reads star-collect's own example (GET /responses/example, star v0.5.0 server.rs)", function () {
            const example = {
                responses: {
                    A: {
                        url: "http://a/status",
                        statusCode: 200,
                        json: {
                            status: {
                                targets: [
                                    { reachable: true, url: "http://b/status" },
                                    { reachable: true, url: "http://c/status" },
                                    { reachable: true, url: "http://d/status" },
                                ],
                            },
                        },
                    },
                    B: {
                        url: "http://b/status",
                        statusCode: 200,
                        json: {
                            status: {
                                targets: [
                                    { reachable: true, url: "http://a/status" },
                                    { reachable: false, url: "http://c/status" },
                                    { reachable: true, url: "http://d/status" },
                                ],
                            },
                        },
                    },
                    C: null,
                },
            };
            const parsed = parseResponses(JSON.stringify(example));
            assert.deepStrictEqual([...parsed.keys()], ["A", "B", "C"]);
            assert.deepStrictEqual(parsed.get("B")?.targets?.[1], { url: "http://c/status", reachable: false });
            assert.strictEqual(parsed.get("C"), null);
        });

        it("refuses a body that is not JSON, quoting it", function () {
            assert.throws(
                () => parseResponses("<html>"),
                (error: Error) => error instanceof VerifyInputError && error.message.includes("<html>"),
            );
        });

        it("refuses a body that is not star-collect's shape, naming where", function () {
            assert.throws(
                () => parseResponses('{"responses": {"C": {"url": 1, "statusCode": 200, "json": {}}}}'),
                (error: Error) => error instanceof VerifyInputError && error.message.includes("responses.C"),
            );
        });
    });

    describe("from the collector's data", function () {
        it("shows the runbook's final graph when the probes see it", function () {
            const observed = observedMatrix(declared, { kind: "responses", body: responsesBody(healthy) });
            assert.deepStrictEqual(
                observed.edges.map((edge) => edge.reach),
                declared.edges.map((edge) => edge.reach),
            );
            assert.deepStrictEqual(observed.notes, []);
        });

        it("shows a probe the collector could not fetch as blocked from the collector, and its own edges as unknown", function () {
            const observed = observedMatrix(declared, {
                kind: "responses",
                body: responsesBody({ ...healthy, backend: null }),
            });
            assert.deepStrictEqual(reaches(observed), [
                "outside -> management-ui: reachable",
                "management-ui -> client: reachable",
                "management-ui -> frontend: reachable",
                "management-ui -> backend: blocked",
                "client -> frontend: reachable",
                "client -> backend: blocked",
                "frontend -> client: blocked",
                "frontend -> backend: reachable",
                "backend -> client: unknown (not drawn)",
                "backend -> frontend: unknown (not drawn)",
            ]);
        });

        it("shows a target a probe does not list as blocked and not drawn, as the UI draws no edge", function () {
            const observed = observedMatrix(declared, {
                kind: "responses",
                body: responsesBody({ ...healthy, client: { frontend: true } }),
            });
            const clientBackend = observed.edges.find((edge) => edge.source === "client" && edge.target === "backend")!;
            assert.deepStrictEqual(
                [clientBackend.reach, clientBackend.drawn, clientBackend.detail],
                ["blocked", false, `C does not probe ${url("backend")}`],
            );
        });

        it("takes a probe answer that is not a status as unknown", function () {
            const body = JSON.stringify({
                responses: { C: { url: url("client"), statusCode: 404, json: { error: "nope" } } },
            });
            const observed = observedMatrix(declared, { kind: "responses", body });
            const clientFrontend = observed.edges.find(
                (edge) => edge.source === "client" && edge.target === "frontend",
            )!;
            assert.deepStrictEqual(
                [clientFrontend.reach, clientFrontend.detail],
                ["unknown", "C's answer is not a star-probe status"],
            );
        });

        it("notes resources the deployed file does not list, and URLs that differ from it", function () {
            const body = JSON.parse(responsesBody(healthy));
            body.responses.X = null;
            body.responses.C.url = "http://client.calico-stars.marathon.mesos:9000/status";
            const observed = observedMatrix(declared, { kind: "responses", body: JSON.stringify(body) });
            assert.deepStrictEqual(observed.notes, [
                `the collector fetches C at http://client.calico-stars.marathon.mesos:9000/status, but the deployed resources file says ${url("client")}`,
                "the collector has a resource X that the deployed resources file does not list",
            ]);
        });
    });

    describe("without the probes' data", function () {
        it("shows the UI's edge blocked when verify's own fetch fails, and the rest unknown", function () {
            const observed = observedMatrix(declared, { kind: "unreachable", reason: "connect timed out after 10 s" });
            assert.deepStrictEqual(
                observed.edges.map((edge) => edge.reach),
                ["blocked", ...Array(9).fill("unknown")],
            );
            assert.strictEqual(
                observed.edges[0].detail,
                "verify's own fetch of /responses failed: connect timed out after 10 s",
            );
        });

        it("knows nothing when nothing was fetched", function () {
            const observed = observedMatrix(declared, {
                kind: "not-fetched",
                reason: "no SSH connection to the master",
            });
            assert.deepStrictEqual(
                observed.edges.map((edge) => edge.reach),
                Array(10).fill("unknown"),
            );
        });
    });
});
