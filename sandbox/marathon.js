// @ts-check
"use strict";

// Marathon v0.14.2 stand-in for the sandbox cluster and the tests: the v2 API for groups, apps, tasks and
// deployments (marathon/api.js), deployments that run real tasks on the Mesos agent stand-ins (marathon/tasks.js,
// marathon/deployments.js), and fault switches under /_sandbox/faults (marathon/faults.js).
//   node sandbox/marathon.js --listen HOST:PORT [--agent http://HOST:5051 ...] [--deploy-delay-ms N] [--state-file PATH]
//     [--log-file PATH] [--offer-interval-ms N]
// Without --agent, one simulated agent keeps the books of tasks that run nothing (for API tests only).

const fs = require("fs");
const http = require("http");
const { URL } = require("url");
const { readFlags } = require("./lib/flags");
const { Marathon } = require("./marathon/api");
const { HttpAgent, SimulatedAgent } = require("./marathon/agents");
const { handle } = require("./marathon/routes");

const DEFAULT_DEPLOY_DELAY_MS = 0;
/** Mesos 0.28's master allocates every second (--allocation_interval); a quarter of that keeps tests brisk. */
const DEFAULT_OFFER_INTERVAL_MS = 250;
const POLL_INTERVAL_MS = 250;
/** The framework id Mesos gave Marathon; constant, as Marathon keeps it in ZooKeeper across restarts. */
const FRAMEWORK_ID = "20160101-000000-184600330-5050-1-0000";

/**
 * @typedef {{listen: string, deployDelayMs?: number, stateFile?: string, logFile?: string, agents?: string[],
 *   offerIntervalMs?: number, simulatedTaskStartMs?: number, verbose?: boolean}} MarathonOptions
 */

/**
 * @param {string} listen `host:port`, IPv6 hosts in brackets
 * @returns {{host: string, port: number}}
 */
function parseListen(listen) {
    const separator = listen.lastIndexOf(":");
    const host = listen.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
    const port = Number(listen.slice(separator + 1));
    if (separator < 0 || host === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`--listen expects host:port, got '${listen}'`);
    }
    return { host, port };
}

/** @param {http.ServerResponse} response @param {import("./marathon/replies").Reply} reply */
function send(response, reply) {
    const isText = reply.text !== undefined;
    response.writeHead(reply.status, {
        "Content-Type": reply.contentType ?? (isText ? "text/plain" : "application/json"),
        ...reply.headers,
    });
    response.end(isText ? reply.text : JSON.stringify(reply.json));
}

/**
 * @param {string} logFile
 * @param {string} method
 * @param {URL} url
 * @param {number} status
 */
function appendLog(logFile, method, url, status) {
    const entry = { ts: new Date().toISOString(), method, path: url.pathname, status, ...(url.search ? { query: url.search.slice(1) } : {}) };
    fs.appendFileSync(logFile, JSON.stringify(entry) + "\n");
}

/**
 * @param {Marathon} marathon
 * @param {string | undefined} logFile
 * @returns {http.RequestListener}
 */
function requestListener(marathon, logFile) {
    return (incoming, response) => {
        /** @type {Buffer[]} */
        const chunks = [];
        incoming.on("data", (chunk) => chunks.push(chunk));
        incoming.on("end", () => {
            const url = new URL(incoming.url ?? "/", "http://marathon");
            const method = incoming.method ?? "GET";
            const body = Buffer.concat(chunks).toString("utf8");
            const reply = handle(marathon, { method, pathname: url.pathname, query: url.searchParams, body });
            // Logged before answering so that whoever got the answer finds its line.
            if (logFile) appendLog(logFile, method, url, reply.status);
            send(response, reply);
        });
    };
}

/**
 * @param {MarathonOptions} options
 * @returns {Promise<{port: number, close: () => Promise<void>}>}
 */
async function startMarathon(options) {
    const { host, port } = parseListen(options.listen);
    const agents = (options.agents ?? []).length > 0
        ? (options.agents ?? []).map((url) => new HttpAgent(url))
        : [new SimulatedAgent(options.simulatedTaskStartMs ?? 0)];
    const marathon = new Marathon({
        deployDelayMs: options.deployDelayMs ?? DEFAULT_DEPLOY_DELAY_MS,
        stateFile: options.stateFile,
        agents,
        frameworkId: FRAMEWORK_ID,
        offerIntervalMs: options.offerIntervalMs ?? DEFAULT_OFFER_INTERVAL_MS,
        pollIntervalMs: Math.min(POLL_INTERVAL_MS, options.offerIntervalMs ?? POLL_INTERVAL_MS),
        log: options.verbose ? (line) => console.log(`${new Date().toISOString()} ${line}`) : () => undefined,
    });
    const server = http.createServer(requestListener(marathon, options.logFile));
    await new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve(undefined));
    });
    const address = server.address();
    return {
        port: typeof address === "object" && address !== null ? address.port : port,
        close: () => closeServer(server, marathon),
    };
}

/** @param {http.Server} server @param {Marathon} marathon @returns {Promise<void>} */
function closeServer(server, marathon) {
    marathon.stop();
    return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive connections would otherwise hold close() open.
        server.closeAllConnections();
    });
}

const USAGE = "usage: node sandbox/marathon.js --listen HOST:PORT [--agent URL ...] [--deploy-delay-ms N] [--state-file PATH]"
    + " [--log-file PATH] [--offer-interval-ms N]";

/** @param {string[]} argv @returns {MarathonOptions} */
function parseArguments(argv) {
    const values = readFlags(argv, {
        listen: { type: "string" }, agent: { type: "string", multiple: true }, "deploy-delay-ms": { type: "string" },
        "offer-interval-ms": { type: "string" }, "state-file": { type: "string" }, "log-file": { type: "string" },
    }, USAGE, ["listen"]);
    const number = (/** @type {"deploy-delay-ms" | "offer-interval-ms"} */ flag, /** @type {number} */ fallback) => {
        const value = Number(values[flag] ?? fallback);
        if (!Number.isFinite(value) || value < 0) throw new Error(`--${flag} expects a number >= 0`);
        return value;
    };
    return {
        listen: String(values.listen),
        agents: values.agent ?? [],
        deployDelayMs: number("deploy-delay-ms", DEFAULT_DEPLOY_DELAY_MS),
        offerIntervalMs: number("offer-interval-ms", DEFAULT_OFFER_INTERVAL_MS),
        stateFile: values["state-file"],
        logFile: values["log-file"],
        verbose: true,
    };
}

async function main() {
    const options = parseArguments(process.argv.slice(2));
    const starting = startMarathon(options);
    // Installed before listening, and idempotent, so that no signal finds Node's default handler (exit 143).
    /** @type {Promise<void> | undefined} */
    let stopping;
    const shutDown = () => {
        stopping ??= starting.then((server) => server.close()).then(() => process.exit(0));
    };
    process.on("SIGTERM", shutDown);
    process.on("SIGINT", shutDown);
    const server = await starting;
    console.log(`marathon listening on ${parseListen(options.listen).host}:${server.port}`);
}

if (require.main === module) {
    main().catch((error) => {
        console.error(`marathon: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(2);
    });
}

module.exports = { startMarathon };
