// libcalico v0.14.0's DatastoreClient for profiles and endpoints, over etcd's v2 HTTP API, and the Docker
// network lookup calicoctl makes. Sources: projectcalico/libcalico v0.14.0 calico_containers/pycalico/datastore.py
// (handle_errors, DatastoreClient.__init__'s ETCD_AUTHORITY check through pycalico/util.py
// validate_hostname_port, profile_exists, create_profile, remove_profile, get_profile_names, get_profile,
// profile_update_tags, profile_update_rules, get_endpoints) and datastore_datatypes.py (Endpoint.from_json);
// docker-py 1.7.2's Client.inspect_network as calico-containers v0.19.0 calicoctl/calico_ctl/profile.py uses it.
import { paths } from "../calico/datastore";
import type { EtcdBody, EtcdNode } from "../calico/etcd";
import { httpRequest } from "../lib/http";
import { Rule, Rules } from "./libcalico";
import { CommandExit, paragraph, PythonException, pythonInt, pythonJson, pythonStr } from "./python";
import { PythonDict } from "./pythonDict";

const endpointKeyPattern = /^\/calico\/v1\/host\/([^/]*)\/workload\/([^/]*)\/([^/]*)\/endpoint\/([^/]*)$/;
const requestTimeoutMs = 10000;
const dockerTimeoutMs = 3000;

export interface DockerNetwork {
    Id: string;
    Name: string;
}

interface EtcdResponse {
    status: number;
    body: EtcdBody;
}

/** An endpoint as get_endpoints gives it. */
export interface EndpointSummary {
    hostname: string;
    orchestratorId: string;
    workloadId: string;
    endpointId: string;
    state: string;
    profileIds: string[];
}

/** libcalico's Profile: a name, a set of tags (a set iterates in hash order, as a dict's keys do), and Rules. */
export class Profile {
    tags = new PythonDict<true>();
    rules: Rules;

    constructor(readonly name: string) {
        this.rules = new Rules(name, [], []);
    }
}

/** handle_errors: an etcd failure becomes a DataStoreError, which calicoctl's main prints with print_paragraph. */
function datastoreError(operation: string, reason: string) {
    return new CommandExit(paragraph(`${operation}: Error accessing etcd (${reason}).  Is etcd running?`), 1);
}

/** pycalico.util.validate_hostname_port, as DatastoreClient.__init__ runs it on ETCD_AUTHORITY. */
export function checkAuthority(authority: string) {
    const parts = authority.split(":");
    const labelsValid = (host: string) =>
        host.length <= 255 &&
        host.split(".").every((label) => /^(?!-)[a-z\d-]{1,63}$/i.test(label) && !label.endsWith("-"));
    const port = parts.length === 2 ? pythonInt(parts[1]) : undefined;
    if (parts.length !== 2 || !labelsValid(parts[0]) || port === undefined || port < 1 || port > 65535) {
        throw new CommandExit(
            paragraph(
                `Invalid ETCD_AUTHORITY. Address must take the form <address>:<port>. Value provided is '${authority}'`,
            ),
            1,
        );
    }
}

export class Etcd {
    private readonly host: string;
    private readonly port: number;

    /** @param authority host:port, already checked */
    constructor(private readonly authority: string) {
        const [host, port] = authority.split(":");
        this.host = host;
        this.port = Number(port);
    }

    /** @param operation the libcalico function the real tool would name in a datastore error */
    private async request(
        operation: string,
        method: string,
        key: string,
        query = "",
        form?: string,
    ): Promise<EtcdResponse> {
        const path = "/v2/keys" + key.split("/").map(encodeURIComponent).join("/") + (query ? `?${query}` : "");
        const headers = form === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded" };
        const answer = await httpRequest(undefined, {
            host: this.host,
            port: this.port,
            method,
            path,
            headers,
            body: form,
            timeout: requestTimeoutMs,
        }).catch((error: Error) => {
            throw datastoreError(operation, `Connection to etcd at ${this.authority} failed due to ${error.message}`);
        });
        return { status: answer.status, body: parseJsonOr(answer.body, {}) as EtcdBody };
    }

    private static check(operation: string, response: EtcdResponse): void {
        if (response.status >= 300 && response.body.errorCode !== 100) {
            throw datastoreError(
                operation,
                `${response.status} ${response.body.message ?? ""} ${response.body.cause ?? ""}`.trim(),
            );
        }
    }

    async read(operation: string, key: string, recursive = false): Promise<EtcdNode | undefined> {
        const response = await this.request(operation, "GET", key, recursive ? "recursive=true" : "");
        Etcd.check(operation, response);
        return response.status === 200 ? response.body.node : undefined;
    }

    async write(operation: string, key: string, value: string): Promise<void> {
        Etcd.check(operation, await this.request(operation, "PUT", key, "", `value=${encodeURIComponent(value)}`));
    }

    /** @returns whether it existed */
    async removeDir(operation: string, key: string): Promise<boolean> {
        const response = await this.request(operation, "DELETE", key, "recursive=true");
        Etcd.check(operation, response);
        return response.status === 200;
    }
}

function parseJsonOr(text: string, fallback: unknown): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return fallback;
    }
}

function leaves(node: EtcdNode): EtcdNode[] {
    return node.dir ? (node.nodes ?? []).flatMap(leaves) : [node];
}

function profilePath(name: string) {
    return `${paths.profiles}/${name}`;
}

