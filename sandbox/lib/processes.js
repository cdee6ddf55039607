// @ts-check
// Finding and stopping the sandbox's processes, by pid file and, after a crash, by what marks them as ours:
// a sandbox network namespace, a container cgroup under the sandbox's parent, or the state directory on the command line.
const fs = require("node:fs");
const path = require("node:path");
const { cgroupParent, paths } = require("./layout");
const { sleep } = require("./wait");

const cgroupRoot = "/sys/fs/cgroup";

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
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
    } catch {
        return true;
    }
}

/** @param {number} pid @param {NodeJS.Signals} signal */
function signal(pid, signal) {
    try {
        process.kill(pid, signal);
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
    const pids = [];
    for (const entry of fs.readdirSync("/proc")) {
        const pid = Number(entry);
        if (!Number.isInteger(pid) || pid === process.pid) {
            continue;
        }
        if (namespaceInodes.has(inodeOf(`/proc/${pid}/ns/net`)) || readProc(pid, "cgroup").includes(`/${cgroupParent}/`)
            || readProc(pid, "cmdline").includes(paths.state)) {
            pids.push(pid);
        }
    }
    return pids.filter(isAlive);
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
        pids.filter(isAlive).forEach((pid) => signal(pid, "SIGKILL"));
        await allExited(pids, 2000);
    }
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

module.exports = { isAlive, findSandboxProcesses, stopProcesses, removeContainerCgroups };
