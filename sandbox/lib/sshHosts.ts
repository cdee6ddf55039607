// One real sshd per host namespace, with throwaway keys, whose ForceCommand (remote-shell) audits every command.
import * as fs from "node:fs";
import * as path from "node:path";
import { hostEtcOf, loginUidOf, writeHostAccounts } from "./hostAccounts";
import { Host, inHosts, NamedHost, paths, programs, resolvConfOf } from "./layout";
import { freshDirsAndResolverScript, hostEtcScript, hostViewScript, withProjectPath } from "./privateMounts";
import { run, Service, startService } from "./run";
import { isPortOpen } from "./wait";

/** A host's key, as the program's stack config pins it. */
export interface HostKey {
    /** "SHA256:..." */
    fingerprint: string;
    /** "ssh-ed25519 AAAA... <host name>" */
    publicKey: string;
}

const hostDir = (host: NamedHost) => path.join(paths.ssh, host.name);
/** The host's private key; its public key is beside it, with `.pub`. */
export const hostKeyPath = (host: NamedHost) => path.join(hostDir(host), "ssh_host_ed25519_key");
export const auditLogPath = (host: NamedHost) => path.join(paths.audit, `${host.name}.log`);
export const sshdName = (host: NamedHost) => `sshd-${host.name}`;

export const sshdOf = (host: Host): Service => ({
    label: `sshd ${host.name}`,
    name: sshdName(host),
    endpoint: `${host.address}:22`,
    answers: () => isPortOpen(host.address, 22),
});

/** A new ed25519 key pair at `keyPath` (and `keyPath`.pub). */
export async function generateKey(keyPath: string, comment: string): Promise<void> {
    await run(programs.sshKeygen, ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", keyPath]);
}

/** The fingerprint of the public key beside `keyPath`: "SHA256:...". */
export async function fingerprintOf(keyPath: string): Promise<string> {
    const [, fingerprint] = (await run(programs.sshKeygen, ["-lf", `${keyPath}.pub`])).split(" ");
    return fingerprint;
}

/**
 * Generates the client key pair and every host's key; resolves to each host's key fingerprint and public key
 * line ("ssh-ed25519 AAAA..."), by host name.
 */
export async function generateKeys(hosts: readonly Host[]): Promise<Record<string, HostKey>> {
    hosts.forEach((host) => fs.mkdirSync(hostDir(host), { recursive: true }));
    await Promise.all([
        generateKey(paths.clientKey, "calico-stars-sandbox").then(() =>
            fs.copyFileSync(`${paths.clientKey}.pub`, paths.authorizedKeys),
        ),
        ...hosts.map((host) => generateKey(hostKeyPath(host), host.name)),
    ]);
    const fingerprints = await Promise.all(hosts.map((host) => fingerprintOf(hostKeyPath(host))));
    return Object.fromEntries(
        hosts.map((host, index) => [
            host.name,
            {
                fingerprint: fingerprints[index],
                publicKey: fs.readFileSync(`${hostKeyPath(host)}.pub`, "utf8").trim(),
            },
        ]),
    );
}

/**
 * What the hosts have of their own before their sshd starts: users and sudo (lib/hostAccounts.ts), and the
 * calicoctl stand-in as /usr/bin/calicoctl, run by this machine's node whatever PATH sudo leaves.
 */
export function prepareHostFiles(hosts: readonly Host[]): void {
    writeHostAccounts(hosts);
    fs.mkdirSync(paths.usrBin, { recursive: true });
    const node = `'${programs.node.replace(/'/g, "'\\''")}'`;
    fs.writeFileSync(
        path.join(paths.usrBin, "calicoctl"),
        `#!/bin/sh\nexec ${node} ${inHosts(path.join(paths.sandbox, "bin", "calicoctl"))} "$@"\n`,
        { mode: 0o755 },
    );
}

function sshdConfig(host: Host) {
    return [
        `ListenAddress ${host.address}:22`,
        `HostKey ${hostKeyPath(host)}`,
        `PidFile ${path.join(paths.pids, `${sshdName(host)}.pid`)}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        // read with the user's own uid: where vagrant can reach it
        `AuthorizedKeysFile ${inHosts(paths.authorizedKeys)}`,
        "StrictModes no",
        "MaxSessions 10",
        "AllowTcpForwarding yes",
        "UsePAM no",
        "PrintMotd no",
        "PrintLastLog no",
        `ForceCommand ${inHosts(paths.remoteShell)} ${host.name}`,
        "",
    ].join("\n");
}

/**
 * Starts the host's sshd inside its namespace, with the host's name in its own UTS namespace. Its private
 * mount namespace gets empty tmpfs, as a host of its own would: /run (sshd needs /run/sshd), /var/log (wtmp of
 * pty sessions), /tmp and /var/tmp (what the program leaves on hosts), /root (e.g. ~/.docker; and this
 * machine's ~/.bashrc, which bash sources for every ssh command, would add a second per session and its own
 * environment), /home (vagrant's home). So nothing a session writes there outlives the sandbox. Its /etc/resolv.conf
 * is the host's own, naming the master (where Mesos-DNS answers) as the reference's agents are set up for Mesos-DNS;
 * its passwd, group, shadow, sudoers, sudoers.d and hosts are the host's own (lib/hostAccounts.ts); and
 * `hostViewScript` adds the sandbox's directory, /usr/bin/calicoctl and /var/run/docker.sock. The audit log
 * belongs to vagrant, whose sessions append to it as root's do.
 * @returns the sshd's pid
 */
export async function startSshd(host: Host): Promise<number> {
    const configPath = path.join(hostDir(host), "sshd_config");
    fs.writeFileSync(configPath, sshdConfig(host));
    // appended to, so that an sshd restarted by a fault test keeps the host's record
    fs.appendFileSync(auditLogPath(host), "");
    const uid = loginUidOf(host);
    fs.chownSync(auditLogPath(host), uid, uid);
    const script =
        freshDirsAndResolverScript(["/run", "/var/log", "/tmp", "/var/tmp", "/root", "/home"]) +
        ` && ${hostEtcScript(["passwd", "group", "shadow", "hosts", "sudoers", "sudoers.d"])} && ${hostViewScript(host)}` +
        ' && chmod 1777 /tmp /var/tmp && chmod 700 /root && mkdir /run/sshd && hostname "$1" && exec "$2" -D -e -f "$3"';
    return startService(
        sshdOf(host),
        [
            programs.ip,
            "netns",
            "exec",
            host.name,
            programs.unshare,
            "--uts",
            "--mount",
            "--propagation",
            "private",
            ...withProjectPath(["/bin/sh", "-c", script, "sh", host.name, programs.sshd, configPath], {
                SANDBOX_RESOLV: resolvConfOf(host),
                SANDBOX_ETC: hostEtcOf(host),
                SANDBOX_DIR: paths.sandbox,
            }),
        ],
        { timeoutMs: 5000 },
    );
}
