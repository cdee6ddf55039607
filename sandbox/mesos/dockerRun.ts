// The `docker run` a Mesos 0.28 agent's Docker containerizer makes for a task (src/docker/docker.cpp, Docker::run,
// called by src/docker/executor.cpp with the task's resources and command):
//   docker -H <socket> run --cpu-shares <1024 per cpu, at least 2> --memory <mem, at least 32 MB>
//     -e <the command's environment> -e MESOS_SANDBOX=/mnt/mesos/sandbox -e MESOS_CONTAINER_NAME=<name>
//     -v <sandbox directory>:/mnt/mesos/sandbox --net <host|bridge|none> --<key>=<value> for each parameter
//     [--entrypoint /bin/sh] --name mesos-<agent id>.<container id> <image> [-c <cmd> | <args>]
// --net comes first from the container's network (HOST unless the app asks for BRIDGE or NONE); a `net`
// parameter adds a later --net=<name>, which Docker 1.10's CLI (a plain string flag) takes over the first.
import type { TaskInfo } from "./protocol";

const cpuSharesPerCpu = 1024;
const minCpuShares = 2;
const minMemoryBytes = 32 * 1024 * 1024;
/** The agent's --sandbox_directory default (src/slave/flags.cpp). */
const mappedDirectory = "/mnt/mesos/sandbox";

/** @returns the arguments after `docker -H <socket>` */
export function dockerRunArgs(
    task: TaskInfo,
    where: { containerName: string; sandboxDirectory: string },
): { args: string[]; image: string } {
    const docker = task.container?.docker ?? {};
    const args = ["run"];
    if (docker.privileged === true) args.push("--privileged");
    args.push("--cpu-shares", String(Math.max(Math.trunc(cpuSharesPerCpu * task.resources.cpus), minCpuShares)));
    args.push("--memory", String(Math.max(Math.trunc(task.resources.mem * 1024 * 1024), minMemoryBytes)));
    for (const [name, value] of Object.entries(task.command.environment)) args.push("-e", `${name}=${value}`);
    args.push("-e", `MESOS_SANDBOX=${mappedDirectory}`, "-e", `MESOS_CONTAINER_NAME=${where.containerName}`);
    for (const volume of task.container?.volumes ?? []) {
        args.push("-v", [volume.hostPath, volume.containerPath, volume.mode?.toLowerCase()].filter(Boolean).join(":"));
    }
    args.push("-v", `${where.sandboxDirectory}:${mappedDirectory}`);
    args.push("--net", String(docker.network ?? "HOST").toLowerCase());
    for (const parameter of docker.parameters ?? []) {
        args.push(`--${parameter.key}=${parameter.value}`);
    }
    if (task.command.shell) args.push("--entrypoint", "/bin/sh");
    args.push("--name", where.containerName, String(docker.image));
    if (task.command.shell) args.push("-c", String(task.command.value));
    else args.push(...(task.command.value === null ? [] : [task.command.value]), ...task.command.arguments);
    return { args: lastNetworkOnly(args), image: String(docker.image) };
}

/**
 * Docker 1.10's `--net` was one string flag, so the last one given won; Docker 20.10's CLI, the one here, refuses
 * a second network mode ("conflicting options"), so the earlier ones are dropped before it sees them. Only the
 * options before the image are looked at.
 */
function lastNetworkOnly(args: string[]) {
    const imageAt = args.indexOf("--name") + 2;
    const options = args.slice(0, imageAt);
    const networkAt: number[] = [];
    options.forEach((arg, index) => {
        if (arg === "--net" || arg === "--network") networkAt.push(index);
        else if (arg.startsWith("--net=") || arg.startsWith("--network=")) networkAt.push(index);
    });
    const drop = new Set(
        networkAt.slice(0, -1).flatMap((index) => (options[index].includes("=") ? [index] : [index, index + 1])),
    );
    return [...options.filter((_, index) => !drop.has(index)), ...args.slice(imageAt)];
}
