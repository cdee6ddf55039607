// @ts-check
// Writing Felix's and BIRD's state into the host's kernel (this process runs in the host's network namespace):
// ipsets through `ipset restore` (a temporary set swapped in, as Felix 1.4's ipsets.py Ipset.replace_members does),
// the felix-* filter chains through one `iptables-restore --noflush` (Felix's fiptables.py IptablesUpdater also
// rewrites whole chains with iptables-restore), the workload interfaces' sysctls, /32 routes and static ARP
// entries (Felix's devices.py configure_interface_ipv4, set_routes), and routes learned from other hosts
// (what BIRD's kernel protocol installs; proto 12 is "bird" in iproute2's rt_protos).
"use strict";
const { execFile } = require("node:child_process");
const fs = require("node:fs");

const COMMAND_TIMEOUT_MS = 5000;
const BIRD_PROTO = "12";
const IPSET_MAX_ELEMENTS = 1048576;

/**
 * @param {string} file @param {string[]} args @param {string} [input]
 * @returns {Promise<string>}
 */
function run(file, args, input) {
    return new Promise((resolve, reject) => {
        const child = execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) {
                reject(new Error(`${file} ${args.join(" ")}: ${String(stderr).trim() || error.message}`));
            } else {
                resolve(String(stdout));
            }
        });
        child.stdin?.end(input);
    });
}

/** @param {string} path @param {string} value */
function writeSysctl(path, value) {
    try {
        fs.writeFileSync(path, value);
    } catch {
        // the interface went away meanwhile
    }
}

class Dataplane {
    constructor() {
        /** @type {Map<string, string>} chain -> its rules, as last written */
        this.chains = new Map();
        /** @type {Map<string, string>} ipset -> its members, as last written */
        this.ipsets = new Map();
        /** @type {Map<string, string>} "<address>/32" -> "dev <iface>", as last written */
        this.workloadRoutes = new Map();
        /** @type {Set<string>} interfaces whose sysctls are set */
        this.configured = new Set();
    }

    /** What calicoctl node does first (_setup_ip_forwarding), and the top-level jumps Felix inserts (frules.py). */
    async start() {
        writeSysctl("/proc/sys/net/ipv4/ip_forward", "1");
        await this.applyFilter(new Map([["felix-INPUT", []], ["felix-FORWARD", []]]), new Map());
        for (const [chain, target] of [["INPUT", "felix-INPUT"], ["FORWARD", "felix-FORWARD"]]) {
            const present = await run("/usr/sbin/iptables", ["-w", "-C", chain, "-j", target]).then(() => true, () => false);
            if (!present) {
                await run("/usr/sbin/iptables", ["-w", "-I", chain, "1", "-j", target]);
            }
        }
    }

    /**
     * @param {Map<string, string[]>} chains every felix-* chain wanted, with its rules
     * @param {Map<string, string[]>} ipsets every felix-v4-* set wanted, with its members
     */
    async applyFilter(chains, ipsets) {
        const changedSets = [...ipsets].filter(([name, members]) => this.ipsets.get(name) !== members.join(","));
        if (changedSets.length > 0) {
            await run("/usr/sbin/ipset", ["restore"], changedSets.map(([name, members]) => {
                const temporary = name.replace("felix-v4-", "felix-tmp-v4-");
                return [
                    `create ${name} hash:ip family inet maxelem ${IPSET_MAX_ELEMENTS} -exist`,
                    `create ${temporary} hash:ip family inet maxelem ${IPSET_MAX_ELEMENTS} -exist`,
                    `flush ${temporary}`,
                    ...members.map((member) => `add ${temporary} ${member}`),
                    `swap ${name} ${temporary}`,
                    `destroy ${temporary}`,
                ].join("\n");
            }).join("\n") + "\n");
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
     * @param {{ name: string, mac: string, ipv4: string[] }[]} endpoints
     */
    async applyWorkloads(endpoints) {
        /** @type {Map<string, string>} */
        const wanted = new Map();
        const commands = [];
        for (const endpoint of endpoints) {
            if (!this.configured.has(endpoint.name)) {
                for (const [setting, value] of [["conf/%s/rp_filter", "1"], ["conf/%s/route_localnet", "1"], ["conf/%s/proxy_arp", "1"],
                    ["neigh/%s/proxy_delay", "0"]]) {
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
        this.configured.forEach((name) => { if (!endpoints.some((endpoint) => endpoint.name === name)) { this.configured.delete(name); } });
        await this.ipBatch(commands);
        this.workloadRoutes = wanted;
    }

    /**
     * Makes the host's proto-bird routes exactly `routes`.
     * @param {Map<string, string>} routes destination -> "via <host>" or "blackhole"
     */
    async applyLearnedRoutes(routes) {
        const current = new Map((await run("/usr/sbin/ip", ["-4", "route", "show", "proto", BIRD_PROTO])).split("\n").filter(Boolean)
            .map((line) => {
                const words = line.trim().split(/\s+/);
                return words[0] === "blackhole" ? [words[1], "blackhole"] : [words[0], `via ${words[2]}`];
            }));
        const commands = [];
        for (const [destination, how] of routes) {
            if (current.get(destination) !== how) {
                commands.push(how === "blackhole" ? `route replace blackhole ${destination} proto ${BIRD_PROTO}`
                    : `route replace ${destination} ${how} proto ${BIRD_PROTO}`);
            }
        }
        for (const destination of current.keys()) {
            if (!routes.has(destination)) {
                commands.push(`-force route del ${destination} proto ${BIRD_PROTO}`);
            }
        }
        await this.ipBatch(commands);
    }

    /** @param {string[]} commands */
    async ipBatch(commands) {
        if (commands.length === 0) {
            return;
        }
        const forced = commands.filter((command) => command.startsWith("-force "));
        const checked = commands.filter((command) => !command.startsWith("-force "));
        if (checked.length > 0) {
            await run("/usr/sbin/ip", ["-batch", "-"], checked.join("\n") + "\n");
        }
        if (forced.length > 0) {
            await run("/usr/sbin/ip", ["-force", "-batch", "-"], forced.map((command) => command.slice("-force ".length)).join("\n") + "\n")
                .catch(() => undefined);
        }
    }
}

/** @param {string} name */
function interfaceIsUp(name) {
    try {
        return fs.readFileSync(`/sys/class/net/${name}/operstate`, "utf8").trim() === "up";
    } catch {
        return false;
    }
}

module.exports = { Dataplane, interfaceIsUp };
