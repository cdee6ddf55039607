// @ts-check
// The cluster's services: etcd and the Marathon stand-in on the master, the calico plugin, the shared dockerd.
const fs = require("node:fs");
const path = require("node:path");
const { master, dockerNamespace, cgroupParent, etcdUrl, marathonPort, paths, programs } = require("./layout");
const { freshDirsScript, withProjectPath } = require("./private-mounts");
const { startDetached } = require("./run");
const { httpGet, isPortOpen, isSocketAccepting, waitUntil } = require("./wait");

const defaultDeployDelayMs = "300";

/** @returns {Promise<number>} pid */
async function startEtcd() {
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

/** @returns {Promise<number>} pid */
async function startMarathon() {
    fs.mkdirSync(path.dirname(paths.marathonState), { recursive: true });
    const marathon = startDetached("marathon", [
        programs.ip, "netns", "exec", master.name, programs.node, paths.marathonScript,
        "--listen", `0.0.0.0:${marathonPort}`,
        "--deploy-delay-ms", process.env.SANDBOX_DEPLOY_DELAY_MS ?? defaultDeployDelayMs,
        "--state-file", paths.marathonState,
        "--log-file", path.join(paths.logs, "marathon.log"),
    ], "marathon.stdout");
    await waitUntil(`Marathon stand-in on ${master.name}`, () => isPortOpen(master.address, marathonPort), { timeoutMs: 5000, process: marathon });
    return marathon.pid;
}

/** Runs in the root namespace: it reaches etcd over the bridge, and dockerd reaches its socket through the filesystem. */
async function startPlugin() {
    fs.mkdirSync(path.dirname(paths.pluginSocket), { recursive: true });
    const plugin = startDetached("plugin", [
        programs.node, paths.pluginScript,
        "--socket", paths.pluginSocket,
        "--etcd", etcdUrl,
        "--netns", dockerNamespace,
        "--log-file", path.join(paths.logs, "plugin.log"),
    ], "plugin.stdout");
    await waitUntil("calico libnetwork plugin", () => isSocketAccepting(paths.pluginSocket), { timeoutMs: 5000, process: plugin });
    return plugin.pid;
}

/**
 * One dockerd for all hosts, in a namespace with loopback only. Its private mount namespace gets a fresh /run
 * (where Docker looks for plugin sockets, and where containerd puts its shims' sockets) holding a link to the
 * calico plugin's socket, a fresh /etc/docker (no daemon.json of the machine's, key.json stays in there) and
 * a fresh /tmp (containerd dumps its stacks there when dockerd gives up on it).
 * @returns {Promise<number>} pid
 */
async function startDockerd() {
    const dockerDir = paths.docker;
    const script = freshDirsScript(["/run", "/etc/docker", "/tmp"])
        + ' && chmod 1777 /tmp && mkdir -p /run/docker/plugins && ln -s "$1" /run/docker/plugins/calico.sock && shift && exec "$@"';
    const dockerd = startDetached("dockerd", [
        programs.nsenter, `--net=/run/netns/${dockerNamespace}`, programs.unshare, "--mount", "--propagation", "private",
        ...withProjectPath(["/bin/sh", "-c", script, "sh", paths.pluginSocket, programs.dockerd]),
        "--storage-driver=vfs", "--bridge=none", "--iptables=false", "--ip-masq=false",
        `--data-root=${path.join(dockerDir, "data")}`,
        `--exec-root=${path.join(dockerDir, "run")}`,
        `--pidfile=${paths.dockerPidFile}`,
        `--cgroup-parent=/${cgroupParent}`,
        "--shutdown-timeout=2",
        "-H", `unix://${paths.dockerSocket}`,
    ]);
    const answers = async () => (await httpGet("http://docker/_ping", paths.dockerSocket))?.status === 200;
    await waitUntil(`dockerd in ${dockerNamespace}`, answers, { timeoutMs: 15000, process: dockerd });
    return dockerd.pid;
}

module.exports = { startEtcd, startMarathon, startPlugin, startDockerd };
