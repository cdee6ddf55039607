// A Docker network on the calico driver: the runbook's step 1. Calico-libnetwork
// creates one profile per network, named by the network's ID.
//
// Ownership is recorded on the network itself, in the same command that creates it: the driver option
// `calico-stars.owner=<owner id>` (`docker network create -o`, present since Docker 1.9,
// docker/docker v1.9.0 api/client/network.go; kept by libnetwork with the network and shown by
// `docker network inspect` as "Options", v1.9.0 api/server/router/network/network_routes.go;
// network labels only came with Docker 1.11). calico-libnetwork v0.8-v0.10 (driver_plugin.py
// create_network) reads only `ipip` and `nat-outgoing` from these options and ignores the rest.
// So a network this stack made is recognised after an interrupted run, and any other network of the
// same name is refused unless the user adopts it (config adoptNetworks).
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
    calicoctlRule,
    libnetworkDefaultRules,
    ProfileRulesJson,
    profileRulesJsonSchema,
    restoreProfileRules,
} from "./calico/calicoctl";
import { OwnershipError, RemoteCommandError } from "./errors";
import { checkInputs, configureFromStack, gone, Provider, requireHost, sameHost, withoutUndefined } from "./provider";
import { command, privileged, runChecked, sh, SshHost, sshHostSchema } from "./ssh";
import { networkName, ownerId, ownerKey } from "./validators";

/** What a network is made from; the DockerNetwork resource (components/dockerNetwork.ts) takes these as its args. */
const dockerNetworkInputs = z.object({
    /** The host whose Docker daemon creates the network (networks are cluster-wide through the cluster store). */
    host: sshHostSchema,
    /** The Docker network's name; also the Calico tag other profiles use for it. */
    networkName,
    /** `--subnet`, needed for a container that asks for a fixed `--ip`. */
    subnet: z.string().optional(),
    /** This stack's ownership id, recorded on the network as the driver option `calico-stars.owner`. */
    ownerId,
    /** Take over a network of this name that this stack did not make (config `adoptNetworks`). */
    adopt: z.boolean().optional(),
    /** ETCD_AUTHORITY for calicoctl, which reads an adopted network's rules. */
    etcdAuthority: z.string().optional(),
});

export type DockerNetworkInputs = z.output<typeof dockerNetworkInputs>;

export interface DockerNetworkOutputs extends DockerNetworkInputs {
    /** Docker's ID for the network, which is also the name of its Calico profile. */
    networkId: string;
    /** The network existed and was adopted: destroy leaves it in place and restores its rules. */
    adopted: boolean;
    /** An adopted network's profile rules as they were before adoption. */
    rulesBeforeAdoption?: ProfileRulesJson;
}

interface InspectedNetwork {
    id: string;
    name: string;
    driver: string;
    ipamDriver: string;
    subnets: string[];
    /** The `calico-stars.owner` driver option, when the network has one. */
    owner?: string;
    /** Containers attached, as "name (id)". */
    containers: string[];
}

const inspectText = z.string().nullish();
const inspectOutputSchema = z.array(
    z
        .object({
            Id: inspectText,
            ID: inspectText,
            Name: inspectText,
            Driver: inspectText,
            IPAM: z
                .object({ Driver: inspectText, Config: z.array(z.object({ Subnet: inspectText }).loose()).nullish() })
                .loose()
                .nullish(),
            Options: z.record(z.string(), z.string()).nullish(),
            Containers: z.record(z.string(), z.object({ Name: inspectText }).loose()).nullish(),
        })
        .loose(),
);

function inspectArgv(host: SshHost, network: string): string[] {
    return privileged(host, ["docker", "network", "inspect", network]);
}

function parseInspect(stdout: string, network: string): InspectedNetwork {
    let json: unknown;
    try {
        json = JSON.parse(stdout);
    } catch {
        throw new RemoteCommandError(`docker network inspect ${network}: unexpected output: ${stdout.slice(0, 200)}`);
    }
    const parsed = inspectOutputSchema.safeParse(json);
    const entry = parsed.success ? parsed.data[0] : undefined;
    const id = entry?.Id ?? entry?.ID;
    if (!entry || !id) {
        throw new RemoteCommandError(
            `docker network inspect ${network}: no network in the output: ${stdout.slice(0, 200)}`,
        );
    }
    return {
        id,
        name: entry.Name ?? network,
        driver: entry.Driver ?? "",
        ipamDriver: entry.IPAM?.Driver ?? "",
        subnets: (entry.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === "string"),
        owner: entry.Options?.[ownerKey],
        containers: Object.entries(entry.Containers ?? {}).map(
            ([containerId, c]) => `${c.Name ?? "?"} (${containerId.slice(0, 12)})`,
        ),
    };
}

