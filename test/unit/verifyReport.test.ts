import * as assert from "assert";
import { readFileSync } from "fs";
import { join } from "path";
import Ajv2020 from "ajv/dist/2020";
import type { z } from "zod";
import {
    changeAssumptions,
    CollectorFetch,
    colorWanted,
    compareMatrices,
    DeclaredMatrix,
    formatReportTable,
    observedMatrix,
    reportJson,
    VerifyReport,
    verifyReportSchema,
} from "@calico-stars/providers/verify";
import { reportSchemaFileName, verifyReportJsonSchemaText } from "../../scripts/verify/reportSchema";
import { declaredOf, healthyProbes, probeUrl, responsesBody, stackConfig } from "../support/verifyFixtures";

function report(declared: DeclaredMatrix, probes: Record<string, Record<string, boolean> | null>): VerifyReport {
    return compareMatrices(declared, observedMatrix(declared, { kind: "responses", body: responsesBody(probes) }));
}

const runbookDeclared = declaredOf(stackConfig());
const slipDeclared = declaredOf(
    stackConfig({
        policy: {
            ...stackConfig().policy,
            frontend: {
                inbound: [
                    "allow from tag frontend",
                    "allow tcp from tag management-ui to ports 9000",
                    "allow tcp from tag client to ports 9001",
                ],
                outbound: ["allow"],
            },
        },
    }),
);
/** The probes after a hand edit that closed frontend's inbound to client. */
const clientCutOff = { ...healthyProbes, client: { frontend: false, backend: false } };
/** The probes after a hand edit that opened everything. */
const allOpen = {
    client: { frontend: true, backend: true },
    frontend: { client: true, backend: true },
    backend: { client: true, frontend: true },
};

