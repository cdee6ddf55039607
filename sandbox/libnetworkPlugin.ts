// Stand-in for calico-libnetwork v0.8.0 (projectcalico/libnetwork-plugin, libnetwork/driver_plugin.py; the image
// calico-containers v0.19.0's `calicoctl node --libnetwork` runs on every host, with --net=host and HOSTNAME set):
// a Docker legacy remote plugin serving NetworkDriver and IpamDriver on a unix socket, one per host. Networks become
// Calico profiles, endpoints Calico endpoints under this host's name, addresses come from Calico IPAM in etcd
// (calico/ipam.ts), and each endpoint gets a veth pair in this process's network namespace (the host's), whose
// host end Felix (calicoNode.ts) routes and polices.
//   node sandbox/dist/libnetworkPlugin.js --socket PATH --etcd http://HOST:PORT [--hostname NAME] [--log-file PATH]
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import { text } from "node:stream/consumers";
import { Datastore, ifPrefix, interfaceName } from "./calico/datastore";
import { Etcd } from "./calico/etcd";
import { AlreadyAssignedError, Ipam, isIPv4, PoolNotFound } from "./calico/ipam";
import { readFlags } from "./lib/flags";

/** driver_plugin.py FIXED_MAC: the container side of every veth. */
const fixedMac = "EE:EE:EE:EE:EE:EE";
const poolIdV4 = "CalicoPoolIPv4";
const poolIdV6 = "CalicoPoolIPv6";
/** The dummy pool and gateway that tell Docker (and the driver itself) that Calico IPAM is in use. */
const calicoIpamCidrV4 = "0.0.0.0/0";
/** driver_plugin.py IP_CMD_TIMEOUT. */
const ipTimeoutMs = 5000;

/**
 * What the plugin reads of Docker's requests (docker/libnetwork v0.8 drivers/remote/api/api.go and
 * ipams/remote/api/api.go): each call sends the IDs it is about; the rest depends on the call.
 */
interface PluginRequest {
    NetworkID: string;
    EndpointID: string;
    PoolID: string;
    /** RequestPool's --subnet, or "" */
    Pool: string;
    SubPool?: string;
    V6?: boolean;
    /** RequestAddress's --ip (or "") and ReleaseAddress's address */
    Address: string;
    /** CreateNetwork's pools and gateways */
    IPv4Data?: { Pool?: string; Gateway?: string }[];
    /** CreateEndpoint's interface, with the address IPAM gave */
    Interface?: { Address?: string };
}

type Handler = (request: PluginRequest) => object | Promise<object>;

function parseArguments(argv: string[]) {
    const usage =
        "usage: node sandbox/dist/libnetworkPlugin.js --socket PATH --etcd http://HOST:PORT [--hostname NAME] [--log-file PATH]";
    const flags = {
        socket: { type: "string" },
        etcd: { type: "string" },
        hostname: { type: "string" },
        "log-file": { type: "string" },
    } as const;
    const values = readFlags(argv, flags, usage, ["socket", "etcd"]);
    return {
        socket: values.socket,
        etcd: new URL(values.etcd),
        hostname: values.hostname ?? os.hostname(),
        logFile: values["log-file"],
    };
}

/** `ip` in this process's network namespace, the host's. */
function ip(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
        execFile("/usr/sbin/ip", args, { timeout: ipTimeoutMs }, (error, _stdout, stderr) => {
            if (error) {
                reject(
                    new Error(
                        `Command '['ip', '${args.join("', '")}']' returned non-zero exit status ${error.code ?? 1}: ${stderr.trim()}`,
                    ),
                );
            } else {
                resolve();
            }
        });
    });
}

/** pycalico.netns.remove_veth: best effort, as driver_plugin.remove_veth logs and goes on. */
async function removeVeth(name: string) {
    if (fs.existsSync(`/sys/class/net/${name}`)) {
        await ip(["link", "del", name]).catch(() => undefined);
    }
}

/** get_gateway_pool_from_network_data for IPv4: [gateway, pool] or undefined. */
function gatewayAndPool4(network: Pick<PluginRequest, "IPv4Data">): { gateway: string; pool: string } | undefined {
    const data = network.IPv4Data;
    if (!data || data.length === 0) {
        return undefined;
    }
    if (data.length > 1) {
        throw new Error("Unsupported: multiple Gateways defined for IPv4");
    }
    return data[0].Gateway && data[0].Pool ? { gateway: data[0].Gateway, pool: data[0].Pool } : undefined;
}

/** is_using_calico_ipam: the gateway is 0.0.0.0/0. */
function usesCalicoIpam(gateway: string) {
    return gateway === calicoIpamCidrV4;
}

