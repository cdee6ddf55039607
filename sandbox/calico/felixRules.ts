// What Felix programs, as text: the filter table's felix-* chains and the felix-v4-* ipsets, computed from the
// cluster's etcd records for one host. Felix 1.4.0b1 (projectcalico/calico tag 1.4.0b1-felix, the Felix that
// calico-containers v0.19.0's calico_node/build.sh installs), read from:
// - calico/felix/plugins/fiptgenerator.py: filter_input_chain, filter_forward_chain, endpoint_updates
//   (_build_to_or_from_chain), profile_updates (on_allow="RETURN", from profilerules.py _update_chains),
//   _rule_to_iptables_fragments(_inner), drop_rules, _profile_to_chain_name;
// - calico/felix/dispatch.py DispatchChains._calculate_update (felix-FROM/TO-ENDPOINT and their leaf chains);
// - calico/felix/ipsets.py (felix-v4-<tag> hash:ip sets of the addresses of endpoints whose profiles carry the tag);
// - calico/felix/futils.py uniquely_shorten; calico/felix/config.py (IptablesMarkMask 0xff000000, so the accept
//   mark is 0x1000000; DefaultEndpointToHostAction, which calico-node sets to RETURN per host);
// - calico/common.py validate_profile / _validate_rules / validate_tags: a profile that fails validation is
//   treated as absent, and an endpoint chain jumping to an absent profile chain finds Felix's stub: DROP.
import * as crypto from "node:crypto";
import * as net from "node:net";
import { CalicoModel, Endpoint, ifPrefix, ProfileRules, Rule } from "./datastore";

/** Felix's InterfacePrefix, which calico-node sets to libcalico's. */
const ifaceMatch = `${ifPrefix}+`;
const markAccept = "0x1000000";
const maxMultiportEntries = 15;
const knownRuleKeys = new Set([
    "action",
    "protocol",
    "src_net",
    "src_tag",
    "src_selector",
    "src_ports",
    "dst_net",
    "dst_tag",
    "dst_selector",
    "dst_ports",
    "icmp_type",
    "icmp_code",
    "ip_version",
    "log_prefix",
]);
const protocolNames = new Set(["tcp", "udp", "icmp", "icmpv6", "sctp", "udplite"]);
const portProtocols = new Set(["tcp", "6", "udp", "17", "udplite", "136", "sctp", "132", "dccp", "33"]);
const validId = /^[a-zA-Z0-9_.-]+$/;

export interface FilterState {
    chains: Map<string, string[]>;
    ipsets: Map<string, string[]>;
}

/** futils.uniquely_shorten. */
function uniquelyShorten(text: string, length: number) {
    if (text.length <= length && !(text.length === length && text.startsWith("_"))) {
        return text;
    }
    return (
        "_" +
        crypto
            .createHash("sha256")
            .update(`${length} `)
            .update(text)
            .digest("hex")
            .slice(0, length - 1)
    );
}

const ipsetName = (tag: string) => `felix-v4-${uniquelyShorten(tag, 16)}`;
const profileChain = (direction: "inbound" | "outbound", profileId: string) =>
    `felix-p-${uniquelyShorten(profileId, 16)}-${direction[0]}`;
/** frules.interface_to_suffix. */
const suffixOf = (iface: string) => uniquelyShorten(iface.replace(ifPrefix, ""), 16);

/** drop_rules. */
function dropRule(chain: string, spec: string | undefined, comment: string | undefined) {
    return [
        `-A ${chain}`,
        spec,
        "-j DROP",
        comment === undefined ? undefined : `-m comment --comment "${comment.slice(0, 255)}"`,
    ]
        .filter((part) => part !== undefined)
        .join(" ");
}

function cidrFamily(cidr: unknown) {
    if (typeof cidr !== "string") {
        return 0;
    }
    const [address, prefix, ...rest] = cidr.split("/");
    const family = net.isIP(address);
    if (
        family === 0 ||
        rest.length > 0 ||
        (prefix !== undefined && !/^\d+$/.test(prefix)) ||
        Number(prefix) > (family === 4 ? 32 : 128)
    ) {
        return 0;
    }
    return family;
}

/** validate_rule_port. */
function validPort(port: unknown) {
    if (typeof port === "number") {
        return Number.isInteger(port) && port >= 0 && port <= 65535;
    }
    if (typeof port !== "string") {
        return false;
    }
    const fields = port.split(":");
    return (
        fields.length === 2 &&
        fields.every((field) => /^\d+$/.test(field) && Number(field) <= 65535) &&
        Number(fields[0]) < Number(fields[1])
    );
}

