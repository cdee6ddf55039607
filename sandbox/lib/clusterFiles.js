// @ts-check
// What up hands to others: sandbox/.state/cluster.json (for tests) and Pulumi.sandbox.yaml (for `pulumi up -s sandbox`).
const fs = require("node:fs");
const YAML = require("yaml");
const { etcdAuthority, paths, publicInterface } = require("./layout");
const runbookPolicy = require("../../components/runbookPolicy.json");

/**
 * `user` is the login the program uses (Pulumi.sandbox.yaml's): vagrant with `sudo`, or root without (`up --root`);
 * root may log in either way, for tests that look at a host.
 * @typedef {{ name: string, role: string, address: string, port: number, user: string, namespace: string,
 *   hostKeyFingerprint: string, hostKey: string, auditLog: string, sshdPid: number,
 *   dockerSocket: string, dockerHost: string, dockerdPid: number, pluginSocket: string, pluginPid: number, calicoNodePid: number }} ClusterHost
 * @typedef {{
 *   hosts: ClusterHost[], master: ClusterHost, agents: ClusterHost[],
 *   sudo: boolean, sshPrivateKeyPath: string, hostKeyFingerprints: Record<string, string[]>, hostKeys: Record<string, string[]>,
 *   publicInterface: string,
 *   collectorAddress: string, bridge: { name: string, cidr: string }, namespaces: string[],
 *   etcd: { url: string, authority: string, pid: number },
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
 * Pulumi.sandbox.yaml as a YAML document (empty when there is none). Throws, naming the file, when it is not
 * YAML: `up` asks first, so that it stops before building anything rather than overwrite a file it cannot read.
 */
function readPulumiConfig() {
    const text = fs.existsSync(paths.pulumiConfig) ? fs.readFileSync(paths.pulumiConfig, "utf8") : "";
    const document = YAML.parseDocument(text);
    if (document.errors.length > 0) {
        throw new Error(`${paths.pulumiConfig} is not valid YAML (${document.errors[0].message.split("\n")[0]}): fix it or remove it`);
    }
    if (!YAML.isMap(document.contents) && document.contents !== null) {
        throw new Error(`${paths.pulumiConfig} is not a Pulumi stack file (a YAML mapping): fix it or remove it`);
    }
    return document;
}

/**
 * Writes the sandbox's keys into Pulumi.sandbox.yaml's `config`, structured values as YAML objects, as
 * `pulumi config set --path` writes them (and as Pulumi.dev.yaml has them). Everything else in the file stays:
 * Pulumi's own keys (encryptionsalt, secretsprovider, encryptedkey), so that a stack's secrets survive a new
 * sandbox, and any other config key the user set (a policy, say).
 * @param {Cluster} cluster
 */
function writePulumiConfig(cluster) {
    const document = readPulumiConfig();
    if (!YAML.isMap(document.get("config"))) {
        document.set("config", document.createNode({}));
    }
    const config = {
        master: endpoint(cluster.master),
        agents: cluster.agents.map(endpoint),
        sudo: cluster.sudo,
        etcdAuthority,
        sshPrivateKeyPath: cluster.sshPrivateKeyPath,
        hostKeyFingerprints: cluster.hostKeyFingerprints,
        hostKeys: cluster.hostKeys,
        publicInterface,
    };
    for (const [key, value] of Object.entries(config)) {
        document.setIn(["config", `calico-stars:${key}`], document.createNode(value));
    }
    // Defaults the user may change in the file, so written only when absent: the policy in full, so that
    // `pulumi config set --path 'policy.backend.inbound[2]' ...` edits a rule in place (Pulumi refuses a list
    // index past a list's end), and the program's own check that the policy took effect.
    const userDefaults = { policy: runbookPolicy, verifyPolicy: true };
    for (const [key, value] of Object.entries(userDefaults)) {
        if (!document.hasIn(["config", `calico-stars:${key}`])) {
            document.setIn(["config", `calico-stars:${key}`], document.createNode(value));
        }
    }
    // lineWidth 0: a host key stays on one line, as Pulumi writes it
    fs.writeFileSync(paths.pulumiConfig, document.toString({ lineWidth: 0 }));
}

module.exports = { writeClusterFile, readClusterFile, readPulumiConfig, writePulumiConfig };
