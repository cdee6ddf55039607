// Finding and stopping the sandbox's processes, by pid file and, after a crash, by what marks them as ours:
// a sandbox network namespace, a container cgroup under the sandbox's parent, or being one of the programs the
// sandbox runs with the state directory on its command line (the calico plugin lives in the root namespace).
import * as fs from "node:fs";
import * as path from "node:path";
import { cgroupParent, paths } from "./layout";
import { waitUntil } from "./wait";

const cgroupRoot = "/sys/fs/cgroup";
/** A user's shell or editor that merely names a sandbox file is never taken for the sandbox's. */
const serviceExecutables = new Set(["node", "sshd", "etcd", "dockerd", "containerd", "containerd-shim-runc-v2"]);

export function isAlive(pid: number) {
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    return !isZombie(pid);
}

function isZombie(pid: number) {
    return statFields(pid)[0] === "Z";
}

/** The fields of /proc/<pid>/stat from the state on ("pid (command) state ppid ...", the command may hold ") "). */
function statFields(pid: number): string[] {
    const stat = readProc(pid, "stat");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * The processes whose parent is not among them: stopping these first lets each stop its own children
 * (dockerd its containerd, which it would otherwise see die and try to restart).
 */
export function topLevelOf(pids: number[]) {
    const all = new Set(pids);
    return pids.filter((pid) => !all.has(Number(statFields(pid)[1])));
}

function signal(pid: number, name: NodeJS.Signals) {
    try {
        process.kill(pid, name);
    } catch {
        // already gone
    }
}

/**
 * Every live process that belongs to the sandbox.
 * @param namespaceNames the sandbox namespaces that exist now
 */
export function findSandboxProcesses(namespaceNames: string[]): number[] {
    const namespaceInodes = new Set(namespaceNames.map((name) => inodeOf(`/run/netns/${name}`)));
    return livePids().filter(
        (pid) =>
            isContainerProcess(pid) || namespaceInodes.has(inodeOf(`/proc/${pid}/ns/net`)) || isSandboxService(pid),
    );
}

function isSandboxService(pid: number) {
    let executable: string;
    try {
        executable = fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
        return false;
    }
    return serviceExecutables.has(path.basename(executable)) && readProc(pid, "cmdline").includes(paths.state);
}

/** @returns the processes in the sandbox's containers */
export function findContainerProcesses(): number[] {
    return livePids().filter(isContainerProcess);
}

function isContainerProcess(pid: number) {
    return readProc(pid, "cgroup").includes(`/${cgroupParent}/`);
}

function livePids() {
    return fs
        .readdirSync("/proc")
        .map(Number)
        .filter((pid) => Number.isInteger(pid) && pid !== process.pid && isAlive(pid));
}

function inodeOf(file: string) {
    try {
        return fs.statSync(file).ino;
    } catch {
        return -1;
    }
}

function readProc(pid: number, file: string) {
    try {
        return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
        return "";
    }
}

/** SIGTERM, then SIGKILL for whatever is still alive after `graceMs`; resolves once all are gone. */
export async function stopProcesses(pids: number[], graceMs: number) {
    pids.forEach((pid) => signal(pid, "SIGTERM"));
    if (!(await allExited(pids, graceMs))) {
        await killProcesses(pids.filter(isAlive));
    }
}

export async function killProcesses(pids: number[]) {
    pids.forEach((pid) => signal(pid, "SIGKILL"));
    await allExited(pids, 2000);
}

function allExited(pids: number[], timeoutMs: number): Promise<boolean> {
    return waitUntil(`processes ${pids.join(", ")} to exit`, async () => !pids.some(isAlive), {
        timeoutMs,
        pauseMs: 20,
    }).then(
        () => true,
        () => false,
    );
}

/** Docker leaves the (empty) cgroups of its containers' parent behind in every hierarchy. */
export function removeContainerCgroups() {
    for (const hierarchy of fs.existsSync(cgroupRoot) ? fs.readdirSync(cgroupRoot) : []) {
        const parent = path.join(cgroupRoot, hierarchy, cgroupParent);
        if (fs.existsSync(parent)) {
            removeCgroupTree(parent);
        }
    }
}

function removeCgroupTree(dir: string) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) {
            removeCgroupTree(path.join(dir, entry.name));
        }
    }
    fs.rmdirSync(dir);
}
