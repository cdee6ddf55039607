// What up hands to others: sandbox/.state/cluster.json (for tests), and the stack config that targets the sandbox,
// written to Pulumi.sandbox.yaml (for `pulumi up -s sandbox`) and given to the tests' and the bench's stacks.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { paths } from "./layout";

/** A host as cluster.json has it. */
export interface ClusterHost {
    name: string;
    role: "master" | "agent";
    address: string;
    port: number;
    /**
     * The login the program uses (Pulumi.sandbox.yaml's): vagrant with `sudo`, or root without (`up --root`); root
     * may log in either way, for tests that look at a host.
     */
    user: string;
    namespace: string;
    hostKeyFingerprint: string;
    /** Its public host key line ("ssh-ed25519 AAAA... cs-master"). */
    hostKey: string;
    auditLog: string;
    sshdPid: number;
    dockerSocket: string;
    /** `unix://<dockerSocket>`, for a docker client in the root namespace. */
    dockerHost: string;
    dockerdPid: number;
    pluginSocket: string;
    pluginPid: number;
    calicoNodePid: number;
}

/** sandbox/.state/cluster.json. */
export interface Cluster {
    hosts: ClusterHost[];
    master: ClusterHost;
    agents: ClusterHost[];
    /** Whether the program prefixes privileged commands with `sudo -n` (true with vagrant). */
    sudo: boolean;
    sshPrivateKeyPath: string;
    /** By host address. */
    hostKeyFingerprints: Record<string, string[]>;
    /** By host address. */
    hostKeys: Record<string, string[]>;
    publicInterface: string;
    collectorAddress: string;
    bridge: { name: string; cidr: string };
    namespaces: string[];
    etcd: { url: string; authority: string; pid: number };
    marathon: { url: string; pid: number };
    mesosAgents: { host: string; id: string; url: string; workDir: string; pid: number }[];
    mesosDns: { address: string; port: number; httpPort: number; domain: string; url: string; pid: number };
    docker: { image: string };
    stateDir: string;
    pulumiConfigPath: string;
    /** Every pid file's pid, by name. */
    pids: Record<string, number>;
}

export function writeClusterFile(cluster: Cluster): void {
    fs.writeFileSync(paths.clusterFile, JSON.stringify(cluster, null, 2) + "\n");
}

export function readClusterFile(): Cluster | undefined {
    try {
        return JSON.parse(fs.readFileSync(paths.clusterFile, "utf8")) as Cluster;
    } catch {
        return undefined;
    }
}

/** A host's address and login, as the stack config names the master and the agents. */
export type HostEndpoint = Pick<ClusterHost, "address" | "port" | "user">;

/** A login on a host, as the program's SSH layer takes it (its SshHost). */
export interface HostLogin extends HostEndpoint {
    /** Prefix privileged commands with `sudo -n`. */
    sudo: boolean;
}

/**
 * How the program logs in to a host: cluster.json's user (vagrant, with sudo, unless the sandbox came up with --root).
 */
export function programLogin(cluster: Pick<Cluster, "sudo">, host: HostEndpoint): HostLogin {
    return { address: host.address, port: host.port, user: host.user, sudo: cluster.sudo };
}

/** How tests look at a host: as root, which every sandbox host keeps open for that, so without sudo. */
export function rootLogin(host: Pick<ClusterHost, "address" | "port">): HostLogin {
    return { address: host.address, port: host.port, user: "root", sudo: false };
}

/** The config keys that target the sandbox (without the project's `calico-stars:` prefix). */
export type SandboxStackConfig = Pick<
    Cluster,
    "sudo" | "sshPrivateKeyPath" | "hostKeyFingerprints" | "hostKeys" | "publicInterface"
> & {
    master: HostEndpoint;
    agents: HostEndpoint[];
    /** sudo drops the sessions' ETCD_AUTHORITY, so the program names etcd itself. */
    etcdAuthority: string;
};

/** What the stack config is made of: the cluster as cluster.json has it (or the parts of one that a test makes up). */
export type StackConfigSource = Omit<SandboxStackConfig, "etcdAuthority"> & {
    etcd: Pick<Cluster["etcd"], "authority">;
};

export function stackConfigOf(cluster: StackConfigSource): SandboxStackConfig {
    const endpoint = (host: HostEndpoint): HostEndpoint => ({
        address: host.address,
        port: host.port,
        user: host.user,
    });
    return {
        master: endpoint(cluster.master),
        agents: cluster.agents.map(endpoint),
        sudo: cluster.sudo,
        etcdAuthority: cluster.etcd.authority,
        sshPrivateKeyPath: cluster.sshPrivateKeyPath,
        hostKeyFingerprints: cluster.hostKeyFingerprints,
        hostKeys: cluster.hostKeys,
        publicInterface: cluster.publicInterface,
    };
}

/** A stack config key of the program (Pulumi.yaml's project name, then the key). */
export const configKey = (key: string): string => `calico-stars:${key}`;

/**
 * Pulumi.sandbox.yaml as a YAML document (empty when there is none). Throws, naming the file, when it is not
 * YAML: `up` asks first, so that it stops before building anything rather than overwrite a file it cannot read.
 */
export function readPulumiConfig(): YAML.Document {
    const text = fs.existsSync(paths.pulumiConfig) ? fs.readFileSync(paths.pulumiConfig, "utf8") : "";
    const document = YAML.parseDocument(text);
    if (document.errors.length > 0) {
        throw new Error(
            `${paths.pulumiConfig} is not valid YAML (${document.errors[0].message.split("\n")[0]}): fix it or remove it`,
        );
    }
    if (!YAML.isMap(document.contents) && document.contents !== null) {
        throw new Error(`${paths.pulumiConfig} is not a Pulumi stack file (a YAML mapping): fix it or remove it`);
    }
    return document;
}

/** The program's default policy (the runbook's end state), as components/ keeps it. */
function programDefaultPolicy(): unknown {
    return JSON.parse(fs.readFileSync(path.join(paths.project, "components", "runbookPolicy.json"), "utf8"));
}

/**
 * Writes the sandbox's keys into Pulumi.sandbox.yaml's `config`, structured values as YAML objects, as
 * `pulumi config set --path` writes them (and as Pulumi.dev.yaml has them). Everything else in the file stays:
 * Pulumi's own keys (encryptionsalt, secretsprovider, encryptedkey), so that a stack's secrets survive a new
 * sandbox, and any other config key the user set (a policy, say).
 */
export function writePulumiConfig(cluster: Cluster): void {
    const document = readPulumiConfig();
    if (!YAML.isMap(document.get("config"))) {
        document.set("config", document.createNode({}));
    }
    for (const [key, value] of Object.entries(stackConfigOf(cluster))) {
        document.setIn(["config", configKey(key)], document.createNode(value));
    }
    // Defaults the user may change in the file, so written only when absent: the policy in full, so that
    // `pulumi config set --path 'policy.backend.inbound[2]' ...` edits a rule in place (Pulumi refuses a list
    // index past a list's end), and the program's own check that the policy took effect.
    const userDefaults = { policy: programDefaultPolicy(), verifyPolicy: true };
    for (const [key, value] of Object.entries(userDefaults)) {
        if (!document.hasIn(["config", configKey(key)])) {
            document.setIn(["config", configKey(key)], document.createNode(value));
        }
    }
    // lineWidth 0: a host key stays on one line, as Pulumi writes it
    fs.writeFileSync(paths.pulumiConfig, document.toString({ lineWidth: 0 }));
}
