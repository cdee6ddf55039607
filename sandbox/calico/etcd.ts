// etcd's v2 keys API, as python-etcd (the client every Calico 0.x component uses) speaks it: reads, writes with
// compare-and-swap (prevExist, prevIndex), deletes and long-polling watches.
import { httpRequest } from "../lib/http";

const requestTimeoutMs = 5000;
/** A watch is re-issued after this long without an event, as python-etcd's watch loops do. */
const watchTimeoutMs = 30000;

/** etcd's v2 error codes that callers act on. */
export const errorCodes = {
    keyNotFound: 100,
    compareFailed: 101,
    nodeExists: 105,
    notAFile: 102,
    eventIndexCleared: 401,
};

export interface EtcdNode {
    key: string;
    value?: string;
    dir?: boolean;
    nodes?: EtcdNode[];
    modifiedIndex: number;
}

/** etcd's answer: the node on success, the error's fields otherwise. */
export interface EtcdBody {
    node?: EtcdNode;
    errorCode?: number;
    message?: string;
    cause?: string;
}

interface EtcdResponse {
    status: number;
    body: EtcdBody;
    /** X-Etcd-Index: the index the answer was read at. */
    index: number;
}

type Fields = Record<string, string | boolean | number | undefined>;

export class EtcdError extends Error {
    constructor(
        message: string,
        readonly errorCode: number | undefined,
    ) {
        super(message);
        this.name = "EtcdError";
    }
}

export class Etcd {
    /** @param url e.g. http://10.197.0.11:2379 */
    constructor(private readonly url: URL) {}

    private async request(
        method: string,
        key: string,
        query: Fields = {},
        form?: Fields,
        timeoutMs = requestTimeoutMs,
    ): Promise<EtcdResponse> {
        const encode = (fields: Fields) =>
            Object.entries(fields)
                .filter(([, value]) => value !== undefined)
                .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
                .join("&");
        const queryText = encode(query);
        const path = "/v2/keys" + key.split("/").map(encodeURIComponent).join("/") + (queryText ? `?${queryText}` : "");
        const body = form === undefined ? undefined : encode(form);
        const headers = body === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded" };
        const answer = await httpRequest(undefined, {
            host: this.url.hostname,
            port: this.url.port,
            method,
            path,
            headers,
            body,
            timeout: timeoutMs,
        }).catch((error: Error) => {
            throw new EtcdError(`etcd at ${this.url.host}: ${error.message}`, undefined);
        });
        let parsed: EtcdBody;
        try {
            parsed = JSON.parse(answer.body) as EtcdBody;
        } catch {
            throw new EtcdError(`etcd ${method} ${key}: not JSON: ${answer.body.slice(0, 200)}`, undefined);
        }
        return { status: answer.status, body: parsed, index: Number(answer.headers["x-etcd-index"] ?? 0) };
    }

    /** Throws the error etcd answered with, if any. */
    private static check(response: EtcdResponse, what: string): EtcdBody {
        const { body } = response;
        if (response.status >= 300) {
            throw new EtcdError(
                `${what}: ${body.message ?? response.status}${body.cause ? ` (${body.cause})` : ""}`,
                body.errorCode,
            );
        }
        return body;
    }

    /** The node of a successful answer. */
    private static nodeOf(response: EtcdResponse, what: string): EtcdNode {
        const { node } = Etcd.check(response, what);
        if (node === undefined) {
            throw new EtcdError(`${what}: the answer has no node`, undefined);
        }
        return node;
    }

    /** @returns undefined when the key does not exist */
    async get(key: string, options: { recursive?: boolean; quorum?: boolean } = {}): Promise<EtcdNode | undefined> {
        const response = await this.request("GET", key, { recursive: options.recursive, quorum: options.quorum });
        if (response.body.errorCode === errorCodes.keyNotFound) {
            return undefined;
        }
        return Etcd.nodeOf(response, `etcd read ${key}`);
    }

    /** The tree under `key` and the index it was read at, for a watch to continue from. */
    async snapshot(key: string): Promise<{ node: EtcdNode | undefined; index: number }> {
        const response = await this.request("GET", key, { recursive: true, quorum: true });
        if (response.body.errorCode === errorCodes.keyNotFound) {
            return { node: undefined, index: response.index };
        }
        return { node: Etcd.nodeOf(response, `etcd read ${key}`), index: response.index };
    }

    /** @param value undefined with `dir` */
    async set(
        key: string,
        value: string | undefined,
        options: { prevExist?: boolean; prevIndex?: number; dir?: boolean } = {},
    ): Promise<EtcdNode> {
        const response = await this.request(
            "PUT",
            key,
            { prevExist: options.prevExist, prevIndex: options.prevIndex },
            { value, dir: options.dir },
        );
        return Etcd.nodeOf(response, `etcd write ${key}`);
    }

    /** @returns whether it existed */
    async delete(key: string, options: { recursive?: boolean; dir?: boolean } = {}): Promise<boolean> {
        const response = await this.request("DELETE", key, { recursive: options.recursive, dir: options.dir });
        if (response.body.errorCode === errorCodes.keyNotFound) {
            return false;
        }
        Etcd.check(response, `etcd delete ${key}`);
        return true;
    }

    /**
     * Waits for the next change at or under `key` from `waitIndex` on.
     * @returns "resync" when etcd no longer holds that index
     */
    async watch(key: string, waitIndex: number): Promise<{ index: number } | "timeout" | "resync"> {
        let response: EtcdResponse;
        try {
            response = await this.request(
                "GET",
                key,
                { wait: true, recursive: true, waitIndex },
                undefined,
                watchTimeoutMs,
            );
        } catch (error) {
            if (error instanceof EtcdError && /no answer in/.test(error.message)) {
                return "timeout";
            }
            throw error;
        }
        if (response.body.errorCode === errorCodes.eventIndexCleared) {
            return "resync";
        }
        return { index: Etcd.nodeOf(response, `etcd watch ${key}`).modifiedIndex };
    }
}

/** Every leaf under a node, by key. */
export function leaves(node: EtcdNode | undefined): Map<string, string> {
    const found = new Map<string, string>();
    const walk = (current: EtcdNode) => {
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
