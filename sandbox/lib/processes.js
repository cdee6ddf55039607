// @ts-check
// Finding and stopping the sandbox's processes, by pid file and, after a crash, by what marks them as ours:
// a sandbox network namespace, a container cgroup under the sandbox's parent, or being one of the programs the
// sandbox runs with the state directory on its command line (the calico plugin lives in the root namespace).
const fs = require("node:fs");
const path = require("node:path");
const { cgroupParent, paths } = require("./layout");
const { sleep } = require("./wait");

const cgroupRoot = "/sys/fs/cgroup";
/** A user's shell or editor that merely names a sandbox file is never taken for the sandbox's. */
const serviceExecutables = new Set(["node", "sshd", "etcd", "dockerd", "containerd", "containerd-shim-runc-v2"]);

/** @param {number} pid */
function isAlive(pid) {
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    return !isZombie(pid);
}

/** @param {number} pid */
function isZombie(pid) {
    return statFields(pid)[0] === "Z";
}

/**
 * @param {number} pid
 * @returns {string[]} /proc/<pid>/stat from the state on ("pid (command) state ppid ...", the command may hold ") ")
 */
function statFields(pid) {
    const stat = readProc(pid, "stat");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * The processes whose parent is not among them: stopping these first lets each stop its own children
 * (dockerd its containerd, which it would otherwise see die and try to restart).
 * @param {number[]} pids
 */
function topLevelOf(pids) {
    const all = new Set(pids);
    return pids.filter((pid) => !all.has(Number(statFields(pid)[1])));
}

/** @param {number} pid @param {NodeJS.Signals} name */
function signal(pid, name) {
    try {
        process.kill(pid, name);
    } catch {
        // already gone
    }
}

/**
 * Every live process that belongs to the sandbox.
 * @param {string[]} namespaceNames the sandbox namespaces that exist now
 * @returns {number[]}
 */
function findSandboxProcesses(namespaceNames) {
    const namespaceInodes = new Set(namespaceNames.map((name) => inodeOf(`/run/netns/${name}`)));
    return livePids().filter((pid) => isContainerProcess(pid) || namespaceInodes.has(inodeOf(`/proc/${pid}/ns/net`))
        || isSandboxService(pid));
}

/** @param {number} pid */
function isSandboxService(pid) {
    let executable = "";
    try {
        executable = fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
        return false;
    }
    return serviceExecutables.has(path.basename(executable)) && readProc(pid, "cmdline").includes(paths.state);
}

/** @returns {number[]} the processes in the sandbox's containers */
function findContainerProcesses() {
    return livePids().filter(isContainerProcess);
}

/** @param {number} pid */
function isContainerProcess(pid) {
    return readProc(pid, "cgroup").includes(`/${cgroupParent}/`);
}

function livePids() {
    return fs.readdirSync("/proc").map(Number).filter((pid) => Number.isInteger(pid) && pid !== process.pid && isAlive(pid));
}

/** @param {string} file */
function inodeOf(file) {
    try {
        return fs.statSync(file).ino;
    } catch {
        return -1;
    }
}

/** @param {number} pid @param {string} file */
function readProc(pid, file) {
    try {
        return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
        return "";
    }
}

/**
 * SIGTERM, then SIGKILL for whatever is still alive after `graceMs`; resolves once all are gone.
 * @param {number[]} pids
 * @param {number} graceMs
 */
async function stopProcesses(pids, graceMs) {
    pids.forEach((pid) => signal(pid, "SIGTERM"));
    if (!(await allExited(pids, graceMs))) {
        await killProcesses(pids.filter(isAlive));
    }
}

/** @param {number[]} pids */
async function killProcesses(pids) {
    pids.forEach((pid) => signal(pid, "SIGKILL"));
    await allExited(pids, 2000);
}

/** @param {number[]} pids @param {number} timeoutMs */
async function allExited(pids, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (pids.some(isAlive)) {
        if (Date.now() > deadline) {
            return false;
        }
        await sleep(20);
    }
    return true;
}

/** Docker leaves the (empty) cgroups of its containers' parent behind in every hierarchy. */
function removeContainerCgroups() {
    for (const hierarchy of fs.existsSync(cgroupRoot) ? fs.readdirSync(cgroupRoot) : []) {
        const parent = path.join(cgroupRoot, hierarchy, cgroupParent);
        if (fs.existsSync(parent)) {
            removeCgroupTree(parent);
        }
    }
}

/** @param {string} dir */
function removeCgroupTree(dir) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) {
            removeCgroupTree(path.join(dir, entry.name));
        }
    }
    fs.rmdirSync(dir);
}

module.exports = { isAlive, findSandboxProcesses, findContainerProcesses, topLevelOf, stopProcesses, killProcesses, removeContainerCgroups };