function routes(datastore: Datastore, ipam: Ipam, hostname: string): Map<string, Handler> {
    /** get_network_data. */
    const networkData = async (id: string) => {
        const network = await datastore.network(id);
        if (!network) {
            throw new Error(`Network ${id} does not exist`);
        }
        return network as PluginRequest;
    };
    /** get_pool: the configured IPAM pool with exactly this CIDR. */
    const configuredPool = async (cidr: string) => (await datastore.ipamPools4()).find((pool) => pool === cidr);

    return new Map(
        Object.entries<Handler>({
            "/Plugin.Activate": () => ({ Implements: ["NetworkDriver", "IpamDriver"] }),
            "/IpamDriver.GetCapabilities": () => ({ RequiresMACAddress: false }),
            "/IpamDriver.GetDefaultAddressSpaces": () => ({
                LocalDefaultAddressSpace: "CalicoLocalAddressSpace",
                GlobalDefaultAddressSpace: "CalicoGlobalAddressSpace",
            }),

            /** The pool Docker gets is always 0.0.0.0/0; a --subnet becomes the PoolID and must be a Calico pool. */
            "/IpamDriver.RequestPool": async (request) => {
                if (request.SubPool) {
                    throw new Error(
                        "Calico IPAM does not support sub pool configurationon 'docker create network'.  Calico IP Pools " +
                            "should be configured first and IP assignment is from those pre-configured pools.",
                    );
                }
                if (request.V6) {
                    throw new Error("the sandbox has no IPv6: IPv6 pools are not emulated");
                }
                if (request.Pool && (await configuredPool(request.Pool)) === undefined) {
                    throw new Error("The requested subnet must match the CIDR of a configured Calico IP Pool.");
                }
                return {
                    PoolID: request.Pool || poolIdV4,
                    Pool: calicoIpamCidrV4,
                    Data: { "com.docker.network.gateway": calicoIpamCidrV4 },
                };
            },
            "/IpamDriver.ReleasePool": () => ({}),

            "/IpamDriver.RequestAddress": async (request) => {
                const address = request.Address
                    ? await assignSpecific(request.Address)
                    : await assignAny(request.PoolID);
                return { Address: `${address}/32`, Data: {} };
            },
            "/IpamDriver.ReleaseAddress": async (request) => {
                await ipam.release(String(request.Address).split("/")[0]);
                return {};
            },

            "/NetworkDriver.GetCapabilities": () => ({ Scope: "global" }),

            /** A profile named by the network ID; pools for other IPAM drivers are not emulated. */
            "/NetworkDriver.CreateNetwork": async (request) => {
                const gatewayPool = gatewayAndPool4(request);
                if (gatewayPool !== undefined && !usesCalicoIpam(gatewayPool.gateway)) {
                    throw new Error(
                        "the sandbox emulates calico networks with Calico IPAM (--ipam-driver calico) only",
                    );
                }
                await datastore.createProfile(request.NetworkID);
                await datastore.writeNetwork(request.NetworkID, request);
                return {};
            },

            /** Docker refuses to delete a network with endpoints, so the profile goes without a check. */
            "/NetworkDriver.DeleteNetwork": async (request) => {
                await datastore.removeProfile(request.NetworkID);
                await networkData(request.NetworkID);
                await datastore.removeNetwork(request.NetworkID);
                return {};
            },

            "/NetworkDriver.CreateEndpoint": async (request) => {
                const network = await networkData(request.NetworkID);
                const gatewayPool = gatewayAndPool4(network);
                const address = request.Interface?.Address;
                if (!address) {
                    throw new Error("No address assigned for endpoint");
                }
                const gateway =
                    gatewayPool !== undefined && usesCalicoIpam(gatewayPool.gateway)
                        ? await datastore.defaultNextHop4(hostname)
                        : (gatewayPool?.gateway.split("/")[0] ?? null);
                await datastore.setEndpoint(hostname, request.EndpointID, {
                    state: "active",
                    name: interfaceName(ifPrefix, request.EndpointID),
                    mac: fixedMac,
                    profile_ids: [request.NetworkID],
                    ipv4_nets: [address],
                    ipv6_nets: [],
                    ipv4_gateway: gateway,
                    ipv6_gateway: null,
                });
                return { Interface: { MacAddress: fixedMac } };
            },

            "/NetworkDriver.DeleteEndpoint": async (request) => {
                await datastore.removeEndpoint(hostname, request.EndpointID);
                return {};
            },

            "/NetworkDriver.EndpointOperInfo": () => ({ Value: {} }),

            /** The veth pair: the temporary end goes into the container as cali0, with the host as its gateway. */
            "/NetworkDriver.Join": async (request) => {
                const hostEnd = interfaceName(ifPrefix, request.EndpointID);
                const containerEnd = interfaceName("tmp", request.EndpointID);
                try {
                    await ip(["link", "add", hostEnd, "type", "veth", "peer", "name", containerEnd]);
                    await ip(["link", "set", hostEnd, "up"]);
                    await ip(["link", "set", "dev", containerEnd, "address", fixedMac]);
                } catch (error) {
                    await removeVeth(hostEnd);
                    throw error;
                }
                const endpoint = await datastore.endpoint(hostname, request.EndpointID);
                const gateway = endpoint?.ipv4_gateway;
                return {
                    InterfaceName: { SrcName: containerEnd, DstPrefix: ifPrefix },
                    ...(gateway ? { Gateway: gateway } : {}),
                    StaticRoutes: gateway ? [{ Destination: `${gateway}/32`, RouteType: 1, NextHop: "" }] : [],
                };
            },

            "/NetworkDriver.Leave": async (request) => {
                await removeVeth(interfaceName(ifPrefix, request.EndpointID));
                return {};
            },
            "/NetworkDriver.DiscoverNew": () => ({}),
            "/NetworkDriver.DiscoverDelete": () => ({}),
            "/NetworkDriver.ProgramExternalConnectivity": () => ({}),
            "/NetworkDriver.RevokeExternalConnectivity": () => ({}),
        }),
    );

    async function assignSpecific(address: string) {
        if (!isIPv4(address)) {
            throw new Error(`the sandbox has no IPv6: ${address} cannot be assigned`);
        }
        try {
            await ipam.assign(address, hostname);
        } catch (error) {
            if (error instanceof AlreadyAssignedError) {
                throw new Error(`The address ${address} is already in use`, { cause: error });
            }
            if (error instanceof PoolNotFound) {
                throw new Error(`The address ${address} is not in one of the configured Calico IP pools`, {
                    cause: error,
                });
            }
            throw error;
        }
        return address;
    }

    async function assignAny(poolId: string) {
        if (poolId === poolIdV6) {
            throw new Error("the sandbox has no IPv6: IPv6 addresses are not emulated");
        }
        let pool;
        if (poolId !== poolIdV4) {
            pool = await configuredPool(poolId);
            if (pool === undefined) {
                throw new Error(
                    "The network references a Calico pool which has been deleted.  Please re-instate the Calico pool before using the network.",
                );
            }
        }
        const address = await ipam.autoAssign(hostname, pool);
        if (address === undefined) {
            throw new Error("There are no available IP addresses in the configured Calico IP pools");
        }
        return address;
    }
}