/** docker-py's inspect_network over DOCKER_HOST's unix socket (GET /networks/<name, ID or ID prefix>). */
export class Docker {
    private readonly socketPath: string | undefined;

    constructor(dockerHost: string) {
        this.socketPath = dockerHost.startsWith("unix://")
            ? "/" + dockerHost.slice("unix://".length).replace(/^\/+/, "")
            : undefined;
    }

    /** The network, or undefined where docker-py raises APIError (no such network). */
    async inspectNetwork(nameOrId: string): Promise<DockerNetwork | undefined> {
        const socketPath = this.socketPath;
        if (socketPath === undefined || nameOrId === "") {
            return undefined;
        }
        const answer = await httpRequest(undefined, {
            socketPath,
            path: `/networks/${encodeURIComponent(nameOrId)}`,
            timeout: dockerTimeoutMs,
        }).catch(() => undefined);
        const network = (answer?.status === 200 ? parseJsonOr(answer.body, undefined) : undefined) as
            Partial<DockerNetwork> | undefined;
        return typeof network?.Id === "string" ? (network as DockerNetwork) : undefined;
    }
}

/** The part of libcalico's DatastoreClient that the profile command uses. */
export class Datastore {
    constructor(private readonly etcd: Etcd) {}

    async profileExists(name: string): Promise<boolean> {
        return (await this.etcd.read("profile_exists", profilePath(name))) !== undefined;
    }

    /**
     * create_profile: tags, labels, then Rules(id=name, [Rule(action="allow", src_tag=name)], [Rule(action="allow")]).
     */
    async createProfile(name: string): Promise<void> {
        const acceptSelf = Rule.fromKwargs(
            PythonDict.fromEntries([
                ["action", "allow"],
                ["src_tag", name],
            ]),
        );
        const defaultAllow = Rule.fromKwargs(PythonDict.fromEntries([["action", "allow"]]));
        await this.etcd.write("create_profile", `${profilePath(name)}/tags`, `["${name}"]`);
        await this.etcd.write("create_profile", `${profilePath(name)}/labels`, "{}");
        await this.etcd.write(
            "create_profile",
            `${profilePath(name)}/rules`,
            new Rules(name, [acceptSelf], [defaultAllow]).toJson(),
        );
    }

    async removeProfile(name: string): Promise<void> {
        await this.etcd.removeDir("remove_profile", profilePath(name));
    }

    async profileNames(): Promise<string[]> {
        const node = await this.etcd.read("get_profile_names", paths.profiles);
        return (node?.nodes ?? []).map((child) => child.key.split("/")[5]).filter((name) => name !== undefined);
    }

    /**
     * get_profile: a missing profile raises KeyError; the stored tags and rules are read with json.loads and
     * Rules.from_json, so a rule libcalico refuses raises here. One recursive read instead of three.
     */
    async getProfile(name: string): Promise<Profile> {
        const node = await this.etcd.read("get_profile", profilePath(name), true);
        if (node === undefined) {
            throw new PythonException("KeyError", `'${name} is not a configured profile.'`);
        }
        const profile = new Profile(name);
        const valueOf = (key: string) =>
            node.nodes?.find((child) => child.key === `${profilePath(name)}/${key}`)?.value;
        const tagsText = valueOf("tags");
        if (tagsText !== undefined) {
            const tags = parseJsonOr(tagsText, []);
            profile.tags = PythonDict.fromEntries(
                (Array.isArray(tags) ? (tags as unknown[]) : []).map((tag): [string, true] => [pythonStr(tag), true]),
            );
        }
        const rulesText = valueOf("rules");
        if (rulesText !== undefined) {
            profile.rules = Rules.fromJson(rulesText);
        }
        return profile;
    }

    /** profile_update_tags: json.dumps(list(profile.tags)). */
    async updateTags(profile: Profile): Promise<void> {
        await this.etcd.write(
            "profile_update_tags",
            `${profilePath(profile.name)}/tags`,
            pythonJson(profile.tags.keys()),
        );
    }

    /** profile_update_rules: profile.rules.to_json(), which fails on a port range before anything is written. */
    async updateRules(profile: Profile): Promise<void> {
        const text = profile.rules.toJson();
        await this.etcd.write("profile_update_rules", `${profilePath(profile.name)}/rules`, text);
    }

    /** get_endpoints: every endpoint under /calico/v1/host, with Endpoint.from_json's profile_id/profile_ids. */
    async endpoints(): Promise<EndpointSummary[]> {
        const node = await this.etcd.read("get_endpoints", paths.hosts, true);
        return (node === undefined ? [] : leaves(node)).flatMap((leaf) => {
            const match = endpointKeyPattern.exec(leaf.key);
            if (!match) {
                return [];
            }
            const data = parseJsonOr(leaf.value ?? "", {}) as {
                state?: unknown;
                profile_id?: string;
                profile_ids?: string[];
            };
            const profileIds = data.profile_id ? [data.profile_id] : (data.profile_ids ?? []);
            return [
                {
                    hostname: match[1],
                    orchestratorId: match[2],
                    workloadId: match[3],
                    endpointId: match[4],
                    state: pythonStr(data.state),
                    profileIds,
                },
            ];
        });
    }

    /** get_profile_members. */
    async members(name: string): Promise<EndpointSummary[]> {
        return (await this.endpoints()).filter((endpoint) => endpoint.profileIds.includes(name));
    }
}
