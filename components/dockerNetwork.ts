// A Docker network on the calico driver: the runbook's step 1. Calico-libnetwork
// creates one profile per network, named by the network's ID.
import * as pulumi from "@pulumi/pulumi";
import { configureFromStack, Resolved, sameHost } from "./providerSupport";
import { commandLine, commandFailure, privileged, runCommand, SshError, SshHost } from "./ssh";

export interface DockerNetworkArgs {
    /** The host whose Docker daemon creates the network (networks are cluster-wide through the cluster store). */
    host: pulumi.Input<SshHost>;
    /** The Docker network's name; also the Calico tag other profiles use for it. */
    networkName: pulumi.Input<string>;
    /** `--subnet`, needed for a container that asks for a fixed `--ip`. */
    subnet?: pulumi.Input<string>;
}

type DockerNetworkInputs = Resolved<DockerNetworkArgs>;

interface DockerNetworkOutputs extends DockerNetworkInputs {
    /** Docker's ID for the network, which is also the name of its Calico profile. */
    networkId: string;
}

interface InspectedNetwork {
    id: string;
    driver: string;
    ipamDriver: string;
    subnets: string[];
}

function inspectArgv(host: SshHost, network: string): string[] {
    return privileged(host, ["docker", "network", "inspect", network]);
}

function parseInspect(stdout: string, network: string): InspectedNetwork {
    let parsed: unknown;
    try {
        parsed = JSON.parse(stdout);
    } catch {
        throw new SshError(`docker network inspect ${network}: unexpected output: ${stdout.slice(0, 200)}`);
    }
    const entry = (Array.isArray(parsed) ? parsed[0] : undefined) as
        { Id?: string; ID?: string; Driver?: string; IPAM?: { Driver?: string; Config?: { Subnet?: string }[] | null } } | undefined;
    const id = entry?.Id ?? entry?.ID;
    if (!entry || !id) {
        throw new SshError(`docker network inspect ${network}: no network in the output`);
    }
    return {
        id,
        driver: entry.Driver ?? "",
        ipamDriver: entry.IPAM?.Driver ?? "",
        subnets: (entry.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === "string"),
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

/** Creates the network unless one of that name exists; one SSH command either way. */
async function ensureNetwork(inputs: DockerNetworkInputs): Promise<InspectedNetwork> {
    const { host, networkName } = inputs;
    const create = privileged(host, ["docker", "network", "create", "--driver", "calico", "--ipam-driver", "calico",
        ...(inputs.subnet !== undefined ? [`--subnet=${inputs.subnet}`] : []), networkName]);
    const inspect = commandLine(inspectArgv(host, networkName));
    // a failed inspect still prints "[]", so only a successful one may reach stdout
    const script = `if found=$(${inspect} 2>/dev/null); then printf '%s' "$found"; else ${commandLine(create)} >&2 && ${inspect}; fi`;
    const result = await runCommand(host, { script });
    if (result.code !== 0) {
        throw commandFailure(host, create, result);
    }
    const found = parseInspect(result.stdout, networkName);
    const problem = specProblem(found, inputs);
    if (problem !== undefined) {
        throw new SshError(`Docker network "${networkName}" already exists on ${host.address} but ${problem}; remove it (docker network rm ${networkName}) or choose another name`);
    }
    return found;
}

export const dockerNetworkProvider: pulumi.dynamic.ResourceProvider = {
    configure: configureFromStack,

    async check(_olds: DockerNetworkInputs, news: DockerNetworkInputs) {
        return { inputs: news };
    },

    // An unknown value (preview) never equals the old one, so it shows as the change it will be.
    async diff(_id: string, olds: DockerNetworkOutputs, news: DockerNetworkInputs) {
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

    async create(inputs: DockerNetworkInputs) {
        const found = await ensureNetwork(inputs);
        const outs: DockerNetworkOutputs = { ...inputs, networkId: found.id };
        return { id: found.id, outs };
    },

    async read(id: string, props: DockerNetworkOutputs) {
        const result = await runCommand(props.host, inspectArgv(props.host, id));
        if (result.code !== 0) {
            if (/no such network|not found/i.test(result.stderr + result.stdout)) {
                return { id: "", props: {} };
            }
            throw commandFailure(props.host, inspectArgv(props.host, id), result);
        }
        const found = parseInspect(result.stdout, id);
        const outs: DockerNetworkOutputs = { ...props, networkId: found.id };
        if (props.subnet !== undefined && !found.subnets.includes(props.subnet)) {
            // drift that refresh shows; a missing key, never `undefined`, which gRPC's Struct cannot carry
            outs.subnet = found.subnets[0] ?? "";
        }
        return { id, props: outs };
    },

    async update(_id: string, olds: DockerNetworkOutputs, news: DockerNetworkInputs) {
        const outs: DockerNetworkOutputs = { ...news, networkId: olds.networkId };
        return { outs };
    },

    async delete(id: string, props: DockerNetworkOutputs) {
        const argv = privileged(props.host, ["docker", "network", "rm", id]);
        const result = await runCommand(props.host, argv);
        if (result.code !== 0 && !/no such network|not found/i.test(result.stderr + result.stdout)) {
            throw commandFailure(props.host, argv, result);
        }
    },
};

export class DockerNetwork extends pulumi.dynamic.Resource {
    declare readonly networkId: pulumi.Output<string>;
    declare readonly networkName: pulumi.Output<string>;

    constructor(name: string, args: DockerNetworkArgs, opts?: pulumi.CustomResourceOptions) {
        super(dockerNetworkProvider, name, { networkId: undefined, subnet: undefined, ...args }, opts, "calico-stars", "DockerNetwork");
    }
}
