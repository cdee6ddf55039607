// How Marathon reaches the Mesos agents. In the sandbox Marathon asks each agent stand-in (sandbox/mesosAgent.ts)
// directly to launch and kill tasks, and reads their task states from the agent's /state, where Mesos would
// carry offers, launches and status updates through its master. Without agents (the API tests), one in-process
// SimulatedAgent keeps the books of tasks that run nothing.
import { httpRequest } from "../lib/http";
import type { AgentStateJson, TaskInfo, TaskState } from "../mesos/protocol";

/** A task as Marathon follows it on an agent. */
export interface AgentTask {
    id: string;
    state: TaskState;
    ipAddresses: string[];
    message: string;
    /** The app version it was launched for (its MARATHON_APP_VERSION label). */
    version: string | undefined;
}

/** What Marathon reads of an agent: its resources and its tasks. */
export interface AgentState {
    id: string;
    hostname: string;
    resources: { cpus: number; mem: number };
    tasks: AgentTask[];
}

export interface Agent {
    name: string;
    state(): Promise<AgentState>;
    launch(task: TaskInfo): Promise<void>;
    kill(taskId: string): Promise<void>;
    close(): void;
}

const terminalStates = new Set<TaskState>(["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR"]);
const agentTimeoutMs = 5000;

export function isTerminal(state: TaskState): boolean {
    return terminalStates.has(state);
}

export class HttpAgent implements Agent {
    readonly name: string;
    private readonly url: URL;

    /** @param url e.g. http://10.197.0.12:5051 */
    constructor(url: string) {
        this.url = new URL(url);
        this.name = this.url.host;
    }

    async state(): Promise<AgentState> {
        return fromMesosState(JSON.parse(await this.request("GET", "/state")) as AgentStateJson);
    }

    async launch(task: TaskInfo) {
        await this.request("POST", "/_sandbox/tasks", JSON.stringify(task));
    }

    async kill(taskId: string) {
        await this.request("POST", `/_sandbox/tasks/${encodeURIComponent(taskId)}/kill`, "");
    }

    close() {}

    private async request(method: string, path: string, body?: string): Promise<string> {
        const headers = body === undefined ? {} : { "Content-Type": "application/json" };
        const answer = await httpRequest(undefined, {
            host: this.url.hostname,
            port: this.url.port,
            method,
            path,
            headers,
            body,
            timeout: agentTimeoutMs,
        }).catch((error: Error) => {
            throw new Error(`agent ${this.name}: ${method} ${path}: ${error.message}`);
        });
        if (answer.status >= 300)
            throw new Error(`agent ${this.name}: ${method} ${path}: HTTP ${answer.status} ${answer.body}`);
        return answer.body;
    }
}

/**
 * The tasks of Marathon's framework in a Mesos agent's /state (src/slave/http.cpp's state JSON, as the agent
 * stand-in writes it): live executors' tasks and completed ones.
 */
function fromMesosState(state: AgentStateJson): AgentState {
    const tasks = (state.frameworks ?? [])
        .flatMap((framework) => [...(framework.executors ?? []), ...(framework.completed_executors ?? [])])
        .flatMap((executor) => [...(executor.tasks ?? []), ...(executor.completed_tasks ?? [])]);
    return {
        id: state.id,
        hostname: state.hostname,
        resources: { cpus: Number(state.resources?.cpus ?? 0), mem: Number(state.resources?.mem ?? 0) },
        tasks: tasks.map((task) => {
            const latest = (task.statuses ?? []).at(-1);
            const networkInfos = latest?.container_status?.network_infos ?? [];
            return {
                id: task.id,
                state: task.state,
                ipAddresses: networkInfos.map((info) => info.ip_address).filter(Boolean),
                message: latest?.message ?? "",
                version: (task.labels ?? []).find((label) => label.key === "MARATHON_APP_VERSION")?.value,
            };
        }),
    };
}

/**
 * Runs nothing: a launched task counts as running `taskStartMs` later, and runs until killed.
 * Only for exercising the API without Mesos (see sandbox/README.md).
 */
export class SimulatedAgent implements Agent {
    readonly name = "simulated-agent";
    private readonly tasks = new Map<string, AgentTask & { startsAt: number }>();

    constructor(private readonly taskStartMs: number) {}

    async state(): Promise<AgentState> {
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

    async launch(task: TaskInfo) {
        this.tasks.set(task.taskId, {
            id: task.taskId,
            state: "TASK_STAGING",
            ipAddresses: [],
            message: "",
            version: task.version,
            startsAt: Date.now() + this.taskStartMs,
        });
    }

    async kill(taskId: string) {
        const task = this.tasks.get(taskId);
        if (task && !isTerminal(task.state)) task.state = "TASK_KILLED";
    }

    close() {
        this.tasks.clear();
    }
}