describe("verify's report", function () {
    describe("comparing declared with observed", function () {
        it("finds a match, exit status 0, when the probes see the declared graph", function () {
            const result = report(runbookDeclared, healthyProbes);
            assert.deepStrictEqual(
                [result.result, result.exitCode, result.summary, result.mismatches],
                ["match", 0, "10 edges: 10 match, 0 mismatch, 0 unknown", []],
            );
        });

        it("names the edge and the rules that should have allowed it when an allowed edge is blocked, exit status 1", function () {
            const result = report(runbookDeclared, clientCutOff);
            assert.strictEqual(result.exitCode, 1);
            assert.deepStrictEqual(result.mismatches, [
                {
                    edge: "client -> frontend",
                    source: "client",
                    target: "frontend",
                    declared: "reachable",
                    observed: "blocked",
                    shouldHaveBeen: "allowed",
                    by: 'client outbound rule 1 "allow" and frontend inbound rule 3 "allow tcp from tag client to ports 9000"',
                    message:
                        `client -> frontend (${probeUrl("frontend")}): declared reachable, observed blocked (C reports ${probeUrl("frontend")} unreachable); ` +
                        'should have been allowed by client outbound rule 1 "allow" and frontend inbound rule 3 "allow tcp from tag client to ports 9000"',
                },
            ]);
        });

        it("names the default drop and the near-miss rule when a blocked edge is reachable", function () {
            const result = report(slipDeclared, healthyProbes);
            assert.deepStrictEqual(
                result.mismatches.map((m) => [m.edge, m.shouldHaveBeen, m.by]),
                [
                    [
                        "client -> frontend",
                        "blocked",
                        'frontend inbound: no rule matched (default drop); rule 3 "allow tcp from tag client to ports 9001" fails only on dst_ports',
                    ],
                ],
            );
            assert.deepStrictEqual(
                result.edges.find((e) => e.source === "client" && e.target === "frontend")!.declared.blockedBy,
                {
                    kind: "default-drop",
                    profile: "frontend",
                    direction: "inbound",
                    nearMisses: [
                        {
                            rule: {
                                profile: "frontend",
                                direction: "inbound",
                                position: 3,
                                text: "allow tcp from tag client to ports 9001",
                            },
                            clause: "dst_ports",
                        },
                    ],
                },
            );
        });

        it("names a deny rule that should have blocked an edge", function () {
            const policy = {
                ...stackConfig().policy,
                backend: { inbound: ["deny tcp from tag client", "allow"], outbound: ["allow"] },
            };
            const result = report(declaredOf(stackConfig({ policy })), {
                ...healthyProbes,
                client: { frontend: true, backend: true },
            });
            assert.deepStrictEqual(
                result.mismatches.map((m) => [m.edge, m.by]),
                [["client -> backend", 'backend inbound rule 1 "deny tcp from tag client"']],
            );
        });

        it("names the name Mesos-DNS does not serve when a dotted URL is somehow reached", function () {
            const result = report(declaredOf(stackConfig({ mesosDnsStyle: "dot" })), healthyProbes);
            const mismatch = result.mismatches.find((m) => m.edge === "client -> frontend");
            assert.strictEqual(
                mismatch?.by,
                '"frontend.calico-stars.marathon.mesos" does not resolve: Mesos-DNS serves "frontend-calico-stars.marathon.mesos"',
            );
        });

        it("is incomplete, exit status 2, when nothing differs but the probes' readings are not trusted yet", function () {
            const observed = observedMatrix(runbookDeclared, { kind: "responses", body: responsesBody(healthyProbes) });
            const result = compareMatrices(runbookDeclared, {
                ...observed,
                edges: observed.edges.map((edge, i) => (i === 0 ? edge : { ...edge, reach: "unknown", drawn: false })),
            });
            assert.deepStrictEqual(
                [result.result, result.exitCode, result.summary],
                ["incomplete", 2, "10 edges: 1 match, 0 mismatch, 9 unknown"],
            );
        });

        it("lists the rules that let a reachable edge through, by profile, direction and position", function () {
            const edge = report(runbookDeclared, healthyProbes).edges.find(
                (e) => e.source === "management-ui" && e.target === "backend",
            )!;
            assert.deepStrictEqual(edge.declared.allowedBy, [
                { profile: "management-ui", direction: "outbound", position: 1, text: "allow" },
                {
                    profile: "backend",
                    direction: "inbound",
                    position: 2,
                    text: "allow tcp from tag management-ui to ports 9000",
                },
            ]);
        });
    });

    describe("as a terminal table", function () {
        it("prints both matrices side by side, marks the mismatch, and names it below", function () {
            const text = formatReportTable(report(runbookDeclared, clientCutOff), { color: false });
            assert.strictEqual(
                text,
                [
                    "verify: MISMATCH: 10 edges: 9 match, 1 mismatch, 0 unknown",
                    "",
                    "                 declared                                    observed",
                    "from \\ to        management-ui  client  frontend  backend    management-ui  client  frontend  backend",
                    "outside          ✔              ·       ·         ·          ✔              ·       ·         ·",
                    "management-ui    ·              ✔       ✔         ✔          ·              ✔       ✔         ✔",
                    "client           ·              ·       ✔!        ✘          ·              ·       ✘!        ✘",
                    "frontend         ·              ✘       ·         ✔          ·              ✘       ·         ✔",
                    "backend          ·              ✘       ✘         ·          ·              ✘       ✘         ·",
                    "",
                    "✔ reachable   ✘ blocked   ? unknown   · not checked   ! mismatch",
                    "",
                    `MISMATCH client -> frontend (${probeUrl("frontend")}): declared reachable, observed blocked (C reports ${probeUrl("frontend")} unreachable); ` +
                        'should have been allowed by client outbound rule 1 "allow" and frontend inbound rule 3 "allow tcp from tag client to ports 9000"',
                    "",
                ].join("\n"),
            );
        });

        it("after a live check, prints when each reading was trusted", function () {
            const live: VerifyReport = {
                ...report(runbookDeclared, healthyProbes),
                edges: report(runbookDeclared, healthyProbes).edges.map((edge) => ({
                    ...edge,
                    trust: {
                        boundSeconds: 28,
                        trustedAfterSeconds: edge.source === "outside" ? 0 : edge.source === "backend" ? null : 27.9,
                    },
                })),
                wait: {
                    since: changeAssumptions.unknown,
                    waitedSeconds: 28.4,
                    timeoutSeconds: 34,
                    decided: false,
                    longestBoundSeconds: 28,
                    connectLimits: [],
                },
            };
            const text = formatReportTable(live, { color: false });
            assert.ok(
                text.includes(
                    [
                        "trusted at (s after the start; - not trusted within the wait of 28.4 s)",
                        "from \\ to        management-ui  client  frontend  backend",
                        "outside          0.0            ·       ·         ·",
                        "management-ui    ·              27.9    27.9      27.9",
                        "client           ·              ·       27.9      27.9",
                        "frontend         ·              27.9    ·         27.9",
                        "backend          ·              -       -         ·",
                    ].join("\n"),
                ),
                text,
            );
        });

        it("lists the unknown edges and why", function () {
            const text = formatReportTable(report(runbookDeclared, { ...healthyProbes, backend: null }), {
                color: false,
            });
            assert.ok(
                text.includes("\nunknown backend -> client: no data: the collector holds no status of B\n"),
                text,
            );
        });

        it("colours only when asked", function () {
            const result = report(runbookDeclared, clientCutOff);
            assert.ok(!formatReportTable(result, { color: false }).includes("\u001b["));
            assert.ok(formatReportTable(result, { color: true }).includes("\u001b[1;31m✘!\u001b[0m"));
        });

        it("asks for colour only on a TTY, without NO_COLOR, on a terminal that is not dumb", function () {
            assert.deepStrictEqual(
                [
                    colorWanted({ isTTY: true }, {}),
                    colorWanted({ isTTY: false }, {}),
                    colorWanted({}, {}),
                    colorWanted({ isTTY: true }, { NO_COLOR: "1" }),
                    colorWanted({ isTTY: true }, { TERM: "dumb" }),
                ],
                [true, false, false, false, false],
            );
        });
    });

    describe("as JSON", function () {
        const committedSchema = JSON.parse(
            readFileSync(join(__dirname, "../../scripts/verify", reportSchemaFileName), "utf8"),
        );
        const validate = new Ajv2020({ allErrors: true, strict: true }).compile(committedSchema);
        const cidrPolicy = {
            ...stackConfig().policy,
            frontend: { inbound: ["allow tcp from cidr 192.168.1.0/24 to ports 9000"], outbound: ["allow"] },
        };
        const reports: Record<string, VerifyReport> = {
            "a match": report(runbookDeclared, healthyProbes),
            "a mismatch with a default drop and a near miss": report(slipDeclared, allOpen),
            "names Mesos-DNS does not serve": report(declaredOf(stackConfig({ mesosDnsStyle: "dot" })), allOpen),
            "a rule verify cannot decide": report(declaredOf(stackConfig({ policy: cidrPolicy })), healthyProbes),
            "a failed fetch": compareMatrices(
                runbookDeclared,
                observedMatrix(runbookDeclared, { kind: "unreachable", reason: "timed out" } as CollectorFetch),
            ),
            "a live check's, with when each reading was trusted and how long it waited": {
                ...report(runbookDeclared, healthyProbes),
                edges: report(runbookDeclared, healthyProbes).edges.map((edge, i) => ({
                    ...edge,
                    trust: { boundSeconds: i === 0 ? 1 : 28, trustedAfterSeconds: i === 0 ? 0 : null },
                })),
                wait: {
                    since: changeAssumptions.unknown,
                    waitedSeconds: 12.5,
                    timeoutSeconds: 34,
                    decided: false,
                    longestBoundSeconds: 28,
                    connectLimits: [
                        { app: "client", synRetries: 2, connectLimitSeconds: 7, from: "read in its container" },
                    ],
                },
            },
        };

        it("has a committed JSON Schema equal to the one zod generates (npm run verify:schema rewrites it)", function () {
            assert.strictEqual(
                readFileSync(join(__dirname, "../../scripts/verify", reportSchemaFileName), "utf8"),
                verifyReportJsonSchemaText(),
            );
        });

        for (const [name, value] of Object.entries(reports)) {
            it(`validates against the committed schema: ${name}`, function () {
                const json = JSON.parse(reportJson(value));
                assert.ok(validate(json), JSON.stringify(validate.errors));
                assert.deepStrictEqual(verifyReportSchema.parse(json), json);
            });
        }

        it("is refused by the schema when it breaks it", function () {
            const json = JSON.parse(reportJson(reports["a match"]));
            assert.ok(!validate({ ...json, exitCode: 5 }));
            assert.ok(!validate({ ...json, edges: [{ ...json.edges[0], status: "fine" }] }));
            assert.ok(!validate({ ...json, extra: true }));
        });

        it("has the same type as the schema's output", function () {
            const fromSchema: z.output<typeof verifyReportSchema> = reports["a match"];
            const asReport: VerifyReport = verifyReportSchema.parse(JSON.parse(reportJson(reports["a match"])));
            assert.strictEqual(fromSchema.schemaVersion, asReport.schemaVersion);
        });
    });
});
