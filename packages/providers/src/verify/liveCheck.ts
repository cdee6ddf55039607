// The observed matrix, live: the collector's /responses fetched through the master's sshd (a direct-tcpip channel to
// the collector's address as the master sees it), again and again until every edge's reading can be trusted, or one
// that can differs from the declared matrix. Shared by `npm run verify` and the VerifyPolicy resource (checkLive).
//
// When a reading is trusted. star keeps no time with its data (mesosphere/star v0.5.0, src/probe/status,
// src/collect/resource), so a reading may be from before the last change, by as much as the edge's bound for what it
// reads (readingBounds.ts), counted from that change. The count starts when the check does: the VerifyPolicy check
// runs right after the change it checks, and `npm run verify` cannot tell when the policy last changed, so it counts
// as if a change had just been made. A reading is trusted once a fetch started that long after the start shows it,
// and unknown until then. A trusted difference is reported at once; a match only once every edge is trusted.
import { setTimeout as sleep } from "timers/promises";
import { isForwardRefused, SshError, SshHost, httpOverSsh } from "../ssh";
import { connectLimitMs } from "./connectLimit";
import { DeclaredMatrix, edgeName, ObservedEdge, Reach } from "./matrix";
import { CollectorFetch, observedMatrix, parseResponses } from "./observedMatrix";
import {
    AppSynRetries,
    boundFor,
    describeBounds,
    EdgeBound,
    edgeBounds,
    formatSeconds,
    longestBoundMs,
} from "./readingBounds";
import { compareMatrices, VerifyReport } from "./report";
import { StarSchedule } from "./starApps";
import { readSynRetries } from "./synRetries";

export interface CollectorEndpoint {
    /** The host whose sshd forwards to the collector (the master). */
    host: SshHost;
    /** The collector's address as that host sees it (its fixed Calico IP). */
    address: string;
    /** star-collect's port. */
    port: number;
}

/** One reading of /responses, given how long it may take. */
export type ReadResponses = (timeoutMs: number) => Promise<CollectorFetch>;

/** What the check knows of the last change, said in its first line. */
export const changeAssumptions = {
    justApplied: "the check runs right after the change it checks",
    unknown: "verify cannot tell when the policy last changed, so it counts as if a change had just been made",
} as const;

export interface WaitOptions {
    /** What is read, for the progress lines, e.g. "192.168.255.254:9001/responses through 10.197.0.11". */
    source: string;
    /** Each edge's bound, in the declared matrix's order. */
    bounds: readonly EdgeBound[];
    /** Why the count starts at the start (changeAssumptions). */
    since: string;
    /** How long to wait for every edge to be trusted. */
    timeoutMs: number;
    /** The pause between two fetches; 1 s by default. */
    pollMs?: number;
    /** How long one fetch may take; 5 s by default. */
    fetchTimeoutMs?: number;
    /** Told, in one line each, what changes: readings, and edges that become trusted. */
    progress?: (line: string) => void;
    /** Where each app's connect limit came from, for the report. */
    connectLimits?: readonly AppSynRetries[];
}

export interface LiveVerdict {
    /** The report on the last reading: edges not trusted yet are unknown. */
    report: VerifyReport;
    /** Whether it was decided before the timeout: every edge trusted, or a trusted one differed. */
    decided: boolean;
    /** How long it took, in ms. */
    elapsedMs: number;
    /** How many times /responses was fetched. */
    fetches: number;
}

const defaultPollMs = 1000;
const defaultFetchTimeoutMs = 5000;

/** One GET /responses. A collector that does not answer is an observation; a failing SSH connection is an error. */
export async function fetchResponses(collector: CollectorEndpoint, timeoutMs: number): Promise<CollectorFetch> {
    let response;
    try {
        response = await httpOverSsh(collector.host, {
            method: "GET",
            path: "/responses",
            targetHost: collector.address,
            targetPort: collector.port,
            timeoutMs,
        });
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // httpOverSsh names the request in what went wrong with it; the connection to the master (refused, host key,
        // login), a forward sshd refuses to open, or the wait for the connection are not the collector's doing
        const request = `GET http://${collector.address}:${collector.port}/responses via `;
        if (
            !isForwardRefused(error) &&
            !(error instanceof SshError && message.startsWith(request) && !message.includes("(waiting for"))
        ) {
            throw error;
        }
        const why = isForwardRefused(error)
            ? "connection refused"
            : message.includes("no answer within")
              ? `no answer within ${timeoutMs} ms`
              : message.slice(message.indexOf(": ") + 2);
        return {
            kind: "unreachable",
            reason: `${collector.address}:${collector.port} from ${collector.host.address}: ${why}`,
        };
    }
    if (response.status !== 200) {
        return {
            kind: "not-fetched",
            reason: `${collector.address}:${collector.port} answered HTTP ${response.status}: ${response.body.slice(0, 120)}`,
        };
    }
    try {
        parseResponses(response.body);
    } catch (error) {
        return { kind: "not-fetched", reason: error instanceof Error ? error.message : String(error) };
    }
    return { kind: "responses", body: response.body };
}

