// @ts-check
// libcalico v0.14.0's DatastoreClient for profiles and endpoints, over etcd's v2 HTTP API, and the Docker
// network lookup calicoctl makes. Sources: projectcalico/libcalico v0.14.0 calico_containers/pycalico/datastore.py
// (handle_errors, DatastoreClient.__init__'s ETCD_AUTHORITY check through pycalico/util.py
// validate_hostname_port, profile_exists, create_profile, remove_profile, get_profile_names, get_profile,
// profile_update_tags, profile_update_rules, get_endpoints) and datastore_datatypes.py (Endpoint.from_json);
// docker-py 1.7.2's Client.inspect_network as calico-containers v0.19.0 calicoctl/calico_ctl/profile.py uses it.
"use strict";

const http = require("node:http");
const { CommandExit, PythonException, paragraph, pythonInt, pythonJson, pythonStr } = require("./python");
const { PythonDict } = require("./pythonDict");
const { Rule, Rules } = require("./libcalico");

const PROFILES_PATH = "/calico/v1/policy/profile";
const HOSTS_PATH = "/calico/v1/host";
const ENDPOINT_KEY = /^\/calico\/v1\/host\/([^/]*)\/workload\/([^/]*)\/([^/]*)\/endpoint\/([^/]*)$/;
const REQUEST_TIMEOUT_MS = 10000;
const DOCKER_TIMEOUT_MS = 3000;

/**
 * @typedef {{ key: string, value?: string, dir?: boolean, nodes?: EtcdNode[] }} EtcdNode
 * @typedef {{ Id: string, Name: string }} DockerNetwork
 */

/** libcalico's Profile: a name, a set of tags (a set iterates in hash order, as a dict's keys do), and Rules. */
class Profile {
    /** @param {string} name */
    constructor(name) {
        this.name = name;
        /** @type {PythonDict<true>} */
        this.tags = new PythonDict();
        this.rules = new Rules(name, [], []);
    }
}

/** handle_errors: an etcd failure becomes a DataStoreError, which calicoctl's main prints with print_paragraph. @param {string} operation @param {string} reason */
function datastoreError(operation, reason) {
    return new CommandExit(paragraph(`${operation}: Error accessing etcd (${reason}).  Is etcd running?`), 1);
}

/** pycalico.util.validate_hostname_port, as DatastoreClient.__init__ runs it on ETCD_AUTHORITY. @param {string} authority */
function checkAuthority(authority) {
    const parts = authority.split(":");
    const labelsValid = (/** @type {string} */ host) => host.length <= 255
        && host.split(".").every((label) => /^(?!-)[a-z\d-]{1,63}$/i.test(label) && !label.endsWith("-"));
    const port = parts.length === 2 ? pythonInt(parts[1]) : undefined;
    if (parts.length !== 2 || !labelsValid(parts[0]) || port === undefined || port < 1 || port > 65535) {
        throw new CommandExit(paragraph(`Invalid ETCD_AUTHORITY. Address must take the form <address>:<port>. Value provided is '${authority}'`), 1);
    }
}

class Etcd {
    /** @param {string} authority host:port, already checked */
    constructor(authority) {
        this.authority = authority;
        const [host, port] = authority.split(":");
        this.host = host;
        this.port = Number(port);
    }

    /**
     * @param {string} operation the libcalico function the real tool would name in a datastore error
     * @param {string} method @param {string} key @param {string} [query] @param {string} [form]
     * @returns {Promise<{ status: number, body: any }>}
     */
    request(operation, method, key, query = "", form = undefined) {
        const path = "/v2/keys" + key.split("/").map(encodeURIComponent).join("/") + (query ? `?${query}` : "");
        const headers = form === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded" };
        return new Promise((resolve, reject) => {
            const request = http.request({ host: this.host, port: this.port, method, path, headers, agent: false,
                timeout: REQUEST_TIMEOUT_MS }, (response) => {
                let text = "";
                response.setEncoding("utf8");
                response.on("data", (data) => { text += data; });
                response.on("end", () => resolve({ status: response.statusCode ?? 0, body: parseJsonOr(text, {}) }));
            });
            request.on("timeout", () => request.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
            request.on("error", (error) => reject(datastoreError(operation,
                `Connection to etcd at ${this.authority} failed due to ${error.message}`)));
            request.end(form);
        });
    }

    /** @param {string} operation @param {{ status: number, body: any }} response */
    static check(operation, response) {
        if (response.status >= 300 && response.body.errorCode !== 100) {
            throw datastoreError(operation, `${response.status} ${response.body.message ?? ""} ${response.body.cause ?? ""}`.trim());
        }
    }

    /** @param {string} operation @param {string} key @returns {Promise<EtcdNode | undefined>} */
    async read(operation, key, recursive = false) {
        const response = await this.request(operation, "GET", key, recursive ? "recursive=true" : "");
        Etcd.check(operation, response);
        return response.status === 200 ? response.body.node : undefined;
    }

    /** @param {string} operation @param {string} key @param {string} value */
    async write(operation, key, value) {
        Etcd.check(operation, await this.request(operation, "PUT", key, "", `value=${encodeURIComponent(value)}`));
    }

    /** @param {string} operation @param {string} key @returns {Promise<boolean>} whether it existed */
    async removeDir(operation, key) {
        const response = await this.request(operation, "DELETE", key, "recursive=true");
        Etcd.check(operation, response);
        return response.status === 200;
    }
}

/** @param {string} text @param {unknown} fallback */
function parseJsonOr(text, fallback) {
    try {
        return JSON.parse(text);
    } catch {
        return fallback;
    }
}

/** @param {EtcdNode} node @returns {EtcdNode[]} */
function leaves(node) {
    return node.dir ? (node.nodes ?? []).flatMap(leaves) : [node];
}

/** @param {string} name */
function profilePath(name) {
    return `${PROFILES_PATH}/${name}`;
}

/** docker-py's inspect_network over DOCKER_HOST's unix socket (GET /networks/<name, ID or ID prefix>). */
class Docker {
    /** @param {string} dockerHost */
    constructor(dockerHost) {
        this.socketPath = dockerHost.startsWith("unix://") ? "/" + dockerHost.slice("unix://".length).replace(/^\/+/, "") : undefined;
    }

