// A Mesos 0.28 agent with the Docker containerizer, as far as Marathon's tasks need one: each task gets a sandbox
// directory (<work_dir>/slaves/<agent>/frameworks/<framework>/executors/<task>/runs/<container>), its URIs fetched
// into it (fetcher.ts), then `docker run` as the Docker executor makes it (dockerRun.ts), attached, its output in
// the sandbox's stdout and stderr files. States (src/docker/executor.cpp): TASK_STAGING until the container has
// started, then TASK_RUNNING with the container's address as docker inspect shows it (NetworkSettings.Networks
// .<HostConfig.NetworkMode>.IPAddress, src/docker/docker.cpp Container::create), then TASK_FINISHED when the
// command exits 0, TASK_KILLED when it was killed (`docker stop -t 0`: --docker_stop_timeout defaults to 0) and
// TASK_FAILED otherwise, or when the fetch or the image fails. The image must be on the agent: the sandbox never
// pulls. An ended container is removed at once (Mesos waits --docker_remove_delay, 6 hours).
import { ChildProcess, execFile, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import { dockerRunArgs } from "./dockerRun";
import { fetchUris } from "./fetcher";
import { AgentStateJson, ExecutorJson, TaskInfo, TaskJson, TaskState } from "./protocol";
import type { Log } from "../lib/log";

interface Status {
    state: TaskState;
    timestamp: number;
    message: string;
    ipAddress: string | undefined;
}

/** A task on this agent: its container and its states so far. */
interface Run {
    task: TaskInfo;
    containerId: string;
    containerName: string;
    directory: string;
    statuses: Status[];
    killed: boolean;
    stopped: boolean;
    exit: string | undefined;
    process: ChildProcess | undefined;
    ended: boolean;
}

export interface AgentOptions {
    id: string;
    hostname: string;
    port: number;
    docker: string;
    dockerSocket: string;
    workDir: string;
    resources: { cpus: number; mem: number; disk: number };
    log: Log;
}

/** What the agent reads of `docker inspect`. */
interface InspectedContainer {
    State?: { StartedAt?: string };
    HostConfig?: { NetworkMode?: string };
    NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> };
}

const notStarted = "0001-01-01T00:00:00Z";
const inspectIntervalMs = 100;
const stopRetryMs = 200;
const dockerTimeoutMs = 30000;
/** --max_completed_executors_per_framework. */
const maxCompleted = 150;

export class Agent {
    private readonly startTime = Date.now() / 1000;
    private readonly frameworks = new Map<string, { id: string; name: string }>();
    private readonly runs = new Map<string, Run>();

    constructor(private readonly options: AgentOptions) {}

    docker(args: string[]): Promise<string> {
        return new Promise((resolve, reject) => {
            execFile(
                this.options.docker,
                ["-H", `unix://${this.options.dockerSocket}`, ...args],
                { timeout: dockerTimeoutMs },
                (error, stdout, stderr) =>
                    error ? reject(new Error(String(stderr).trim() || error.message)) : resolve(String(stdout)),
            );
        });
    }

    /** Accepts the task and starts it in the background; a second launch of the same task id is refused. */
    launch(task: TaskInfo): void {
        if (this.runs.has(task.taskId)) throw new Error(`task ${task.taskId} is already on this agent`);
        this.frameworks.set(task.frameworkId, { id: task.frameworkId, name: task.frameworkName });
        const containerId = crypto.randomUUID();
        const run: Run = {
            task,
            containerId,
            containerName: `mesos-${this.options.id}.${containerId}`,
            directory: path.join(
                this.options.workDir,
                "slaves",
                this.options.id,
                "frameworks",
                task.frameworkId,
                "executors",
                task.taskId,
                "runs",
                containerId,
            ),
            statuses: [{ state: "TASK_STAGING", timestamp: Date.now() / 1000, message: "", ipAddress: undefined }],
            killed: false,
            stopped: false,
            exit: undefined,
            process: undefined,
            ended: false,
        };
        this.runs.set(task.taskId, run);
        this.start(run).catch((error: Error) =>
            this.end(run, "TASK_FAILED", `Failed to launch container: ${error.message}`),
        );
    }

    async start(run: Run) {
        fs.mkdirSync(run.directory, { recursive: true });
        try {
            fetchUris(run.task.command.uris, run.directory);
        } catch (error) {
            fs.appendFileSync(
                path.join(run.directory, "stderr"),
                `${error instanceof Error ? error.message : error}\n`,
            );
            throw new Error(`Failed to fetch all URIs for container '${run.containerId}' with exit status: 256`, {
                cause: error,
            });
        }
        const { args, image } = dockerRunArgs(run.task, {
            containerName: run.containerName,
            sandboxDirectory: run.directory,
        });
        await this.docker(["image", "inspect", image]).catch(() => {
            throw new Error(
                `Failed to 'docker pull ${image}': the sandbox never pulls, and the image is not on this agent`,
            );
        });
        if (run.killed) return this.end(run, "TASK_KILLED", "");
        const output = (name: string) => fs.openSync(path.join(run.directory, name), "a");
        const stdout = output("stdout");
        const stderr = output("stderr");
        this.options.log(`${run.task.taskId}: docker ${args.join(" ")}`);
        const child = spawn(this.options.docker, ["-H", `unix://${this.options.dockerSocket}`, ...args], {
            stdio: ["ignore", stdout, stderr],
            env: { ...process.env, HOME: run.directory },
        });
        fs.closeSync(stdout);
        fs.closeSync(stderr);
        run.process = child;
        child.on("error", (error) => this.end(run, "TASK_FAILED", `Docker container run error: ${error.message}`));
        child.on("exit", (code, signal) => {
            run.exit =
                code === 0
                    ? ""
                    : `Docker container run error: Container exited on error: ${signal ? `terminated with signal ${signal}` : `exited with status ${code}`}`;
            this.reaped(run);
        });
        void this.awaitStart(run);
    }

