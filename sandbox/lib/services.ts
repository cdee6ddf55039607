// The cluster's services: etcd and the Marathon stand-in on the master; on every host calico-node, calico-libnetwork
// and a dockerd.
import * as fs from "node:fs";
import * as path from "node:path";
import { master, agents, cgroupParent, etcdUrl, marathonPort, paths, programs, dockerDirOf, dockerSocketOf, pluginSocketOf, resolvConfOf, mesosAgentUrlOf } from "./layout";
import { hostEtcOf } from "./hostAccounts";
import { freshDirsAndResolverScript, hostEtcScript, withProjectPath } from "./privateMounts";
import { startDetached } from "./run";
import { httpGet, isPortOpen, isSocketAccepting, waitUntil } from "./wait";
import type { Host } from "./layout";

/** Deployments last as long as their tasks take to run; SANDBOX_DEPLOY_DELAY_MS makes them last at least that. */
const defaultDeployDelayMs = "0";

/** @returns pid */
export async function startEtcd(): Promise<number> {
    const etcd = startDetached("etcd", [
        programs.ip, "netns", "exec", master.name, programs.etcd,
        "--name", master.name,
        "--data-dir", paths.etcdData,
        "--listen-client-urls", `${etcdUrl},http://127.0.0.1:2379`,
        "--advertise-client-urls", etcdUrl,
        "--listen-peer-urls", "http://127.0.0.1:2380",
        "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
        "--initial-cluster", `${master.name}=http://127.0.0.1:2380`,
        "--enable-v2=true", "--heartbeat-interval=10", "--election-timeout=100",
    ]);
    const isHealthy = async () => (await httpGet(`${etcdUrl}/health`))?.status === 200;
    await waitUntil(`etcd on ${master.name} (${etcdUrl})`, isHealthy, { timeoutMs: 10000, process: etcd });
    return etcd.pid;
}

/** @returns pid */
export async function startMarathon(): Promise<number> {
    fs.mkdirSync(path.dirname(paths.marathonState), { recursive: true });
    const marathon = startDetached("marathon", [
        programs.ip, "netns", "exec", master.name, programs.node, paths.marathonScript,
        "--listen", `0.0.0.0:${marathonPort}`,
        ...agents.flatMap((agent) => ["--agent", mesosAgentUrlOf(agent)]),
        "--deploy-delay-ms", process.env.SANDBOX_DEPLOY_DELAY_MS ?? defaultDeployDelayMs,
        "--state-file", paths.marathonState,
        "--log-file", path.join(paths.logs, "marathon.log"),
    ], "marathon.stdout");
    await waitUntil(`Marathon stand-in on ${master.name}`, () => isPortOpen(master.address, marathonPort), { timeoutMs: 5000, process: marathon });
    return marathon.pid;
}

/**
 * calico-libnetwork for one host, in the host's namespace (the reference runs it with --net=host and HOSTNAME set):
 * its veths are the host's, its endpoints carry the host's name, and dockerd reaches its socket through the
 * filesystem.
 * @returns pid
 */
export async function startPlugin(host: Host): Promise<number> {
    const socket = pluginSocketOf(host);
    fs.mkdirSync(path.dirname(socket), { recursive: true });
    const plugin = startDetached(`plugin-${host.name}`, [
        programs.ip, "netns", "exec", host.name, programs.node, paths.pluginScript,
        "--socket", socket,
        "--etcd", etcdUrl,
        "--hostname", host.name,
        "--log-file", path.join(paths.logs, `plugin-${host.name}.log`),
    ], `plugin-${host.name}.stdout`);
    await waitUntil(`calico libnetwork plugin on ${host.name}`, () => isSocketAccepting(socket), { timeoutMs: 5000, process: plugin });
    return plugin.pid;
}

/**
 * calico-node for one host (Felix and BIRD stand-ins, after calico-node's startup records), in the host's namespace.
 * @returns pid
 */
export async function startCalicoNode(host: Host): Promise<number> {
    const ready = path.join(paths.hosts, host.name, "calico-node.ready");
    const node = startDetached(`calico-node-${host.name}`, [
        programs.ip, "netns", "exec", host.name, programs.node, paths.calicoNodeScript,
        "--hostname", host.name, "--ip", host.address, "--etcd", etcdUrl, "--ready-file", ready,
    ]);
    await waitUntil(`calico-node on ${host.name}`, async () => fs.existsSync(ready), { timeoutMs: 5000, process: node });
    return node.pid;
}

/**
 * The host's own dockerd, in the host's network namespace, sharing networks with the others through etcd (Docker's
 * cluster store, as the reference's `--cluster-store=etcd://...`). Its private mount namespace gets a fresh /run
 * (where Docker looks for plugin sockets, and where containerd puts its shims' sockets) holding a link to the
 * host's calico plugin socket, a fresh /etc/docker (no daemon.json of the machine's, key.json stays in there), a
 * fresh /tmp (containerd dumps its stacks there when dockerd gives up on it), the host's resolv.conf, which
 * Docker hands on to containers (through its embedded DNS server on user-defined networks), and the host's users
 * and groups, so that its socket belongs to the hosts' docker group (root:docker, 0660, as docker-engine's
 * docker.socket has it). Its hostname is the
 * host's, as `docker info` shows it on a real host.
 * @returns pid
 */
export async function startDockerd(host: Host): Promise<number> {
    const dockerDir = dockerDirOf(host);
    const socket = dockerSocketOf(host);
    fs.mkdirSync(dockerDir, { recursive: true });
    const script = freshDirsAndResolverScript(["/run", "/etc/docker", "/tmp"]) + ` && ${hostEtcScript(["passwd", "group"])}`
        + ' && chmod 1777 /tmp && mkdir -p /run/docker/plugins && ln -s "$1" /run/docker/plugins/calico.sock && hostname "$2" && shift 2 && exec "$@"';
    const dockerd = startDetached(`dockerd-${host.name}`, [
        programs.nsenter, `--net=/run/netns/${host.name}`, programs.unshare, "--mount", "--uts", "--propagation", "private",
        ...withProjectPath(["/bin/sh", "-c", script, "sh", pluginSocketOf(host), host.name, programs.dockerd],
            { SANDBOX_RESOLV: resolvConfOf(host), SANDBOX_ETC: hostEtcOf(host) }),
        "--storage-driver=vfs", "--bridge=none", "--iptables=false", "--ip-masq=false",
        `--cluster-store=etcd://${master.address}:2379`,
        `--data-root=${path.join(dockerDir, "data")}`,
        `--exec-root=${path.join(dockerDir, "run")}`,
        `--pidfile=${path.join(dockerDir, "dockerd.pid")}`,
        `--cgroup-parent=/${cgroupParent}`,
        "--shutdown-timeout=2",
        "-H", `unix://${socket}`,
    ]);
    const answers = async () => (await httpGet("http://docker/_ping", socket))?.status === 200;
    await waitUntil(`dockerd on ${host.name}`, answers, { timeoutMs: 15000, process: dockerd });
    return dockerd.pid;
}

