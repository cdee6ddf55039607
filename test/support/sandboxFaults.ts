// Faults a test injects into the sandbox's own processes: a host's sshd stopped (with or without its open
// sessions) and started again, etcd stopped and started again. Marathon's faults are its own API
// (SandboxStack.marathonFaults).
import * as fs from "fs";
import { execFileSync } from "child_process";

const layout = require("../../sandbox/lib/layout.js");
const { startSshd, sshdName } = require("../../sandbox/lib/ssh-hosts.js");
const { startEtcd } = require("../../sandbox/lib/services.js");
const { readPid } = require("../../sandbox/lib/run.js");
const { killProcesses } = require("../../sandbox/lib/processes.js");

function sandboxHost(name: string): any {
    const host = layout.hosts.find((h: any) => h.name === name);
    if (!host) {
        throw new Error(`no sandbox host ${name}`);
    }
    return host;
}

function command(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
        return "";
    }
}

/** Stops a host's sshd; with `sessions`, also every session it serves, as if the host went away mid-command. */
export async function stopSshd(hostName: string, options: { sessions: boolean }): Promise<void> {
    const listener = readPid(sshdName(sandboxHost(hostName)));
    const inNamespace = execFileSync(layout.programs.ip, ["netns", "pids", hostName], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
    const sessions = options.sessions ? inNamespace.filter((pid) => command(pid).startsWith("sshd")) : [];
    await killProcesses([listener, ...sessions].filter((pid): pid is number => pid !== undefined));
}

export async function restartSshd(hostName: string): Promise<void> {
    await startSshd(sandboxHost(hostName));
}

export async function stopEtcd(): Promise<void> {
    await killProcesses([readPid("etcd")]);
}

/** etcd keeps its data directory, so the cluster's profiles survive the outage. */
export async function restartEtcd(): Promise<void> {
    await startEtcd();
}
