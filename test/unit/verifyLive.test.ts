import * as assert from "assert";
import { defaultStarsTemplate } from "../../components/config";
import { renderStarsGroup, starsParameters } from "../../components/starsTemplate";
import { probeRoundMs } from "@calico-stars/providers/verify";
import {
    agreesWithDeclared,
    awaitVerdict,
    CollectorFetch,
    DeclaredMatrix,
    LiveVerdict,
    ReadResponses,
} from "@calico-stars/providers/verify";
import { declaredOf, healthyProbes, responsesBody, stackConfig } from "../support/verifyFixtures";

const declared = declaredOf(stackConfig());
const roundMs = 100;
const clientCutOff = { ...healthyProbes, client: { frontend: false, backend: false } };

function responses(probes: Record<string, Record<string, boolean> | null>): CollectorFetch {
    return { kind: "responses", body: responsesBody(probes), fresh: true };
}

/** A collector whose answer is `script(ms since the first read)`. */
function scripted(script: (sinceStartMs: number) => CollectorFetch): ReadResponses {
    let first: number | undefined;
    return async () => {
        first ??= Date.now();
        return script(Date.now() - first);
    };
}

function wait(matrix: DeclaredMatrix, read: ReadResponses, timeoutMs: number): Promise<LiveVerdict> {
    return awaitVerdict(matrix, read, { source: "a scripted collector", timeoutMs, roundMs, pollMs: 10 });
}

describe("verify's live reading of /responses", function () {
    it("trusts the collector only two probe rounds after it starts, then stops at the first matching reading", async function () {
        const lines: string[] = [];
        const verdict = await awaitVerdict(
            declared,
            scripted(() => responses(healthyProbes)),
            {
                source: "a scripted collector",
                timeoutMs: 5000,
                roundMs,
                pollMs: 10,
                progress: (line) => lines.push(line),
            },
        );
        assert.deepStrictEqual([verdict.report.result, verdict.fresh], ["match", true]);
        assert.ok(
            verdict.elapsedMs >= 2 * roundMs && verdict.elapsedMs < 2 * roundMs + 150,
            `decided after ${verdict.elapsedMs} ms`,
        );
        assert.strictEqual(lines.length, 2, lines.join("\n"));
        assert.match(lines[1], /^at 0(\.\d)? s: 10 match, 0 mismatch, 0 unknown$/);
    });

    it("does not pass on a match read before a change showed: the reading after it decides (the race after a hand edit)", async function () {
        const verdict = await wait(
            declared,
            scripted((ms) => responses(ms < 150 ? healthyProbes : clientCutOff)),
            600,
        );
        assert.deepStrictEqual(
            [verdict.report.result, verdict.fresh, verdict.report.mismatches.map((m) => m.edge)],
            ["mismatch", true, ["client -> frontend"]],
        );
        assert.ok(verdict.elapsedMs >= 600, "a difference is watched until the timeout");
    });

    it("waits out a difference that goes away, as a change on its way does", async function () {
        const verdict = await wait(
            declared,
            scripted((ms) => responses(ms < 250 ? clientCutOff : healthyProbes)),
            3000,
        );
        assert.deepStrictEqual([verdict.report.result, verdict.fresh], ["match", true]);
        assert.ok(verdict.elapsedMs >= 250 + roundMs, `decided after ${verdict.elapsedMs} ms`);
    });

    it("trusts no reading that is still changing at the timeout: every probe edge is unknown, and the note says why", async function () {
        const verdict = await wait(
            declared,
            scripted((ms) => responses(Math.floor(ms / 40) % 2 === 0 ? healthyProbes : clientCutOff)),
            500,
        );
        assert.deepStrictEqual(
            [verdict.report.result, verdict.fresh, verdict.report.summary],
            ["incomplete", false, "10 edges: 1 match, 0 mismatch, 9 unknown"],
        );
        assert.match(
            verdict.report.notes.at(-1)!,
            /^the observed matrix last changed 0(\.\d)? s before the 0\.5 s timeout ran out, less than a probe round \(0\.1 s\)$/,
        );
    });

    it("says when the timeout ran out before two probe rounds", async function () {
        const verdict = await wait(
            declared,
            scripted(() => responses(healthyProbes)),
            150,
        );
        assert.deepStrictEqual(
            [verdict.report.result, verdict.report.notes.at(-1)],
            ["incomplete", "the 0.2 s timeout ran out before two probe rounds (0.2 s) had passed"],
        );
    });

    it("reports a collector verify cannot reach as the UI's edge blocked, and the probes' edges unknown", async function () {
        const verdict = await wait(
            declared,
            scripted(() => ({ kind: "unreachable", reason: "no answer within 5000 ms" })),
            300,
        );
        assert.deepStrictEqual(
            [verdict.report.result, verdict.report.mismatches.map((m) => [m.edge, m.observed])],
            ["mismatch", [["outside -> management-ui", "blocked"]]],
        );
        assert.strictEqual(verdict.report.edges.filter((edge) => edge.observed.reach === "unknown").length, 9);
    });

    it("stops early when only edges the declared policy cannot decide are unknown", async function () {
        const policy = {
            ...stackConfig().policy,
            frontend: {
                inbound: [
                    "allow tcp from tag management-ui to ports 9000",
                    "allow tcp from cidr 192.168.1.0/24 to ports 9000",
                ],
                outbound: ["allow"],
            },
        };
        const undecidable = declaredOf(stackConfig({ policy }));
        const verdict = await wait(
            undecidable,
            scripted(() => responses(healthyProbes)),
            5000,
        );
        assert.ok(agreesWithDeclared(verdict.report));
        assert.deepStrictEqual(
            [verdict.report.result, verdict.fresh, verdict.elapsedMs < 1000],
            ["incomplete", true, true],
        );
        assert.deepStrictEqual(
            verdict.report.edges
                .filter((edge) => edge.status === "unknown")
                .map((edge) => `${edge.source} -> ${edge.target}`),
            ["client -> frontend", "backend -> frontend"],
        );
    });
});

describe("a probe round", function () {
    it("is the slowest probe's interval plus the collector's: star's 5 s and 5 s by default", function () {
        assert.strictEqual(probeRoundMs(renderStarsGroup(starsParameters(stackConfig(), "0"))), 10000);
    });

    it("follows --http-probe-seconds and --http-request-seconds in the deployed commands", function () {
        const template = {
            ...defaultStarsTemplate,
            collector: {
                ...defaultStarsTemplate.collector,
                cmd: `${defaultStarsTemplate.collector.cmd} --http-request-seconds=3`,
            },
            probeCmd: "/star/target/debug/star-probe --http-probe-seconds 8 --urls={{urls}}",
        };
        assert.strictEqual(
            probeRoundMs(renderStarsGroup(starsParameters(stackConfig({ starsTemplate: template }), "0"))),
            11000,
        );
    });
});
