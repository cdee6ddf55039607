// The cluster's services: etcd and the Marathon stand-in on the master; on every host calico-node, calico-libnetwork
// and a dockerd.
import * as fs from "node:fs";
import * as path from "node:path";
import { hostEtcOf } from "./hostAccounts";
import {
    agents,
    cgroupParent,
    dockerDirOf,
    dockerSocketOf,
    etcdAuthority,
    etcdUrl,
    master,
    marathonPort,
    marathonUrl,
    mesosAgentUrlOf,
    NamedHost,
    paths,
    pluginSocketOf,
    programs,
    resolvConfOf,
} from "./layout";
import { freshDirsAndResolverScript, hostEtcScript, withProjectPath } from "./privateMounts";
import { logFileOf, Service, startService } from "./run";
import { httpGet, isPortOpen, isSocketAccepting } from "./wait";

/** Deployments last as long as their tasks take to run; SANDBOX_DEPLOY_DELAY_MS makes them last at least that. */
const defaultDeployDelayMs = "0";

export const etcdService: Service = {
    label: "etcd",
    name: "etcd",
    endpoint: etcdUrl,
    answers: async () => (await httpGet(`${etcdUrl}/health`))?.status === 200,
};

export const marathonService: Service = {
    label: "marathon",
    name: "marathon",
    endpoint: marathonUrl,
    answers: () => isPortOpen(master.address, marathonPort),
};

export const pluginOf = (host: NamedHost): Service => ({
    label: `calico plugin ${host.name}`,
    name: `plugin-${host.name}`,
    endpoint: pluginSocketOf(host),
    answers: () => isSocketAccepting(pluginSocketOf(host)),
});

/** calico-node writes this file once it has converged the first time. */
const readyFileOf = (host: NamedHost) => path.join(paths.hosts, host.name, "calico-node.ready");

export const calicoNodeOf = (host: NamedHost): Service => ({
    label: `calico-node ${host.name}`,
    name: `calico-node-${host.name}`,
    endpoint: "Felix and BIRD stand-ins",
    answers: async () => fs.existsSync(readyFileOf(host)),
});

export const dockerdOf = (host: NamedHost): Service => ({
    label: `dockerd ${host.name}`,
    name: `dockerd-${host.name}`,
    endpoint: dockerSocketOf(host),
    answers: async () => (await httpGet("http://docker/_ping", dockerSocketOf(host)))?.status === 200,
});

/** @returns pid */
export function startEtcd(): Promise<number> {
    return startService(
        etcdService,
        [
            programs.ip,
            "netns",
            "exec",
            master.name,
            programs.etcd,
            "--name",
            master.name,
            "--data-dir",
            paths.etcdData,
            "--listen-client-urls",
            `${etcdUrl},http://127.0.0.1:2379`,
            "--advertise-client-urls",
            etcdUrl,
            "--listen-peer-urls",
            "http://127.0.0.1:2380",
            "--initial-advertise-peer-urls",
            "http://127.0.0.1:2380",
            "--initial-cluster",
            `${master.name}=http://127.0.0.1:2380`,
            "--enable-v2=true",
            "--heartbeat-interval=10",
            "--election-timeout=100",
        ],
        { timeoutMs: 10000 },
    );
}

/** @returns pid */
export function startMarathon(): Promise<number> {
    fs.mkdirSync(path.dirname(paths.marathonState), { recursive: true });
    return startService(
        marathonService,
        [
            programs.ip,
            "netns",
            "exec",
            master.name,
            programs.node,
            paths.marathonScript,
            "--listen",
            `0.0.0.0:${marathonPort}`,
            ...agents.flatMap((agent) => ["--agent", mesosAgentUrlOf(agent)]),
            "--deploy-delay-ms",
            process.env.SANDBOX_DEPLOY_DELAY_MS ?? defaultDeployDelayMs,
            "--state-file",
            paths.marathonState,
            "--log-file",
            logFileOf(marathonService.name),
        ],
        { timeoutMs: 5000, ownLog: true },
    );
}

