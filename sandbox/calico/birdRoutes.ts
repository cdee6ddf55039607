// The routes BIRD's full node-to-node mesh gives one host, computed from etcd instead of BGP sessions. From
// calico-containers v0.19.0 calico_node/filesystem/etc/calico/confd/templates: bird.cfg.mesh.template (every host
// peers with every other; `next hop self`; export filter calico_pools), bird_aggr.cfg.template (a blackhole route
// for each block affine to the host, exported as the block itself, and nothing beneath it) and
// bird_ipam.cfg.template (only routes inside a pool are exported). The workload /32s a host exports are the ones
// Felix put in its kernel table for its endpoints; here they are read from the endpoints' records.
import type { CalicoModel } from "./datastore";
import { contains } from "./ipam";

/**
 * The routes BIRD gives the host named `self`.
 * @returns destination -> "via <address>" or "blackhole"
 */
export function learnedRoutes(
    self: string,
    model: Pick<CalicoModel, "hostAddresses" | "affinities" | "pools" | "endpoints">,
): Map<string, string> {
    const routes = new Map<string, string>();
    const inPool = (cidr: string) => model.pools.some((pool) => contains(pool, cidr.split("/")[0]));
    for (const block of model.affinities.get(self) ?? []) {
        routes.set(block, "blackhole");
    }
    for (const [host, address] of model.hostAddresses) {
        if (host === self || address === "") {
            continue;
        }
        const blocks = model.affinities.get(host) ?? [];
        for (const block of blocks.filter(inPool)) {
            routes.set(block, `via ${address}`);
        }
        for (const endpoint of model.endpoints.filter((each) => each.hostname === host)) {
            for (const cidr of endpoint.ipv4) {
                const address32 = `${cidr.split("/")[0]}/32`;
                if (inPool(address32) && !blocks.some((block) => contains(block, cidr.split("/")[0]))) {
                    routes.set(address32.replace(/\/32$/, ""), `via ${address}`);
                }
            }
        }
    }
    return routes;
}
