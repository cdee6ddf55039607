// What the Mesos agent stand-in exchanges with Marathon and Mesos-DNS: the TaskInfo a launch carries (apache/mesos
// 0.28 include/mesos/mesos.proto TaskInfo, as mesosphere/marathon v0.14.2 mesos/TaskBuilder.scala fills it for an app
// with a Docker container; JSON here, where Mesos sends protobuf through its master) and the agent's GET /state
// (apache/mesos 0.28 src/slave/http.cpp, each task as src/common/http.cpp model(Task) writes it).

/** mesos.proto TaskState. */
export type TaskState =
    | "TASK_STAGING"
    | "TASK_STARTING"
    | "TASK_RUNNING"
    | "TASK_FINISHED"
    | "TASK_FAILED"
    | "TASK_KILLED"
    | "TASK_LOST"
    | "TASK_ERROR";

/** The app's container as Marathon passes it on (mesos.proto ContainerInfo with its DockerInfo, in Marathon's JSON). */
export interface ContainerJson {
    type?: string;
    volumes?: { hostPath?: string; containerPath?: string; mode?: string }[];
    docker?: {
        image?: string;
        network?: string;
        privileged?: boolean;
        parameters?: { key: string; value: string }[];
    };
}

/** What Marathon hands an agent to run. */
export interface TaskInfo {
    taskId: string;
    name: string;
    frameworkId: string;
    frameworkName: string;
    /** The app's version, kept in the task's labels so that a restarted Marathon can adopt the task. */
    version: string;
    resources: { cpus: number; mem: number; disk: number; ports: number[] };
    command: {
        value: string | null;
        arguments: string[];
        shell: boolean;
        uris: { value: string; extract: boolean; executable: boolean }[];
        environment: Record<string, string>;
    };
    container: ContainerJson | null | undefined;
}

export interface TaskStatusJson {
    state: TaskState;
    timestamp: number;
    message?: string;
    container_status?: { network_infos: { ip_address: string; ip_addresses?: { ip_address: string }[] }[] };
}

export interface TaskJson {
    id: string;
    name: string;
    framework_id: string;
    executor_id: string;
    slave_id: string;
    state: TaskState;
    resources: TaskInfo["resources"];
    statuses: TaskStatusJson[];
    labels: { key: string; value: string }[];
}

export interface ExecutorJson {
    id: string;
    name: string;
    source: string;
    container: string;
    directory: string;
    tasks: TaskJson[];
    queued_tasks: TaskJson[];
    completed_tasks: TaskJson[];
}

interface FrameworkJson {
    id: string;
    name: string;
    executors: ExecutorJson[];
    completed_executors: ExecutorJson[];
}

/** An agent's GET /state. */
export interface AgentStateJson {
    version: string;
    start_time: number;
    id: string;
    pid: string;
    hostname: string;
    resources: { cpus: number; mem: number; disk: number; ports: string };
    attributes: Record<string, string>;
    frameworks: FrameworkJson[];
    completed_frameworks: FrameworkJson[];
}
