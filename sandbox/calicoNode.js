// @ts-check
// Stand-in for calico-node v0.19.0 on one host (calico-containers v0.19.0 calico_node/: startup.py, then Felix and
// BIRD under runit), run in the host's network namespace:
// - startup: the host's records in etcd (calico/datastore.js startNode) and IP forwarding on;
// - Felix: each endpoint of this host gets its profiles' rules as iptables chains, tags as ipsets, its interface's
//   sysctls and a /32 route (calico/felixRules.js, calico/dataplane.js);
// - BIRD: routes to the other hosts' blocks and workloads (calico/birdRoutes.js).
// Both follow etcd through one v2 watch on /calico and converge on every change from a fresh read of the tree,
// which is what Felix's resync does (calico/felix/fetcd.py); an endpoint whose interface is not up yet is looked at
// again every 100 ms, as Felix waits for the interface (Felix watches netlink).
//   node sandbox/calicoNode.js --hostname NAME --ip ADDRESS --etcd http://HOST:PORT [--ready-file PATH]
"use strict";
const fs = require("node:fs");
const { readFlags } = require("./lib/flags");
const { Etcd, leaves } = require("./calico/etcd");
const { Datastore, ENDPOINT_KEY, paths } = require("./calico/datastore");
const { filterState } = require("./calico/felixRules");
const { learnedRoutes } = require("./calico/birdRoutes");
const { Dataplane, interfaceIsUp } = require("./calico/dataplane");

const DEBOUNCE_MS = 10;
const INTERFACE_POLL_MS = 100;
const RETRY_MS = 500;

/** @typedef {import("./calico/felixRules").Endpoint} Endpoint */
/** @typedef {import("./calico/felixRules").Profile} Profile */

/** @param {string[]} argv */
function parseArguments(argv) {
    const usage = "usage: calicoNode.js --hostname NAME --ip ADDRESS --etcd http://HOST:PORT [--ready-file PATH]";
    const values = readFlags(argv, { hostname: { type: "string" }, ip: { type: "string" }, etcd: { type: "string" }, "ready-file": { type: "string" } },
        usage, ["hostname", "ip", "etcd"]);
    return { hostname: String(values.hostname), address: String(values.ip), etcd: new URL(String(values.etcd)), readyFile: values["ready-file"] };
}