    /**
     * The Docker executor's `reaped`: once `docker run` has ended and, for a killed task, `docker stop` has returned
     * (so the container has stopped and left its networks), the task's last state.
     */
    reaped(run: Run) {
        if (run.exit === undefined || (run.killed && !run.stopped) || run.ended) return;
        if (run.killed) this.end(run, "TASK_KILLED", "");
        else if (run.exit === "") this.end(run, "TASK_FINISHED", "");
        else this.end(run, "TASK_FAILED", run.exit);
        this.docker(["rm", "-f", run.containerName]).catch(() => undefined);
    }

    /** docker inspect until the container has started: then it is TASK_RUNNING. */
    async awaitStart(run: Run) {
        while (!run.ended) {
            const container = await this.docker(["inspect", "--type", "container", run.containerName]).then(
                (text) => (JSON.parse(text) as InspectedContainer[])[0],
                () => undefined,
            );
            if (container !== undefined && container.State?.StartedAt !== notStarted && !run.ended && !run.killed) {
                const networkMode = container.HostConfig?.NetworkMode;
                const ipAddress =
                    (networkMode === undefined
                        ? undefined
                        : container.NetworkSettings?.Networks?.[networkMode]?.IPAddress) ||
                    container.NetworkSettings?.IPAddress ||
                    undefined;
                this.record(run, "TASK_RUNNING", "", ipAddress);
                return;
            }
            await sleep(inspectIntervalMs);
        }
    }

    kill(taskId: string): void {
        const run = this.runs.get(taskId);
        if (run === undefined) throw new Error(`no task ${taskId} on this agent`);
        if (run.ended || run.killed) return;
        run.killed = true;
        if (run.process !== undefined) void this.stop(run);
    }

    /**
     * `docker stop -t 0`; a container that is still being created is not there to stop yet, so it is tried again
     * until it works or `docker run` ended without a container.
     */
    async stop(run: Run) {
        for (;;) {
            const stopped = await this.docker(["stop", "-t", "0", run.containerName]).then(
                () => true,
                () => false,
            );
            if (stopped || run.exit !== undefined) break;
            await sleep(stopRetryMs);
        }
        run.stopped = true;
        this.reaped(run);
    }

    record(run: Run, state: TaskState, message: string, ipAddress?: string) {
        run.statuses.push({ state, timestamp: Date.now() / 1000, message, ipAddress });
        this.options.log(
            `${run.task.taskId}: ${state}${message ? ` (${message})` : ""}${ipAddress ? ` at ${ipAddress}` : ""}`,
        );
    }

    end(run: Run, state: TaskState, message: string) {
        if (run.ended) return;
        run.ended = true;
        this.record(run, state, message);
        const ended = [...this.runs.values()].filter((candidate) => candidate.ended);
        ended.slice(0, Math.max(0, ended.length - maxCompleted)).forEach((old) => this.runs.delete(old.task.taskId));
    }

    /** The agent's /state (src/slave/http.cpp), with what Marathon and Mesos-DNS read from it. */
    state(): AgentStateJson {
        const { id, hostname, port, resources } = this.options;
        return {
            version: "0.28.2",
            start_time: this.startTime,
            id,
            pid: `slave(1)@${hostname}:${port}`,
            hostname,
            resources: { ...resources, ports: "[31000-32000]" },
            attributes: {},
            frameworks: [...this.frameworks.values()].map((framework) => {
                const runs = [...this.runs.values()].filter((run) => run.task.frameworkId === framework.id);
                return {
                    id: framework.id,
                    name: framework.name,
                    executors: runs.filter((run) => !run.ended).map((run) => this.executorJson(run)),
                    completed_executors: runs.filter((run) => run.ended).map((run) => this.executorJson(run)),
                };
            }),
            completed_frameworks: [],
        };
    }

    private executorJson(run: Run): ExecutorJson {
        const task = this.taskJson(run);
        return {
            id: run.task.taskId,
            name: `Command Executor (Task: ${run.task.taskId}) (Command: sh -c '${run.task.command.value ?? ""}')`,
            source: run.task.taskId,
            container: run.containerId,
            directory: run.directory,
            tasks: run.ended ? [] : [task],
            queued_tasks: [],
            completed_tasks: run.ended ? [task] : [],
        };
    }

    /** model(Task) of src/common/http.cpp. */
    private taskJson(run: Run): TaskJson {
        const latest = run.statuses[run.statuses.length - 1];
        return {
            id: run.task.taskId,
            name: run.task.name,
            framework_id: run.task.frameworkId,
            executor_id: "",
            slave_id: this.options.id,
            state: latest.state,
            resources: run.task.resources,
            statuses: run.statuses.map((status) => ({
                state: status.state,
                timestamp: status.timestamp,
                ...(status.message ? { message: status.message } : {}),
                ...(status.ipAddress
                    ? {
                          container_status: {
                              network_infos: [
                                  { ip_address: status.ipAddress, ip_addresses: [{ ip_address: status.ipAddress }] },
                              ],
                          },
                      }
                    : {}),
            })),
            labels: [{ key: "MARATHON_APP_VERSION", value: run.task.version }],
        };
    }
}
