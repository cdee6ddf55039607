// The sandbox cluster: `npm run sandbox -- up [--root] | status | down`, or import { up, down, status } from it.
import * as fs from "node:fs";
import { buildImageTarball, importImage, imagePresent } from "./lib/starImage";
import { Cluster, readClusterFile, readPulumiConfig, writeClusterFile, writePulumiConfig } from "./lib/clusterFiles";
import { loginUser } from "./lib/hostAccounts";
import {
    agents,
    bridge,
    collectorAddress,
    dockerSocketOf,
    etcdAuthority,
    etcdUrl,
    hosts,
    image,
    marathonUrl,
    mesosAgentIdOf,
    mesosAgentUrlOf,
    mesosDns,
    mesosWorkDirOf,
    namespaces,
    paths,
    pluginSocketOf,
    programs,
    publicInterface,
} from "./lib/layout";
import { mesosAgentOf, mesosDnsService, startMesosAgent, startMesosDns } from "./lib/mesosServices";
import { bridgeExists, createNetwork, existingNamespaces, removeNetwork } from "./lib/network";
import {
    findContainerProcesses,
    findSandboxProcesses,
    isAlive,
    killProcesses,
    removeContainerCgroups,
    stopProcesses,
    topLevelOf,
} from "./lib/processes";
import { readPid, Service } from "./lib/run";
import {
    calicoNodeOf,
    dockerdOf,
    etcdService,
    marathonService,
    pluginOf,
    startCalicoNode,
    startDockerd,
    startEtcd,
    startMarathon,
    startPlugin,
} from "./lib/services";
import { auditLogPath, generateKeys, HostKey, prepareHostFiles, sshdOf, startSshd } from "./lib/sshHosts";
export type { Cluster, ClusterHost } from "./lib/clusterFiles";

export interface ComponentStatus {
    name: string;
    alive: boolean;
    detail: string;
}

export interface SandboxStatus {
    allUp: boolean;
    components: ComponentStatus[];
}

interface Login {
    user: string;
    sudo: boolean;
}

/** The login the program uses on the hosts: vagrant with sudo, as on the reference cluster, or root without. */
const loginFor = ({ root = false }: { root?: boolean }): Login =>
    root ? { user: "root", sudo: false } : { user: loginUser, sudo: true };

/**
 * Brings the sandbox up, or only verifies it when it is up already; leftovers of a crash are cleaned first.
 * Every host has root and vagrant either way: `root` only chooses the login that cluster.json and
 * Pulumi.sandbox.yaml give the program.
 */
export async function up(options: { root?: boolean } = {}): Promise<Cluster> {
    const unavailable = sandboxUnavailable();
    if (unavailable !== undefined) {
        throw new Error(unavailable);
    }
    readPulumiConfig();
    const login = loginFor(options);
    const existing = readClusterFile();
    // a cluster.json without `sudo` is not this sandbox's: it is rebuilt
    if (
        existing !== undefined &&
        typeof existing.sudo === "boolean" &&
        (await checkComponents()).every((component) => component.alive)
    ) {
        return existing.master.user === login.user && existing.sudo === login.sudo
            ? existing
            : handOut(withLogin(existing, login));
    }
    await down();
    try {
        return await startCluster(login);
    } catch (error) {
        await down();
        throw error;
    }
}

function handOut(cluster: Cluster): Cluster {
    writeClusterFile(cluster);
    writePulumiConfig(cluster);
    return cluster;
}

async function startCluster(login: Login): Promise<Cluster> {
    for (const dir of [paths.pids, paths.logs, paths.audit, paths.ssh, paths.imageDir]) {
        fs.mkdirSync(dir, { recursive: true });
    }
    // the hosts' users, groups and sudo come first: each sshd and dockerd binds them when it starts
    prepareHostFiles(hosts);
    await createNetwork();
    const [
        { hostKeys, sshdPids, mesosAgentPids },
        { etcdPid, calicoNodePids, dockerdPids },
        pluginPids,
        marathonPid,
        mesosDnsPid,
    ] = await allSettledOrThrow([
        startHosts(),
        startCalicoAndDocker(),
        allSettledOrThrow(hosts.map(startPlugin)),
        startMarathon(),
        startMesosDns(),
    ]);
    return handOut(
        describeCluster(login, {
            hostKeys,
            sshdPids,
            etcdPid,
            marathonPid,
            pluginPids,
            calicoNodePids,
            dockerdPids,
            mesosAgentPids,
            mesosDnsPid,
        }),
    );
}

