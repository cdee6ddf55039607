// What a sandbox `down` must leave behind: nothing. Found by name and by what marks a thing as the sandbox's, so
// that a test sees what a crash left too. Namespaced things (routes, iptables rules, ipsets, veths inside a host)
// go with their namespace, so the root namespace is checked for any that escaped it.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { bridge, cgroupParentFor, hosts, namespaces, paths } from "../../sandbox/lib/layout";

function readProc(pid: string, file: string): string {
    try {
        return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
        return "";
    }
}

export function isZombie(pid: string): boolean {
    const stat = readProc(pid, "stat");
    return stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

function commandOutput(file: string, args: string[]): string {
    try {
        return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
        return "";
    }
}

/** Calico's marks in the root namespace: workload veths, Felix's chains and ipsets, BIRD's routes. */
function calicoLeftovers(): string[] {
    const leftovers: string[] = [];
    leftovers.push(
        ...fs
            .readdirSync("/sys/class/net")
            .filter((link) => /^(cali|tmp)[0-9a-f]{11}$/.test(link))
            .map((link) => `link ${link}`),
    );
    for (const table of ["filter", "nat"]) {
        leftovers.push(
            ...commandOutput("/usr/sbin/iptables", ["-w", "-t", table, "-S"])
                .split("\n")
                .filter((line) => line.includes("felix-"))
                .map((line) => `iptables ${table} ${line}`),
        );
    }
    if (fs.existsSync("/usr/sbin/ipset")) {
        leftovers.push(
            ...commandOutput("/usr/sbin/ipset", ["list", "-n"])
                .split("\n")
                .filter((name) => name.startsWith("felix-"))
                .map((name) => `ipset ${name}`),
        );
    }
    leftovers.push(
        ...commandOutput("/usr/sbin/ip", ["-4", "route", "show", "proto", "12"])
            .split("\n")
            .filter(Boolean)
            .map((line) => `route ${line}`),
    );
    return leftovers;
}

/** Everything of the sandbox in `sandboxRoot` that should be gone after down. */
export function sandboxLeftovers(sandboxRoot = paths.sandbox): string[] {
    const state = path.join(sandboxRoot, ".state");
    const leftovers: string[] = [];
    const present = fs.existsSync("/run/netns") ? fs.readdirSync("/run/netns") : [];
    leftovers.push(...present.filter((name) => namespaces.includes(name)).map((name) => `namespace ${name}`));
    const links = [bridge.name, ...hosts.map((host) => host.hostVeth)];
    leftovers.push(
        ...fs
            .readdirSync("/sys/class/net")
            .filter((link) => links.includes(link))
            .map((link) => `link ${link}`),
    );
    for (const pid of fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)) {
        const cmdline = readProc(pid, "cmdline");
        if (
            (cmdline.includes(state) || readProc(pid, "cgroup").includes(`/${cgroupParentFor(state)}/`)) &&
            !isZombie(pid)
        ) {
            leftovers.push(`process ${pid}: ${cmdline.replace(/\0/g, " ")}`);
        }
    }
    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n");
    leftovers.push(
        ...mounts
            .filter((line) => line.includes(sandboxRoot) || line.includes("/run/netns/cs-"))
            .map((line) => `mount ${line}`),
    );
    const cgroups = fs
        .readdirSync("/sys/fs/cgroup")
        .map((hierarchy) => path.join("/sys/fs/cgroup", hierarchy, cgroupParentFor(state)));
    leftovers.push(...cgroups.filter((dir) => fs.existsSync(dir)).map((dir) => `cgroup ${dir}`));
    leftovers.push(...calicoLeftovers());
    if (fs.existsSync(state)) {
        leftovers.push(state);
    }
    return leftovers;
}
