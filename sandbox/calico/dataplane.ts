// Writing Felix's and BIRD's state into the host's kernel (this process runs in the host's network namespace):
// ipsets through `ipset restore` (a temporary set swapped in, as Felix 1.4's ipsets.py Ipset.replace_members does),
// the felix-* filter chains through one `iptables-restore --noflush` (Felix's fiptables.py IptablesUpdater also
// rewrites whole chains with iptables-restore), the workload interfaces' sysctls, /32 routes and static ARP
// entries (Felix's devices.py configure_interface_ipv4, set_routes), and routes learned from other hosts
// (what BIRD's kernel protocol installs; proto 12 is "bird" in iproute2's rt_protos).
import { execFile } from "node:child_process";
import * as fs from "node:fs";

const commandTimeoutMs = 5000;
const birdProto = "12";
const ipsetMaxElements = 1048576;

function run(file: string, args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            file,
            args,
            { timeout: commandTimeoutMs, maxBuffer: 16 * 1024 * 1024 },
            (error, stdout, stderr) => {
                if (error) {
                    reject(new Error(`${file} ${args.join(" ")}: ${String(stderr).trim() || error.message}`));
                } else {
                    resolve(String(stdout));
                }
            },
        );
        child.stdin?.end(input);
    });
}

function writeSysctl(path: string, value: string) {
    try {
        fs.writeFileSync(path, value);
    } catch {
        // the interface went away meanwhile
    }
}

export class Dataplane {
    /** chain -> its rules, as last written */
    private readonly chains = new Map<string, string>();
    /** ipset -> its members, as last written */
    private readonly ipsets = new Map<string, string>();
    /** "<address>/32" -> "dev <iface>", as last written */
    private workloadRoutes = new Map<string, string>();
    /** interfaces whose sysctls are set */
    private readonly configured = new Set<string>();

    /** What calicoctl node does first (_setup_ip_forwarding), and the top-level jumps Felix inserts (frules.py). */
    async start() {
        writeSysctl("/proc/sys/net/ipv4/ip_forward", "1");
        await this.applyFilter(
            new Map([
                ["felix-INPUT", []],
                ["felix-FORWARD", []],
            ]),
            new Map(),
        );
        for (const [chain, target] of [
            ["INPUT", "felix-INPUT"],
            ["FORWARD", "felix-FORWARD"],
        ]) {
            const present = await run("/usr/sbin/iptables", ["-w", "-C", chain, "-j", target]).then(
                () => true,
                () => false,
            );
            if (!present) {
                await run("/usr/sbin/iptables", ["-w", "-I", chain, "1", "-j", target]);
            }
        }
    }

    /**
     * @param chains every felix-* chain wanted, with its rules
     * @param ipsets every felix-v4-* set wanted, with its members
     */
    async applyFilter(chains: Map<string, string[]>, ipsets: Map<string, string[]>) {
        const changedSets = [...ipsets].filter(([name, members]) => this.ipsets.get(name) !== members.join(","));
        if (changedSets.length > 0) {
            await run(
                "/usr/sbin/ipset",
                ["restore"],
                changedSets
                    .map(([name, members]) => {
                        const temporary = name.replace("felix-v4-", "felix-tmp-v4-");
                        return [
                            `create ${name} hash:ip family inet maxelem ${ipsetMaxElements} -exist`,
                            `create ${temporary} hash:ip family inet maxelem ${ipsetMaxElements} -exist`,
                            `flush ${temporary}`,
                            ...members.map((member) => `add ${temporary} ${member}`),
                            `swap ${name} ${temporary}`,
                            `destroy ${temporary}`,
                        ].join("\n");
                    })
                    .join("\n") + "\n",
            );
            changedSets.forEach(([name, members]) => this.ipsets.set(name, members.join(",")));
        }
        const changed = [...chains].filter(([name, rows]) => this.chains.get(name) !== rows.join("\n"));
        const obsolete = [...this.chains.keys()].filter((name) => !chains.has(name));
        if (changed.length > 0 || obsolete.length > 0) {
            const text = [
                "*filter",
                ...[...changed.map(([name]) => name), ...obsolete].map((name) => `:${name} - [0:0]`),
                ...changed.flatMap(([, rows]) => rows),
                ...obsolete.map((name) => `-X ${name}`),
                "COMMIT",
                "",
            ].join("\n");
            await run("/usr/sbin/iptables-restore", ["-w", "--noflush"], text);
            changed.forEach(([name, rows]) => this.chains.set(name, rows.join("\n")));
            obsolete.forEach((name) => this.chains.delete(name));
        }
        const unused = [...this.ipsets.keys()].filter((name) => !ipsets.has(name));
        if (unused.length > 0) {
            await run("/usr/sbin/ipset", ["restore"], unused.map((name) => `destroy ${name}`).join("\n") + "\n");
            unused.forEach((name) => this.ipsets.delete(name));
        }
    }