/** Each agent's Mesos agent stand-in joins its sshd's namespaces, so it starts once that sshd runs. */
async function startHosts() {
    const hostKeys = await generateKeys(hosts);
    const sshdPids = await allSettledOrThrow(hosts.map(startSshd));
    const mesosAgentPids = await allSettledOrThrow(
        agents.map((agent) => startMesosAgent(agent, sshdPids[hosts.indexOf(agent)])),
    );
    return { hostKeys, sshdPids, mesosAgentPids };
}

/**
 * etcd first: calico-node writes its host's records there and each dockerd keeps its networks there. The plugins
 * start alongside (they reach etcd only when asked), so that each dockerd finds its own from the start.
 */
async function startCalicoAndDocker() {
    const [etcdPid, imageTarball] = await allSettledOrThrow([startEtcd(), buildImageTarball()]);
    const [calicoNodePids, dockerdPids] = await allSettledOrThrow([
        allSettledOrThrow(hosts.map(startCalicoNode)),
        allSettledOrThrow(hosts.map(startDockerd)),
    ]);
    // Tasks run on the agents only; the master's dockerd serves calicoctl's network lookups there.
    await allSettledOrThrow(agents.map((agent) => importImage(imageTarball, dockerSocketOf(agent))));
    return { etcdPid, calicoNodePids, dockerdPids };
}

/**
 * Like Promise.all, but waits for every promise before failing, so that no start is still under way
 * while the cleanup after a failure runs.
 */
async function allSettledOrThrow<const T extends readonly unknown[]>(
    promises: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
    const results = await Promise.allSettled(promises);
    const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failure !== undefined) {
        throw failure.reason;
    }
    return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as {
        -readonly [K in keyof T]: Awaited<T[K]>;
    };
}

interface Started {
    hostKeys: Record<string, HostKey>;
    sshdPids: number[];
    etcdPid: number;
    marathonPid: number;
    pluginPids: number[];
    calicoNodePids: number[];
    dockerdPids: number[];
    mesosAgentPids: number[];
    mesosDnsPid: number;
}

function describeCluster(login: Login, started: Started): Cluster {
    const clusterHosts = hosts.map((host, index) => ({
        name: host.name,
        role: host.role,
        address: host.address,
        port: 22,
        user: login.user,
        namespace: host.name,
        hostKeyFingerprint: started.hostKeys[host.name].fingerprint,
        hostKey: started.hostKeys[host.name].publicKey,
        auditLog: auditLogPath(host),
        sshdPid: started.sshdPids[index],
        dockerSocket: dockerSocketOf(host),
        dockerHost: `unix://${dockerSocketOf(host)}`,
        dockerdPid: started.dockerdPids[index],
        pluginSocket: pluginSocketOf(host),
        pluginPid: started.pluginPids[index],
        calicoNodePid: started.calicoNodePids[index],
    }));
    const pids = Object.fromEntries(
        fs
            .readdirSync(paths.pids)
            .map((file) => file.replace(/\.pid$/, ""))
            .map((name) => [name, readPid(name) ?? 0]),
    );
    return {
        hosts: clusterHosts,
        master: clusterHosts[0],
        agents: clusterHosts.slice(1),
        sudo: login.sudo,
        sshPrivateKeyPath: paths.clientKey,
        hostKeyFingerprints: Object.fromEntries(clusterHosts.map((host) => [host.address, [host.hostKeyFingerprint]])),
        hostKeys: Object.fromEntries(clusterHosts.map((host) => [host.address, [host.hostKey]])),
        publicInterface,
        collectorAddress,
        bridge,
        namespaces,
        etcd: { url: etcdUrl, authority: etcdAuthority, pid: started.etcdPid },
        marathon: { url: marathonUrl, pid: started.marathonPid },
        mesosAgents: agents.map((agent, index) => ({
            host: agent.name,
            id: mesosAgentIdOf(agent),
            url: mesosAgentUrlOf(agent),
            workDir: mesosWorkDirOf(agent),
            pid: started.mesosAgentPids[index],
        })),
        mesosDns: { ...mesosDns, pid: started.mesosDnsPid },
        docker: { image },
        stateDir: paths.state,
        pulumiConfigPath: paths.pulumiConfig,
        pids,
    };
}

/** The cluster as another login sees it: the hosts' `user` and the cluster's `sudo`. */
function withLogin(cluster: Cluster, login: Login): Cluster {
    const clusterHosts = cluster.hosts.map((host) => ({ ...host, user: login.user }));
    return {
        ...cluster,
        hosts: clusterHosts,
        master: clusterHosts[0],
        agents: clusterHosts.slice(1),
        sudo: login.sudo,
    };
}

/**
 * Stops every sandbox process and removes namespaces, bridge, veths, container cgroups and sandbox/.state.
 * Finds processes by what marks them as the sandbox's (see lib/processes.ts), which covers every pid file
 * and also whatever a crash left without one. Keeps Pulumi.sandbox.yaml.
 */