function specProblem(found: InspectedNetwork, wanted: DockerNetworkInputs): string | undefined {
    if (found.driver !== "calico" || found.ipamDriver !== "calico") {
        return `it uses driver "${found.driver}" and IPAM driver "${found.ipamDriver}", not calico`;
    }
    if (wanted.subnet !== undefined && !found.subnets.includes(wanted.subnet)) {
        return `its subnets are [${found.subnets.join(", ")}], not ${wanted.subnet}`;
    }
    return undefined;
}

/** Creates the network, marked as this stack's, unless one of that name exists; one SSH command either way. */
async function ensureNetwork(inputs: DockerNetworkInputs): Promise<InspectedNetwork> {
    const { host, networkName } = inputs;
    const create = command(
        privileged(host, [
            "docker",
            "network",
            "create",
            "--driver",
            "calico",
            "--ipam-driver",
            "calico",
            ...(inputs.subnet !== undefined ? [`--subnet=${inputs.subnet}`] : []),
            "-o",
            `${ownerKey}=${inputs.ownerId}`,
            networkName,
        ]),
    );
    const inspect = command(inspectArgv(host, networkName));
    // a failed inspect still prints "[]", so only a successful one may reach stdout
    const script = sh`if found=$(${inspect} 2>/dev/null); then printf '%s' "$found"; else ${create} >&2 && ${inspect}; fi`;
    const result = await runChecked(host, script);
    return parseInspect(result.stdout, networkName);
}

async function profileRulesNow(inputs: DockerNetworkInputs): Promise<ProfileRulesJson> {
    const argv = calicoctlRule(inputs.host, inputs.networkName, inputs.etcdAuthority, ["json"]);
    const result = await runChecked(inputs.host, argv);
    const parsed = profileRulesJsonSchema.safeParse(jsonOrUndefined(result.stdout));
    if (!parsed.success) {
        throw new RemoteCommandError(
            `calicoctl profile ${inputs.networkName} rule json: unexpected output: ${result.stdout.slice(0, 200)}`,
        );
    }
    return { inbound_rules: parsed.data.inbound_rules, outbound_rules: parsed.data.outbound_rules };
}

