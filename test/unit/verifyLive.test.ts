import * as assert from "assert";
import { defaultStarsTemplate } from "../../components/config";
import { renderResourcesFile, renderStarsGroup, starsParameters } from "../../components/starsTemplate";
import {
    agreesWithDeclared,
    awaitVerdict,
    CollectorFetch,
    DeclaredMatrix,
    EdgeBound,
    LiveVerdict,
    parseResourcesFile,
    ReadResponses,
    starSchedules,
    waitSummary,
} from "@calico-stars/providers/verify";
import { declaredOf, healthyProbes, responsesBody, stackConfig } from "../support/verifyFixtures";

const declared = declaredOf(stackConfig());
const clientCutOff = { ...healthyProbes, client: { frontend: false, backend: false } };

function responses(probes: Record<string, Record<string, boolean> | null>): CollectorFetch {
    return { kind: "responses", body: responsesBody(probes) };
}

/** A collector whose answer is `script(ms since the first read)`. */
function scripted(script: (sinceStartMs: number) => CollectorFetch): ReadResponses {
    let first: number | undefined;
    return async () => {
        first ??= Date.now();
        return script(Date.now() - first);
    };
}

/**
 * Every edge's bound: verify's own fetch `outsideMs`, the others `reachableMs` for a reachable reading, `blockedMs` for
 * a blocked one.
 */
function bounds(
    matrix: DeclaredMatrix,
    { reachableMs, blockedMs, outsideMs = 0 }: { reachableMs: number; blockedMs: number; outsideMs?: number },
): EdgeBound[] {
    return matrix.edges.map((edge) =>
        edge.source === "outside"
            ? { ...edge, reachableMs: outsideMs, blockedMs: outsideMs, unknownMs: outsideMs, reason: "own fetch" }
            : {
                  source: edge.source,
                  target: edge.target,
                  reachableMs,
                  blockedMs,
                  unknownMs: Math.max(reachableMs, blockedMs),
                  reason: "scripted",
              },
    );
}

function wait(
    matrix: DeclaredMatrix,
    read: ReadResponses,
    timeoutMs: number,
    edgeBounds = bounds(matrix, { reachableMs: 300, blockedMs: 200 }),
    progress?: (line: string) => void,
): Promise<LiveVerdict> {
    return awaitVerdict(matrix, read, {
        source: "a scripted collector",
        since: "a scripted change",
        bounds: edgeBounds,
        timeoutMs,
        pollMs: 10,
        progress,
    });
}

