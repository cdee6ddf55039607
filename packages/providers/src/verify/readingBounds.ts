// How long after a change each edge's reading may still be from before it: the latest a change can take to reach
// the collector's /responses, edge by edge and for each direction, from the deployed commands (intervals, requests
// per round), star's 4 threads and the apps' connect limits (their containers' net.ipv4.tcp_syn_retries).
//
// What star v0.5.0 does (src/probe/status/client.rs, src/collect/resource/client.rs): every interval its timer queues
// one request per target, oldest first, on 4 threads; a request has no timeout, so one to an address that drops it
// holds its thread for the connect limit T (connectLimit.ts); the status (the collector's response) changes only when
// a request ends. Every request lasts at most T, and at most `requestsPerRound - 1` others are queued ahead of the
// next request for a given target, so that request starts within
//     nextStart = max(interval, T) + floor((requests - 1) / 4) * T    (plus an answered request's time for each)
// of any moment: by then a round has queued it, every request in progress has ended, and every 4 hanging ones ahead
// of it have ended T later. The collector (whose resources keep their order: a Rust HashMap iterates its table in
// order while no key is added) fetches each probe the same way. Hence, from the change:
// - a newly blocked edge: the probe's next request for it starts within nextStart and fails T later;
// - a newly opened edge: a request whose last SYN left before the change still fails up to the last SYN's wait after
//   it (connectLimit.ts lastSynWaitMs); the next request after that starts within nextStart and is answered;
// - either way the collector's next fetch of that probe starts within its own nextStart, and the probe's response it
//   holds is its current one once a fetch it could not make has had its own T to fail.
// Both numbers are worst cases: what the queue and the kernel allow, not what a quiet cluster usually takes.
import { connectLimitMs, lastSynWaitMs } from "./connectLimit";
import { DeclaredMatrix, edgeName, Reach } from "./matrix";
import { StarSchedule, workerThreads } from "./starApps";
import { VerifyInputError } from "../errors";

/** An allowance, not a bound: Felix programs a profile change as its etcd watch delivers it. */
const policyLagMs = 1000;
/** An allowance, not a bound: an answered request (connect, GET, response) on a busy cluster. */
const answeredRequestMs = 1000;

/** How long after a change an edge's reading may still be from before it, in ms. */
export interface EdgeBound {
    source: string;
    target: string;
    /** Reading reachable: trusted from this long after the change (a newly blocked edge shows by then). */
    reachableMs: number;
    /** Reading blocked: trusted from this long after the change (a newly opened edge shows by then). */
    blockedMs: number;
    /** No data for the edge: the longest it can take to have some. */
    unknownMs: number;
    /** Why, in a line. */
    reason: string;
}

/** What each app's connect limit comes from: its containers' net.ipv4.tcp_syn_retries, read or assumed. */
export interface AppSynRetries {
    app: string;
    synRetries: number;
    /** Where it was read, or why Linux's default is assumed. */
    from: string;
}

interface PoolTiming {
    /** The longest a request for one target waits to start, from any moment. */
    nextStartMs: number;
    /** A newly blocked target shows in the app's status by then. */
    blockShowsMs: number;
    /** A newly opened target shows by then. */
    openShowsMs: number;
    connectLimitMs: number;
}

function poolTiming(schedule: StarSchedule, synRetries: number): PoolTiming {
    const limit = connectLimitMs(synRetries);
    const requests = Math.max(schedule.requestsPerRound, 1);
    const nextStartMs =
        Math.max(schedule.intervalSeconds * 1000, limit) +
        Math.floor((requests - 1) / workerThreads) * limit +
        requests * answeredRequestMs;
    return {
        nextStartMs,
        blockShowsMs: nextStartMs + limit,
        openShowsMs: lastSynWaitMs(synRetries) + nextStartMs + answeredRequestMs,
        connectLimitMs: limit,
    };
}

