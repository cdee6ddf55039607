// Calico's etcd records, written as the real releases write them:
// - profiles, endpoints, pools and next hops as libcalico v0.12.0 (the one calico-libnetwork v0.8.0 pins in its
//   requirements.txt; calico-containers v0.19.0's `calicoctl node --libnetwork` starts calico/node-libnetwork:v0.8.0)
//   writes and reads them: calico_containers/pycalico/datastore.py create_profile, remove_profile, set_endpoint,
//   remove_endpoint, get_default_next_hops, get_ip_pools; datastore_datatypes.py Endpoint.to_json;
// - the network record as libnetwork-plugin v0.8.0 libnetwork/datastore_libnetwork.py writes it;
// - the host records as calico-node v0.19.0's startup.py writes them through libcalico v0.14.0 (the calicoctl
//   release's): add_ip_pool of the default pool, ensure_global_config, create_host.
// Python's json.dumps separators (", ", ": ") are kept; its dict key order is not reproducible, so readers
// parse, never compare text.
import { Etcd, errorCodes, EtcdError, leaves } from "./etcd";

export const paths = {
    profiles: "/calico/v1/policy/profile",
    hosts: "/calico/v1/host",
    pools: "/calico/v1/ipam/v4/pool",
    networks: "/calico/libnetwork/v1",
    bgpHosts: "/calico/bgp/v1/host",
    config: "/calico/v1/config",
};

/** libcalico's ORCHESTRATOR_ID and CONTAINER_NAME for libnetwork (driver_plugin.py). */
const libnetworkId = "libnetwork";
/** libcalico datastore_datatypes.IF_PREFIX, the host side of every workload veth. */
export const ifPrefix = "cali";
/** startup.py DEFAULT_IPV4_POOL. */
const defaultIpv4Pool = "192.168.0.0/16";

/** An endpoint's record (datastore_datatypes.py Endpoint.to_json). */
export interface EndpointRecord {
    state: string;
    name: string;
    mac: string;
    profile_ids: string[];
    ipv4_nets: string[];
    ipv6_nets: string[];
    ipv4_gateway: string | null;
    ipv6_gateway: string | null;
}

/** A rule as libcalico stores it in a profile's rules (datastore_datatypes.py Rule); Felix reads any of these keys. */
export interface Rule {
    action?: string;
    protocol?: string | number;
    src_net?: string;
    dst_net?: string;
    src_tag?: string;
    dst_tag?: string;
    src_ports?: (number | string)[];
    dst_ports?: (number | string)[];
    icmp_type?: number;
    icmp_code?: number;
    ip_version?: number;
    [key: string]: unknown;
}

export interface ProfileRules {
    inbound_rules: Rule[];
    outbound_rules: Rule[];
}

/** A profile as Felix reads it: its tags and rules records, parsed (undefined when missing or not JSON), unchecked. */
interface Profile {
    tags: unknown;
    rules: unknown;
}

/** An active endpoint as Felix and BIRD read it. */
export interface Endpoint {
    hostname: string;
    endpointId: string;
    /** Its interface on the host (cali<id[:11]>). */
    name: string;
    mac: string;
    profileIds: string[];
    /** CIDRs ("192.168.0.2/32"). */
    ipv4: string[];
}

/** The parts of /calico that Felix and BIRD read. */
export interface CalicoModel {
    profiles: Map<string, Profile>;
    /** Every host's active endpoints. */
    endpoints: Endpoint[];
    /** Each host's BGP address, by host name. */
    hostAddresses: Map<string, string>;
    /** The blocks (CIDRs) affine to each host, by host name. */
    affinities: Map<string, string[]>;
    /** The pools' CIDRs. */
    pools: string[];
    /** This host's DefaultEndpointToHostAction, else the global one, else Felix's default. */
    defaultEndpointToHostAction: string;
}