export async function down(): Promise<void> {
    requireRoot();
    // Containers are throwaway; killing them first spares dockerd waiting on those that ignore SIGTERM.
    await killProcesses(findContainerProcesses());
    await stopProcesses(topLevelOf(findSandboxProcesses(existingNamespaces())), 4000);
    await stopProcesses(findSandboxProcesses(existingNamespaces()), 1000);
    removeContainerCgroups();
    await removeNetwork();
    fs.rmSync(paths.state, { recursive: true, force: true });
}

export async function status(): Promise<SandboxStatus> {
    requireRoot();
    const components = await checkComponents();
    return { allUp: components.every((component) => component.alive), components };
}

async function checkComponents(): Promise<ComponentStatus[]> {
    const present = existingNamespaces();
    const network = [
        ...namespaces.map((name) => ({ name: `namespace ${name}`, alive: present.includes(name), detail: "" })),
        { name: `bridge ${bridge.name}`, alive: bridgeExists(), detail: bridge.cidr },
    ];
    const services = [
        ...hosts.map(sshdOf),
        etcdService,
        marathonService,
        ...hosts.flatMap((host) => [calicoNodeOf(host), pluginOf(host), dockerdOf(host)]),
        ...agents.map(mesosAgentOf),
        mesosDnsService,
    ];
    const processes = await Promise.all(services.map(checkService));
    const images = await Promise.all(
        agents.map(async (agent) => ({
            name: `image ${image} on ${agent.name}`,
            alive: await imagePresent(dockerSocketOf(agent)),
            detail: "",
        })),
    );
    return [...network, ...processes, ...images];
}

async function checkService(service: Service): Promise<ComponentStatus> {
    const pid = readPid(service.name);
    if (pid === undefined || !isAlive(pid)) {
        return { name: service.label, alive: false, detail: pid === undefined ? "not started" : `pid ${pid} is gone` };
    }
    const ok = await service.answers();
    return { name: service.label, alive: ok, detail: `pid ${pid}, ${service.endpoint}${ok ? "" : " does not answer"}` };
}

const needsRoot = "the sandbox needs root: it creates network namespaces and runs sshd, dockerd and iptables";

function requireRoot(): void {
    if (process.getuid?.() !== 0) {
        throw new Error(needsRoot);
    }
}

/**
 * What `up` runs, and sudo's files, which each host's own are bound over (the hosts' vagrant runs privileged
 * commands with Debian's sudo).
 */
const prerequisites = [
    programs.ip,
    programs.sshd,
    programs.sshKeygen,
    programs.etcd,
    programs.dockerd,
    programs.docker,
    programs.busybox,
    programs.sudo,
    "/etc/sudoers",
    "/etc/sudoers.d",
];

/** Why the sandbox cannot come up on this machine, or undefined when it can. */
export function sandboxUnavailable(): string | undefined {
    if (process.getuid?.() !== 0) {
        return needsRoot;
    }
    const missing = prerequisites.filter((file) => !fs.existsSync(file));
    return missing.length > 0 ? `the sandbox needs ${missing.join(", ")} (.ci/run installs them)` : undefined;
}

async function main(args: string[]): Promise<number> {
    const [command, ...flags] = args;
    const started = Date.now();
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (command === "up" && flags.every((flag) => flag === "--root")) {
        const cluster = await up({ root: flags.includes("--root") });
        const sudo = cluster.sudo ? ", with sudo" : "";
        console.log(
            `sandbox is up (${elapsed()}): ssh -i ${cluster.sshPrivateKeyPath} ${cluster.master.user}@${cluster.master.address}${sudo}; ` +
                `Marathon ${marathonUrl}, etcd ${etcdUrl}, Docker on each host (DOCKER_HOST=${cluster.agents[0].dockerHost}, ...); details in ${paths.clusterFile}`,
        );
        return 0;
    }
    if (command === "down" && flags.length === 0) {
        await down();
        console.log(`sandbox is down (${elapsed()})`);
        return 0;
    }
    if (command === "status" && flags.length === 0) {
        const { allUp, components } = await status();
        const width = Math.max(...components.map((component) => component.name.length));
        for (const component of components) {
            console.log(`${component.name.padEnd(width)}  ${component.alive ? "up  " : "DOWN"}  ${component.detail}`);
        }
        return allUp ? 0 : 1;
    }
    console.error("usage: npm run sandbox -- up [--root] | status | down");
    return 2;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (error) => {
            console.error(`sandbox: ${error instanceof Error ? error.message : error}`);
            process.exitCode = 1;
        },
    );
}
