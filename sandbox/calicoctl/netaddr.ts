// netaddr 0.7.18's IPNetwork(addr) and str(IPNetwork), as libcalico v0.14's Rule uses them for src_net/dst_net
// and calicoctl v0.19.0 for validate_cidr. Source: netaddr/netaddr tag netaddr-0.7.18, netaddr/ip/__init__.py
// (IPNetwork.__init__, parse_ip_network, IPAddress.is_netmask/is_hostmask, IPNetwork.__str__, key),
// netaddr/strategy/ipv4.py (str_to_int with INET_PTON, expand_partial_address) and strategy/ipv6.py, which
// parse and print addresses with the C library's inet_pton/inet_ntop (glibc resolv/inet_pton.c and
// inet_ntop.c: inet_pton4, inet_pton6, inet_ntop6).
import { PythonException, pythonInt, pythonTypeName } from "./python";

const families = { 4: { width: 32, max: (1n << 32n) - 1n }, 6: { width: 128, max: (1n << 128n) - 1n } };

/** glibc inet_pton4: four decimal octets, no leading zeros, nothing else. */
function inetPton4(text: string): bigint | undefined {
    const octets = text.split(".");
    if (octets.length !== 4 || !octets.every((octet) => /^(0|[1-9][0-9]{0,2})$/.test(octet) && Number(octet) <= 255)) {
        return undefined;
    }
    return octets.reduce((value, octet) => (value << 8n) | BigInt(octet), 0n);
}

/** glibc inet_pton6: hex groups of 1-4 digits, at most one "::", an optional dotted IPv4 tail. */
function inetPton6(text: string): bigint | undefined {
    const halves = text.split("::");
    if (halves.length > 2) {
        return undefined;
    }
    const groupsOf = (part: string, last: boolean) => {
        if (part === "") {
            return [];
        }
        const words = part.split(":");
        const groups: number[] = [];
        for (let i = 0; i < words.length; i++) {
            const tail = last && i === words.length - 1 ? inetPton4(words[i]) : undefined;
            if (tail !== undefined) {
                groups.push(Number(tail >> 16n), Number(tail & 0xffffn));
            } else if (/^[0-9a-fA-F]{1,4}$/.test(words[i])) {
                groups.push(parseInt(words[i], 16));
            } else {
                return undefined;
            }
        }
        return groups;
    };
    const head = groupsOf(halves[0], halves.length === 1);
    const tail = halves.length === 2 ? groupsOf(halves[1], true) : [];
    if (head === undefined || tail === undefined) {
        return undefined;
    }
    const missing = 8 - head.length - tail.length;
    if (halves.length === 1 ? missing !== 0 : missing < 1) {
        return undefined;
    }
    const groups = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
    return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** glibc inet_ntop6 (what netaddr prints): RFC 5952 compression, and dotted IPv4 for ::a.b.c.d and ::ffff:a.b.c.d. */
function inetNtop6(value: bigint) {
    const words = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
    let best = { base: -1, len: 0 };
    let current = { base: -1, len: 0 };
    words.forEach((word, i) => {
        if (word === 0) {
            current = current.base === -1 ? { base: i, len: 1 } : { base: current.base, len: current.len + 1 };
        } else if (current.base !== -1) {
            best = best.base === -1 || current.len > best.len ? current : best;
            current = { base: -1, len: 0 };
        }
    });
    if (current.base !== -1 && (best.base === -1 || current.len > best.len)) {
        best = current;
    }
    if (best.len < 2) {
        best = { base: -1, len: 0 };
    }
    let text = "";
    for (let i = 0; i < 8; i++) {
        if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
            text += i === best.base ? ":" : "";
            continue;
        }
        text += i !== 0 ? ":" : "";
        if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
            text += [words[6] >> 8, words[6] & 0xff, words[7] >> 8, words[7] & 0xff].join(".");
            return text;
        }
        text += words[i].toString(16);
    }
    return best.base !== -1 && best.base + best.len === 8 ? `${text}:` : text;
}

/** strategy/ipv4.py expand_partial_address: "10" -> 10.0.0.0, "10.1" -> 10.1.0.0, each part through int(). */
function expandPartialIpv4(text: string) {
    if (text.includes(":")) {
        return undefined;
    }
    const parts = text.split(".").map(pythonInt);
    if (parts.some((part) => part === undefined) || parts.length > 4) {
        return undefined;
    }
    return inetPton4([...parts, 0, 0, 0].slice(0, 4).map(String).join("."));
}

/** netaddr's netmask_to_prefix / hostmask_to_prefix lookups, netmask first. */
function maskPrefix(mask: bigint, version: 4 | 6) {
    const { width, max } = families[version];
    for (let prefix = 0; prefix <= width; prefix++) {
        const hostBits = (1n << BigInt(width - prefix)) - 1n;
        if (mask === (max ^ hostBits)) {
            return prefix;
        }
    }
    for (let prefix = 0; prefix <= width; prefix++) {
        if (mask === (1n << BigInt(width - prefix)) - 1n) {
            return prefix;
        }
    }
    return undefined;
}

/** parse_ip_network for one family, or undefined where it raises AddrFormatError. */
function parseFamily(text: string, version: 4 | 6) {
    const slash = text.indexOf("/");
    const address = slash < 0 ? text : text.slice(0, slash);
    const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
    const pton = version === 4 ? inetPton4 : inetPton6;
    const value = pton(address) ?? (version === 4 ? expandPartialIpv4(address) : undefined);
    if (value === undefined) {
        return undefined;
    }
    let prefix = prefixText === undefined ? families[version].width : pythonInt(prefixText);
    if (prefix === undefined) {
        const mask = pton(prefixText as string);
        prefix = mask === undefined ? undefined : maskPrefix(mask, version);
    }
    if (prefix === undefined || prefix < 0 || prefix > families[version].width) {
        return undefined;
    }
    return { version, value, prefix };
}

/** An IPNetwork: its version, its address as a number (host bits kept) and its prefix length. */
export interface IpNetwork {
    version: 4 | 6;
    value: bigint;
    prefix: number;
}

/**
 * IPNetwork(addr): IPv4 first, then IPv6. A string neither parses raises AddrFormatError; anything but a string
 * raises parse_ip_network's TypeError.
 */
export function ipNetwork(addr: unknown): IpNetwork {
    if (typeof addr !== "string") {
        throw new PythonException("TypeError", `unexpected type <type '${pythonTypeName(addr)}'> for addr arg`);
    }
    const network = parseFamily(addr, 4) ?? parseFamily(addr, 6);
    if (network === undefined) {
        throw new PythonException("AddrFormatError", `invalid IPNetwork ${addr}`);
    }
    return network;
}

/** str(IPNetwork): the address as typed (host bits kept), then the prefix length. */
export function networkText({ version, value, prefix }: IpNetwork): string {
    const address =
        version === 4 ? [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join(".") : inetNtop6(value);
    return `${address}/${prefix}`;
}

/** IPNetwork.key() equality: same family, first and last address. */
export function sameNetwork(a: IpNetwork, b: IpNetwork): boolean {
    const hostBits = (n: { version: 4 | 6; prefix: number }) =>
        (1n << BigInt(families[n.version].width - n.prefix)) - 1n;
    return (
        a.version === b.version &&
        (a.value & ~hostBits(a)) === (b.value & ~hostBits(b)) &&
        (a.value | hostBits(a)) === (b.value | hostBits(b))
    );
}
