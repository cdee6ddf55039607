import * as assert from "assert";
import { renderResourcesFile, renderStarsGroup, starsParameters } from "../../components/starsTemplate";
import {
    AppSynRetries,
    connectLimitMs,
    DeclaredMatrix,
    edgeBounds,
    lastSynWaitMs,
    linuxDefaultSynRetries,
    longestBoundMs,
    parseResourcesFile,
    parseSynRetriesListing,
    StarSchedule,
    starSchedules,
    synRetriesOfApps,
    workerThreads,
} from "@calico-stars/providers/verify";
import { simulateStarQueue } from "../support/starQueue";
import { declaredOf, stackConfig } from "../support/verifyFixtures";

/** mulberry32: a small seeded generator, so the random scenarios are the same every run. */
function seededRandom(seed: number): () => number {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/**
 * Linux's SYN retransmission timer, step by step (torvalds/linux, net/ipv4/tcp_timer.c): the first wait is
 * TCP_TIMEOUT_INIT (1 s), each later one doubles up to TCP_RTO_MAX (120 s); when a wait ends, the connect fails if the
 * time since the first SYN reached tcp_model_timeout(tcp_syn_retries), else the SYN is sent again.
 */
function simulatedConnect(synRetries: number): { synsAtMs: number[]; failsAtMs: number } {
    const modelled =
        synRetries <= 6 ? (2 ** (synRetries + 1) - 1) * 1000 : (2 ** 7 - 1) * 1000 + (synRetries - 6) * 120000;
    const synsAtMs = [0];
    let waitMs = 1000;
    let now = 0;
    for (;;) {
        now += waitMs;
        if (now >= modelled) return { synsAtMs, failsAtMs: now };
        synsAtMs.push(now);
        waitMs = Math.min(2 * waitMs, 120000);
    }
}

const config = stackConfig();
const parameters = starsParameters(config, "0");
const declared = declaredOf(config);
const schedules = starSchedules(renderStarsGroup(parameters), parseResourcesFile(renderResourcesFile(parameters)));
const apps = schedules.map((schedule) => schedule.app);

function everyApp(synRetries: number): AppSynRetries[] {
    return apps.map((app) => ({ app, synRetries, from: "given" }));
}

/** Each edge's bounds in seconds: [reachable, blocked]. */
function boundsOf(matrix: DeclaredMatrix, given: readonly StarSchedule[], synRetries: AppSynRetries[]) {
    return Object.fromEntries(
        edgeBounds(matrix, given, synRetries).map((bound) => [
            `${bound.source} -> ${bound.target}`,
            [bound.reachableMs / 1000, bound.blockedMs / 1000],
        ]),
    );
}

describe("how long a change can take to show in verify's reading", function () {
    describe("Linux's connect limit for a dropped SYN", function () {
        it("is 127 s at the default tcp_syn_retries of 6, the SYNs at 0, 1, 3, 7, 15, 31 and 63 s", function () {
            assert.strictEqual(linuxDefaultSynRetries, 6);
            assert.strictEqual(connectLimitMs(6), 127000);
            assert.deepStrictEqual(simulatedConnect(6), {
                synsAtMs: [0, 1000, 3000, 7000, 15000, 31000, 63000],
                failsAtMs: 127000,
            });
            assert.strictEqual(lastSynWaitMs(6), 64000);
        });

        it("follows the kernel's backoff for every value it takes, 1 to 127: doubling waits, then 120 s each", function () {
            for (let retries = 1; retries <= 127; retries++) {
                const connect = simulatedConnect(retries);
                assert.strictEqual(connectLimitMs(retries), connect.failsAtMs, `tcp_syn_retries ${retries}`);
                assert.strictEqual(
                    lastSynWaitMs(retries),
                    connect.failsAtMs - connect.synsAtMs.at(-1)!,
                    `tcp_syn_retries ${retries}`,
                );
                assert.strictEqual(
                    connect.synsAtMs.length,
                    retries + 1,
                    `tcp_syn_retries ${retries}: the SYN and its retries`,
                );
            }
            assert.deepStrictEqual(
                [1, 2, 3, 7, 8].map((retries) => connectLimitMs(retries) / 1000),
                [3, 7, 15, 247, 367],
            );
        });

        it("refuses what the kernel refuses", function () {
            for (const retries of [0, 128, 2.5, Number.NaN]) {
                assert.throws(() => connectLimitMs(retries), /net\.ipv4\.tcp_syn_retries is 1 to 127/);
            }
        });
    });

    describe("each edge's bound", function () {
        it("on a real cluster (tcp_syn_retries 6): a blocked edge shows within 388 s, an opened one within 326 s", function () {
            assert.strictEqual(workerThreads, 4);
            const bounds = boundsOf(declared, schedules, everyApp(6));
            // the probe's next request starts within max(5, 127) + 2 answered (129 s) and fails 127 s later; the
            // collector's next fetch starts within max(5, 127) + 3 answered (130 s) and is answered (1 s); plus 1 s
            // for Felix. Opened: the last SYN's 64 s wait, then 129 + 1 s, then 130 + 1 s, plus 1 s.
            assert.deepStrictEqual(bounds["client -> frontend"], [388, 326]);
            assert.deepStrictEqual(bounds["backend -> client"], [388, 326]);
            // the collector's fetch: 130 + 127 + 1 s; opened: 64 + 130 + 1 + 1 s
            assert.deepStrictEqual(bounds["management-ui -> client"], [258, 196]);
            assert.deepStrictEqual(bounds["outside -> management-ui"], [1, 1]);
            assert.strictEqual(longestBoundMs(edgeBounds(declared, schedules, everyApp(6))), 388000);
        });

        it("on the sandbox (tcp_syn_retries 2, 7 s): 28 s and 26 s", function () {
            const bounds = boundsOf(declared, schedules, everyApp(2));
            assert.deepStrictEqual(bounds["client -> frontend"], [28, 26]);
            assert.deepStrictEqual(bounds["management-ui -> frontend"], [18, 16]);
        });

        it("follows each app's own connect limit: the probe's for its targets, the collector's for what it holds", function () {
            const synRetries = everyApp(2).map((entry) =>
                entry.app === "client" ? { ...entry, synRetries: 6 } : entry,
            );
            const bounds = boundsOf(declared, schedules, synRetries);
            // client: next request within 127 + 2 s, fails 127 s later; then the collector's 10 + 1 s, plus 1 s
            assert.deepStrictEqual(bounds["client -> frontend"], [268, 206]);
            assert.deepStrictEqual(bounds["frontend -> client"], [28, 26]);
        });

        it("follows the intervals when they are longer than the connect limit", function () {
            const slow = schedules.map((schedule) =>
                schedule.role === "probe" ? { ...schedule, intervalSeconds: 30 } : schedule,
            );
            // the probe's next request within 30 + 2 s, fails 7 s later; the collector's 10 + 1 s; plus 1 s
            assert.deepStrictEqual(boundsOf(declared, slow, everyApp(2))["client -> frontend"], [51, 49]);
        });

        it("grows by a connect limit for every 4 requests ahead that can hang on star's 4 threads", function () {
            const busy = (requestsPerRound: number) =>
                schedules.map((schedule) => (schedule.app === "client" ? { ...schedule, requestsPerRound } : schedule));
            const reachable = (requests: number) =>
                boundsOf(declared, busy(requests), everyApp(2))["client -> frontend"][0];
            // up to 4 requests a round, none waits behind more than 3 others: one connect limit; the 5th waits for a
            // 2nd
            assert.deepStrictEqual([1, 2, 4, 5, 8, 9].map(reachable), [27, 28, 30, 38, 41, 49]);
        });

        it("holds in a model of star's queue: in 400 random deployments and changes no reading stays wrong past it", function () {
            this.timeout(20000);
            const random = seededRandom(23);
            const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
            const changeAt = 2000000;
            let worst = 0;
            for (let run = 0; run < 400; run++) {
                const synRetries = pick([1, 2, 3, 6, 7]);
                const targets = Array.from({ length: pick([1, 2, 3, 5, 9]) }, () => ({
                    before: random() < 0.5,
                    after: random() < 0.5,
                }));
                const otherResourcesOpen = Array.from({ length: pick([2, 5]) }, () => random() < 0.6);
                const probeIntervalMs = pick([1, 5, 30]) * 1000;
                const collectorIntervalMs = pick([1, 5, 30]) * 1000;
                const given: StarSchedule[] = schedules.map((schedule) =>
                    schedule.role === "probe"
                        ? { ...schedule, intervalSeconds: probeIntervalMs / 1000, requestsPerRound: targets.length }
                        : {
                              ...schedule,
                              intervalSeconds: collectorIntervalMs / 1000,
                              requestsPerRound: otherResourcesOpen.length + 1,
                          },
                );
                const bound = edgeBounds(declared, given, everyApp(synRetries)).find(
                    (entry) => entry.source === "client" && entry.target === "frontend",
                )!;
                const endAt = changeAt + Math.max(bound.reachableMs, bound.blockedMs) + 60000;
                const scenario = {
                    synRetries,
                    changeAt,
                    // started long enough before the change for any backlog the queue builds
                    probeStart: changeAt - random() * 1500000,
                    collectorStart: changeAt - random() * 1500000,
                    probeIntervalMs,
                    collectorIntervalMs,
                    targets,
                    otherResourcesOpen,
                    answeredMs: 50,
                    endAt,
                };
                const held = simulateStarQueue(scenario);
                held.forEach(([at, reachable], i) => {
                    if (reachable === targets[0].after) return;
                    const wrongUntil = (i + 1 < held.length ? held[i + 1][0] : endAt) - changeAt;
                    const limit = reachable ? bound.reachableMs : bound.blockedMs;
                    assert.ok(
                        wrongUntil <= limit,
                        `${JSON.stringify(scenario)}: held ${reachable} from ${at} until ${wrongUntil} ms after the change, past ${limit} ms`,
                    );
                    worst = Math.max(worst, wrongUntil / limit);
                });
            }
            assert.ok(worst > 0.6, `the worst case comes near the bound, not far below it: ${worst}`);
        });

        it("says why, naming the apps' timings", function () {
            const bound = edgeBounds(declared, schedules, everyApp(2)).find(
                (entry) => entry.source === "client" && entry.target === "frontend",
            )!;
            assert.strictEqual(
                bound.reason,
                "client's next request for frontend starts within 9 s and a dropped one fails after 7 s; the collector's next fetch of client starts within 10 s",
            );
        });

        it("needs every app's connect limit, and names the one it lacks", function () {
            assert.throws(
                () => edgeBounds(declared, schedules, everyApp(2).slice(1)),
                /no net\.ipv4\.tcp_syn_retries for management-ui: its connect limit is unknown/,
            );
        });
    });

    describe("the containers' tcp_syn_retries, read on the agents", function () {
        const listing = [
            "/calico-stars/client 3f2a 2",
            "/calico-stars/frontend 4b1c 2",
            "/calico-stars/frontend 5d9e 6",
            "/calico-stars/backend 77aa OCI runtime exec failed: exec failed: container not running",
            "/other/app 99ff 3",
            "",
        ].join("\n");

        it("reads each container's line, the value or what reading it printed", function () {
            assert.deepStrictEqual(parseSynRetriesListing(listing).slice(2, 4), [
                { appId: "/calico-stars/frontend", container: "5d9e", value: 6 },
                {
                    appId: "/calico-stars/backend",
                    container: "77aa",
                    value: "OCI runtime exec failed: exec failed: container not running",
                },
            ]);
            assert.deepStrictEqual(
                parseSynRetriesListing("/a/b c 0\n/a/b d 128\n/a/b e").map((e) => e.value),
                ["0", "128", "nothing printed"],
            );
        });

        it("takes the largest of an app's containers, and Linux's default, saying why, for one it could not read", function () {
            const read = synRetriesOfApps(
                "calico-stars",
                ["management-ui", "client", "frontend", "backend"],
                [
                    { agent: "10.1.0.12", containers: parseSynRetriesListing(listing) },
                    { agent: "10.1.0.13", error: "cannot connect to vagrant@10.1.0.13:22: ECONNREFUSED" },
                ],
            );
            assert.deepStrictEqual(read, [
                {
                    app: "management-ui",
                    synRetries: 6,
                    from: "Linux's default: not read (10.1.0.13: cannot connect to vagrant@10.1.0.13:22: ECONNREFUSED)",
                },
                { app: "client", synRetries: 2, from: "read in its container on 10.1.0.12" },
                { app: "frontend", synRetries: 6, from: "read in its container on 10.1.0.12" },
                {
                    app: "backend",
                    synRetries: 6,
                    from: "Linux's default: not read (10.1.0.12: OCI runtime exec failed: exec failed: container not running; 10.1.0.13: cannot connect to vagrant@10.1.0.13:22: ECONNREFUSED)",
                },
            ]);
        });

        it("says so when no container of the app runs", function () {
            assert.deepStrictEqual(synRetriesOfApps("/calico-stars", ["client"], [{ agent: "a", containers: [] }]), [
                {
                    app: "client",
                    synRetries: 6,
                    from: "Linux's default: not read (no running container of /calico-stars/client on the agents)",
                },
            ]);
        });
    });
});