    /** The network, or undefined where docker-py raises APIError (no such network). @param {string} nameOrId @returns {Promise<DockerNetwork | undefined>} */
    inspectNetwork(nameOrId) {
        const socketPath = this.socketPath;
        if (socketPath === undefined || nameOrId === "") {
            return Promise.resolve(undefined);
        }
        return new Promise((resolve) => {
            const request = http.request({ socketPath, path: `/networks/${encodeURIComponent(nameOrId)}`, agent: false,
                timeout: DOCKER_TIMEOUT_MS }, (response) => {
                let text = "";
                response.setEncoding("utf8");
                response.on("data", (data) => { text += data; });
                response.on("end", () => {
                    const network = response.statusCode === 200 ? parseJsonOr(text, undefined) : undefined;
                    resolve(typeof network?.Id === "string" ? /** @type {DockerNetwork} */ (network) : undefined);
                });
            });
            request.on("timeout", () => request.destroy());
            request.on("error", () => resolve(undefined));
            request.end();
        });
    }
}

/** The part of libcalico's DatastoreClient that the profile command uses. */
class Datastore {
    /** @param {Etcd} etcd */
    constructor(etcd) {
        this.etcd = etcd;
    }

    /** @param {string} name */
    async profileExists(name) {
        return await this.etcd.read("profile_exists", profilePath(name)) !== undefined;
    }

    /** create_profile: tags, labels, then Rules(id=name, [Rule(action="allow", src_tag=name)], [Rule(action="allow")]). @param {string} name */
    async createProfile(name) {
        const acceptSelf = Rule.fromKwargs(PythonDict.fromEntries([["action", "allow"], ["src_tag", name]]));
        const defaultAllow = Rule.fromKwargs(PythonDict.fromEntries([["action", "allow"]]));
        await this.etcd.write("create_profile", `${profilePath(name)}/tags`, `["${name}"]`);
        await this.etcd.write("create_profile", `${profilePath(name)}/labels`, "{}");
        await this.etcd.write("create_profile", `${profilePath(name)}/rules`, new Rules(name, [acceptSelf], [defaultAllow]).toJson());
    }

    /** @param {string} name */
    async removeProfile(name) {
        await this.etcd.removeDir("remove_profile", profilePath(name));
    }

    async profileNames() {
        const node = await this.etcd.read("get_profile_names", PROFILES_PATH);
        return (node?.nodes ?? []).map((child) => child.key.split("/")[5]).filter((name) => name !== undefined);
    }

    /**
     * get_profile: a missing profile raises KeyError; the stored tags and rules are read with json.loads and
     * Rules.from_json, so a rule libcalico refuses raises here. One recursive read instead of three.
     * @param {string} name @returns {Promise<Profile>}
     */
    async getProfile(name) {
        const node = await this.etcd.read("get_profile", profilePath(name), true);
        if (node === undefined) {
            throw new PythonException("KeyError", `'${name} is not a configured profile.'`);
        }
        const profile = new Profile(name);
        /** @param {string} key */
        const valueOf = (key) => node.nodes?.find((child) => child.key === `${profilePath(name)}/${key}`)?.value;
        const tagsText = valueOf("tags");
        if (tagsText !== undefined) {
            const tags = parseJsonOr(tagsText, []);
            profile.tags = PythonDict.fromEntries((Array.isArray(tags) ? tags : []).map((tag) => [pythonStr(tag), true]));
        }
        const rulesText = valueOf("rules");
        if (rulesText !== undefined) {
            profile.rules = Rules.fromJson(rulesText);
        }
        return profile;
    }

    /** profile_update_tags: json.dumps(list(profile.tags)). @param {Profile} profile */
    async updateTags(profile) {
        await this.etcd.write("profile_update_tags", `${profilePath(profile.name)}/tags`, pythonJson(profile.tags.keys()));
    }

    /** profile_update_rules: profile.rules.to_json(), which fails on a port range before anything is written. @param {Profile} profile */
    async updateRules(profile) {
        const text = profile.rules.toJson();
        await this.etcd.write("profile_update_rules", `${profilePath(profile.name)}/rules`, text);
    }

    /** get_endpoints: every endpoint under /calico/v1/host, with Endpoint.from_json's profile_id/profile_ids. */
    async endpoints() {
        const node = await this.etcd.read("get_endpoints", HOSTS_PATH, true);
        return (node === undefined ? [] : leaves(node)).flatMap((leaf) => {
            const match = ENDPOINT_KEY.exec(leaf.key);
            if (!match) {
                return [];
            }
            const data = parseJsonOr(leaf.value ?? "", {});
            const profileIds = data.profile_id ? [data.profile_id] : (data.profile_ids ?? []);
            return [{ hostname: match[1], orchestratorId: match[2], workloadId: match[3], endpointId: match[4],
                state: pythonStr(data.state), profileIds: /** @type {string[]} */ (profileIds) }];
        });
    }

    /** get_profile_members. @param {string} name */
    async members(name) {
        return (await this.endpoints()).filter((endpoint) => endpoint.profileIds.includes(name));
    }
}

module.exports = { Datastore, Docker, Etcd, Profile, checkAuthority };
