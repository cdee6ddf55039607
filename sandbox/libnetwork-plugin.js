// @ts-check
// Stand-in for calico-libnetwork (v0.8-v0.10): a Docker legacy remote plugin serving NetworkDriver and IpamDriver
// on a unix socket. Networks become Calico profiles in etcd exactly as the real plugin writes them; addresses come
// from an in-memory allocator, because nothing in the sandbox routes container traffic. Each endpoint still gets a
// veth pair, made in dockerd's network namespace (--netns), so that containers can run on calico networks and a
// network with one on it is in use.
//   node sandbox/libnetwork-plugin.js --socket /path/calico.sock --etcd http://HOST:PORT [--netns NAME] [--log-file PATH]
"use strict";
const { execFile } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");

const PROFILES_PATH = "/calico/v1/policy/profile";
const NETWORKS_PATH = "/calico/libnetwork/v1";
const POOL_ID_PREFIX = "calico-";
const DEFAULT_POOLS = { first: ip4ToNumber("10.65.0.0"), count: 256, prefix: 24 };
const GATEWAY_REQUEST = "com.docker.network.gateway";
const ETCD_TIMEOUT_MS = 5000;
const IP_TIMEOUT_MS = 5000;

/**
 * @typedef {{ [key: string]: any }} Json
 * @typedef {{ network: number, prefix: number, allocated: Set<number>, users: number }} Pool
 * @typedef {(request: Json) => Json | Promise<Json>} Handler
 */

class PluginError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Command line.

/** @param {string[]} argv */
function parseArguments(argv) {
    /** @type {{ [flag: string]: string }} */
    const values = {};
    for (let i = 0; i < argv.length; i += 2) {
        if (!["--socket", "--etcd", "--netns", "--log-file"].includes(argv[i]) || argv[i + 1] === undefined) {
            throw new Error(`usage: libnetwork-plugin.js --socket PATH --etcd http://HOST:PORT [--netns NAME] [--log-file PATH] (at "${argv[i]}")`);
        }
        values[argv[i]] = argv[i + 1];
    }
    if (!values["--socket"] || !values["--etcd"]) {
        throw new Error("usage: libnetwork-plugin.js --socket PATH --etcd http://HOST:PORT [--netns NAME] [--log-file PATH]");
    }
    return { socket: values["--socket"], etcd: new URL(values["--etcd"]), netns: values["--netns"], logFile: values["--log-file"] };
}

// ---------------------------------------------------------------------------------------------------------------
// etcd v2.

class Etcd {
    /** @param {URL} url */
    constructor(url) {
        this.url = url;
    }

    /**
     * @param {string} method @param {string} key @param {string} [query] @param {string} [form]
     * @returns {Promise<{ status: number, body: Json }>}
     */
    request(method, key, query = "", form = undefined) {
        const path = "/v2/keys" + key.split("/").map(encodeURIComponent).join("/") + (query ? `?${query}` : "");
        const headers = form === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded" };
        return new Promise((resolve, reject) => {
            const request = http.request({ host: this.url.hostname, port: this.url.port, method, path, headers, agent: false,
                timeout: ETCD_TIMEOUT_MS }, (response) => {
                let text = "";
                response.setEncoding("utf8");
                response.on("data", (data) => { text += data; });
                response.on("end", () => {
                    const body = parseJsonOr(text, {});
                    const status = response.statusCode ?? 0;
                    if (status >= 300 && body.errorCode !== 100) {
                        reject(new PluginError(`etcd ${method} ${key}: ${status} ${body.message ?? text}`));
                    } else {
                        resolve({ status, body });
                    }
                });
            });
            request.on("timeout", () => request.destroy(new Error(`no answer in ${ETCD_TIMEOUT_MS} ms`)));
            request.on("error", (error) => reject(new PluginError(`etcd at ${this.url.host}: ${error.message}`)));
            request.end(form);
        });
    }

    /** @param {string} key @param {string} value */
    async write(key, value) {
        await this.request("PUT", key, "", `value=${encodeURIComponent(value)}`);
    }

    /** @param {string} key @returns {Promise<boolean>} whether it existed */
    async remove(key, recursive = false) {
        return (await this.request("DELETE", key, recursive ? "recursive=true" : "")).status === 200;
    }

