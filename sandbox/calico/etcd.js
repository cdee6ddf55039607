// @ts-check
// etcd's v2 keys API, as python-etcd (the client every Calico 0.x component uses) speaks it: reads, writes with
// compare-and-swap (prevExist, prevIndex), deletes and long-polling watches.
"use strict";
const http = require("node:http");

const REQUEST_TIMEOUT_MS = 5000;
/** A watch is re-issued after this long without an event, as python-etcd's watch loops do. */
const WATCH_TIMEOUT_MS = 30000;

/** etcd's v2 error codes that callers act on. */
const errorCodes = { keyNotFound: 100, compareFailed: 101, nodeExists: 105, notAFile: 102, eventIndexCleared: 401 };

/**
 * @typedef {{ key: string, value?: string, dir?: boolean, nodes?: EtcdNode[], modifiedIndex: number }} EtcdNode
 */

class EtcdError extends Error {
    /** @param {string} message @param {number | undefined} errorCode */
    constructor(message, errorCode) {
        super(message);
        this.name = "EtcdError";
        this.message = message;
        this.errorCode = errorCode;
    }
}

class Etcd {
    /** @param {URL} url e.g. http://10.197.0.11:2379 */
    constructor(url) {
        this.url = url;
    }

    /**
     * @param {string} method
     * @param {string} key
     * @param {Record<string, string | boolean | number | undefined>} query
     * @param {Record<string, string | boolean | number | undefined>} [form]
     * @param {number} [timeoutMs]
     * @returns {Promise<{ status: number, body: any, index: number }>}
     */
    request(method, key, query = {}, form = undefined, timeoutMs = REQUEST_TIMEOUT_MS) {
        const encode = (/** @type {Record<string, any>} */ fields) => Object.entries(fields).filter(([, value]) => value !== undefined)
            .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`).join("&");
        const queryText = encode(query);
        const path = "/v2/keys" + key.split("/").map(encodeURIComponent).join("/") + (queryText ? `?${queryText}` : "");
        const body = form === undefined ? undefined : encode(form);
        const headers = body === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded" };
        return new Promise((resolve, reject) => {
            const request = http.request({ host: this.url.hostname, port: this.url.port, method, path, headers, agent: false, timeout: timeoutMs },
                (response) => {
                    let text = "";
                    response.setEncoding("utf8");
                    response.on("data", (data) => { text += data; });
                    response.on("end", () => {
                        let parsed;
                        try {
                            parsed = JSON.parse(text);
                        } catch {
                            reject(new EtcdError(`etcd ${method} ${key}: not JSON: ${text.slice(0, 200)}`, undefined));
                            return;
                        }
                        resolve({ status: response.statusCode ?? 0, body: parsed, index: Number(response.headers["x-etcd-index"] ?? 0) });
                    });
                });
            request.on("timeout", () => request.destroy(new Error(`no answer in ${timeoutMs} ms`)));
            request.on("error", (error) => reject(new EtcdError(`etcd at ${this.url.host}: ${error.message}`, undefined)));
            request.end(body);
        });
    }

    /** @param {{ status: number, body: any }} response @param {string} what */
    static check(response, what) {
        if (response.status >= 300) {
            throw new EtcdError(`${what}: ${response.body.message ?? response.status}${response.body.cause ? ` (${response.body.cause})` : ""}`,
                response.body.errorCode);
        }
        return response;
    }

    /**
     * @param {string} key
     * @param {{ recursive?: boolean, quorum?: boolean }} [options]
     * @returns {Promise<EtcdNode | undefined>} undefined when the key does not exist
     */
    async get(key, options = {}) {
        const response = await this.request("GET", key, { recursive: options.recursive, quorum: options.quorum });
        if (response.body.errorCode === errorCodes.keyNotFound) {
            return undefined;
        }
        return Etcd.check(response, `etcd read ${key}`).body.node;
    }

    /** The tree under `key` and the index it was read at, for a watch to continue from. @param {string} key */
    async snapshot(key) {
        const response = await this.request("GET", key, { recursive: true, quorum: true });
        if (response.body.errorCode === errorCodes.keyNotFound) {
            return { node: undefined, index: response.index };
        }
        return { node: /** @type {EtcdNode} */ (Etcd.check(response, `etcd read ${key}`).body.node), index: response.index };
    }

    /**
     * @param {string} key
     * @param {string | undefined} value undefined with `dir`
     * @param {{ prevExist?: boolean, prevIndex?: number, dir?: boolean }} [options]
     * @returns {Promise<EtcdNode>}
     */
    async set(key, value, options = {}) {
        const response = await this.request("PUT", key, { prevExist: options.prevExist, prevIndex: options.prevIndex },
            { value, dir: options.dir });
        return Etcd.check(response, `etcd write ${key}`).body.node;
    }

    /**
     * @param {string} key
     * @param {{ recursive?: boolean, dir?: boolean }} [options]
     * @returns {Promise<boolean>} whether it existed
     */
    async delete(key, options = {}) {
        const response = await this.request("DELETE", key, { recursive: options.recursive, dir: options.dir });
        if (response.body.errorCode === errorCodes.keyNotFound) {
            return false;
        }
        Etcd.check(response, `etcd delete ${key}`);
        return true;
    }

    /**
     * Waits for the next change at or under `key` from `waitIndex` on.
     * @param {string} key
     * @param {number} waitIndex
     * @returns {Promise<{ index: number } | "timeout" | "resync">} "resync" when etcd no longer holds that index
     */
    async watch(key, waitIndex) {
        let response;
        try {
            response = await this.request("GET", key, { wait: true, recursive: true, waitIndex }, undefined, WATCH_TIMEOUT_MS);
        } catch (error) {
            if (error instanceof EtcdError && /no answer in/.test(error.message)) {
                return "timeout";
            }
            throw error;
        }
        if (response.body.errorCode === errorCodes.eventIndexCleared) {
            return "resync";
        }
        return { index: Etcd.check(response, `etcd watch ${key}`).body.node.modifiedIndex };
    }
}

/**
 * Every leaf under a node, by key.
 * @param {EtcdNode | undefined} node
 * @returns {Map<string, string>}
 */
function leaves(node) {
    /** @type {Map<string, string>} */
    const found = new Map();
    const walk = (/** @type {EtcdNode} */ current) => {
        if (current.dir) {
            (current.nodes ?? []).forEach(walk);
        } else {
            found.set(current.key, current.value ?? "");
        }
    };
    if (node !== undefined) {
        walk(node);
    }
    return found;
}

module.exports = { Etcd, EtcdError, errorCodes, leaves };
