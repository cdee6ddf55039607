// Stand-in for calico-node v0.19.0 on one host (calico-containers v0.19.0 calico_node/: startup.py, then Felix and
// BIRD under runit), run in the host's network namespace:
// - startup: the host's records in etcd (calico/datastore.ts startNode) and IP forwarding on;
// - Felix: each endpoint of this host gets its profiles' rules as iptables chains, tags as ipsets, its interface's
//   sysctls and a /32 route (calico/felixRules.ts, calico/dataplane.ts);
// - BIRD: routes to the other hosts' blocks and workloads (calico/birdRoutes.ts).
// Both follow etcd through one v2 watch on /calico and converge on every change from a fresh read of the tree,
// which is what Felix's resync does (calico/felix/fetcd.py); an endpoint whose interface is not up yet is looked at
// again every 100 ms, as Felix waits for the interface (Felix watches netlink).
//   node sandbox/dist/calicoNode.js --hostname NAME --ip ADDRESS --etcd http://HOST:PORT [--ready-file PATH]
import * as fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { learnedRoutes } from "./calico/birdRoutes";
import { Dataplane, interfaceIsUp } from "./calico/dataplane";
import { Datastore, modelOf } from "./calico/datastore";
import { Etcd, leaves } from "./calico/etcd";
import { filterState } from "./calico/felixRules";
import { readFlags } from "./lib/flags";

const debounceMs = 10;
const interfacePollMs = 100;
const retryMs = 500;

interface Options {
    hostname: string;
    address: string;
    etcd: URL;
    readyFile?: string;
}

function parseArguments(argv: string[]): Options {
    const usage =
        "usage: node sandbox/dist/calicoNode.js --hostname NAME --ip ADDRESS --etcd http://HOST:PORT [--ready-file PATH]";
    const flags = {
        hostname: { type: "string" },
        ip: { type: "string" },
        etcd: { type: "string" },
        "ready-file": { type: "string" },
    } as const;
    const values = readFlags(argv, flags, usage, ["hostname", "ip", "etcd"]);
    return {
        hostname: values.hostname,
        address: values.ip,
        etcd: new URL(values.etcd),
        readyFile: values["ready-file"],
    };
}

class CalicoNode {
    private readonly etcd: Etcd;
    private readonly dataplane = new Dataplane();
    private pending: NodeJS.Timeout | undefined;
    private running = false;
    private again = false;
    private ready = false;
    /** The etcd index of the last read, where a watch goes on from. */
    private lastIndex = 0;

    constructor(private readonly options: Options) {
        this.etcd = new Etcd(options.etcd);
    }

    async start(): Promise<void> {
        await this.dataplane.start();
        await new Datastore(this.etcd).startNode(this.options.hostname, this.options.address);
        this.watch(await this.sync());
    }

    /** Debounced: bursts of etcd events (a container's endpoint, block and veth) make one pass. */
    schedule(delayMs = debounceMs): void {
        if (this.pending === undefined) {
            this.pending = setTimeout(() => {
                this.pending = undefined;
                this.sync().catch((error) => this.fail(error));
            }, delayMs);
        }
    }

    /** Converges on a fresh read of /calico; resolves to the etcd index of the last read. */
    async sync(): Promise<number> {
        if (this.running) {
            this.again = true;
            return this.lastIndex;
        }
        this.running = true;
        try {
            const { node, index } = await this.etcd.snapshot("/calico");
            this.lastIndex = Math.max(this.lastIndex, index);
            const model = modelOf(leaves(node), this.options.hostname);
            const mine = model.endpoints.filter((endpoint) => endpoint.hostname === this.options.hostname);
            const up = mine.filter((endpoint) => interfaceIsUp(endpoint.name));
            const { chains, ipsets } = filterState(model, up);
            await this.dataplane.applyFilter(chains, ipsets);
            await this.dataplane.applyWorkloads(up);
            await this.dataplane.applyLearnedRoutes(learnedRoutes(this.options.hostname, model));
            if (up.length < mine.length) {
                this.schedule(interfacePollMs);
            }
            this.markReady();
            return this.lastIndex;
        } finally {
            this.running = false;
            if (this.again) {
                this.again = false;
                this.schedule();
            }
        }
    }

    markReady(): void {
        if (!this.ready && this.options.readyFile !== undefined) {
            fs.writeFileSync(this.options.readyFile, `${process.pid}\n`);
        }
        this.ready = true;
    }

    async watch(fromIndex: number): Promise<never> {
        let index = fromIndex + 1;
        for (;;) {
            try {
                const event = await this.etcd.watch("/calico", index);
                if (event === "resync") {
                    index = (await this.sync()) + 1;
                } else if (event !== "timeout") {
                    index = event.index + 1;
                    this.schedule();
                }
            } catch (error) {
                console.error(
                    `calico-node ${this.options.hostname}: watch: ${error instanceof Error ? error.message : error}`,
                );
                await sleep(retryMs);
                index = (await this.sync().catch(() => this.lastIndex)) + 1;
            }
        }
    }

    fail(error: unknown): void {
        console.error(`calico-node ${this.options.hostname}: ${error instanceof Error ? error.message : error}`);
        this.schedule(retryMs);
    }
}

const node = new CalicoNode(parseArguments(process.argv.slice(2)));
process.once("SIGTERM", () => process.exit(0));
node.start().catch((error) => {
    console.error(`calico-node: ${error instanceof Error ? error.stack : error}`);
    process.exit(1);
});