/** Python 2's json.dumps: ", " and ": " separators, non-ASCII escaped. */
export function pythonJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(pythonJson).join(", ")}]`;
    }
    if (value !== null && typeof value === "object") {
        return `{${Object.entries(value)
            .map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`)
            .join(", ")}}`;
    }
    return JSON.stringify(value).replace(
        /[\u0080-\uffff]/g,
        (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}

/** pycalico.util.generate_cali_interface_name. */
export function interfaceName(prefix: string, endpointId: string) {
    return prefix + endpointId.slice(0, 11);
}

function endpointKey(hostname: string, endpointId: string) {
    return `${paths.hosts}/${hostname}/workload/${libnetworkId}/${libnetworkId}/endpoint/${endpointId}`;
}

/** The same pattern as libcalico's Endpoint.ENDPOINT_KEY_MATCH. */
const endpointKeyPattern = /^\/calico\/v1\/host\/([^/]+)\/workload\/([^/]+)\/([^/]+)\/endpoint\/([^/]+)$/;

export class Datastore {
    constructor(private readonly etcd: Etcd) {}

    /** create_profile with the default rules: tags, then rules (v0.12 writes no labels key). */
    async createProfile(id: string) {
        await this.etcd.set(`${paths.profiles}/${id}/tags`, pythonJson([id]));
        await this.etcd.set(
            `${paths.profiles}/${id}/rules`,
            pythonJson({
                id,
                inbound_rules: [{ action: "allow", src_tag: id }],
                outbound_rules: [{ action: "allow" }],
            }),
        );
    }

    /** remove_profile: a missing profile is a KeyError, whose str() Flask returns quoted. */
    async removeProfile(id: string) {
        if (!(await this.etcd.delete(`${paths.profiles}/${id}`, { recursive: true, dir: true }))) {
            throw new Error(`'${id} is not a configured profile.'`);
        }
    }

    async writeNetwork(id: string, createNetworkRequest: unknown) {
        await this.etcd.set(`${paths.networks}/${id}`, pythonJson(createNetworkRequest));
    }

    /** The CreateNetwork request, as Docker sent it, or undefined. */
    async network(id: string): Promise<unknown> {
        const node = await this.etcd.get(`${paths.networks}/${id}`);
        return node === undefined ? undefined : JSON.parse(node.value ?? "null");
    }

    removeNetwork(id: string) {
        return this.etcd.delete(`${paths.networks}/${id}`);
    }

    /** set_endpoint. */
    async setEndpoint(hostname: string, endpointId: string, record: EndpointRecord) {
        await this.etcd.set(endpointKey(hostname, endpointId), pythonJson(record));
    }

    async endpoint(hostname: string, endpointId: string): Promise<EndpointRecord | undefined> {
        const node = await this.etcd.get(endpointKey(hostname, endpointId));
        return node === undefined ? undefined : (JSON.parse(node.value ?? "null") as EndpointRecord);
    }

    /** remove_endpoint: delete(dir=True, recursive=True); a missing key raises, as python-etcd's delete does. */
    async removeEndpoint(hostname: string, endpointId: string) {
        if (!(await this.etcd.delete(endpointKey(hostname, endpointId), { recursive: true, dir: true }))) {
            throw new EtcdError(`Key not found : ${endpointKey(hostname, endpointId)}`, errorCodes.keyNotFound);
        }
    }

    /** get_default_next_hops: IPv4 only here (the sandbox has no IPv6). */
    async defaultNextHop4(hostname: string) {
        const [v4, v6] = await Promise.all(
            ["ip_addr_v4", "ip_addr_v6"].map((leaf) => this.etcd.get(`${paths.bgpHosts}/${hostname}/${leaf}`)),
        );
        if (v4 === undefined || v6 === undefined) {
            throw new Error(`'BGP configuration for host ${hostname} not found.'`);
        }
        return v4.value || null;
    }

    /** get_ip_pools(4, ipam=True): the CIDRs of the pools Calico IPAM assigns from. */
    async ipamPools4(): Promise<string[]> {
        const node = await this.etcd.get(paths.pools, { recursive: true });
        return [...leaves(node).values()]
            .filter(Boolean)
            .map((value) => JSON.parse(value) as { cidr: string; ipam?: boolean; disabled?: boolean })
            .filter((pool) => pool.ipam !== false && pool.disabled !== true)
            .map((pool) => pool.cidr);
    }

    /**
     * What calico-node's startup does before its services start (startup.py main): the default pool when none
     * exists, ensure_global_config's defaults, create_host.
     */
    async startNode(hostname: string, address: string) {
        if ((await this.ipamPools4()).length === 0) {
            await this.etcd.set(
                `${paths.pools}/${defaultIpv4Pool.replace("/", "-")}`,
                pythonJson({ cidr: defaultIpv4Pool }),
            );
        }
        const defaults = [
            [`${paths.config}/InterfacePrefix`, ifPrefix],
            ["/calico/bgp/v1/global/as_num", "64511"],
            ["/calico/bgp/v1/global/node_mesh", pythonJson({ enabled: true })],
            [`${paths.config}/LogSeverityFile`, "none"],
            [`${paths.config}/LogSeverityScreen`, "info"],
            [`${paths.config}/LogFilePath`, "none"],
            [`${paths.config}/IpInIpEnabled`, "false"],
        ];
        for (const [key, value] of defaults) {
            await this.etcd.set(key, value, { prevExist: false }).catch((error: unknown) => {
                if (!(error instanceof EtcdError && error.errorCode === errorCodes.nodeExists)) {
                    throw error;
                }
            });
        }
        await this.etcd
            .set(`/calico/ipam/v2/host/${hostname}/ipv4/block`, undefined, { dir: true })
            .catch(ignoreExisting);
        await this.etcd.set("/calico/v1/Ready", "true");
        await this.etcd.set(`${paths.hosts}/${hostname}/bird_ip`, address);
        await this.etcd.set(`${paths.bgpHosts}/${hostname}/ip_addr_v4`, address);
        await this.etcd.set(`${paths.bgpHosts}/${hostname}/ip_addr_v6`, "");
        await this.etcd.set(`${paths.hosts}/${hostname}/workload`, undefined, { dir: true }).catch(ignoreExisting);
        await this.etcd.set(`${paths.hosts}/${hostname}/config/DefaultEndpointToHostAction`, "RETURN");
        await this.etcd.set(`${paths.hosts}/${hostname}/config/marker`, "created");
    }
}

/** python-etcd's EtcdNotFile / EtcdAlreadyExist on a dir that is there already: fine. */
function ignoreExisting(error: unknown): void {
    if (!(
        error instanceof EtcdError &&
        (error.errorCode === errorCodes.nodeExists || error.errorCode === errorCodes.notAFile)
    )) {
        throw error;
    }
}

function parseOrUndefined(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** The model Felix and BIRD converge on, from every leaf under /calico (by key). */
export function modelOf(keys: Map<string, string>, self: string): CalicoModel {
    const profiles = new Map<string, Profile>();
    const endpoints: Endpoint[] = [];
    const hostAddresses = new Map<string, string>();
    const affinities = new Map<string, string[]>();
    const pools: string[] = [];
    for (const [key, value] of keys) {
        const profile = /^\/calico\/v1\/policy\/profile\/([^/]+)\/(tags|rules)$/.exec(key);
        const endpoint = endpointKeyPattern.exec(key);
        const bgpHost = /^\/calico\/bgp\/v1\/host\/([^/]+)\/ip_addr_v4$/.exec(key);
        const affinity = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv4\/block\/([^/]+)$/.exec(key);
        if (profile !== null) {
            const entry = profiles.get(profile[1]) ?? { tags: undefined, rules: undefined };
            entry[profile[2] as keyof Profile] = parseOrUndefined(value);
            profiles.set(profile[1], entry);
        } else if (endpoint !== null) {
            const record = parseOrUndefined(value) as Partial<Record<keyof EndpointRecord, unknown>> | undefined;
            if (record?.state === "active") {
                endpoints.push({
                    hostname: endpoint[1],
                    endpointId: endpoint[4],
                    name: String(record.name),
                    mac: String(record.mac ?? ""),
                    profileIds: Array.isArray(record.profile_ids) ? record.profile_ids.map(String) : [],
                    ipv4: Array.isArray(record.ipv4_nets) ? record.ipv4_nets.map(String) : [],
                });
            }
        } else if (bgpHost !== null) {
            hostAddresses.set(bgpHost[1], value);
        } else if (affinity !== null) {
            affinities.set(affinity[1], [...(affinities.get(affinity[1]) ?? []), affinity[2].replace("-", "/")]);
        } else if (key.startsWith(`${paths.pools}/`)) {
            const pool = parseOrUndefined(value) as { cidr?: unknown } | undefined;
            if (typeof pool?.cidr === "string") {
                pools.push(pool.cidr);
            }
        }
    }
    const defaultEndpointToHostAction =
        keys.get(`${paths.hosts}/${self}/config/DefaultEndpointToHostAction`) ??
        keys.get(`${paths.config}/DefaultEndpointToHostAction`) ??
        "DROP";
    return { profiles, endpoints, hostAddresses, affinities, pools, defaultEndpointToHostAction };
}
