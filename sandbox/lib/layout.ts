// Every name, address and path of the sandbox cluster, in one place.
import * as crypto from "node:crypto";
import * as path from "node:path";

/** This module runs as source (sandbox/lib, in the tests) or compiled (sandbox/dist/lib); the sandbox is above both. */
const sandboxDir = path.resolve(__dirname, path.basename(path.dirname(__dirname)) === "dist" ? "../.." : "..");
/** Where the daemons run from: sandbox/tsconfig.json's outDir. */
const distDir = path.join(sandboxDir, "dist");
const projectDir = path.dirname(sandboxDir);
const stateDir = path.join(sandboxDir, ".state");

export const bridge = { name: "csbr0", cidr: "10.197.0.1/24" };
export const publicInterface = "eth1";
/** The management-ui task's fixed address (stars.json's `ip` parameter). */
export const collectorAddress = "192.168.255.254";

export interface Host {
    /** The host's name, which is also its network namespace's. */
    name: string;
    role: "master" | "agent";
    /** Its address on eth1, the bridge's segment. */
    address: string;
    /** The root namespace's end of its veth to the bridge. */
    hostVeth: string;
}

/** Anything that names a host: a `Host`, or a host of cluster.json. */
export type NamedHost = Pick<Host, "name">;

/** The reference cluster's three hosts, each a network namespace with its own sshd. */
export const hosts: readonly Host[] = [
    { name: "cs-master", role: "master", address: "10.197.0.11", hostVeth: "csv-master" },
    { name: "cs-agent1", role: "agent", address: "10.197.0.12", hostVeth: "csv-agent1" },
    { name: "cs-agent2", role: "agent", address: "10.197.0.13", hostVeth: "csv-agent2" },
];

export const master = hosts[0];
export const agents = hosts.slice(1);
export const namespaces = hosts.map((host) => host.name);

/**
 * Containers' cgroups go under this parent so that down can find and remove them. Cgroups are machine-wide,
 * so the name carries the checkout: one checkout's down never touches another checkout's containers.
 * @param state the checkout's sandbox/.state
 */
export function cgroupParentFor(state: string) {
    return `cs-sandbox-${crypto.createHash("sha256").update(state).digest("hex").slice(0, 8)}`;
}

export const cgroupParent = cgroupParentFor(stateDir);

export const etcdAuthority = `${master.address}:2379`;
export const etcdUrl = `http://${etcdAuthority}`;
export const marathonPort = 8080;
export const marathonUrl = `http://${master.address}:${marathonPort}`;
export const image = "djosborne/star:v0.5.0";
/**
 * net.ipv4.tcp_syn_retries in every container the agents start (mesos/synRetries.ts): 2, so a connect to a dropped
 * address fails after 7 s rather than Linux's default 127 s, longer than star's 5 s interval as the default is.
 */
export const containerSynRetries = 2;
/** A Mesos agent's default port (mesos-slave --port). */
export const mesosAgentPort = 5051;
/** Mesos-DNS on the master: DNS on port 53, its HTTP API on 8123, the domain `mesos` (v0.5.0's defaults). */
export const mesosDns = {
    address: master.address,
    port: 53,
    httpPort: 8123,
    domain: "mesos",
    url: `http://${master.address}:8123`,
};

export const paths = {
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
    pluginScript: path.join(distDir, "libnetworkPlugin.js"),
    calicoNodeScript: path.join(distDir, "calicoNode.js"),
    marathonScript: path.join(distDir, "marathon.js"),
    mesosAgentScript: path.join(distDir, "mesosAgent.js"),
    mesosDnsScript: path.join(distDir, "mesosDns.js"),
    mesos: path.join(stateDir, "mesos"),
    starScripts: path.join(sandboxDir, "lib", "starImage"),
    pulumiConfig: path.join(projectDir, "Pulumi.sandbox.yaml"),
};

/**
 * Where each host's sessions see the sandbox directory: bound there in the host's mount namespace, so that an
 * unprivileged user reaches it whatever the checkout's path and its parents' permissions (lib/privateMounts.ts).
 */
export const hostSandboxDir = "/run/calico-stars-sandbox";

/** A path under the sandbox directory as the hosts' sessions see it. */
export function inHosts(machinePath: string) {
    return path.join(hostSandboxDir, path.relative(sandboxDir, machinePath));
}

/** Each host's dockerd: its data and exec roots and its socket. */
export function dockerDirOf(host: NamedHost) {
    return path.join(paths.docker, host.name);
}

/** The unix socket of the host's own dockerd (its sessions' /var/run/docker.sock). */
export function dockerSocketOf(host: NamedHost) {
    return path.join(dockerDirOf(host), "docker.sock");
}

/** The host's calico-libnetwork socket, linked into its dockerd's private /run/docker/plugins. */
export function pluginSocketOf(host: NamedHost) {
    return path.join(paths.state, "plugins", host.name, "calico.sock");
}

/** The host's /etc/resolv.conf, bound over the machine's in its sshd's and dockerd's mount namespaces. */
export function resolvConfOf(host: NamedHost) {
    return path.join(paths.hosts, host.name, "resolv.conf");
}

/** The agent's id as the Mesos master would give it (`<master id>-S<n>`). */
export function mesosAgentIdOf(host: NamedHost) {
    return `20160101-000000-184600330-5050-1-S${agents.findIndex((agent) => agent.name === host.name)}`;
}

export function mesosAgentUrlOf(host: Pick<Host, "address">) {
    return `http://${host.address}:${mesosAgentPort}`;
}

/** The agent's --work_dir, where its tasks' sandboxes are: on the shared filesystem, so its dockerd can bind them. */
export function mesosWorkDirOf(host: NamedHost) {
    return path.join(paths.mesos, host.name);
}

export const programs = {
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
    sysctl: "/usr/sbin/sysctl",
    env: "/usr/bin/env",
    tar: "/usr/bin/tar",
    node: process.execPath,
};