/**
 * common._validate_rules, reduced to whether the rules pass (Felix drops the profile when they do not), with its
 * normalisation: null fields removed, protocol as a string, nets canonical.
 */
function validRules(rules: unknown): ProfileRules | undefined {
    if (rules === null || typeof rules !== "object") {
        return undefined;
    }
    const normalised: ProfileRules = { inbound_rules: [], outbound_rules: [] };
    for (const direction of ["inbound_rules", "outbound_rules"] as const) {
        const given: unknown = (rules as Record<string, unknown>)[direction];
        if (!Array.isArray(given)) {
            return undefined;
        }
        for (const raw of given as unknown[]) {
            if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
                return undefined;
            }
            const rule: Rule = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== null));
            if (!isValidRule(rule)) {
                return undefined;
            }
            if (rule.protocol !== undefined) {
                rule.protocol = String(rule.protocol);
            }
            normalised[direction].push(rule);
        }
    }
    return normalised;
}

function isValidRule(rule: Rule) {
    const protocol = rule.protocol === undefined ? undefined : String(rule.protocol);
    if (
        protocol !== undefined &&
        !protocolNames.has(protocol) &&
        !(/^\d+$/.test(protocol) && Number(protocol) >= 1 && Number(protocol) <= 255)
    ) {
        return false;
    }
    if (rule.ip_version !== undefined && rule.ip_version !== 4 && rule.ip_version !== 6) {
        return false;
    }
    if ((rule.ip_version === 4 && protocol === "icmpv6") || (rule.ip_version === 6 && protocol === "icmp")) {
        return false;
    }
    if (
        [rule.src_tag, rule.dst_tag].some((tag) => tag !== undefined && (typeof tag !== "string" || !validId.test(tag)))
    ) {
        return false;
    }
    if (
        [rule.src_net, rule.dst_net].some(
            (cidr) =>
                cidr !== undefined &&
                (cidrFamily(cidr) === 0 || (rule.ip_version !== undefined && cidrFamily(cidr) !== rule.ip_version)),
        )
    ) {
        return false;
    }
    for (const ports of [rule.src_ports, rule.dst_ports]) {
        if (
            ports !== undefined &&
            (!Array.isArray(ports) || !portProtocols.has(String(protocol)) || !ports.every(validPort))
        ) {
            return false;
        }
    }
    if (rule.action !== undefined && !["allow", "deny", "next-tier"].includes(String(rule.action))) {
        return false;
    }
    for (const icmp of [rule.icmp_type, rule.icmp_code]) {
        if (icmp !== undefined && (!Number.isInteger(icmp) || (icmp as number) < 0 || (icmp as number) > 255)) {
            return false;
        }
    }
    if (rule.icmp_code !== undefined && rule.icmp_type === undefined) {
        return false;
    }
    return Object.keys(rule).every((key) => knownRuleKeys.has(key));
}

/** _split_port_lists. */
function portChunks(ports: (number | string)[]): string[][] {
    const chunks: string[][] = [];
    let chunk = [];
    let entries = 0;
    for (const port of ports.map(String)) {
        const size = port.includes(":") ? 2 : 1;
        if (entries + size > maxMultiportEntries) {
            chunks.push(chunk);
            chunk = [];
            entries = 0;
        }
        chunk.push(port);
        entries += size;
    }
    if (chunk.length > 0 || chunks.length === 0) {
        chunks.push(chunk);
    }
    return chunks;
}

/**
 * _rule_to_iptables_fragments: one fragment per chunk of ports; a rule that cannot be rendered (ICMP type 255,
 * which the kernel cannot match) becomes a DROP.
 */
function ruleFragments(chain: string, rule: Rule) {
    if (rule.icmp_type === 255) {
        return [dropRule(chain, undefined, "ERROR failed to parse rules")];
    }
    const fragments = [];
    for (const srcPorts of portChunks(rule.src_ports ?? [])) {
        for (const dstPorts of portChunks(rule.dst_ports ?? [])) {
            fragments.push(ruleFragment(chain, { ...rule, src_ports: srcPorts, dst_ports: dstPorts }));
        }
    }
    return fragments;
}