    /** @param {string} key @returns {Promise<string[]>} the values of the keys directly under a directory */
    async childValues(key) {
        const { status, body } = await this.request("GET", key);
        return status === 200 ? (body.node.nodes ?? []).map((/** @type {Json} */ node) => node.value ?? "") : [];
    }
}

/** @param {string} text @param {unknown} fallback */
function parseJsonOr(text, fallback) {
    try {
        return JSON.parse(text);
    } catch {
        return fallback;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// IPv4 pools and addresses.

/** @param {string} address */
function ip4ToNumber(address) {
    return address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

/** @param {number} number */
function numberToIp4(number) {
    return [24, 16, 8, 0].map((shift) => Math.floor(number / 2 ** shift) % 256).join(".");
}

/** @param {string} cidr @returns {{ network: number, prefix: number }} */
function parseCidr4(cidr) {
    const [address, prefixText] = cidr.split("/");
    const prefix = Number(prefixText);
    if (net.isIPv4(address) === false || !/^\d+$/.test(prefixText ?? "") || prefix > 30) {
        throw new PluginError(`${cidr} is not an IPv4 subnet of /30 or larger`);
    }
    const size = 2 ** (32 - prefix);
    return { network: Math.floor(ip4ToNumber(address) / size) * size, prefix };
}

/** @param {Pool} pool */
function poolCidr(pool) {
    return `${numberToIp4(pool.network)}/${pool.prefix}`;
}

/** Host addresses of the pool: not the network nor the broadcast address. @param {Pool} pool @param {number} address */
function isHostAddress(pool, address) {
    return address > pool.network && address < pool.network + 2 ** (32 - pool.prefix) - 1;
}

class Ipam {
    /** @param {Etcd} etcd */
    constructor(etcd) {
        this.etcd = etcd;
        /** Keyed by PoolID. @type {Map<string, Pool>} */
        this.pools = new Map();
    }

    /**
     * Docker caches PoolIDs and never asks again, so the CIDR is in the ID and a restarted plugin rebuilds the pool
     * from it.
     * @param {string} poolId
     */
    pool(poolId) {
        const known = this.pools.get(poolId);
        if (known !== undefined) {
            return known;
        }
        if (!poolId.startsWith(POOL_ID_PREFIX)) {
            throw new PluginError(`unknown pool ${poolId}`);
        }
        const pool = { ...parseCidr4(poolId.slice(POOL_ID_PREFIX.length)), allocated: new Set(), users: 0 };
        this.pools.set(poolId, pool);
        return pool;
    }

    /** @param {Json} request */
    async requestPool(request) {
        if (request.V6) {
            throw new PluginError("IPv6 pools are not supported by the sandbox plugin");
        }
        if (request.SubPool) {
            throw new PluginError("Calico IPAM does not support sub pool configuration on 'docker create network'.");
        }
        const cidr = request.Pool ? poolCidr({ ...parseCidr4(request.Pool), allocated: new Set(), users: 0 }) : await this.freeDefaultCidr();
        const poolId = POOL_ID_PREFIX + cidr;
        this.pool(poolId).users++;
        return { PoolID: poolId, Pool: cidr, Data: {} };
    }

    /** A /24 of 10.65.0.0/16 that no pool of this plugin and no network recorded in etcd uses. */
    async freeDefaultCidr() {
        const recorded = (await this.etcd.childValues(NETWORKS_PATH))
            .flatMap((value) => parseJsonOr(value, {}).IPv4Data ?? [])
            .map((/** @type {Json} */ data) => data.Pool);
        const inUse = new Set([...recorded, ...[...this.pools.values()].map(poolCidr)]);
        for (let i = 0; i < DEFAULT_POOLS.count; i++) {
            const cidr = `${numberToIp4(DEFAULT_POOLS.first + i * 256)}/${DEFAULT_POOLS.prefix}`;
            if (!inUse.has(cidr)) {
                return cidr;
            }
        }
        throw new PluginError("no free /24 left in 10.65.0.0/16");
    }

    /** @param {Json} request */
    releasePool(request) {
        const pool = this.pool(request.PoolID);
        pool.users--;
        if (pool.users <= 0) {
            this.pools.delete(request.PoolID);
        }
        return {};
    }

    /** The gateway, an `--ip` address, or the next free one. @param {Json} request */
    requestAddress(request) {
        const pool = this.pool(request.PoolID);
        const address = request.Address ? this.reserve(pool, request.Address)
            : request.Options?.RequestAddressType === GATEWAY_REQUEST ? this.reserveFirstFree(pool, pool.network + 1)
                : this.reserveFirstFree(pool, pool.network + 2);
        return { Address: `${numberToIp4(address)}/${pool.prefix}`, Data: {} };
    }

    /** @param {Pool} pool @param {string} text */
    reserve(pool, text) {
        const address = net.isIPv4(text) ? ip4ToNumber(text) : NaN;
        if (!isHostAddress(pool, address)) {
            throw new PluginError(`The address ${text} is not in the pool ${poolCidr(pool)}`);
        }
        if (pool.allocated.has(address)) {
            throw new PluginError(`The address ${text} is already in use`);
        }
        pool.allocated.add(address);
        return address;
    }

    /** @param {Pool} pool @param {number} from */
    reserveFirstFree(pool, from) {
        for (let address = from; isHostAddress(pool, address); address++) {
            if (!pool.allocated.has(address)) {
                pool.allocated.add(address);
                return address;
            }
        }
        throw new PluginError(`There are no available IP addresses in ${poolCidr(pool)}`);
    }

    /** @param {Json} request */
    releaseAddress(request) {
        this.pool(request.PoolID).allocated.delete(ip4ToNumber(request.Address.split("/")[0]));
        return {};
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Networks as Calico profiles, written as calico-libnetwork (through libcalico's create_profile) writes them.

/** @param {string} id */
function profileKeys(id) {
    const dir = `${PROFILES_PATH}/${id}`;
    return { dir, tags: `${dir}/tags`, labels: `${dir}/labels`, rules: `${dir}/rules` };
}

/** Python's json.dumps of the default rules, byte for byte. @param {string} id */
function defaultRulesJson(id) {
    return `{"id": "${id}", "inbound_rules": [{"action": "allow", "src_tag": "${id}"}], "outbound_rules": [{"action": "allow"}]}`;
}

/**
 * `ip` in the namespace dockerd runs in (this process's own when none is given).
 * @param {string | undefined} netns
 * @returns {(args: string[]) => Promise<void>}
 */
function ipIn(netns) {
    return (args) => new Promise((resolve, reject) => {
        execFile("/usr/sbin/ip", [...(netns === undefined ? [] : ["-n", netns]), ...args], { timeout: IP_TIMEOUT_MS }, (error, _stdout, stderr) => {
            if (error) {
                reject(new PluginError(`ip ${args.join(" ")}: ${stderr.trim() || error.message}`));
            } else {
                resolve();
            }
        });
    });
}

/** The veth pair of an endpoint: Docker moves `inside` into the container; `outside` stays. @param {Json} request */
function endpointLinks(request) {
    const id = String(request.EndpointID).slice(0, 11);
    return { inside: `tmp${id}`, outside: `cal${id}` };
}

/** @param {Etcd} etcd @param {(args: string[]) => Promise<void>} ip */
function networkDriver(etcd, ip) {
    return {
        /** @param {Json} request */
        async createNetwork(request) {
            const id = request.NetworkID;
            const keys = profileKeys(id);
            await etcd.write(keys.tags, `["${id}"]`);
            await etcd.write(keys.labels, "{}");
            await etcd.write(keys.rules, defaultRulesJson(id));
            await etcd.write(`${NETWORKS_PATH}/${id}`, JSON.stringify(request));
            return {};
        },

        /** Like the real plugin, fails when the profile is already gone (libcalico's remove_profile raises). @param {Json} request */
        async deleteNetwork(request) {
            const id = request.NetworkID;
            if (!await etcd.remove(profileKeys(id).dir, true)) {
                throw new PluginError(`'${id} is not a configured profile.'`);
            }
            await etcd.remove(`${NETWORKS_PATH}/${id}`);
            return {};
        },

        /** A Join that Docker retries finds the pair of its first try, and replaces it. @param {Json} request */
        async join(request) {
            const { inside, outside } = endpointLinks(request);
            await ip(["link", "del", outside]).catch(() => undefined);
            await ip(["link", "add", inside, "type", "veth", "peer", "name", outside]);
            return { InterfaceName: { SrcName: inside, DstPrefix: "eth" }, DisableGatewayService: true };
        },

        /** The pair goes with the container's namespace too, so a pair already gone is fine. @param {Json} request */
        async leave(request) {
            await ip(["link", "del", endpointLinks(request).outside]).catch(() => undefined);
            return {};
        },
    };
}

/** @param {Etcd} etcd @param {(args: string[]) => Promise<void>} ip @returns {Map<string, Handler>} */
function routes(etcd, ip) {
    const ipam = new Ipam(etcd);
    const driver = networkDriver(etcd, ip);
    const empty = () => ({});
    return new Map(Object.entries({
        "/Plugin.Activate": () => ({ Implements: ["NetworkDriver", "IpamDriver"] }),
        "/NetworkDriver.GetCapabilities": () => ({ Scope: "local" }),
        "/NetworkDriver.CreateNetwork": driver.createNetwork,
        "/NetworkDriver.DeleteNetwork": driver.deleteNetwork,
        "/NetworkDriver.CreateEndpoint": empty,
        "/NetworkDriver.DeleteEndpoint": empty,
        "/NetworkDriver.EndpointOperInfo": () => ({ Value: {} }),
        "/NetworkDriver.Join": driver.join,
        "/NetworkDriver.Leave": driver.leave,
        "/NetworkDriver.DiscoverNew": empty,
        "/NetworkDriver.DiscoverDelete": empty,
        "/NetworkDriver.ProgramExternalConnectivity": empty,
        "/NetworkDriver.RevokeExternalConnectivity": empty,
        "/IpamDriver.GetCapabilities": () => ({ RequiresMACAddress: false }),
        "/IpamDriver.GetDefaultAddressSpaces": () => ({
            LocalDefaultAddressSpace: "CalicoLocalAddressSpace",
            GlobalDefaultAddressSpace: "CalicoGlobalAddressSpace",
        }),
        "/IpamDriver.RequestPool": (request) => ipam.requestPool(request),
        "/IpamDriver.ReleasePool": (request) => ipam.releasePool(request),
        "/IpamDriver.RequestAddress": (request) => ipam.requestAddress(request),
        "/IpamDriver.ReleaseAddress": (request) => ipam.releaseAddress(request),
    }));
}

// ---------------------------------------------------------------------------------------------------------------
// The server.

/**
 * Bodies come without a Content-Type and end with a newline; Activate and GetCapabilities have none.
 * @param {Map<string, Handler>} handlers @param {string | undefined} logFile
 */
function handleRequests(handlers, logFile) {
    /** @type {http.RequestListener} */
    return (request, response) => {
        let text = "";
        request.setEncoding("utf8");
        request.on("data", (data) => { text += data; });
        request.on("end", async () => {
            const path = request.url ?? "";
            const body = text.trim() === "" ? {} : parseJsonOr(text, undefined);
            const { status, answer } = await answerRequest(handlers.get(path), body);
            response.writeHead(status, { "Content-Type": "application/vnd.docker.plugins.v1.2+json" });
            response.end(JSON.stringify(answer));
            if (logFile !== undefined) {
                fs.appendFileSync(logFile, JSON.stringify({ time: new Date().toISOString(), path, request: body ?? text, status, response: answer }) + "\n");
            }
        });
    };
}

/** @param {Handler | undefined} handler @param {Json | undefined} body */
async function answerRequest(handler, body) {
    if (handler === undefined) {
        return { status: 404, answer: { Err: "404: Not Found" } };
    }
    if (body === undefined) {
        return { status: 400, answer: { Err: "400: Bad Request: the body is not JSON" } };
    }
    try {
        return { status: 200, answer: await handler(body) };
    } catch (error) {
        return { status: 500, answer: { Err: error instanceof Error ? error.message : String(error) } };
    }
}

function start() {
    const options = parseArguments(process.argv.slice(2));
    fs.rmSync(options.socket, { force: true });
    const server = http.createServer(handleRequests(routes(new Etcd(options.etcd), ipIn(options.netns)), options.logFile));
    server.listen(options.socket, () => {
        console.log(`calico plugin listening on ${options.socket}`);
    });
    process.once("SIGTERM", () => {
        // dockerd keeps its connections open; close() alone would wait for them.
        server.closeAllConnections();
        server.close(() => {
            fs.rmSync(options.socket, { force: true });
            process.exit(0);
        });
    });
}

start();
