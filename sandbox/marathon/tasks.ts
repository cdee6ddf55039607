// Marathon's tasks: the task tracker, the launch queue with its rate limiter, offers from the agents and the status
// updates that come back, after mesosphere/marathon v0.14.2:
// - core/launchqueue/impl/RateLimiter.scala: a failed task delays the next launch of its app by backoffSeconds, times
//   backoffFactor for each further failure, at most maxLaunchDelaySeconds; overdue delays are dropped every 10 s
//   (RateLimiterActor), so a later failure starts again at backoffSeconds;
// - core/task/tracker/impl/steps/*.scala: each status update updates the tracker, adds a launch delay on
//   TASK_ERROR/FAILED/FINISHED/LOST (NotifyRateLimiterStepImpl), is published to the deployment actors, and a
//   terminal one triggers a scale check of its app (ScaleAppUpdateStepImpl);
// - MarathonSchedulerActor.scale: the scale check queues the missing tasks or kills the extra ones, unless a
//   deployment holds the app's lock (withLockFor);
// - mesos/TaskBuilder.scala: what a launched task carries (name, environment, URIs, container).
// Offers: every offer cycle each agent offers what its running tasks leave free, in random order as Mesos 0.28's
// allocator shuffles agents (src/master/allocator/mesos/hierarchical.cpp, HierarchicalAllocatorProcess::allocate),
// and a queued task goes to the first agent whose offer fits its cpus and mem (Marathon's ResourceMatcher).
import { EventEmitter } from "events";
import type { ContainerJson, TaskInfo, TaskState } from "../mesos/protocol";
import { Agent, AgentState, AgentTask, isTerminal } from "./agents";
import type { App } from "./groupUpdate";
import { appIdOfTask, newTaskId, taskName } from "./ids";
import type { Log } from "../lib/log";

/** A task as the tracker keeps it. */
export interface Task {
    id: string;
    appId: string;
    version: string;
    agent: Agent;
    slaveId: string;
    host: string;
    state: TaskState;
    stagedAt: string;
    startedAt: string | null;
    ipAddresses: string[];
    ports: number[];
    cpus: number;
    mem: number;
    killSentAt: number | undefined;
}

/** What the tracker publishes for each change of a task's state (its "status" event). */
export interface StatusUpdate {
    taskId: string;
    appId: string;
    version: string;
    state: TaskState;
    message: string;
    host: string;
}

interface Delay {
    deadline: number;
    delayMs: number;
}

export interface TasksOptions {
    agents: Agent[];
    frameworkId: string;
    offerIntervalMs: number;
    pollIntervalMs: number;
    appById: (appId: string) => App | undefined;
    /** Whether a deployment holds the app's lock. */
    isLocked: (appId: string) => boolean;
    log: Log;
}

const delayStates = new Set<TaskState>(["TASK_ERROR", "TASK_FAILED", "TASK_FINISHED", "TASK_LOST"]);
const delayCleanupMs = 10000;
/** TaskReplaceActor retries its kills every 15 s; the tracker does so for every kill. */
const killRetryMs = 15000;
/** A launched task the agent never lists is lost after this. */
const launchGraceMs = 10000;
const portRange = { first: 31000, last: 32000 };
const archiveExtensions = [".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"];

export class Tasks extends EventEmitter {
    private readonly tracker = new Map<string, Task>();
    private readonly queue = new Map<string, { app: App; left: number }>();
    /** keyed by app id and version */
    private readonly delays = new Map<string, Delay>();
    /** the agents that answered their last poll */
    private readonly agentStates = new Map<Agent, AgentState>();
    private readonly unreachable = new Set<Agent>();
    private readonly timers: NodeJS.Timeout[] = [];
    private polling = false;

    constructor(private readonly options: TasksOptions) {
        super();
        this.setMaxListeners(0);
    }

    start() {
        this.timers.push(
            setInterval(() => this.offerCycle(), this.options.offerIntervalMs),
            setInterval(() => void this.poll(), this.options.pollIntervalMs),
            setInterval(() => this.cleanUpOverdueDelays(), delayCleanupMs),
        );
    }