/**
 * Bodies come without a Content-Type and end with a newline; Activate and GetCapabilities have none. Errors are
 * `{"Err": "<message>"}` with status 500, as make_json_app's handler answers.
 */
function handleRequests(handlers: Map<string, Handler>, logFile: string | undefined): http.RequestListener {
    return (request, response) => {
        text(request).then(
            async (given) => {
                const path = request.url ?? "";
                const { status, reply, body } = await answer(handlers.get(path), given);
                response.writeHead(status, { "Content-Type": "application/json" });
                response.end(JSON.stringify(reply));
                if (logFile !== undefined) {
                    fs.appendFileSync(
                        logFile,
                        JSON.stringify({
                            time: new Date().toISOString(),
                            path,
                            request: body ?? given,
                            status,
                            response: reply,
                        }) + "\n",
                    );
                }
            },
            () => response.destroy(),
        );
    };
}

async function answer(
    handler: Handler | undefined,
    requestText: string,
): Promise<{ status: number; reply: object; body: unknown }> {
    if (handler === undefined) {
        return { status: 404, reply: { Err: "404: Not Found" }, body: undefined };
    }
    let body: PluginRequest;
    try {
        body = (requestText.trim() === "" ? {} : JSON.parse(requestText)) as PluginRequest;
    } catch {
        return { status: 400, reply: { Err: "400: Bad Request" }, body: undefined };
    }
    try {
        return { status: 200, reply: await handler(body), body };
    } catch (error) {
        return { status: 500, reply: { Err: error instanceof Error ? error.message : String(error) }, body };
    }
}

function start() {
    const options = parseArguments(process.argv.slice(2));
    const etcd = new Etcd(options.etcd);
    const datastore = new Datastore(etcd);
    const ipam = new Ipam(etcd, () => datastore.ipamPools4());
    fs.rmSync(options.socket, { force: true });
    const server = http.createServer(handleRequests(routes(datastore, ipam, options.hostname), options.logFile));
    server.listen(options.socket, () => {
        console.log(`calico libnetwork plugin for ${options.hostname} listening on ${options.socket}`);
    });
    process.once("SIGTERM", () => {
        // dockerd keeps its connections open; close() alone would wait for them.
        server.closeAllConnections();
        server.close(() => {
            fs.rmSync(options.socket, { force: true });
            process.exit(0);
        });
    });
}

start();