/** The bound of every edge of `declared`, in its order. */
export function edgeBounds(
    declared: DeclaredMatrix,
    schedules: readonly StarSchedule[],
    synRetries: readonly AppSynRetries[],
): EdgeBound[] {
    const timing = (app: string) => {
        const schedule = schedules.find((candidate) => candidate.app === app);
        if (schedule === undefined) {
            throw new VerifyInputError(`no deployed command for ${app}: its readings' timing is unknown`);
        }
        const read = synRetries.find((entry) => entry.app === app);
        if (read === undefined) {
            throw new VerifyInputError(`no net.ipv4.tcp_syn_retries for ${app}: its connect limit is unknown`);
        }
        return poolTiming(schedule, read.synRetries);
    };
    const kinds = new Map(declared.nodes.map((node) => [node.id, node.kind]));
    const collectorId = declared.nodes.find((node) => node.kind === "collector")?.id;
    const collector = collectorId === undefined ? undefined : timing(collectorId);
    return declared.edges.map((edge): EdgeBound => {
        const ends = { source: edge.source, target: edge.target };
        const kind = kinds.get(edge.source);
        if (kind === "outside" || collector === undefined) {
            return {
                ...ends,
                reachableMs: policyLagMs,
                blockedMs: policyLagMs,
                unknownMs: policyLagMs,
                reason: "verify's own fetch: it shows the current policy",
            };
        }
        if (kind === "collector") {
            const reachableMs = policyLagMs + collector.blockShowsMs;
            const blockedMs = policyLagMs + collector.openShowsMs;
            return {
                ...ends,
                reachableMs,
                blockedMs,
                unknownMs: Math.max(reachableMs, blockedMs),
                reason: `${edge.source}'s next fetch of ${edge.target} starts within ${formatSeconds(collector.nextStartMs)} and a dropped one fails after ${formatSeconds(collector.connectLimitMs)}`,
            };
        }
        const probe = timing(edge.source);
        // the collector's next fetch after the probe's status changed, answered; and no fetch of it still hanging
        const collected = (statusMs: number) =>
            policyLagMs + Math.max(statusMs + collector.nextStartMs + answeredRequestMs, collector.blockShowsMs);
        const reachableMs = collected(probe.blockShowsMs);
        const blockedMs = collected(probe.openShowsMs);
        return {
            ...ends,
            reachableMs,
            blockedMs,
            unknownMs: Math.max(reachableMs, blockedMs, policyLagMs + collector.openShowsMs),
            reason:
                `${edge.source}'s next request for ${edge.target} starts within ${formatSeconds(probe.nextStartMs)} and a dropped one ` +
                `fails after ${formatSeconds(probe.connectLimitMs)}; the collector's next fetch of ${edge.source} starts within ${formatSeconds(collector.nextStartMs)}`,
        };
    });
}

/** The bound for what an edge reads. */
export function boundFor(bound: EdgeBound, reach: Reach): number {
    return reach === "reachable" ? bound.reachableMs : reach === "blocked" ? bound.blockedMs : bound.unknownMs;
}

/** The latest any edge can need: by then every reading is trustworthy. */
export function longestBoundMs(bounds: readonly EdgeBound[]): number {
    return Math.max(0, ...bounds.map((bound) => Math.max(bound.reachableMs, bound.blockedMs, bound.unknownMs)));
}

/** The bounds in a few lines: the longest of each kind of edge and direction, with why. */
export function describeBounds(bounds: readonly EdgeBound[]): string[] {
    const longest = (pick: (bound: EdgeBound) => number) =>
        bounds.reduce((best, bound) => (pick(bound) > pick(best) ? bound : best), bounds[0]);
    const reachable = longest((bound) => bound.reachableMs);
    const blocked = longest((bound) => bound.blockedMs);
    return [
        `a reachable reading is trusted once a newly blocked edge would show: after at most ${formatSeconds(reachable.reachableMs)} (${edgeName(reachable)}: ${reachable.reason})`,
        `a blocked reading is trusted once a newly opened edge would show: after at most ${formatSeconds(blocked.blockedMs)} (${edgeName(blocked)})`,
    ];
}

/** ms as seconds with one decimal, e.g. "27.5 s". */
export function formatSeconds(ms: number): string {
    return `${Math.round(ms / 100) / 10} s`;
}