describe("verify's live reading of /responses", function () {
    it("trusts no reading before its bound, then stops at the first reading that trusts every edge", async function () {
        const lines: string[] = [];
        const verdict = await wait(
            declared,
            scripted(() => responses(healthyProbes)),
            5000,
            undefined,
            (line) => lines.push(line),
        );
        assert.deepStrictEqual([verdict.report.result, verdict.decided], ["match", true]);
        assert.ok(verdict.elapsedMs >= 300 && verdict.elapsedMs < 450, `decided after ${verdict.elapsedMs} ms`);
        assert.match(
            lines[0],
            /^reading a scripted collector; a scripted change, and waits for each edge's bound from now:$/,
        );
        assert.ok(lines.some((line) => /^at 0(\.\d)? s: reads 10 match, 0 mismatch, 0 unknown$/.test(line)));
        assert.ok(
            lines.some((line) => /^at 0\.[34] s: trusted .*client -> frontend reachable/.test(line)),
            lines.join("\n"),
        );
    });

    it("does not pass on a match read before a change showed: the mismatch is reported once its reading is trusted (the race after a hand edit)", async function () {
        const verdict = await wait(
            declared,
            scripted((ms) => responses(ms < 150 ? healthyProbes : clientCutOff)),
            5000,
        );
        assert.deepStrictEqual(
            [verdict.report.result, verdict.decided, verdict.report.mismatches.map((m) => m.edge)],
            ["mismatch", true, ["client -> frontend"]],
        );
        assert.ok(
            verdict.elapsedMs >= 200 && verdict.elapsedMs < 350,
            `reported at its bound for a blocked reading, not at the timeout: ${verdict.elapsedMs} ms`,
        );
        assert.match(
            waitSummary(verdict.report),
            /^decided after 0\.[23] s: client -> frontend reads blocked, trusted at 0\.[23] s \(a change made at the start would have shown by 0\.2 s\)$/,
        );
    });

    it("waits out a difference that goes away before its bound, as a change on its way does", async function () {
        const verdict = await wait(
            declared,
            scripted((ms) => responses(ms < 150 ? clientCutOff : healthyProbes)),
            5000,
        );
        assert.deepStrictEqual([verdict.report.result, verdict.decided], ["match", true]);
    });

    it("decides each edge by the bound of what it reads: blocked readings trusted first here, reachable ones unknown until theirs", async function () {
        const verdict = await wait(
            declared,
            scripted(() => responses(healthyProbes)),
            250,
        );
        const byReading = (reach: string) =>
            verdict.report.edges
                .filter((edge) => edge.source !== "outside" && edge.declared.reach === reach)
                .map((edge) => edge.observed.reach);
        assert.deepStrictEqual(new Set(byReading("blocked")), new Set(["blocked"]));
        assert.deepStrictEqual(new Set(byReading("reachable")), new Set(["unknown"]));
        assert.strictEqual(verdict.decided, false);
    });

    it("knows only that the collector answered while the probes' readings may be from before the change, and says until when", async function () {
        const verdict = await wait(
            declared,
            scripted(() => responses(healthyProbes)),
            100,
        );
        assert.deepStrictEqual(
            verdict.report.edges.map((edge) => edge.observed.reach),
            ["reachable", ...Array(9).fill("unknown")],
        );
        assert.strictEqual(
            verdict.report.edges[1].observed.detail,
            "reads reachable (the collector holds C's status), not trusted yet: a change could still show on it until 0.3 s",
        );
    });

    it("reports a timeout before the bounds as incomplete, every untrusted edge unknown, and says why", async function () {
        const verdict = await wait(
            declared,
            scripted(() => responses(healthyProbes)),
            150,
        );
        assert.deepStrictEqual(
            [verdict.report.result, verdict.decided, verdict.report.summary],
            ["incomplete", false, "10 edges: 1 match, 0 mismatch, 9 unknown"],
        );
        assert.match(
            verdict.report.notes.at(-1)!,
            /^the 0\.2 s timeout ran out before every reading could be trusted \(after at most 0\.3 s\): 9 edge\(s\) unknown$/,
        );
        assert.match(
            waitSummary(verdict.report),
            /^gave up after 0\.[12] s: the 0\.2 s timeout ran out with 9 edge\(s\) not trusted yet$/,
        );
    });

    it("says in the report when each reading became trustworthy, and how long it waited and why", async function () {
        const verdict = await wait(
            declared,
            scripted((ms) => responses(ms < 150 ? clientCutOff : healthyProbes)),
            5000,
        );
        const clientFrontend = verdict.report.edges.find(
            (edge) => edge.source === "client" && edge.target === "frontend",
        )!;
        assert.deepStrictEqual(clientFrontend.trust?.boundSeconds, 0.3);
        assert.ok(clientFrontend.trust!.trustedAfterSeconds! >= 0.3, JSON.stringify(clientFrontend.trust));
        const blockedOne = verdict.report.edges.find((edge) => edge.source === "client" && edge.target === "backend")!;
        assert.deepStrictEqual(blockedOne.trust?.boundSeconds, 0.2);
        assert.deepStrictEqual(verdict.report.edges[0].trust, { boundSeconds: 0, trustedAfterSeconds: 0 });
        assert.deepStrictEqual(
            [verdict.report.wait?.since, verdict.report.wait?.decided, verdict.report.wait?.longestBoundSeconds],
            ["a scripted change", true, 0.3],
        );
        assert.match(
            waitSummary(verdict.report),
            /^decided after 0\.\d s: every reading trusted, the last at 0\.\d s \(.* reads (reachable|blocked): a change made at the start would have shown by 0\.[23] s\)$/,
        );
    });

    it("reports a collector verify cannot reach as the UI's edge blocked, at once, and the probes' edges unknown", async function () {
        const verdict = await wait(
            declared,
            scripted(() => ({ kind: "unreachable", reason: "no answer within 5000 ms" })),
            3000,
        );
        assert.deepStrictEqual(
            [verdict.report.result, verdict.report.mismatches.map((m) => [m.edge, m.observed])],
            ["mismatch", [["outside -> management-ui", "blocked"]]],
        );
        assert.ok(verdict.elapsedMs < 200, `${verdict.elapsedMs} ms`);
        assert.strictEqual(verdict.report.edges.filter((edge) => edge.observed.reach === "unknown").length, 9);
    });

    it("stops once the other edges are trusted when only edges the declared policy cannot decide are unknown", async function () {
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
            [verdict.report.result, verdict.decided, verdict.elapsedMs < 1000],
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

describe("the star apps' rounds", function () {
    it("are star's 5 s by default, each probe queuing its 2 targets and the collector its 3 resources", function () {
        const parameters = starsParameters(stackConfig(), "0");
        assert.deepStrictEqual(
            starSchedules(renderStarsGroup(parameters), parseResourcesFile(renderResourcesFile(parameters))),
            [
                { app: "management-ui", role: "collector", intervalSeconds: 5, requestsPerRound: 3 },
                { app: "client", role: "probe", intervalSeconds: 5, requestsPerRound: 2 },
                { app: "frontend", role: "probe", intervalSeconds: 5, requestsPerRound: 2 },
                { app: "backend", role: "probe", intervalSeconds: 5, requestsPerRound: 2 },
            ],
        );
    });

    it("follow --http-probe-seconds and --http-request-seconds in the deployed commands", function () {
        const template = {
            ...defaultStarsTemplate,
            collector: {
                ...defaultStarsTemplate.collector,
                cmd: `${defaultStarsTemplate.collector.cmd} --http-request-seconds=3`,
            },
            probeCmd: "/star/target/debug/star-probe --http-probe-seconds 8 --urls={{urls}}",
        };
        const parameters = starsParameters(stackConfig({ starsTemplate: template }), "0");
        assert.deepStrictEqual(
            starSchedules(renderStarsGroup(parameters), []).map((schedule) => schedule.intervalSeconds),
            [3, 8, 8, 8],
        );
    });
});
