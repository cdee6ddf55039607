// Faults a test injects into the sandbox's own processes: a host's sshd stopped (with or without its open sessions) and
// started again, etcd stopped and started again, the keys root and vagrant may log in with replaced, a host given a new
// host key. Marathon's faults are its own API (SandboxStack.marathonFaults).
import { execFileSync } from "child_process";
import * as fs from "fs";
import { Host, hosts, paths, programs } from "../../sandbox/lib/layout";
import { killProcesses } from "../../sandbox/lib/processes";
import { readPid } from "../../sandbox/lib/run";
import { startEtcd } from "../../sandbox/lib/services";
import { fingerprintOf, generateKey, hostKeyPath, sshdName, startSshd } from "../../sandbox/lib/sshHosts";

function sandboxHost(name: string): Host {
    const host = hosts.find((h) => h.name === name);
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
    const inNamespace = execFileSync(programs.ip, ["netns", "pids", hostName], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean)
        .map(Number);
    const sessions = options.sessions ? inNamespace.filter((pid) => command(pid).startsWith("sshd")) : [];
    await killProcesses([listener, ...sessions].filter((pid): pid is number => pid !== undefined));
}

export async function restartSshd(hostName: string): Promise<void> {
    await startSshd(sandboxHost(hostName));
}

export async function stopEtcd(): Promise<void> {
    await killProcesses([readPid("etcd")].filter((pid): pid is number => pid !== undefined));
}

/** etcd keeps its data directory, so the cluster's profiles survive the outage. */
export async function restartEtcd(): Promise<void> {
    await startEtcd();
}

/**
 * The public keys root and vagrant may log in with on every host (one authorized_keys file, sshd reads it at each
 * login).
 */
export function authorizedKeys(): string {
    return fs.readFileSync(paths.authorizedKeys, "utf8");
}

export function setAuthorizedKeys(text: string): void {
    fs.writeFileSync(paths.authorizedKeys, text);
}

/**
 * Gives a host a new ed25519 host key, as a reinstalled host would have, and restarts its sshd. Resolves to the new
 * public key line and fingerprint, and a function that puts the old key back (and restarts sshd again).
 */
export async function rekeyHost(
    hostName: string,
): Promise<{ publicKey: string; fingerprint: string; restore(): Promise<void> }> {
    const keyPath = hostKeyPath(sandboxHost(hostName));
    const saved = [fs.readFileSync(keyPath), fs.readFileSync(`${keyPath}.pub`)];
    const restart = async () => {
        await stopSshd(hostName, { sessions: true });
        await restartSshd(hostName);
    };
    fs.rmSync(keyPath);
    fs.rmSync(`${keyPath}.pub`);
    await generateKey(keyPath, `${hostName}-rekeyed`);
    await restart();
    const publicKey = fs.readFileSync(`${keyPath}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
    const fingerprint = await fingerprintOf(keyPath);
    return {
        publicKey,
        fingerprint,
        restore: async () => {
            fs.writeFileSync(keyPath, saved[0], { mode: 0o600 });
            fs.writeFileSync(`${keyPath}.pub`, saved[1]);
            await restart();
        },
    };
}