/** _rule_to_iptables_fragments_inner for IPv4 with on_allow RETURN, on_deny DROP. */
function ruleFragment(chain: string, rule: Rule) {
    const spec = [];
    if (rule.protocol) {
        spec.push(`-p ${rule.protocol}`);
    }
    for (const [dirn, direction] of [
        ["src", "source"],
        ["dst", "destination"],
    ]) {
        const cidr = rule[`${dirn}_net`];
        if (cidr !== undefined && cidrFamily(cidr) === 4) {
            spec.push(`--${direction} ${cidr}`);
        }
        const tag = rule[`${dirn}_tag`];
        if (typeof tag === "string") {
            spec.push(`-m set --match-set ${ipsetName(tag)} ${dirn}`);
        }
        const ports = rule[`${dirn}_ports`] as string[];
        if (ports.length > 0) {
            spec.push(`-m multiport --${direction}-ports ${ports.join(",")}`);
        }
    }
    if (rule.icmp_type !== undefined && rule.protocol === "icmp") {
        spec.push(
            `-m icmp --icmp-type ${rule.icmp_code === undefined ? rule.icmp_type : `${rule.icmp_type}/${rule.icmp_code}`}`,
        );
    }
    const specText = spec.join(" ");
    if (rule.action === "deny") {
        return dropRule(chain, specText || undefined, undefined);
    }
    if (rule.action === "next-tier") {
        // Profiles sit in no tier in Calico 0.x, so next-tier only ends the profile without accepting.
        return [`-A ${chain}`, specText, `-j MARK --set-mark 0x2000000/0x2000000`].filter(Boolean).join(" ");
    }
    return [`-A ${chain}`, specText, "-j RETURN"].filter(Boolean).join(" ");
}

/** profile_updates: both chains of a valid profile. */
function profileChains(id: string, rules: ProfileRules) {
    const chains: [string, string[]][] = [];
    for (const direction of ["inbound", "outbound"] as const) {
        const chain = profileChain(direction, id);
        const rows = [`-A ${chain} -j MARK --set-mark ${markAccept}/${markAccept}`];
        for (const rule of rules[`${direction}_rules`]) {
            if (rule.ip_version === undefined || rule.ip_version === 4) {
                rows.push(...ruleFragments(chain, rule));
            }
        }
        rows.push(
            `-A ${chain} -m comment --comment "No match, fall through to next profile" -j MARK --set-mark 0/${markAccept}`,
        );
        chains.push([chain, rows]);
    }
    return chains;
}

/** _build_to_or_from_chain. */
function endpointChain(chain: string, endpoint: Endpoint, direction: "inbound" | "outbound") {
    const rows = [`-A ${chain} -j MARK --set-mark 0/${markAccept}`];
    if (direction === "outbound" && endpoint.mac) {
        rows.push(dropRule(chain, `-m mac ! --mac-source ${endpoint.mac}`, "Incorrect source MAC"));
    }
    for (const profileId of endpoint.profileIds) {
        rows.push(`-A ${chain} -j ${profileChain(direction, profileId)}`);
        rows.push(
            `-A ${chain} -m mark --mark ${markAccept}/${markAccept} -m comment --comment "Profile accepted packet" -j RETURN`,
        );
    }
    rows.push(dropRule(chain, undefined, `Packet did not match any profile (endpoint ${endpoint.endpointId})`));
    return rows;
}

/** DispatchChains._calculate_update. */
function dispatchChains(ifaces: string[]) {
    const chains: Map<string, string[]> = new Map([
        ["felix-TO-ENDPOINT", []],
        ["felix-FROM-ENDPOINT", []],
    ]);
    const byPrefix = new Map<string, string[]>();
    for (const iface of [...ifaces].sort()) {
        const prefix = suffixOf(iface).slice(0, 1);
        byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), iface]);
    }
    for (const [prefix, members] of byPrefix) {
        let to = "felix-TO-ENDPOINT";
        let from = "felix-FROM-ENDPOINT";
        if (members.length > 1) {
            to = `felix-TO-EP-PFX-${prefix}`;
            from = `felix-FROM-EP-PFX-${prefix}`;
            chains.set(to, []);
            chains.set(from, []);
            chains.get("felix-FROM-ENDPOINT")?.push(`-A felix-FROM-ENDPOINT -i ${ifPrefix}${prefix}+ -g ${from}`);
            chains.get("felix-TO-ENDPOINT")?.push(`-A felix-TO-ENDPOINT -o ${ifPrefix}${prefix}+ -g ${to}`);
        }
        for (const iface of members) {
            chains.get(from)?.push(`-A ${from} -i ${iface} -g felix-from-${suffixOf(iface)}`);
            chains.get(to)?.push(`-A ${to} -o ${iface} -g felix-to-${suffixOf(iface)}`);
        }
        if (members.length > 1) {
            chains.get(from)?.push(dropRule(from, undefined, "From unknown endpoint"));
            chains.get(to)?.push(dropRule(to, undefined, "To unknown endpoint"));
        }
    }
    chains.get("felix-FROM-ENDPOINT")?.push(dropRule("felix-FROM-ENDPOINT", undefined, "From unknown endpoint"));
    chains.get("felix-TO-ENDPOINT")?.push(dropRule("felix-TO-ENDPOINT", undefined, "To unknown endpoint"));
    return chains;
}

