// @ts-check
"use strict";
// How Marathon reaches the Mesos agents. In the sandbox Marathon asks each agent stand-in (sandbox/mesosAgent.js)
// directly to launch and kill tasks, and reads their task states from the agent's /state, where Mesos would
// carry offers, launches and status updates through its master. Without agents (the API tests), one in-process
// SimulatedAgent keeps the books of tasks that run nothing.

const http = require("http");

/** @typedef {"TASK_STAGING" | "TASK_STARTING" | "TASK_RUNNING" | "TASK_FINISHED" | "TASK_FAILED" | "TASK_KILLED" | "TASK_LOST" | "TASK_ERROR"} TaskState */
/** @typedef {{id: string, state: TaskState, ipAddresses: string[], message: string, version: string | undefined}} AgentTask */
/** @typedef {{id: string, hostname: string, resources: {cpus: number, mem: number}, tasks: AgentTask[]}} AgentState */
/**
 * What Marathon hands an agent to run (Mesos' TaskInfo, as mesosphere/marathon v0.14.2 mesos/TaskBuilder.scala
 * fills it for an app with a Docker container).
 * @typedef {{taskId: string, name: string, frameworkId: string, frameworkName: string, version: string,
 *   resources: {cpus: number, mem: number, disk: number, ports: number[]},
 *   command: {value: string | null, arguments: string[], shell: boolean, uris: {value: string, extract: boolean, executable: boolean}[],
 *     environment: Record<string, string>},
 *   container: unknown}} TaskInfo
 */
/**
 * @typedef {{name: string, state(): Promise<AgentState>, launch(task: TaskInfo): Promise<void>, kill(taskId: string): Promise<void>,
 *   close(): void}} Agent
 */

const TERMINAL_STATES = new Set(["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR"]);
const AGENT_TIMEOUT_MS = 5000;

/** @param {string} state */
function isTerminal(state) {
    return TERMINAL_STATES.has(state);
}

class HttpAgent {
    /** @param {string} url e.g. http://10.197.0.12:5051 */
    constructor(url) {
        this.url = new URL(url);
        this.name = this.url.host;
    }

    /** @returns {Promise<AgentState>} */
    async state() {
        return fromMesosState(JSON.parse(await this.request("GET", "/state")));
    }

    /** @param {TaskInfo} task */
    async launch(task) {
        await this.request("POST", "/_sandbox/tasks", JSON.stringify(task));
    }

    /** @param {string} taskId */
    async kill(taskId) {
        await this.request("POST", `/_sandbox/tasks/${encodeURIComponent(taskId)}/kill`, "");
    }

    close() {}

    /** @param {string} method @param {string} path @param {string} [body] @returns {Promise<string>} */
    request(method, path, body) {
        return new Promise((resolve, reject) => {
            const request = http.request({ host: this.url.hostname, port: this.url.port, method, path, agent: false, timeout: AGENT_TIMEOUT_MS,
                headers: body === undefined ? {} : { "Content-Type": "application/json" } }, (response) => {
                let text = "";
                response.setEncoding("utf8");
                response.on("data", (chunk) => { text += chunk; });
                response.on("end", () => {
                    if ((response.statusCode ?? 0) >= 300) reject(new Error(`agent ${this.name}: ${method} ${path}: HTTP ${response.statusCode} ${text}`));
                    else resolve(text);
                });
            });
            request.on("timeout", () => request.destroy(new Error(`no answer in ${AGENT_TIMEOUT_MS} ms`)));
            request.on("error", (error) => reject(new Error(`agent ${this.name}: ${method} ${path}: ${error.message}`)));
            request.end(body);
        });
    }
}

/**
 * The tasks of Marathon's framework in a Mesos agent's /state (src/slave/http.cpp's state JSON, as the agent
 * stand-in writes it): live executors' tasks and completed ones.
 * @param {any} state
 * @returns {AgentState}
 */
function fromMesosState(state) {
    const frameworks = /** @type {any[]} */ (state.frameworks ?? []);
    const tasks = frameworks.flatMap((framework) => [...(framework.executors ?? []), ...(framework.completed_executors ?? [])])
        .flatMap((executor) => [...(executor.tasks ?? []), ...(executor.completed_tasks ?? [])]);
    return {
        id: state.id,
        hostname: state.hostname,
        resources: { cpus: Number(state.resources?.cpus ?? 0), mem: Number(state.resources?.mem ?? 0) },
        tasks: tasks.map((task) => {
            const latest = (task.statuses ?? []).at(-1) ?? {};
            const networkInfos = /** @type {any[]} */ (latest.container_status?.network_infos ?? []);
            return {
                id: task.id,
                state: task.state,
                ipAddresses: networkInfos.map((info) => info.ip_address).filter(Boolean),
                message: latest.message ?? "",
                version: (task.labels ?? []).find((/** @type {any} */ label) => label.key === "MARATHON_APP_VERSION")?.value,
            };
        }),
    };
}

/**
 * Runs nothing: a launched task counts as running `taskStartMs` later, and runs until killed.
 * Only for exercising the API without Mesos (see sandbox/README.md).
 */
class SimulatedAgent {
    /** @param {number} taskStartMs */
    constructor(taskStartMs) {
        this.name = "simulated-agent";
        this.taskStartMs = taskStartMs;
        /** @type {Map<string, AgentTask & {startsAt: number}>} */
        this.tasks = new Map();
    }

    async state() {
        const now = Date.now();
        for (const task of this.tasks.values()) {
            if (task.state === "TASK_STAGING" && now >= task.startsAt) task.state = "TASK_RUNNING";
        }
        return {
            id: "simulated-S0",
            hostname: "127.0.0.1",
            resources: { cpus: 64, mem: 65536 },
            tasks: [...this.tasks.values()].map(({ startsAt: _startsAt, ...task }) => task),
        };
    }

    /** @param {TaskInfo} task */
    async launch(task) {
        this.tasks.set(task.taskId, { id: task.taskId, state: "TASK_STAGING", ipAddresses: [], message: "", version: task.version,
            startsAt: Date.now() + this.taskStartMs });
    }

    /** @param {string} taskId */
    async kill(taskId) {
        const task = this.tasks.get(taskId);
        if (task && !isTerminal(task.state)) task.state = "TASK_KILLED";
    }

    close() {
        this.tasks.clear();
    }
}

module.exports = { HttpAgent, SimulatedAgent, isTerminal, fromMesosState };
