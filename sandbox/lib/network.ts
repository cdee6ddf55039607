// The sandbox's L2 segment: a bridge in the root namespace and one namespace per host, joined by veths.
// No namespace gets a default route, so nothing inside can reach past the bridge.
import * as fs from "node:fs";
import * as path from "node:path";
import { bridge, Host, hosts, master, namespaces, paths, programs, publicInterface, resolvConfOf } from "./layout";
import { run, runQuietly } from "./run";

const namespaceDir = "/run/netns";

const ip = (args: string[]) => run(programs.ip, args);

export async function createNetwork() {
    recordWhetherNamespaceDirExisted();
    await ip(["link", "add", bridge.name, "type", "bridge"]);
    await ip(["addr", "add", bridge.cidr, "dev", bridge.name]);
    await ip(["link", "set", bridge.name, "up"]);
    for (const namespace of namespaces) {
        await ip(["netns", "add", namespace]);
        await ip(["-n", namespace, "link", "set", "lo", "up"]);
    }
    await Promise.all(hosts.map(joinHostToBridge));
    hosts.forEach(writeResolvConf);
}

/** Every host resolves through the master, where Mesos-DNS listens. */
function writeResolvConf(host: Host) {
    fs.mkdirSync(path.dirname(resolvConfOf(host)), { recursive: true });
    fs.writeFileSync(resolvConfOf(host), `nameserver ${master.address}\n`);
}

async function joinHostToBridge(host: Host) {
    await ip(["link", "add", host.hostVeth, "type", "veth", "peer", "name", publicInterface, "netns", host.name]);
    await ip(["link", "set", host.hostVeth, "master", bridge.name, "up"]);
    await ip(["-n", host.name, "addr", "add", `${host.address}/24`, "dev", publicInterface]);
    await ip(["-n", host.name, "link", "set", publicInterface, "up"]);
}

/** `ip netns add` creates /run/netns (and bind-mounts it onto itself); remember whether that was us. */
function recordWhetherNamespaceDirExisted() {
    fs.writeFileSync(paths.hostFacts, JSON.stringify({ createdNamespaceDir: !fs.existsSync(namespaceDir) }) + "\n");
}

/** Removes whatever of the network exists, found by name, so it also works after a crash. */
export async function removeNetwork() {
    // Deleting a veth's root end deletes its peer at once; a namespace's teardown would take it only later.
    for (const link of [...hosts.map((host) => host.hostVeth), bridge.name].filter(linkExists)) {
        await runQuietly(programs.ip, ["link", "del", link]);
    }
    for (const namespace of existingNamespaces()) {
        await runQuietly(programs.ip, ["netns", "del", namespace]);
    }
    await removeNamespaceDirIfOurs();
}

async function removeNamespaceDirIfOurs() {
    let createdNamespaceDir: boolean;
    try {
        ({ createdNamespaceDir } = JSON.parse(fs.readFileSync(paths.hostFacts, "utf8")));
    } catch {
        return;
    }
    if (createdNamespaceDir && fs.existsSync(namespaceDir) && fs.readdirSync(namespaceDir).length === 0) {
        await runQuietly("/usr/bin/umount", ["-n", namespaceDir]);
        fs.rmdirSync(namespaceDir);
    }
}

/** @returns the sandbox's namespaces that exist now */
export function existingNamespaces(): string[] {
    const present = fs.existsSync(namespaceDir) ? fs.readdirSync(namespaceDir) : [];
    return namespaces.filter((namespace) => present.includes(namespace));
}

function linkExists(name: string) {
    return fs.existsSync(`/sys/class/net/${name}`);
}

export function bridgeExists() {
    return linkExists(bridge.name);
}