function jsonOrUndefined(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** A failed `docker network rm` says which containers still use the network, so the user knows what to stop. */
async function attachedContainers(props: DockerNetworkOutputs, id: string): Promise<string> {
    const inspected = await runChecked(props.host, inspectArgv(props.host, id), { accept: () => true }).catch(
        () => undefined,
    );
    const containers = inspected?.code === 0 ? parseInspect(inspected.stdout, id).containers : [];
    return containers.length === 0
        ? ""
        : `; network ${props.networkName} (${id}) is still used by ${containers.join(", ")}: ` +
              `stop or disconnect them (docker rm -f, docker network disconnect ${props.networkName}), then run pulumi up or destroy again`;
}

/**
 * A network that stays keeps its profile, and no one else takes the stack's rules off it: its ProfileRules were
 * deleted with it (deletedWith), so their Delete, which resets the profile, never ran. It gets libnetwork's
 * defaults back here, which the next successful removal drops anyway.
 */
async function resetProfile(props: DockerNetworkOutputs): Promise<string> {
    const shown = `libnetwork's defaults (inbound "allow from tag ${props.networkName}", outbound "allow")`;
    try {
        await restoreProfileRules(
            props.host,
            props.networkName,
            props.etcdAuthority,
            libnetworkDefaultRules(props.networkName),
        );
        return `; its Calico profile was reset to ${shown}`;
    } catch (err) {
        return `; resetting its Calico profile to ${shown} failed as well: ${(err as Error).message}`;
    }
}

function isNoSuchNetwork(output: string): boolean {
    return /no such network|not found/i.test(output);
}

export const dockerNetworkProvider: Provider<DockerNetworkInputs, DockerNetworkOutputs> = {
    configure: configureFromStack,

    async check(_olds, news) {
        return checkInputs<DockerNetworkInputs>(dockerNetworkInputs, news);
    },

    // An unknown value (preview) never equals the old one, so it shows as the change it will be. The owner
    // id, adoption and etcd address do not change the network.
    async diff(_id, olds, news) {
        const replaces = [
            ...(olds.networkName !== news.networkName ? ["networkName"] : []),
            ...(olds.subnet !== news.subnet ? ["subnet"] : []),
        ];
        return {
            changes: replaces.length > 0 || !sameHost(olds.host, news.host),
            replaces,
            // the replacement takes the same name, so the old network must go first
            deleteBeforeReplace: true,
        };
    },

    async create(inputs) {
        const found = await ensureNetwork(inputs);
        const problem = specProblem(found, inputs);
        if (found.owner === inputs.ownerId && problem === undefined) {
            return { id: found.id, outs: withoutUndefined({ ...inputs, networkId: found.id, adopted: false }) };
        }
        if (found.owner === inputs.ownerId || (inputs.adopt && problem !== undefined)) {
            throw new OwnershipError(
                `Docker network "${inputs.networkName}" (ID ${found.id}) already exists on ${inputs.host.address} but ${problem}; ` +
                    `remove it (docker network rm ${inputs.networkName}) or choose another name`,
            );
        }
        if (!inputs.adopt) {
            throw new OwnershipError(
                `Docker network "${inputs.networkName}" (ID ${found.id}) already exists on ${inputs.host.address} and was not made by this stack ` +
                    `(${found.owner === undefined ? `it has no ${ownerKey} option` : `its ${ownerKey} is ${found.owner}, not ${inputs.ownerId}`}); ` +
                    `refusing to take it over. To manage its rules and leave the network in place on destroy, add it to calico-stars:adoptNetworks; ` +
                    `otherwise remove it (docker network rm ${inputs.networkName}) or choose another name`,
            );
        }
        const rulesBeforeAdoption = await profileRulesNow(inputs);
        pulumi.log.info(
            `adopting Docker network ${inputs.networkName} (${found.id}); its rules are restored on destroy`,
        );
        return {
            id: found.id,
            outs: withoutUndefined({ ...inputs, networkId: found.id, adopted: true, rulesBeforeAdoption }),
        };
    },

    async read(id, props) {
        const host = requireHost(props, `Docker network ${id}`);
        const argv = inspectArgv(host, id);
        const result = await runChecked(host, argv, { accept: (r) => isNoSuchNetwork(r.stderr + r.stdout) });
        if (result.code !== 0) {
            return gone();
        }
        const found = parseInspect(result.stdout, id);
        const outs = withoutUndefined({
            ...props,
            host,
            networkName: props?.networkName ?? found.name,
            networkId: found.id,
            ownerId: props?.ownerId ?? found.owner,
            // state from before adoption existed says nothing, and means made by the stack. A read without state (an
            // import) takes the network as the importer's only when its owner option is the importer's id: any other,
            // another stack's or one with no owner option, reads as adopted, so destroy leaves it
            adopted:
                props?.adopted ??
                (props?.networkName === undefined && (props?.ownerId === undefined || found.owner !== props.ownerId)),
        } as DockerNetworkOutputs);
        if (props?.subnet !== undefined && !found.subnets.includes(props.subnet)) {
            // drift that refresh shows; a missing key, never `undefined`, which gRPC's Struct cannot carry
            outs.subnet = found.subnets[0] ?? "";
        }
        return { id, props: outs };
    },

    async update(_id, olds, news) {
        // outputs not returned here are lost: adoption and the rules to restore carry over
        return {
            outs: withoutUndefined({
                ...news,
                networkId: olds.networkId,
                ownerId: olds.ownerId ?? news.ownerId,
                adopted: olds.adopted ?? false,
                rulesBeforeAdoption: olds.rulesBeforeAdoption,
            }),
        };
    },

    /** Removes a network this stack made; an adopted one stays, with its rules as they were before adoption. */
    async delete(id, props) {
        if (props.adopted) {
            if (props.rulesBeforeAdoption !== undefined) {
                await restoreProfileRules(
                    props.host,
                    props.networkName,
                    props.etcdAuthority,
                    props.rulesBeforeAdoption,
                );
            }
            return;
        }
        const argv = privileged(props.host, ["docker", "network", "rm", id]);
        try {
            await runChecked(props.host, argv, { accept: (result) => isNoSuchNetwork(result.stderr + result.stdout) });
        } catch (err) {
            if (!(err instanceof RemoteCommandError)) {
                throw err;
            }
            // the host answered, so its profile can be reset; the containers are named first, then what was done
            const containers = await attachedContainers(props, id);
            throw new RemoteCommandError(`${err.message}${containers}${await resetProfile(props)}`);
        }
    },
};
