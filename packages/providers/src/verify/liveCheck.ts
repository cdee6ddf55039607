// The observed matrix, live: the collector's /responses fetched through the
// master's sshd (a direct-tcpip channel to the collector's address as the
// master sees it), again and again until it says something verify can trust.
// Shared by `npm run verify` and the VerifyPolicy resource.
//
// What "fresh" means. star keeps no time with its data (mesosphere/star v0.5.0,
// src/probe/status, src/collect/resource), so freshness is read from the clock:
// a change shows in /responses within one round, the slowest probe's interval
// plus the collector's (probeRoundMs; 5 + 5 s by default). So verify trusts only
// what it reads at least one round after it started, and only once that reading
// has stayed the same for another full round: at the earliest two rounds after
// the start (20 s by default). It stops as soon as such a reading equals the
// declared matrix; anything else it keeps watching until the timeout, because a
// difference can be a change still on its way: on a real cluster star-probe sets
// no connect timeout, so a newly blocked target keeps its last status until the
// kernel gives up connecting (about 127 s with Linux's tcp_syn_retries=6).
// At the timeout the last reading is reported, as fresh when it had been stable for
// a round, else with every probe edge unknown.
import { setTimeout as sleep } from "timers/promises";
import { isForwardRefused, SshError, SshHost, httpOverSsh } from "../ssh";
import type { DeclaredMatrix } from "./matrix";
import { CollectorFetch, observedMatrix, parseResponses } from "./observedMatrix";
import { compareMatrices, VerifyReport } from "./report";

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

export interface WaitOptions {
    /** What is read, for the progress lines, e.g. "192.168.255.254:9001/responses through 10.197.0.11". */
    source: string;
    /** How long to wait for a trustworthy reading that equals the declared matrix. */
    timeoutMs: number;
    /** One probe round (probeRoundMs). */
    roundMs: number;
    /** The pause between two fetches; 1 s by default. */
    pollMs?: number;
    /** How long one fetch may take; 5 s by default. */
    fetchTimeoutMs?: number;
    /** Told, in one line, when the reading changes. */
    progress?: (line: string) => void;
}

export interface LiveVerdict {
    /** The report on the last reading. */
    report: VerifyReport;
    /** Whether the reading was fresh and stable (else its probe edges are unknown). */
    fresh: boolean;
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
    return { kind: "responses", body: response.body, fresh: true };
}

/** Every edge agrees, except those only the declared side cannot decide (a rule on addresses verify does not know). */
export function agreesWithDeclared(report: VerifyReport): boolean {
    return report.edges.every(
        (edge) =>
            edge.status === "match" ||
            (edge.status === "unknown" && edge.declared.reach === "unknown" && edge.observed.reach !== "unknown"),
    );
}

/** What a reading says, edge by edge, for telling readings apart. */
function readingKey(declared: DeclaredMatrix, fetched: CollectorFetch): string {
    return JSON.stringify([
        fetched.kind,
        observedMatrix(declared, fetched).edges.map((edge) => [edge.reach, edge.drawn]),
    ]);
}

function withFreshness(fetched: CollectorFetch, fresh: boolean): CollectorFetch {
    return fetched.kind === "responses" ? { ...fetched, fresh } : fetched;
}

function seconds(ms: number): string {
    return `${Math.round(ms / 100) / 10} s`;
}

/** What fetchResponses reads, for the progress lines. */
export function describeCollector(collector: CollectorEndpoint): string {
    return `${collector.address}:${collector.port}/responses through ${collector.host.address}`;
}

/** Reads until a fresh, stable reading agrees with `declared`, or the timeout; reports the last reading. */
export async function awaitVerdict(
    declared: DeclaredMatrix,
    read: ReadResponses,
    options: WaitOptions,
): Promise<LiveVerdict> {
    const started = Date.now();
    const deadline = started + options.timeoutMs;
    const freshFrom = started + options.roundMs;
    const say = options.progress ?? (() => undefined);
    say(
        `reading ${options.source}; trusting what stays the same for a probe round ` +
            `(${seconds(options.roundMs)}) from ${seconds(options.roundMs)} after the start; timeout ${seconds(options.timeoutMs)}`,
    );
    let lastKey: string | undefined;
    let stableSince = started;
    for (let fetches = 1; ; fetches++) {
        const fetched = await read(
            Math.max(1000, Math.min(options.fetchTimeoutMs ?? defaultFetchTimeoutMs, deadline - Date.now())),
        );
        const now = Date.now();
        const key = readingKey(declared, fetched);
        if (key !== lastKey) {
            stableSince = now;
            lastKey = key;
            const reading = compareMatrices(declared, observedMatrix(declared, withFreshness(fetched, true)));
            say(
                `at ${seconds(now - started)}: ${fetched.kind === "responses" ? reading.summary.replace(/^\d+ edges: /, "") : `${fetched.kind}: ${fetched.reason}`}`,
            );
        }
        const fresh = now - Math.max(stableSince, freshFrom) >= options.roundMs;
        const report = compareMatrices(declared, observedMatrix(declared, withFreshness(fetched, fresh)));
        if (fresh && agreesWithDeclared(report)) {
            return { report, fresh, elapsedMs: now - started, fetches };
        }
        if (now >= deadline) {
            if (!fresh) {
                report.notes.push(
                    now < freshFrom + options.roundMs
                        ? `the ${seconds(options.timeoutMs)} timeout ran out before two probe rounds (${seconds(2 * options.roundMs)}) had passed`
                        : `the observed matrix last changed ${seconds(now - stableSince)} before the ${seconds(options.timeoutMs)} timeout ran out, less than a probe round (${seconds(options.roundMs)})`,
                );
            }
            return { report, fresh, elapsedMs: now - started, fetches };
        }
        await sleep(Math.min(options.pollMs ?? defaultPollMs, deadline - now));
    }
}