/**
 * calico-libnetwork for one host, in the host's namespace (the reference runs it with --net=host and HOSTNAME set):
 * its veths are the host's, its endpoints carry the host's name, and dockerd reaches its socket through the
 * filesystem.
 * @returns pid
 */
export function startPlugin(host: NamedHost): Promise<number> {
    const plugin = pluginOf(host);
    fs.mkdirSync(path.dirname(pluginSocketOf(host)), { recursive: true });
    return startService(
        plugin,
        [
            programs.ip,
            "netns",
            "exec",
            host.name,
            programs.node,
            paths.pluginScript,
            "--socket",
            pluginSocketOf(host),
            "--etcd",
            etcdUrl,
            "--hostname",
            host.name,
            "--log-file",
            logFileOf(plugin.name),
        ],
        { timeoutMs: 5000, ownLog: true },
    );
}

/**
 * calico-node for one host (Felix and BIRD stand-ins, after calico-node's startup records), in the host's namespace.
 * @returns pid
 */
export function startCalicoNode(host: NamedHost & { address: string }): Promise<number> {
    return startService(
        calicoNodeOf(host),
        [
            programs.ip,
            "netns",
            "exec",
            host.name,
            programs.node,
            paths.calicoNodeScript,
            "--hostname",
            host.name,
            "--ip",
            host.address,
            "--etcd",
            etcdUrl,
            "--ready-file",
            readyFileOf(host),
        ],
        { timeoutMs: 5000 },
    );
}

/**
 * The host's own dockerd, in the host's network namespace, sharing networks with the others through etcd (Docker's
 * cluster store, as the reference's `--cluster-store=etcd://...`). Its private mount namespace gets a fresh /run
 * (where Docker looks for plugin sockets, and where containerd puts its shims' sockets) holding a link to the
 * host's calico plugin socket, a fresh /etc/docker (no daemon.json of the machine's, key.json stays in there), a
 * fresh /tmp (containerd dumps its stacks there when dockerd gives up on it), the host's resolv.conf, which
 * Docker hands on to containers (through its embedded DNS server on user-defined networks), and the host's users
 * and groups, so that its socket belongs to the hosts' docker group (root:docker, 0660, as docker-engine's
 * docker.socket has it). Its hostname is the host's, as `docker info` shows it on a real host.
 * @returns pid
 */
export function startDockerd(host: NamedHost): Promise<number> {
    const dockerDir = dockerDirOf(host);
    fs.mkdirSync(dockerDir, { recursive: true });
    const script =
        freshDirsAndResolverScript(["/run", "/etc/docker", "/tmp"]) +
        ` && ${hostEtcScript(["passwd", "group"])}` +
        ' && chmod 1777 /tmp && mkdir -p /run/docker/plugins && ln -s "$1" /run/docker/plugins/calico.sock && hostname "$2" && shift 2 && exec "$@"';
    return startService(
        dockerdOf(host),
        [
            programs.nsenter,
            `--net=/run/netns/${host.name}`,
            programs.unshare,
            "--mount",
            "--uts",
            "--propagation",
            "private",
            ...withProjectPath(["/bin/sh", "-c", script, "sh", pluginSocketOf(host), host.name, programs.dockerd], {
                SANDBOX_RESOLV: resolvConfOf(host),
                SANDBOX_ETC: hostEtcOf(host),
            }),
            "--storage-driver=vfs",
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
            `--cluster-store=etcd://${etcdAuthority}`,
            `--data-root=${path.join(dockerDir, "data")}`,
            `--exec-root=${path.join(dockerDir, "run")}`,
            `--pidfile=${path.join(dockerDir, "dockerd.pid")}`,
            `--cgroup-parent=/${cgroupParent}`,
            "--shutdown-timeout=2",
            "-H",
            `unix://${dockerSocketOf(host)}`,
        ],
        { timeoutMs: 15000 },
    );
}