    stop() {
        this.timers.forEach(clearInterval);
        this.options.agents.forEach((agent) => agent.close());
    }

    // ---- the tracker

    all(): Task[] {
        return [...this.tracker.values()];
    }

    tasksOf(appId: string): Task[] {
        return [...this.tracker.values()].filter((task) => task.appId === appId);
    }

    count(appId: string) {
        return this.tasksOf(appId).length;
    }

    counts(appId: string) {
        const tasks = this.tasksOf(appId);
        return {
            tasksStaged: tasks.filter((task) => task.state !== "TASK_RUNNING").length,
            tasksRunning: tasks.filter((task) => task.state === "TASK_RUNNING").length,
        };
    }

    kill(task: Task) {
        task.killSentAt = Date.now();
        task.agent.kill(task.id).catch((error: Error) => this.options.log(`kill ${task.id}: ${error.message}`));
    }

    // ---- the launch queue and its rate limiter

    /** LaunchQueue.add: the newest app definition replaces the queued one. */
    add(app: App, count: number = 1) {
        const entry = this.queue.get(app.id);
        this.queue.set(app.id, { app, left: (entry?.left ?? 0) + count });
    }

    purge(appId: string) {
        this.queue.delete(appId);
    }

    /** v0.14.2 MarathonSchedulerActor.scala SchedulerActions.stopApp: kill what is tracked, purge, reset the delay. */
    stopApp(app: App) {
        this.tasksOf(app.id).forEach((task) => this.kill(task));
        this.purge(app.id);
        this.resetDelay(app);
    }

    /** QueuedTaskInfo.totalTaskCount: left to launch plus launched. */
    totalTaskCount(appId: string) {
        return (this.queue.get(appId)?.left ?? 0) + this.count(appId);
    }

    delayKey(app: App) {
        return `${app.id} ${app.version}`;
    }

    resetDelay(app: App) {
        this.delays.delete(this.delayKey(app));
    }

    /** RateLimiter.addDelay. */
    addDelay(app: App) {
        const previous = this.delays.get(this.delayKey(app));
        const backoffMs = Number(app.backoffSeconds) * 1000;
        const delayMs =
            previous === undefined
                ? backoffMs
                : Math.min(Number(app.maxLaunchDelaySeconds) * 1000, previous.delayMs * Number(app.backoffFactor));
        this.delays.set(this.delayKey(app), { deadline: Date.now() + delayMs, delayMs });
    }

    cleanUpOverdueDelays() {
        for (const [key, delay] of this.delays) {
            if (delay.deadline <= Date.now()) this.delays.delete(key);
        }
    }

    launchAllowed(app: App) {
        return (this.delays.get(this.delayKey(app))?.deadline ?? 0) <= Date.now();
    }

    // ---- offers

    offerCycle() {
        const offers = shuffled(
            [...this.agentStates].map(([agent, state]) => ({ agent, state, ...this.freeResources(agent, state) })),
        );
        for (const [appId, entry] of this.queue) {
            if (!this.launchAllowed(entry.app)) continue;
            while (entry.left > 0) {
                const offer = offers.find(
                    (candidate) => candidate.cpus >= entry.app.cpus && candidate.mem >= entry.app.mem,
                );
                if (offer === undefined) break;
                offer.cpus -= entry.app.cpus;
                offer.mem -= entry.app.mem;
                entry.left--;
                this.launch(entry.app, offer.agent, offer.state);
            }
            if (entry.left === 0) this.queue.delete(appId);
        }
    }

    freeResources(agent: Agent, state: AgentState) {
        const used = [...this.tracker.values()].filter((task) => task.agent === agent);
        return {
            cpus: state.resources.cpus - used.reduce((sum, task) => sum + task.cpus, 0),
            mem: state.resources.mem - used.reduce((sum, task) => sum + task.mem, 0),
        };
    }