/** filter_input_chain (no metadata address: calico-node's felix.cfg sets MetadataAddr = None). */
function inputChain(defaultAction: string) {
    const rows = [
        `-A felix-INPUT ! -i ${ifaceMatch} -j RETURN`,
        dropRule("felix-INPUT", "-m conntrack --ctstate INVALID", undefined),
        "-A felix-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A felix-INPUT -p udp --sport 68 --dport 67 -j ACCEPT",
        "-A felix-INPUT -p udp --dport 53 -j ACCEPT",
    ];
    if (defaultAction !== "DROP") {
        rows.push("-A felix-INPUT -j felix-FROM-ENDPOINT");
    }
    if (defaultAction === "DROP") {
        rows.push(dropRule("felix-INPUT", undefined, "Drop all packets from endpoints to the host"));
    } else if (defaultAction !== "RETURN") {
        rows.push(`-A felix-INPUT -j ${defaultAction}`);
    }
    return rows;
}

function forwardChain() {
    return [
        dropRule("felix-FORWARD", `-i ${ifaceMatch} -m conntrack --ctstate INVALID`, undefined),
        dropRule("felix-FORWARD", `-o ${ifaceMatch} -m conntrack --ctstate INVALID`, undefined),
        `-A felix-FORWARD -i ${ifaceMatch} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
        `-A felix-FORWARD -o ${ifaceMatch} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
        `-A felix-FORWARD -i ${ifaceMatch} -j felix-FROM-ENDPOINT`,
        `-A felix-FORWARD -o ${ifaceMatch} -j felix-TO-ENDPOINT`,
        `-A felix-FORWARD -i ${ifaceMatch} -j ACCEPT`,
        `-A felix-FORWARD -o ${ifaceMatch} -j ACCEPT`,
    ];
}

/**
 * The whole of Felix's filter table state for one host.
 * @param localEndpoints this host's endpoints whose interfaces are up
 */
export function filterState(
    model: Pick<CalicoModel, "profiles" | "endpoints" | "defaultEndpointToHostAction">,
    localEndpoints: Endpoint[],
): FilterState {
    const chains: Map<string, string[]> = new Map([
        ["felix-INPUT", inputChain(model.defaultEndpointToHostAction)],
        ["felix-FORWARD", forwardChain()],
    ]);
    dispatchChains(localEndpoints.map((endpoint) => endpoint.name)).forEach((rows, chain) => chains.set(chain, rows));
    const neededProfiles = new Set(localEndpoints.flatMap((endpoint) => endpoint.profileIds));
    const neededTags = new Set<string>();
    for (const id of neededProfiles) {
        const profile = model.profiles.get(id);
        const rules = profile === undefined ? undefined : validRules(profile.rules);
        if (rules === undefined) {
            // Felix's iptables updater stubs a chain that is referenced but not programmed with a DROP.
            for (const direction of ["inbound", "outbound"] as const) {
                chains.set(profileChain(direction, id), [`-A ${profileChain(direction, id)} -j DROP`]);
            }
            continue;
        }
        profileChains(id, rules).forEach(([chain, rows]) => chains.set(chain, rows));
        [...rules.inbound_rules, ...rules.outbound_rules]
            .flatMap((rule) => [rule.src_tag, rule.dst_tag])
            .forEach((tag) => {
                if (typeof tag === "string") {
                    neededTags.add(tag);
                }
            });
    }
    for (const endpoint of localEndpoints) {
        const suffix = suffixOf(endpoint.name);
        chains.set(`felix-to-${suffix}`, endpointChain(`felix-to-${suffix}`, endpoint, "inbound"));
        chains.set(`felix-from-${suffix}`, endpointChain(`felix-from-${suffix}`, endpoint, "outbound"));
    }
    const ipsets = new Map<string, string[]>();
    for (const tag of neededTags) {
        const carriesTag = (id: string) => {
            const tags = model.profiles.get(id)?.tags;
            return validTags(tags) && tags.includes(tag);
        };
        const members = model.endpoints
            .filter((endpoint) => endpoint.profileIds.some(carriesTag))
            .flatMap((endpoint) => endpoint.ipv4.map((cidr) => cidr.split("/")[0]));
        ipsets.set(ipsetName(tag), [...new Set(members)].sort());
    }
    return { chains, ipsets };
}

/** validate_tags. */
function validTags(tags: unknown): tags is string[] {
    return Array.isArray(tags) && tags.every((tag) => typeof tag === "string" && validId.test(tag));
}
