// @ts-check
// Readiness probes, and waiting on them with a deadline that names what did not come up.
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");

const pollIntervalMs = 25;

/**
 * @param {net.NetConnectOpts} target
 * @param {number} timeoutMs
 * @returns {Promise<boolean>}
 */
function canConnect(target, timeoutMs) {
    return new Promise((resolve) => {
        const socket = net.connect(target);
        const finish = (/** @type {boolean} */ ok) => { socket.destroy(); resolve(ok); };
        socket.setTimeout(timeoutMs, () => finish(false));
        socket.once("connect", () => finish(true));
        socket.once("error", () => finish(false));
    });
}

/** @param {string} host @param {number} port */
function isPortOpen(host, port) {
    return canConnect({ host, port }, 300);
}

/** @param {string} socketPath */
function isSocketAccepting(socketPath) {
    return fs.existsSync(socketPath) ? canConnect({ path: socketPath }, 300) : Promise.resolve(false);
}

/**
 * GET over TCP or a unix socket; resolves to the status and body, or undefined when nothing answers.
 * @param {string} url
 * @param {string} [socketPath]
 * @returns {Promise<{ status: number, body: string } | undefined>}
 */
function httpGet(url, socketPath) {
    return new Promise((resolve) => {
        const request = http.get(url, { socketPath, timeout: 1000, agent: false }, (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk) => { body += chunk; });
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
            response.on("error", () => resolve(undefined));
        });
        request.on("timeout", () => request.destroy());
        request.on("error", () => resolve(undefined));
    });
}

/** @param {number} ms */
function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls until `isReady` holds. Fails early when the process it waits on exits, quoting the end of its log.
 * @param {string} what
 * @param {() => Promise<boolean>} isReady
 * @param {{ timeoutMs: number, process: import("./run").Detached }} options
 */
async function waitUntil(what, isReady, options) {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
        if (await isReady()) {
            return;
        }
        const exit = options.process.exitStatus();
        if (exit !== undefined || Date.now() > deadline) {
            const reason = exit ?? `was not ready after ${options.timeoutMs} ms`;
            throw new Error(`${what} did not start: it ${reason}${logTail(options.process.logFile)}`);
        }
        await sleep(pollIntervalMs);
    }
}

/** @param {string} logFile */
function logTail(logFile) {
    // Quoted rather than pointed to: the cleanup after a failed up removes the log.
    const lines = fs.readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-8);
    return `; its output ended with:\n    ${lines.join("\n    ")}`;
}

module.exports = { isPortOpen, isSocketAccepting, httpGet, sleep, waitUntil };
