// @ts-check
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
"use strict";
const { errorCodes, EtcdError, leaves } = require("./etcd");

const paths = {
    profiles: "/calico/v1/policy/profile",
    hosts: "/calico/v1/host",
    pools: "/calico/v1/ipam/v4/pool",
    networks: "/calico/libnetwork/v1",
    bgpHosts: "/calico/bgp/v1/host",
    config: "/calico/v1/config",
};

/** libcalico's ORCHESTRATOR_ID and CONTAINER_NAME for libnetwork (driver_plugin.py). */
const LIBNETWORK_ID = "libnetwork";
/** libcalico datastore_datatypes.IF_PREFIX, the host side of every workload veth. */
const IF_PREFIX = "cali";
/** startup.py DEFAULT_IPV4_POOL. */
const DEFAULT_IPV4_POOL = "192.168.0.0/16";

/** @typedef {import("./etcd").Etcd} Etcd */
/**
 * @typedef {{ state: string, name: string, mac: string, profile_ids: string[], ipv4_nets: string[], ipv6_nets: string[],
 *   ipv4_gateway: string | null, ipv6_gateway: string | null }} EndpointRecord
 */

/** Python 2's json.dumps: ", " and ": " separators, non-ASCII escaped. @param {unknown} value @returns {string} */
function pythonJson(value) {
    if (Array.isArray(value)) {
        return `[${value.map(pythonJson).join(", ")}]`;
    }
    if (value !== null && typeof value === "object") {
        return `{${Object.entries(value).map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`).join(", ")}}`;
    }
    return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** pycalico.util.generate_cali_interface_name. @param {string} prefix @param {string} endpointId */
function interfaceName(prefix, endpointId) {
    return prefix + endpointId.slice(0, 11);
}

/** @param {string} hostname @param {string} endpointId */
function endpointKey(hostname, endpointId) {
    return `${paths.hosts}/${hostname}/workload/${LIBNETWORK_ID}/${LIBNETWORK_ID}/endpoint/${endpointId}`;
}

/** The same pattern as libcalico's Endpoint.ENDPOINT_KEY_MATCH. */
const ENDPOINT_KEY = /^\/calico\/v1\/host\/([^/]+)\/workload\/([^/]+)\/([^/]+)\/endpoint\/([^/]+)$/;

class Datastore {
    /** @param {Etcd} etcd */
    constructor(etcd) {
        this.etcd = etcd;
    }

    /** create_profile with the default rules: tags, then rules (v0.12 writes no labels key). @param {string} id */
    async createProfile(id) {
        await this.etcd.set(`${paths.profiles}/${id}/tags`, pythonJson([id]));
        await this.etcd.set(`${paths.profiles}/${id}/rules`,
            pythonJson({ id, inbound_rules: [{ action: "allow", src_tag: id }], outbound_rules: [{ action: "allow" }] }));
    }

    /** remove_profile: a missing profile is a KeyError, whose str() Flask returns quoted. @param {string} id */
    async removeProfile(id) {
        if (!await this.etcd.delete(`${paths.profiles}/${id}`, { recursive: true, dir: true })) {
            throw new Error(`'${id} is not a configured profile.'`);
        }
    }

    /** @param {string} id @param {unknown} createNetworkRequest */
    async writeNetwork(id, createNetworkRequest) {
        await this.etcd.set(`${paths.networks}/${id}`, pythonJson(createNetworkRequest));
    }

    /** @param {string} id @returns {Promise<any>} the CreateNetwork request, or undefined */
    async network(id) {
        const node = await this.etcd.get(`${paths.networks}/${id}`);
        return node === undefined ? undefined : JSON.parse(node.value ?? "null");
    }

    /** @param {string} id */
    removeNetwork(id) {
        return this.etcd.delete(`${paths.networks}/${id}`);
    }

    /** set_endpoint. @param {string} hostname @param {string} endpointId @param {EndpointRecord} record */
    async setEndpoint(hostname, endpointId, record) {
        await this.etcd.set(endpointKey(hostname, endpointId), pythonJson(record));
    }

    /** @param {string} hostname @param {string} endpointId @returns {Promise<EndpointRecord | undefined>} */
    async endpoint(hostname, endpointId) {
        const node = await this.etcd.get(endpointKey(hostname, endpointId));
        return node === undefined ? undefined : JSON.parse(node.value ?? "null");
    }

    /** remove_endpoint: delete(dir=True, recursive=True); a missing key raises, as python-etcd's delete does. */
    async removeEndpoint(/** @type {string} */ hostname, /** @type {string} */ endpointId) {
        if (!await this.etcd.delete(endpointKey(hostname, endpointId), { recursive: true, dir: true })) {
            throw new EtcdError(`Key not found : ${endpointKey(hostname, endpointId)}`, errorCodes.keyNotFound);
        }
    }

    /** get_default_next_hops: IPv4 only here (the sandbox has no IPv6). @param {string} hostname */
    async defaultNextHop4(hostname) {
        const [v4, v6] = await Promise.all(["ip_addr_v4", "ip_addr_v6"].map((leaf) => this.etcd.get(`${paths.bgpHosts}/${hostname}/${leaf}`)));
        if (v4 === undefined || v6 === undefined) {
            throw new Error(`'BGP configuration for host ${hostname} not found.'`);
        }
        return v4.value || null;
    }

    /** get_ip_pools(4, ipam=True): the CIDRs of the pools Calico IPAM assigns from. @returns {Promise<string[]>} */
    async ipamPools4() {
        const node = await this.etcd.get(paths.pools, { recursive: true });
        return [...leaves(node).values()].filter(Boolean).map((value) => JSON.parse(value))
            .filter((pool) => pool.ipam !== false && pool.disabled !== true).map((pool) => pool.cidr);
    }

    /**
     * What calico-node's startup does before its services start (startup.py main): the default pool when none
     * exists, ensure_global_config's defaults, create_host.
     * @param {string} hostname @param {string} address
     */
    async startNode(hostname, address) {
        if ((await this.ipamPools4()).length === 0) {
            await this.etcd.set(`${paths.pools}/${DEFAULT_IPV4_POOL.replace("/", "-")}`, pythonJson({ cidr: DEFAULT_IPV4_POOL }));
        }
        const defaults = [
            [`${paths.config}/InterfacePrefix`, IF_PREFIX],
            ["/calico/bgp/v1/global/as_num", "64511"],
            ["/calico/bgp/v1/global/node_mesh", pythonJson({ enabled: true })],
            [`${paths.config}/LogSeverityFile`, "none"],
            [`${paths.config}/LogSeverityScreen`, "info"],
            [`${paths.config}/LogFilePath`, "none"],
            [`${paths.config}/IpInIpEnabled`, "false"],
        ];
        for (const [key, value] of defaults) {
            await this.etcd.set(key, value, { prevExist: false }).catch((error) => {
                if (error.errorCode !== errorCodes.nodeExists) {
                    throw error;
                }
            });
        }
        await this.etcd.set(`/calico/ipam/v2/host/${hostname}/ipv4/block`, undefined, { dir: true }).catch(ignoreExisting);
        await this.etcd.set("/calico/v1/Ready", "true");
        await this.etcd.set(`${paths.hosts}/${hostname}/bird_ip`, address);
        await this.etcd.set(`${paths.bgpHosts}/${hostname}/ip_addr_v4`, address);
        await this.etcd.set(`${paths.bgpHosts}/${hostname}/ip_addr_v6`, "");
        await this.etcd.set(`${paths.hosts}/${hostname}/workload`, undefined, { dir: true }).catch(ignoreExisting);
        await this.etcd.set(`${paths.hosts}/${hostname}/config/DefaultEndpointToHostAction`, "RETURN");
        await this.etcd.set(`${paths.hosts}/${hostname}/config/marker`, "created");
    }
}

/** python-etcd's EtcdNotFile / EtcdAlreadyExist on a dir that is there already: fine. @param {any} error */
function ignoreExisting(error) {
    if (error.errorCode !== errorCodes.nodeExists && error.errorCode !== errorCodes.notAFile) {
        throw error;
    }
}

module.exports = { Datastore, paths, pythonJson, interfaceName, endpointKey, ENDPOINT_KEY, LIBNETWORK_ID, IF_PREFIX, DEFAULT_IPV4_POOL };
