// @ts-check
// One real sshd per host namespace, with throwaway keys, whose ForceCommand (remote-shell) audits every command.
const fs = require("node:fs");
const path = require("node:path");
const { paths, programs, resolvConfOf, inHosts } = require("./layout");
const { hostEtcOf, loginUidOf, writeHostAccounts } = require("./hostAccounts");
const { freshDirsAndResolverScript, hostEtcScript, hostViewScript, withProjectPath } = require("./privateMounts");
const { run, startDetached } = require("./run");
const { isPortOpen, waitUntil } = require("./wait");

/** @typedef {typeof import("./layout").hosts[number]} Host */

/** @param {Host} host */
const hostDir = (host) => path.join(paths.ssh, host.name);
/** @param {Host} host */
const hostKeyPath = (host) => path.join(hostDir(host), "ssh_host_ed25519_key");
/** @param {Host} host */
const auditLogPath = (host) => path.join(paths.audit, `${host.name}.log`);
/** @param {Host} host */
const sshdName = (host) => `sshd-${host.name}`;

/** @param {string} keyPath @param {string} comment */
function generateKey(keyPath, comment) {
    return run(programs.sshKeygen, ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", keyPath]);
}

/** @param {string} keyPath @returns {Promise<string>} "SHA256:..." */
async function fingerprintOf(keyPath) {
    const [, fingerprint] = (await run(programs.sshKeygen, ["-lf", `${keyPath}.pub`])).split(" ");
    return fingerprint;
}

/**
 * Generates the client key pair and every host's key; resolves to each host's key fingerprint and public key
 * line ("ssh-ed25519 AAAA..."), by host name.
 * @param {Host[]} hosts
 * @returns {Promise<Record<string, { fingerprint: string, publicKey: string }>>}
 */
async function generateKeys(hosts) {
    hosts.forEach((host) => fs.mkdirSync(hostDir(host), { recursive: true }));
    await Promise.all([
        generateKey(paths.clientKey, "calico-stars-sandbox").then(() => fs.copyFileSync(`${paths.clientKey}.pub`, paths.authorizedKeys)),
        ...hosts.map((host) => generateKey(hostKeyPath(host), host.name)),
    ]);
    const fingerprints = await Promise.all(hosts.map((host) => fingerprintOf(hostKeyPath(host))));
    return Object.fromEntries(hosts.map((host, index) => [host.name, {
        fingerprint: fingerprints[index],
        publicKey: fs.readFileSync(`${hostKeyPath(host)}.pub`, "utf8").trim(),
    }]));
}

/**
 * What the hosts have of their own before their sshd starts: users and sudo (lib/hostAccounts.js), and the
 * calicoctl stand-in as /usr/bin/calicoctl, run by this machine's node whatever PATH sudo leaves.
 * @param {Host[]} hosts
 */
function prepareHostFiles(hosts) {
    writeHostAccounts(hosts);
    fs.mkdirSync(paths.usrBin, { recursive: true });
    const node = `'${programs.node.replace(/'/g, "'\\''")}'`;
    fs.writeFileSync(path.join(paths.usrBin, "calicoctl"), `#!/bin/sh\nexec ${node} ${inHosts(path.join(paths.sandbox, "bin", "calicoctl"))} "$@"\n`, { mode: 0o755 });
}

/** @param {Host} host */
function sshdConfig(host) {
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
 * its passwd, group, shadow, sudoers, sudoers.d and hosts are the host's own (lib/hostAccounts.js); and
 * `hostViewScript` adds the sandbox's directory, /usr/bin/calicoctl and /var/run/docker.sock. The audit log
 * belongs to vagrant, whose sessions append to it as root's do.
 * @param {Host} host
 * @returns {Promise<number>} the sshd's pid
 */
async function startSshd(host) {
    const configPath = path.join(hostDir(host), "sshd_config");
    fs.writeFileSync(configPath, sshdConfig(host));
    // appended to, so that an sshd restarted by a fault test keeps the host's record
    fs.appendFileSync(auditLogPath(host), "");
    const uid = loginUidOf(host);
    fs.chownSync(auditLogPath(host), uid, uid);
    const script = freshDirsAndResolverScript(["/run", "/var/log", "/tmp", "/var/tmp", "/root", "/home"])
        + ` && ${hostEtcScript(["passwd", "group", "shadow", "hosts", "sudoers", "sudoers.d"])} && ${hostViewScript(host)}`
        + ' && chmod 1777 /tmp /var/tmp && chmod 700 /root && mkdir /run/sshd && hostname "$1" && exec "$2" -D -e -f "$3"';
    const sshd = startDetached(sshdName(host), [
        programs.ip, "netns", "exec", host.name, programs.unshare, "--uts", "--mount", "--propagation", "private",
        ...withProjectPath(["/bin/sh", "-c", script, "sh", host.name, programs.sshd, configPath],
            { SANDBOX_RESOLV: resolvConfOf(host), SANDBOX_ETC: hostEtcOf(host), SANDBOX_DIR: paths.sandbox }),
    ]);
    await waitUntil(`sshd on ${host.name} (${host.address}:22)`, () => isPortOpen(host.address, 22), { timeoutMs: 5000, process: sshd });
    return sshd.pid;
}

module.exports = { prepareHostFiles, generateKeys, startSshd, sshdName, auditLogPath };
