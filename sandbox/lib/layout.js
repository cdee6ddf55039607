// @ts-check
// Every name, address and path of the sandbox cluster, in one place.
const crypto = require("node:crypto");
const path = require("node:path");

const sandboxDir = path.resolve(__dirname, "..");
const projectDir = path.dirname(sandboxDir);
const stateDir = path.join(sandboxDir, ".state");

const bridge = { name: "csbr0", cidr: "10.197.0.1/24" };
const publicInterface = "eth1";
/** The management-ui task's fixed address (stars.json's `ip` parameter). */
const collectorAddress = "192.168.255.254";

/** The reference cluster's three hosts, each a network namespace with its own sshd. */
const hosts = [
    { name: "cs-master", role: "master", address: "10.197.0.11", hostVeth: "csv-master" },
    { name: "cs-agent1", role: "agent", address: "10.197.0.12", hostVeth: "csv-agent1" },
    { name: "cs-agent2", role: "agent", address: "10.197.0.13", hostVeth: "csv-agent2" },
];
const master = hosts[0];
const agents = hosts.slice(1);
const namespaces = hosts.map((host) => host.name);

/**
 * Containers' cgroups go under this parent so that down can find and remove them. Cgroups are machine-wide,
 * so the name carries the checkout: one checkout's down never touches another checkout's containers.
 * @param {string} state the checkout's sandbox/.state
 */
function cgroupParentFor(state) {
    return `cs-sandbox-${crypto.createHash("sha256").update(state).digest("hex").slice(0, 8)}`;
}
const cgroupParent = cgroupParentFor(stateDir);

const etcdAuthority = `${master.address}:2379`;
const etcdUrl = `http://${etcdAuthority}`;
const marathonPort = 8080;
const marathonUrl = `http://${master.address}:${marathonPort}`;
const image = "djosborne/star:v0.5.0";
/** A Mesos agent's default port (mesos-slave --port). */
const mesosAgentPort = 5051;
/** Mesos-DNS on the master: DNS on port 53, its HTTP API on 8123, the domain `mesos` (v0.5.0's defaults). */
const mesosDns = { address: master.address, port: 53, httpPort: 8123, domain: "mesos" };

const paths = {
    project: projectDir,
    sandbox: sandboxDir,
    state: stateDir,
    clusterFile: path.join(stateDir, "cluster.json"),
    hostFacts: path.join(stateDir, "host-facts.json"),
    pids: path.join(stateDir, "pids"),
    logs: path.join(stateDir, "logs"),
    audit: path.join(stateDir, "audit"),
    ssh: path.join(stateDir, "ssh"),
    clientKey: path.join(stateDir, "ssh", "id_ed25519"),
    authorizedKeys: path.join(stateDir, "ssh", "authorized_keys"),
    etcdData: path.join(stateDir, "etcd"),
    docker: path.join(stateDir, "docker"),
    hosts: path.join(stateDir, "hosts"),
    marathonState: path.join(stateDir, "marathon", "state.json"),
    imageDir: path.join(stateDir, "image"),
    /** What each host's /usr/bin shows on top of the machine's: the calicoctl stand-in. */
    usrBin: path.join(stateDir, "usr-bin"),
    remoteShell: path.join(sandboxDir, "bin", "remote-shell"),
    pluginScript: path.join(sandboxDir, "libnetworkPlugin.js"),
    calicoNodeScript: path.join(sandboxDir, "calicoNode.js"),
    marathonScript: path.join(sandboxDir, "marathon.js"),
    mesosAgentScript: path.join(sandboxDir, "mesosAgent.js"),
    mesosDnsScript: path.join(sandboxDir, "mesosDns.js"),
    mesos: path.join(stateDir, "mesos"),
    starScripts: path.join(__dirname, "starImage"),
    pulumiConfig: path.join(projectDir, "Pulumi.sandbox.yaml"),
};

/**
 * Where each host's sessions see the sandbox directory: bound there in the host's mount namespace, so that an
 * unprivileged user reaches it whatever the checkout's path and its parents' permissions (lib/privateMounts.js).
 */
const hostSandboxDir = "/run/calico-stars-sandbox";

/** A path under the sandbox directory as the hosts' sessions see it. @param {string} machinePath */
function inHosts(machinePath) {
    return path.join(hostSandboxDir, path.relative(sandboxDir, machinePath));
}

/** @typedef {{ name: string }} NamedHost */

/** Each host's dockerd: its data and exec roots and its socket. @param {NamedHost} host */
function dockerDirOf(host) {
    return path.join(paths.docker, host.name);
}

/** The unix socket of the host's own dockerd (its sessions' /var/run/docker.sock). @param {NamedHost} host */
function dockerSocketOf(host) {
    return path.join(dockerDirOf(host), "docker.sock");
}

/** The host's calico-libnetwork socket, linked into its dockerd's private /run/docker/plugins. @param {NamedHost} host */
function pluginSocketOf(host) {
    return path.join(paths.state, "plugins", host.name, "calico.sock");
}

/** The host's /etc/resolv.conf, bound over the machine's in its sshd's and dockerd's mount namespaces. @param {NamedHost} host */
function resolvConfOf(host) {
    return path.join(paths.hosts, host.name, "resolv.conf");
}

/** The agent's id as the Mesos master would give it (`<master id>-S<n>`). @param {NamedHost} host */
function mesosAgentIdOf(host) {
    return `20160101-000000-184600330-5050-1-S${agents.findIndex((agent) => agent.name === host.name)}`;
}

/** @param {{ address: string }} host */
function mesosAgentUrlOf(host) {
    return `http://${host.address}:${mesosAgentPort}`;
}

/** The agent's --work_dir, where its tasks' sandboxes are: on the shared filesystem, so its dockerd can bind them. @param {NamedHost} host */
function mesosWorkDirOf(host) {
    return path.join(paths.mesos, host.name);
}

const programs = {
    ip: "/usr/sbin/ip",
    sshd: "/usr/sbin/sshd",
    sshKeygen: "/usr/bin/ssh-keygen",
    etcd: "/usr/bin/etcd",
    dockerd: "/usr/sbin/dockerd",
    docker: "/usr/bin/docker",
    busybox: "/bin/busybox",
    iptablesRestore: "/usr/sbin/iptables-restore",
    iptablesSave: "/usr/sbin/iptables-save",
    ipset: "/usr/sbin/ipset",
    unshare: "/usr/bin/unshare",
    sudo: "/usr/bin/sudo",
    nsenter: "/usr/bin/nsenter",
    env: "/usr/bin/env",
    tar: "/usr/bin/tar",
    node: process.execPath,
};

module.exports = {
    bridge, publicInterface, collectorAddress, hosts, master, agents, namespaces, cgroupParent, cgroupParentFor, etcdAuthority, etcdUrl,
    marathonPort, marathonUrl, image, paths, hostSandboxDir, inHosts, programs, dockerDirOf, dockerSocketOf, pluginSocketOf, resolvConfOf,
    mesosAgentPort, mesosDns, mesosAgentIdOf, mesosAgentUrlOf, mesosWorkDirOf,
};