/** Every edge agrees, except those only the declared side cannot decide (a rule on addresses verify does not know). */
export function agreesWithDeclared(report: VerifyReport): boolean {
    return report.edges.every(
        (edge) =>
            edge.status === "match" ||
            (edge.status === "unknown" && edge.declared.reach === "unknown" && edge.observed.reach !== "unknown"),
    );
}

/** What fetchResponses reads, for the progress lines. */
export function describeCollector(collector: CollectorEndpoint): string {
    return `${collector.address}:${collector.port}/responses through ${collector.host.address}`;
}

/** Long enough for every edge to be trusted, and for one more fetch after that. */
function defaultTimeoutMs(bounds: readonly EdgeBound[]): number {
    return longestBoundMs(bounds) + defaultPollMs + defaultFetchTimeoutMs;
}

/** One edge as the check follows it. */
interface EdgeWatch {
    /** What it reads; undefined before the first fetch. */
    reach: Reach | undefined;
    /** When the fetch that first read it started, in ms after the start. */
    since: number;
    /** When the first fetch that could trust it started; undefined while it cannot. */
    trustedAt: number | undefined;
}

/** Reads until every edge's reading is trusted, a trusted one differs, or the timeout; reports the last reading. */
export async function awaitVerdict(
    declared: DeclaredMatrix,
    read: ReadResponses,
    options: WaitOptions,
): Promise<LiveVerdict> {
    const started = Date.now();
    const deadline = started + options.timeoutMs;
    const say = options.progress ?? (() => undefined);
    const bounds = options.bounds;
    const longest = longestBoundMs(bounds);
    say(`reading ${options.source}; ${options.since}, and waits for each edge's bound from now:`);
    describeBounds(bounds).forEach(say);
    say(
        `every reading is trusted after at most ${formatSeconds(longest)}; timeout ${formatSeconds(options.timeoutMs)}`,
    );
    const watches: EdgeWatch[] = declared.edges.map(() => ({ reach: undefined, since: 0, trustedAt: undefined }));
    for (let fetches = 1; ; fetches++) {
        const readAt = Date.now() - started;
        const fetched = await read(
            Math.max(1000, Math.min(options.fetchTimeoutMs ?? defaultFetchTimeoutMs, deadline - Date.now())),
        );
        const observed = observedMatrix(declared, fetched);
        const at = `at ${formatSeconds(readAt)}`;
        if (fetches === 1) {
            const first = compareMatrices(declared, observed);
            say(
                `${at}: ${fetched.kind === "responses" ? `reads ${first.summary.replace(/^\d+ edges: /, "")}` : `${fetched.kind}: ${fetched.reason}`}`,
            );
        }
        const trustedNow: string[] = [];
        observed.edges.forEach((edge, i) => {
            const watch = watches[i];
            if (edge.reach !== watch.reach) {
                if (watch.reach !== undefined) {
                    say(
                        `${at}: ${edgeName(edge)} now reads ${edge.reach} (${edge.detail})` +
                            (watch.trustedAt === undefined
                                ? ""
                                : ", after its reading was trusted: a change during the check"),
                    );
                }
                watches[i] = { reach: edge.reach, since: readAt, trustedAt: undefined };
            }
            if (watches[i].trustedAt === undefined && readAt >= boundFor(bounds[i], edge.reach)) {
                watches[i].trustedAt = readAt;
                trustedNow.push(`${edgeName(edge)} ${edge.reach}`);
            }
        });
        if (trustedNow.length > 0) {
            say(`${at}: trusted ${trustedNow.join(", ")}`);
        }
        const report = reportOn(declared, observed.edges, observed.notes, watches, bounds);
        const settled = declared.edges.every(
            (edge, i) => watches[i].trustedAt !== undefined || edge.reach === "unknown",
        );
        const now = Date.now();
        const decided = settled || report.mismatches.length > 0;
        if (decided || now >= deadline) {
            if (!decided) {
                const waiting = watches.filter((watch) => watch.trustedAt === undefined).length;
                report.notes.push(
                    `the ${formatSeconds(options.timeoutMs)} timeout ran out before every reading could be trusted ` +
                        `(after at most ${formatSeconds(longest)}): ${waiting} edge(s) unknown`,
                );
            }
            report.wait = {
                since: options.since,
                waitedSeconds: seconds(now - started),
                timeoutSeconds: seconds(options.timeoutMs),
                decided,
                longestBoundSeconds: seconds(longest),
                connectLimits: (options.connectLimits ?? []).map((entry) => ({
                    app: entry.app,
                    synRetries: entry.synRetries,
                    connectLimitSeconds: seconds(connectLimitMs(entry.synRetries)),
                    from: entry.from,
                })),
            };
            return { report, decided, elapsedMs: now - started, fetches };
        }
        await sleep(Math.min(options.pollMs ?? defaultPollMs, deadline - now));
    }
}