    launch(app: App, agent: Agent, state: AgentState) {
        const ports = this.hostPorts(app, agent);
        const task: Task = {
            id: newTaskId(app.id),
            appId: app.id,
            version: app.version,
            agent,
            slaveId: state.id,
            host: state.hostname,
            state: "TASK_STAGING",
            stagedAt: new Date().toISOString(),
            startedAt: null,
            ipAddresses: [],
            ports,
            cpus: app.cpus,
            mem: app.mem,
            killSentAt: undefined,
        };
        this.tracker.set(task.id, task);
        this.options.log(`launching ${task.id} on ${agent.name}`);
        agent.launch(taskInfo(app, task, this.options.frameworkId)).catch((error: Error) => {
            this.update(task, "TASK_LOST", { message: `launch failed: ${error.message}` });
        });
    }

    /** One host port per declared port, from the agent's default range [31000-32000]. */
    hostPorts(app: App, agent: Agent) {
        const used = new Set(
            [...this.tracker.values()].filter((task) => task.agent === agent).flatMap((task) => task.ports),
        );
        const declared = Array.isArray(app.ports) ? app.ports : [];
        const ports: number[] = [];
        let next = portRange.first;
        for (const port of declared) {
            if (typeof port === "number" && port !== 0) {
                ports.push(port);
                continue;
            }
            while (used.has(next) && next < portRange.last) next++;
            used.add(next);
            ports.push(next);
        }
        return ports;
    }

    // ---- status updates

    async poll() {
        if (this.polling) return;
        this.polling = true;
        try {
            await Promise.all(this.options.agents.map((agent) => this.pollAgent(agent)));
        } finally {
            this.polling = false;
        }
    }

    async pollAgent(agent: Agent) {
        let state: AgentState;
        try {
            state = await agent.state();
        } catch (error) {
            // Said once per outage: an agent that is still starting is not news every poll.
            if (this.agentStates.has(agent) || !this.unreachable.has(agent)) {
                this.options.log(
                    `agent ${agent.name} does not answer: ${error instanceof Error ? error.message : error}`,
                );
            }
            this.agentStates.delete(agent);
            this.unreachable.add(agent);
            return;
        }
        if (this.unreachable.delete(agent)) this.options.log(`agent ${agent.name} answers`);
        this.agentStates.set(agent, state);
        const listed = new Set(state.tasks.map((task) => task.id));
        for (const reported of state.tasks) {
            const task = this.tracker.get(reported.id);
            if (task === undefined) {
                if (!isTerminal(reported.state)) this.reconcileUnknown(agent, state, reported);
            } else if (
                reported.state !== task.state &&
                (reported.state === "TASK_RUNNING" || isTerminal(reported.state))
            ) {
                this.update(task, reported.state, { ipAddresses: reported.ipAddresses, message: reported.message });
            } else if (task.killSentAt !== undefined && Date.now() - task.killSentAt > killRetryMs) {
                this.kill(task);
            }
        }
        for (const task of this.tracker.values()) {
            if (
                task.agent === agent &&
                !listed.has(task.id) &&
                Date.now() - Date.parse(task.stagedAt) > launchGraceMs
            ) {
                this.update(task, "TASK_LOST", { message: `agent ${agent.name} does not know the task` });
            }
        }
    }

    /** Task reconciliation after a restart of Marathon: a task of a known app is tracked again, any other is killed. */
    reconcileUnknown(agent: Agent, state: AgentState, reported: AgentTask) {
        const appId = appIdOfTask(reported.id);
        const app = appId === undefined ? undefined : this.options.appById(appId);
        if (app === undefined || appId === undefined) {
            this.options.log(`killing unknown task ${reported.id} on ${agent.name}`);
            agent.kill(reported.id).catch(() => undefined);
            return;
        }
        this.tracker.set(reported.id, {
            id: reported.id,
            appId,
            version: reported.version ?? app.version,
            agent,
            slaveId: state.id,
            host: state.hostname,
            state: reported.state,
            stagedAt: new Date().toISOString(),
            startedAt: reported.state === "TASK_RUNNING" ? new Date().toISOString() : null,
            ipAddresses: reported.ipAddresses,
            ports: [],
            cpus: app.cpus,
            mem: app.mem,
            killSentAt: undefined,
        });
    }