    /**
     * configure_interface_ipv4 and set_routes for each local endpoint whose interface is up; routes of endpoints
     * that are gone are removed.
     */
    async applyWorkloads(endpoints: { name: string; mac: string; ipv4: string[] }[]) {
        const wanted = new Map<string, string>();
        const commands = [];
        for (const endpoint of endpoints) {
            if (!this.configured.has(endpoint.name)) {
                for (const [setting, value] of [
                    ["conf/%s/rp_filter", "1"],
                    ["conf/%s/route_localnet", "1"],
                    ["conf/%s/proxy_arp", "1"],
                    ["neigh/%s/proxy_delay", "0"],
                ]) {
                    writeSysctl(`/proc/sys/net/ipv4/${setting.replace("%s", endpoint.name)}`, value);
                }
                this.configured.add(endpoint.name);
            }
            for (const cidr of endpoint.ipv4) {
                const address = cidr.split("/")[0];
                wanted.set(`${address}/32`, `dev ${endpoint.name}`);
                if (this.workloadRoutes.get(`${address}/32`) !== `dev ${endpoint.name}`) {
                    commands.push(`route replace ${address}/32 dev ${endpoint.name}`);
                    commands.push(`neigh replace ${address} lladdr ${endpoint.mac} dev ${endpoint.name} nud permanent`);
                }
            }
        }
        for (const [destination, via] of this.workloadRoutes) {
            if (!wanted.has(destination)) {
                commands.push(`-force route del ${destination} ${via}`);
            }
        }
        this.configured.forEach((name) => {
            if (!endpoints.some((endpoint) => endpoint.name === name)) {
                this.configured.delete(name);
            }
        });
        await this.ipBatch(commands);
        this.workloadRoutes = wanted;
    }

    /**
     * Makes the host's proto-bird routes exactly `routes`.
     * @param routes destination -> "via <host>" or "blackhole"
     */
    async applyLearnedRoutes(routes: Map<string, string>) {
        const current = new Map(
            (await run("/usr/sbin/ip", ["-4", "route", "show", "proto", birdProto]))
                .split("\n")
                .filter(Boolean)
                .map((line) => {
                    const words = line.trim().split(/\s+/);
                    return words[0] === "blackhole" ? [words[1], "blackhole"] : [words[0], `via ${words[2]}`];
                }),
        );
        const commands = [];
        for (const [destination, how] of routes) {
            if (current.get(destination) !== how) {
                commands.push(
                    how === "blackhole"
                        ? `route replace blackhole ${destination} proto ${birdProto}`
                        : `route replace ${destination} ${how} proto ${birdProto}`,
                );
            }
        }
        for (const destination of current.keys()) {
            if (!routes.has(destination)) {
                commands.push(`-force route del ${destination} proto ${birdProto}`);
            }
        }
        await this.ipBatch(commands);
    }

    async ipBatch(commands: string[]) {
        if (commands.length === 0) {
            return;
        }
        const forced = commands.filter((command) => command.startsWith("-force "));
        const checked = commands.filter((command) => !command.startsWith("-force "));
        if (checked.length > 0) {
            await run("/usr/sbin/ip", ["-batch", "-"], checked.join("\n") + "\n");
        }
        if (forced.length > 0) {
            await run(
                "/usr/sbin/ip",
                ["-force", "-batch", "-"],
                forced.map((command) => command.slice("-force ".length)).join("\n") + "\n",
            ).catch(() => undefined);
        }
    }
}

export function interfaceIsUp(name: string) {
    try {
        return fs.readFileSync(`/sys/class/net/${name}/operstate`, "utf8").trim() === "up";
    } catch {
        return false;
    }
}
