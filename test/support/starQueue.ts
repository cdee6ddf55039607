// A discrete-event model of star v0.5.0's clients, for testing verify's bounds against (mesosphere/star v0.5.0,
// src/probe/status/client.rs and src/collect/resource/client.rs): every interval a timer queues one request per
// target, oldest first, on 4 threads; a request has no timeout, so one whose SYNs are all dropped ends when Linux gives
// up (the SYNs at the kernel's backoff, net/ipv4/tcp_timer.c); the status changes only when a request ends. One probe
// and the collector that fetches it: what the collector holds of the probe's first target, over time.
import { connectLimitMs } from "@calico-stars/providers/verify";

export interface QueueScenario {
    synRetries: number;
    /** When the policy changes, in ms. */
    changeAt: number;
    /** When the probe and the collector started: their first rounds are one interval later. */
    probeStart: number;
    collectorStart: number;
    probeIntervalMs: number;
    collectorIntervalMs: number;
    /** Each probe target: open before the change, open after it. */
    targets: { before: boolean; after: boolean }[];
    /** The collector's other resources: whether its fetch of each is answered (the probe's always is). */
    otherResourcesOpen: boolean[];
    /** How long an answered request takes. */
    answeredMs: number;
    /** Until when to run. */
    endAt: number;
}

/** [time, what the collector holds for the probe's first target] at each change of it. */
export type HeldReadings = [number, boolean][];

interface Pool {
    free: number;
    queue: number[];
}

const threads = 4;

/** The SYNs' times after the first, in ms: 1, 3, 7, ... s while the waits double, then every 120 s. */
function retryTimes(synRetries: number): number[] {
    const times: number[] = [];
    let at = 0;
    let wait = 1000;
    for (let i = 0; i < synRetries; i++) {
        at += wait;
        times.push(at);
        wait = Math.min(2 * wait, 120000);
    }
    return times;
}

export function simulateStarQueue(scenario: QueueScenario): HeldReadings {
    const limit = connectLimitMs(scenario.synRetries);
    const retries = retryTimes(scenario.synRetries);
    const events: { at: number; run: () => void }[] = [];
    const schedule = (at: number, run: () => void) => {
        let i = events.length;
        while (i > 0 && events[i - 1].at > at) i--;
        events.splice(i, 0, { at, run });
    };
    let now = 0;
    const status = scenario.targets.map(() => false);
    const held: HeldReadings = [];
    const open = (target: number, at: number) =>
        at < scenario.changeAt ? scenario.targets[target].before : scenario.targets[target].after;
    /** When a request started at `start` ends, and whether it was answered. */
    const request = (isOpen: (at: number) => boolean, start: number): [number, boolean] => {
        if (isOpen(start)) return [start + scenario.answeredMs, true];
        const through = retries.map((offset) => start + offset).find(isOpen);
        return through === undefined ? [start + limit, false] : [through + scenario.answeredMs, true];
    };
    const probe: Pool = { free: threads, queue: [] };
    const collector: Pool = { free: threads, queue: [] };
    const dispatch = (pool: Pool, start: (job: number) => [number, () => void]) => {
        while (pool.free > 0 && pool.queue.length > 0) {
            const job = pool.queue.shift()!;
            pool.free--;
            const [endAt, done] = start(job);
            schedule(endAt, () => {
                done();
                pool.free++;
                dispatch(pool, start);
            });
        }
    };
    const probeJob = (target: number): [number, () => void] => {
        const [endAt, answered] = request((at) => open(target, at), now);
        return [endAt, () => (status[target] = answered)];
    };
    // resource 0 is the probe: answered, holding its status as it is when the answer comes
    const collectorJob = (resource: number): [number, () => void] => {
        const reachable = resource === 0 || scenario.otherResourcesOpen[resource - 1];
        const [endAt] = request(() => reachable, now);
        return [
            endAt,
            () => {
                if (resource === 0 && held.at(-1)?.[1] !== status[0]) held.push([now, status[0]]);
            },
        ];
    };
    const rounds = (
        pool: Pool,
        first: number,
        interval: number,
        jobs: number,
        start: (job: number) => [number, () => void],
    ) => {
        const tick = () => {
            for (let job = 0; job < jobs; job++) pool.queue.push(job);
            dispatch(pool, start);
            schedule(now + interval, tick);
        };
        schedule(first, tick);
    };
    rounds(
        probe,
        scenario.probeStart + scenario.probeIntervalMs,
        scenario.probeIntervalMs,
        scenario.targets.length,
        probeJob,
    );
    rounds(
        collector,
        scenario.collectorStart + scenario.collectorIntervalMs,
        scenario.collectorIntervalMs,
        scenario.otherResourcesOpen.length + 1,
        collectorJob,
    );
    while (events.length > 0 && events[0].at <= scenario.endAt) {
        const event = events.shift()!;
        now = event.at;
        event.run();
    }
    return held;
}
