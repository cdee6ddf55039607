// CIDRs in calicoctl 0.x's rules, checked and spelled the way calicoctl stores them. libcalico's Rule keeps
// src_net/dst_net as netaddr IPNetwork objects and writes str() of them (projectcalico/libcalico v0.12-v0.18,
// pycalico/datastore_datatypes.py Rule.__setitem__ and to_json_dict); netaddr 0.7.18 (netaddr/ip/__init__.py
// parse_ip_network, IPNetwork.__str__) keeps the host bits as typed and prints IPv6 with the C library's
// inet_ntop (glibc resolv/inet_ntop.c inet_ntop6): lower case, the first longest run of two or more zero
// groups as "::", and ::a.b.c.d / ::ffff:a.b.c.d in dotted form. A CIDR stored any other way never reads back
// equal, so every CIDR goes out in that spelling.

export type Fail = (problem: string) => never;

interface Family {
    version: 4 | 6;
    bits: number;
    parse: (text: string) => bigint | undefined;
    format: (value: bigint) => string;
}

const IPV4: Family = { version: 4, bits: 32, parse: parseIpv4, format: formatIpv4 };
const IPV6: Family = { version: 6, bits: 128, parse: parseIpv6, format: formatIpv6 };
const DIGITS = /^[0-9]+$/;

/**
 * The CIDR as calicoctl stores it: "<address>/<prefix length>", a bare address with its full length, a netmask
 * or hostmask prefix as its length. Spellings that calicoctl's netaddr reads one way and other tools another
 * (partial IPv4 addresses, octets with leading zeros) are refused, saying so.
 */
export function canonicalCidr(text: string, fail: Fail): string {
    const slash = text.indexOf("/");
    const address = slash < 0 ? text : text.slice(0, slash);
    const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
    if (prefixText?.includes("/")) fail(`cidr ${quote(text)} has more than one "/"`);
    const family = address.includes(":") ? IPV6 : IPV4;
    const value = family.parse(address);
    if (value === undefined) fail(addressProblem(text, address));
    return `${family.format(value)}/${prefixLength(text, prefixText, family, fail)}`;
}

/** 4 or 6, for a CIDR canonicalCidr returned. */
export function cidrVersion(cidr: string): 4 | 6 {
    return cidr.includes(":") ? 6 : 4;
}

function addressProblem(text: string, address: string): string {
    const parts = address.split(".");
    if (parts.every((part) => DIGITS.test(part))) {
        if (parts.length < 4) {
            return (
                `cidr ${quote(text)} has a partial IPv4 address, which calicoctl's netaddr fills in from the right ` +
                `("10.1" becomes 10.1.0.0) where other tools fill it in from the left (10.0.0.1); write all four octets`
            );
        }
        if (
            parts.length === 4 &&
            parts.some((part) => part.length > 1 && part.startsWith("0")) &&
            parts.every((part) => Number(part) <= 255)
        ) {
            return (
                `cidr ${quote(text)} has an octet with a leading zero, which calicoctl reads as decimal and other tools ` +
                `as octal; write the octets without leading zeros`
            );
        }
    }
    return `cidr ${quote(text)} is not an IPv4 or IPv6 address or network`;
}

/** A length in decimal digits (leading zeros allowed, as Python's int() allows them), or a netmask or hostmask. */
function prefixLength(text: string, prefixText: string | undefined, family: Family, fail: Fail): number {
    if (prefixText === undefined) return family.bits;
    if (DIGITS.test(prefixText)) {
        const length = Number(prefixText);
        if (length > family.bits) fail(`cidr ${quote(text)} has a prefix length outside 0..${family.bits}`);
        return length;
    }
    const mask = family.parse(prefixText);
    const length = mask === undefined ? undefined : maskLength(mask, family.bits);
    if (length === undefined) {
        fail(
            `cidr ${quote(text)} has a prefix that is neither a length 0..${family.bits} in digits nor a netmask or hostmask`,
        );
    }
    return length;
}