/** @param {string} text */
function parseOrUndefined(text) {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/**
 * The parts of /calico that Felix and BIRD read.
 * @param {Map<string, string>} keys every leaf under /calico
 * @param {string} self
 */
function modelOf(keys, self) {
    /** @type {Map<string, Profile>} */
    const profiles = new Map();
    /** @type {Endpoint[]} */
    const endpoints = [];
    /** @type {Map<string, string>} */
    const hostAddresses = new Map();
    /** @type {Map<string, string[]>} */
    const affinities = new Map();
    const pools = [];
    for (const [key, value] of keys) {
        const profile = /^\/calico\/v1\/policy\/profile\/([^/]+)\/(tags|rules)$/.exec(key);
        const endpoint = ENDPOINT_KEY.exec(key);
        const bgpHost = /^\/calico\/bgp\/v1\/host\/([^/]+)\/ip_addr_v4$/.exec(key);
        const affinity = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv4\/block\/([^/]+)$/.exec(key);
        if (profile !== null) {
            const entry = profiles.get(profile[1]) ?? { tags: undefined, rules: undefined };
            entry[/** @type {"tags" | "rules"} */ (profile[2])] = parseOrUndefined(value);
            profiles.set(profile[1], entry);
        } else if (endpoint !== null) {
            const record = parseOrUndefined(value);
            if (record !== undefined && record.state === "active") {
                endpoints.push({ hostname: endpoint[1], endpointId: endpoint[4], name: String(record.name), mac: String(record.mac ?? ""),
                    profileIds: Array.isArray(record.profile_ids) ? record.profile_ids.map(String) : [],
                    ipv4: Array.isArray(record.ipv4_nets) ? record.ipv4_nets.map(String) : [] });
            }
        } else if (bgpHost !== null) {
            hostAddresses.set(bgpHost[1], value);
        } else if (affinity !== null) {
            affinities.set(affinity[1], [...(affinities.get(affinity[1]) ?? []), affinity[2].replace("-", "/")]);
        } else if (key.startsWith(`${paths.pools}/`)) {
            const pool = parseOrUndefined(value);
            if (typeof pool?.cidr === "string") {
                pools.push(pool.cidr);
            }
        }
    }
    const defaultEndpointToHostAction = keys.get(`${paths.hosts}/${self}/config/DefaultEndpointToHostAction`)
        ?? keys.get(`${paths.config}/DefaultEndpointToHostAction`) ?? "DROP";
    return { profiles, endpoints, hostAddresses, affinities, pools, defaultEndpointToHostAction };
}

class CalicoNode {
    /** @param {ReturnType<typeof parseArguments>} options */
    constructor(options) {
        this.options = options;
        this.etcd = new Etcd(options.etcd);
        this.dataplane = new Dataplane();
        /** @type {NodeJS.Timeout | undefined} */
        this.pending = undefined;
        this.running = false;
        this.again = false;
        this.ready = false;
        /** The etcd index of the last read, where a watch goes on from. */
        this.lastIndex = 0;
    }

    async start() {
        await this.dataplane.start();
        await new Datastore(this.etcd).startNode(this.options.hostname, this.options.address);
        this.watch(await this.sync());
    }

    /** Debounced: bursts of etcd events (a container's endpoint, block and veth) make one pass. */
    schedule(delayMs = DEBOUNCE_MS) {
        if (this.pending === undefined) {
            this.pending = setTimeout(() => {
                this.pending = undefined;
                this.sync().catch((error) => this.fail(error));
            }, delayMs);
        }
    }

    /** @returns {Promise<number>} the etcd index of the last read */
    async sync() {
        if (this.running) {
            this.again = true;
            return this.lastIndex;
        }
        this.running = true;
        try {
            const { node, index } = await this.etcd.snapshot("/calico");
            this.lastIndex = Math.max(this.lastIndex, index);
            const model = modelOf(leaves(node), this.options.hostname);
            const mine = model.endpoints.filter((endpoint) => endpoint.hostname === this.options.hostname);
            const up = mine.filter((endpoint) => interfaceIsUp(endpoint.name));
            const { chains, ipsets } = filterState(model, up);
            await this.dataplane.applyFilter(chains, ipsets);
            await this.dataplane.applyWorkloads(up);
            await this.dataplane.applyLearnedRoutes(learnedRoutes(this.options.hostname, model));
            if (up.length < mine.length) {
                this.schedule(INTERFACE_POLL_MS);
            }
            this.markReady();
            return this.lastIndex;
        } finally {
            this.running = false;
            if (this.again) {
                this.again = false;
                this.schedule();
            }
        }
    }

    markReady() {
        if (!this.ready && this.options.readyFile !== undefined) {
            fs.writeFileSync(this.options.readyFile, `${process.pid}\n`);
        }
        this.ready = true;
    }

    /** @param {number} fromIndex */
    async watch(fromIndex) {
        let index = fromIndex + 1;
        for (;;) {
            try {
                const event = await this.etcd.watch("/calico", index);
                if (event === "resync") {
                    index = (await this.sync()) + 1;
                } else if (event !== "timeout") {
                    index = event.index + 1;
                    this.schedule();
                }
            } catch (error) {
                console.error(`calico-node ${this.options.hostname}: watch: ${error instanceof Error ? error.message : error}`);
                await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
                index = (await this.sync().catch(() => this.lastIndex)) + 1;
            }
        }
    }

    /** @param {unknown} error */
    fail(error) {
        console.error(`calico-node ${this.options.hostname}: ${error instanceof Error ? error.message : error}`);
        this.schedule(RETRY_MS);
    }
}

const node = new CalicoNode(parseArguments(process.argv.slice(2)));
process.once("SIGTERM", () => process.exit(0));
node.start().catch((error) => {
    console.error(`calico-node: ${error instanceof Error ? error.stack : error}`);
    process.exit(1);
});
