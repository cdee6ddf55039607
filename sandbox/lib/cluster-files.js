// @ts-check
// What up hands to others: sandbox/.state/cluster.json (for tests) and Pulumi.sandbox.yaml (for `pulumi up -s sandbox`).
const fs = require("node:fs");
const { paths, publicInterface } = require("./layout");

/**
 * @typedef {{ name: string, role: string, address: string, port: number, user: string, namespace: string,
 *   hostKeyFingerprint: string, hostKey: string, auditLog: string, sshdPid: number,
 *   dockerSocket: string, dockerHost: string, dockerdPid: number, pluginSocket: string, pluginPid: number, calicoNodePid: number }} ClusterHost
 * @typedef {{
 *   hosts: ClusterHost[], master: ClusterHost, agents: ClusterHost[],
 *   sshPrivateKeyPath: string, hostKeyFingerprints: Record<string, string[]>, hostKeys: Record<string, string[]>,
 *   publicInterface: string,
 *   collectorAddress: string, bridge: { name: string, cidr: string }, namespaces: string[],
 *   etcd: { url: string, pid: number },
 *   marathon: { url: string, pid: number } | null,
 *   mesosAgents: { host: string, id: string, url: string, workDir: string, pid: number }[],
 *   mesosDns: { address: string, port: number, httpPort: number, domain: string, url: string, pid: number },
 *   docker: { image: string },
 *   stateDir: string, pulumiConfigPath: string, pids: Record<string, number>
 * }} Cluster
 */

/** @param {Cluster} cluster */
function writeClusterFile(cluster) {
    fs.writeFileSync(paths.clusterFile, JSON.stringify(cluster, null, 2) + "\n");
}

/** @returns {Cluster | undefined} */
function readClusterFile() {
    try {
        return JSON.parse(fs.readFileSync(paths.clusterFile, "utf8"));
    } catch {
        return undefined;
    }
}

/** @param {ClusterHost} host */
const endpoint = (host) => ({ address: host.address, port: host.port, user: host.user });

/**
 * Values are JSON in single-quoted YAML strings, as `pulumi config set` writes them. Keeps the lines Pulumi
 * adds to a stack file (encryptionsalt, ...) so that a stack's secrets survive a new sandbox.
 * @param {Cluster} cluster
 */
function writePulumiConfig(cluster) {
    const quoted = (/** @type {unknown} */ value) => `'${JSON.stringify(value).replace(/'/g, "''")}'`;
    const config = [
        ["master", quoted(endpoint(cluster.master))],
        ["agents", quoted(cluster.agents.map(endpoint))],
        ["sshPrivateKeyPath", cluster.sshPrivateKeyPath],
        ["hostKeyFingerprints", quoted(cluster.hostKeyFingerprints)],
        ["hostKeys", quoted(cluster.hostKeys)],
        ["publicInterface", publicInterface],
        ["sudo", '"false"'],
    ].map(([key, value]) => `  calico-stars:${key}: ${value}`);
    fs.writeFileSync(paths.pulumiConfig, [...pulumiOwnLines(), "config:", ...config, ""].join("\n"));
}

function pulumiOwnLines() {
    const existing = fs.existsSync(paths.pulumiConfig) ? fs.readFileSync(paths.pulumiConfig, "utf8") : "";
    return existing.split("\n").filter((line) => /^(encryptionsalt|secretsprovider|encryptedkey):/.test(line));
}

module.exports = { writeClusterFile, readClusterFile, writePulumiConfig };