/** netaddr's netmask_to_prefix, then hostmask_to_prefix (a netmask is checked first, as netaddr does). */
function maskLength(mask: bigint, bits: number): number | undefined {
    const all = (1n << BigInt(bits)) - 1n;
    for (let length = 0; length <= bits; length++) {
        if (mask === (all ^ ((1n << BigInt(bits - length)) - 1n))) return length;
    }
    for (let length = 0; length <= bits; length++) {
        if (mask === (1n << BigInt(bits - length)) - 1n) return length;
    }
    return undefined;
}

/** inet_pton(AF_INET): exactly four decimal octets 0-255, no leading zeros. */
function parseIpv4(text: string): bigint | undefined {
    const octets = text.split(".");
    if (octets.length !== 4) return undefined;
    let value = 0n;
    for (const octet of octets) {
        if (!/^(0|[1-9][0-9]{0,2})$/.test(octet) || Number(octet) > 255) return undefined;
        value = (value << 8n) + BigInt(octet);
    }
    return value;
}

function formatIpv4(value: bigint): string {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");
}

/** inet_pton(AF_INET6): up to eight groups of 1-4 hex digits, one "::" at most, a dotted IPv4 last. No zone. */
function parseIpv6(text: string): bigint | undefined {
    const sides = text.split("::");
    if (sides.length > 2) return undefined;
    const groups = sides.map((side, i) => ipv6Groups(side, i === sides.length - 1));
    if (groups.some((side) => side === undefined)) return undefined;
    const [head, tail = []] = groups as number[][];
    const zeros = 8 - head.length - tail.length;
    if (sides.length === 1 ? zeros !== 0 : zeros < 1) return undefined;
    const words = sides.length === 1 ? head : [...head, ...new Array<number>(zeros).fill(0), ...tail];
    return words.reduce((value, word) => (value << 16n) + BigInt(word), 0n);
}

function ipv6Groups(side: string, last: boolean): number[] | undefined {
    if (side === "") return [];
    const words: number[] = [];
    const parts = side.split(":");
    for (const [i, part] of parts.entries()) {
        const ipv4 = last && i === parts.length - 1 && part.includes(".") ? parseIpv4(part) : undefined;
        if (ipv4 !== undefined) {
            words.push(Number(ipv4 >> 16n), Number(ipv4 & 0xffffn));
        } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
            words.push(parseInt(part, 16));
        } else {
            return undefined;
        }
    }
    return words;
}

/** glibc's inet_ntop6, which netaddr prints IPv6 addresses with. */
function formatIpv6(value: bigint): string {
    const words = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
    const run = longestZeroRun(words);
    const hex = (from: number, to: number) => words.slice(from, to).map((word) => word.toString(16));
    if (run === undefined) return hex(0, 8).join(":");
    const embedsIpv4 = run.start === 0 && (run.length === 6 || (run.length === 5 && words[5] === 0xffff));
    if (embedsIpv4) {
        const prefix = run.length === 5 ? "::ffff:" : "::";
        return prefix + [words[6] >> 8, words[6] & 255, words[7] >> 8, words[7] & 255].join(".");
    }
    return `${hex(0, run.start).join(":")}::${hex(run.start + run.length, 8).join(":")}`;
}

/** The first longest run of two or more zero words. */
function longestZeroRun(words: number[]): { start: number; length: number } | undefined {
    let best: { start: number; length: number } | undefined;
    let start = -1;
    for (let i = 0; i <= words.length; i++) {
        if (i < words.length && words[i] === 0) {
            if (start < 0) start = i;
            continue;
        }
        if (start >= 0 && i - start >= 2 && (best === undefined || i - start > best.length))
            best = { start, length: i - start };
        start = -1;
    }
    return best;
}

/** JSON quoting makes newlines, quotes and control characters visible in messages. */
export function quote(text: string): string {
    return JSON.stringify(text);
}