/** The report on a reading: an edge not trusted yet is unknown, saying what it reads and until when it may change. */
function reportOn(
    declared: DeclaredMatrix,
    edges: readonly ObservedEdge[],
    notes: string[],
    watches: readonly EdgeWatch[],
    bounds: readonly EdgeBound[],
): VerifyReport {
    const trusted = edges.map((edge, i): ObservedEdge => {
        if (watches[i].trustedAt !== undefined) {
            return edge;
        }
        const until = formatSeconds(boundFor(bounds[i], edge.reach));
        return {
            ...edge,
            reach: "unknown",
            drawn: false,
            detail: `reads ${edge.reach} (${edge.detail}), not trusted yet: a change could still show on it until ${until}`,
        };
    });
    const report = compareMatrices(declared, { edges: trusted, notes });
    report.edges.forEach((edge, i) => {
        const trustedAt = watches[i].trustedAt;
        edge.trust = {
            boundSeconds: seconds(boundFor(bounds[i], edges[i].reach)),
            trustedAfterSeconds: trustedAt === undefined ? null : seconds(trustedAt),
        };
    });
    return report;
}

function seconds(ms: number): number {
    return Math.round(ms / 100) / 10;
}

/** What the live check reads and where. */
export interface LiveCheckSubject {
    declared: DeclaredMatrix;
    collector: CollectorEndpoint;
    /** The agents, where the star containers' net.ipv4.tcp_syn_retries is read. */
    agents: readonly SshHost[];
    /** The Marathon group's id, e.g. "calico-stars". */
    groupId: string;
    /** The star apps' rounds, from their deployed commands. */
    schedules: readonly StarSchedule[];
}

export interface LiveCheckOptions {
    /** Why the count starts at the start (changeAssumptions). */
    since: string;
    /** How long to wait; by default a little past the longest bound (defaultTimeoutMs). */
    timeoutMs?: number;
    progress?: (line: string) => void;
}

/**
 * The check `npm run verify` and the VerifyPolicy resource both run: the apps' connect limits read on the agents, each
 * edge's bound from them, then the collector read until the verdict.
 */
export async function checkLive(subject: LiveCheckSubject, options: LiveCheckOptions): Promise<LiveVerdict> {
    const say = options.progress ?? (() => undefined);
    const synRetries = await readSynRetries(
        subject.agents,
        subject.groupId,
        subject.schedules.map((schedule) => schedule.app),
    );
    say(
        `connect limits: ${synRetries
            .map(
                (entry) =>
                    `${entry.app} ${formatSeconds(connectLimitMs(entry.synRetries))} (tcp_syn_retries ${entry.synRetries}, ${entry.from})`,
            )
            .join("; ")}`,
    );
    const bounds = edgeBounds(subject.declared, subject.schedules, synRetries);
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs(bounds);
    if (timeoutMs < longestBoundMs(bounds)) {
        say(
            `the ${formatSeconds(timeoutMs)} timeout is shorter than the longest bound (${formatSeconds(longestBoundMs(bounds))}): ` +
                "an edge not trusted by then is reported unknown",
        );
    }
    return awaitVerdict(subject.declared, (ms) => fetchResponses(subject.collector, ms), {
        source: describeCollector(subject.collector),
        bounds,
        since: options.since,
        timeoutMs,
        progress: options.progress,
        connectLimits: synRetries,
    });
}

/** How long the check waited and why, in a line: what decided it, or that the timeout did. */
export function waitSummary(report: VerifyReport): string {
    const wait = report.wait;
    if (wait === undefined) {
        return "one reading, taken as it is";
    }
    const waited = `${wait.decided ? "decided" : "gave up"} after ${wait.waitedSeconds} s`;
    const trustedAt = (edge: VerifyReport["edges"][number]) => edge.trust?.trustedAfterSeconds ?? null;
    if (!wait.decided) {
        const untrusted = report.edges.filter((edge) => trustedAt(edge) === null).length;
        return `${waited}: the ${wait.timeoutSeconds} s timeout ran out with ${untrusted} edge(s) not trusted yet`;
    }
    const mismatch = report.edges.find((edge) => edge.status === "mismatch");
    if (mismatch !== undefined) {
        return (
            `${waited}: ${edgeName(mismatch)} reads ${mismatch.observed.reach}, trusted at ${trustedAt(mismatch)} s ` +
            `(a change made at the start would have shown by ${mismatch.trust?.boundSeconds} s)`
        );
    }
    const last = report.edges.reduce((latest, edge) =>
        (trustedAt(edge) ?? 0) > (trustedAt(latest) ?? 0) ? edge : latest,
    );
    return (
        `${waited}: every reading trusted, the last at ${trustedAt(last)} s ` +
        `(${edgeName(last)} reads ${last.observed.reach}: a change made at the start would have shown by ${last.trust?.boundSeconds} s)`
    );
}