    update(task: Task, state: TaskState, details: { ipAddresses?: string[]; message?: string }): void {
        if (!this.tracker.has(task.id)) return;
        this.options.log(`${task.id}: ${state}${details.message ? ` (${details.message})` : ""}`);
        if (state === "TASK_RUNNING") {
            task.state = state;
            task.startedAt = new Date().toISOString();
            task.ipAddresses = details.ipAddresses ?? [];
        } else {
            this.tracker.delete(task.id);
        }
        const app = this.options.appById(task.appId);
        if (delayStates.has(state) && app !== undefined) this.addDelay({ ...app, version: task.version });
        const update: StatusUpdate = {
            taskId: task.id,
            appId: task.appId,
            version: task.version,
            state,
            message: details.message ?? "",
            host: task.host,
        };
        this.emit("status", update);
        if (isTerminal(state) && app !== undefined && !this.options.isLocked(app.id)) this.scale(app);
    }

    /** SchedulerActions.scale. */
    scale(app: App) {
        const current = this.count(app.id);
        if (app.instances > current) {
            const toQueue = app.instances - this.totalTaskCount(app.id);
            if (toQueue > 0) this.add(app, toQueue);
        } else if (app.instances < current) {
            this.purge(app.id);
            this.tasksOf(app.id)
                .slice(0, current - app.instances)
                .forEach((task) => this.kill(task));
        }
    }
}

function shuffled<T>(items: T[]) {
    const result = [...items];
    for (let index = result.length - 1; index > 0; index--) {
        const other = Math.floor(Math.random() * (index + 1));
        [result[index], result[other]] = [result[other], result[index]];
    }
    return result;
}

/**
 * TaskBuilder.buildIfMatches and commandInfo: the task's name is the reversed app path; `cmd` runs through the shell,
 * `args` without; the environment carries Marathon's variables, the host ports, then the app's own env.
 */
function taskInfo(app: App, task: Task, frameworkId: string): TaskInfo {
    const labels = (app.labels ?? {}) as Record<string, unknown>;
    const validLabels = Object.entries(labels).filter(([key]) => /^[A-Za-z0-9_]+$/.test(key));
    const environment = {
        ...Object.fromEntries(task.ports.map((port, index) => [`PORT${index}`, String(port)])),
        ...(task.ports.length > 0 ? { PORT: String(task.ports[0]), PORTS: task.ports.join(",") } : {}),
        HOST: task.host,
        MESOS_TASK_ID: task.id,
        MARATHON_APP_ID: app.id,
        MARATHON_APP_VERSION: app.version,
        ...(imageOf(app) ? { MARATHON_APP_DOCKER_IMAGE: imageOf(app) } : {}),
        MARATHON_APP_RESOURCE_CPUS: String(app.cpus),
        MARATHON_APP_RESOURCE_MEM: String(app.mem),
        MARATHON_APP_RESOURCE_DISK: String(app.disk),
        MARATHON_APP_LABELS: validLabels.map(([key]) => key).join(" "),
        ...Object.fromEntries(
            validLabels.map(([key, value]) => [`MARATHON_APP_LABEL_${key.toUpperCase()}`, String(value)]),
        ),
        ...((app.env ?? {}) as Record<string, string>),
    };
    const uris = (Array.isArray(app.uris) ? app.uris : []) as string[];
    const cmd = typeof app.cmd === "string" ? app.cmd : null;
    return {
        taskId: task.id,
        name: taskName(app.id),
        frameworkId,
        frameworkName: "marathon",
        version: app.version,
        resources: { cpus: app.cpus, mem: app.mem, disk: Number(app.disk), ports: task.ports },
        command: {
            value: cmd,
            arguments: Array.isArray(app.args) ? app.args.map(String) : [],
            shell: cmd !== null,
            uris: uris.map((value) => ({
                value,
                extract: archiveExtensions.some((extension) => value.endsWith(extension)),
                executable: false,
            })),
            environment,
        },
        container: app.container as ContainerJson | null | undefined,
    };
}

function imageOf(app: App): string | undefined {
    const image = (app.container as ContainerJson | null | undefined)?.docker?.image;
    return typeof image === "string" ? image : undefined;
}
