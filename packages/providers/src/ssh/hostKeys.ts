// Host-key verification: the configured keys and fingerprints, and known_hosts
// read as OpenSSH reads it (openssh-portable V_9_9_P2):
// - hostfile.c hostkeys_foreach_file/check_markers: one optional marker per line, `@cert-authority` or
//   `@revoked`; any other marker makes the line ignored; blank lines and `#` comments are skipped.
// - ssh.c main: the host name is lower-cased before any lookup, so a hashed entry is the hash of the lower-case name.
// - hostfile.c match_maybe_hashed: a hashed field (`|1|salt|hash`, HMAC-SHA1 of the name) matches the name
//   exactly; a plain field is a pattern list, matched by match.c match_hostname: the name lower-cased,
//   comma-separated patterns with `*` and `?` (match_pattern), a `!pattern` that matches excludes the host
//   outright (match_pattern_list returns -1), and the line applies only on a positive match.
// - misc.c put_host_port: a host on port 22 is looked up as `host`, on any other port as `[host]:port`.
// - sshkey.c sshkey_read: the key is its base64 blob decoded (b64_pton skips white space, such as the \r of a
//   CRLF line end), and keys are compared decoded (sshkey_equal).
// - hostfile.c check_hostkeys_by_key_or_type/check_key_not_revoked: a key listed `@revoked` for the host is
//   refused whatever else matches.
// `@cert-authority` lines (host certificates) are refused with a message: ssh2 cannot check a certificate.
import * as crypto from "crypto";
import * as fs from "fs";
import { expandHome } from "./settings";
import type { SshSettings } from "./settings";
import type { SshHost } from "./types";

interface KnownHostsEntry {
    /** 1-based line number, for messages. */
    line: number;
    marker?: "@revoked" | "@cert-authority";
    /** The host field as written: a pattern list or a hashed name. */
    hosts: string;
    keyType: string;
    /** The key, decoded. */
    key: Buffer;
}

/** Where verification finds keys: the configured ones and a known_hosts file. */
export type HostKeySources = Pick<SshSettings, "hostKeys" | "knownHostsPath"> &
    Partial<Pick<SshSettings, "hostKeyFingerprints" | "insecureSkipHostKeyVerification">>;

export function sha256Fingerprint(key: Buffer): string {
    return `SHA256:${crypto.createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The name known_hosts lists a host under: lower-cased (ssh.c), with its port unless 22 (misc.c put_host_port). */
function knownHostsName(host: Pick<SshHost, "address" | "port">): string {
    const name = host.address.toLowerCase();
    return host.port === 22 ? name : `[${name}]:${host.port}`;
}

/**
 * What hostKeys or hostKeyFingerprints lists for a host: under `[address]:port` (known_hosts' spelling), else under
 * its address alone, which holds on any port; names compared lower-case, as ssh compares them.
 */
function configuredFor<T>(byTarget: Record<string, T>, host: Pick<SshHost, "address" | "port">): T | undefined {
    const address = host.address.toLowerCase();
    for (const target of [`[${address}]:${host.port}`, address]) {
        const found = Object.entries(byTarget).find(([key]) => key.toLowerCase() === target);
        if (found !== undefined) {
            return found[1];
        }
    }
    return undefined;
}

/** A base64 key blob decoded as b64_pton does it: white space skipped; undefined when it is not base64. */
function decodeKeyBlob(text: string): Buffer | undefined {
    const compact = text.replace(/[ \t\n\v\f\r]/g, "");
    return /^[A-Za-z0-9+/]+={0,2}$/.test(compact) ? Buffer.from(compact, "base64") : undefined;
}

/** The key of a public key line ("ssh-ed25519 AAAA... comment"), decoded. */
function keyOfLine(keyLine: string): Buffer | undefined {
    return decodeKeyBlob(keyLine.trim().split(/\s+/)[1] ?? "");
}

/** match.c match_pattern: `*` any run of characters, `?` any one; the whole text must match. */
export function matchPattern(text: string, pattern: string): boolean {
    // states[i]: the first i pattern characters can match what was read so far
    let states = new Array<boolean>(pattern.length + 1).fill(false);
    states[0] = true;
    const close = (set: boolean[]) => {
        for (let i = 0; i < pattern.length; i++) {
            if (set[i] && pattern[i] === "*") {
                set[i + 1] = true;
            }
        }
    };
    close(states);
    for (const ch of text) {
        const next = new Array<boolean>(pattern.length + 1).fill(false);
        for (let i = 0; i < pattern.length; i++) {
            if (!states[i]) {
                continue;
            }
            if (pattern[i] === "*") {
                next[i] = true;
            } else if (pattern[i] === "?" || pattern[i] === ch) {
                next[i + 1] = true;
            }
        }
        close(next);
        states = next;
    }
    return states[pattern.length];
}

/** match.c match_pattern_list with lower-casing: 1 on a positive match, -1 when a `!pattern` matches, else 0. */
export function matchPatternList(name: string, list: string): -1 | 0 | 1 {
    const lowered = name.toLowerCase();
    let positive = false;
    for (const raw of list.split(",")) {
        const negated = raw.startsWith("!");
        const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
        if (matchPattern(lowered, pattern)) {
            if (negated) {
                return -1;
            }
            positive = true;
        }
    }
    return positive ? 1 : 0;
}

/** hostfile.c match_maybe_hashed: does this line's host field name the host? */
function hostFieldMatches(field: string, name: string): boolean {
    if (field.startsWith("|1|")) {
        const [, , salt, hash] = field.split("|");
        if (salt === undefined || hash === undefined) {
            return false;
        }
        return crypto.createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
    }
    return matchPatternList(name, field) === 1;
}

/** Every usable line of a known_hosts file, as OpenSSH splits it. */
function parseKnownHosts(text: string): KnownHostsEntry[] {
    const entries: KnownHostsEntry[] = [];
    text.split("\n").forEach((raw, index) => {
        let rest = raw.replace(/^[ \t]+/, "");
        if (rest === "" || rest.startsWith("#")) {
            return;
        }
        let marker: KnownHostsEntry["marker"];
        if (rest.startsWith("@")) {
            const [word] = rest.split(/[ \t]/, 1);
            if (word !== "@revoked" && word !== "@cert-authority") {
                return;
            }
            marker = word;
            rest = rest.slice(word.length).replace(/^[ \t]+/, "");
            if (rest.startsWith("@")) {
                return;
            }
        }
        const [hosts, keyType, blob] = rest.split(/[ \t]+/);
        const key = decodeKeyBlob(blob ?? "");
        if (hosts && keyType && key !== undefined) {
            entries.push({ line: index + 1, marker, hosts, keyType, key });
        }
    });
    return entries;
}

/** What a known_hosts file says about one host. */
interface KnownHostsLookup {
    path: string;
    /** Plain (unmarked) entries naming the host, in file order. */
    keys: KnownHostsEntry[];
    revoked: KnownHostsEntry[];
    certAuthorities: KnownHostsEntry[];
}

function lookupKnownHosts(text: string, path: string, host: Pick<SshHost, "address" | "port">): KnownHostsLookup {
    const name = knownHostsName(host);
    const matching = parseKnownHosts(text).filter((entry) => hostFieldMatches(entry.hosts, name));
    return {
        path,
        keys: matching.filter((e) => e.marker === undefined),
        revoked: matching.filter((e) => e.marker === "@revoked"),
        certAuthorities: matching.filter((e) => e.marker === "@cert-authority"),
    };
}

function readKnownHosts(path: string, host: Pick<SshHost, "address" | "port">): KnownHostsLookup {
    return lookupKnownHosts(fs.readFileSync(expandHome(path), "utf8"), path, host);
}

function revokedProblem(
    lookup: KnownHostsLookup | undefined,
    key: Buffer | undefined,
    what: string,
): string | undefined {
    const entry = key && lookup?.revoked.find((e) => e.key.equals(key));
    return entry && `${what} is marked @revoked in ${lookup!.path} (line ${entry.line})`;
}

function certAuthorityProblem(lookup: KnownHostsLookup): string {
    return (
        `${lookup.path} line ${lookup.certAuthorities.map((e) => e.line).join(", ")}: @cert-authority entries (host certificates) are not ` +
        "supported; list the host's own public key instead (ssh-keyscan prints it)"
    );
}

/** undefined when the offered key is accepted, otherwise why not. */
export function hostKeyVerdict(host: SshHost, key: Buffer, settings: SshSettings): string | undefined {
    const fingerprint = sha256Fingerprint(key);
    const lookup = settings.knownHostsPath !== undefined ? readKnownHosts(settings.knownHostsPath, host) : undefined;
    const revoked = revokedProblem(lookup, key, `host key ${fingerprint}`);
    if (revoked !== undefined) {
        return revoked;
    }
    if (settings.insecureSkipHostKeyVerification) {
        return undefined;
    }
    const knownKeys = configuredFor(settings.hostKeys, host);
    if (knownKeys !== undefined) {
        return knownKeys.some((line) => keyOfLine(line)?.equals(key))
            ? undefined
            : `host key ${fingerprint} is not among the configured hostKeys`;
    }
    const pinned = configuredFor(settings.hostKeyFingerprints, host);
    if (pinned !== undefined) {
        return pinned.includes(fingerprint)
            ? undefined
            : `host key ${fingerprint} is not among the configured hostKeyFingerprints (${pinned.join(", ")})`;
    }
    if (lookup !== undefined) {
        if (lookup.certAuthorities.length > 0) {
            return certAuthorityProblem(lookup);
        }
        if (lookup.keys.some((e) => e.key.equals(key))) {
            return undefined;
        }
        return lookup.keys.length > 0
            ? `host key ${fingerprint} does not match ${lookup.path} (possible man-in-the-middle; fix known_hosts if the host was rebuilt)`
            : `${knownHostsName(host)} is not in ${lookup.path}`;
    }
    return `no hostKeys or hostKeyFingerprints entry for ${host.address} and no knownHostsPath; the host offered ${fingerprint}`;
}

/**
 * The host's full public key for clients that check a host only against one key (@pulumi/command's `hostKey`): the
 * first configured or known_hosts key that is not revoked, or why there is none. The key is undefined only with
 * insecureSkipHostKeyVerification and nothing that names the host: such a client then takes any key, which is safe
 * only while there is no key it would have to refuse.
 */
export function acceptedHostKey(
    sources: HostKeySources,
    host: Pick<SshHost, "address" | "port">,
): { key: string | undefined } | { problem: string } {
    const lookup = sources.knownHostsPath !== undefined ? readKnownHosts(sources.knownHostsPath, host) : undefined;
    const configured = configuredFor(sources.hostKeys, host);
    if (configured === undefined && lookup !== undefined && lookup.certAuthorities.length > 0) {
        return { problem: certAuthorityProblem(lookup) };
    }
    const candidates = configured ?? lookup?.keys.map((e) => `${e.keyType} ${e.key.toString("base64")}`) ?? [];
    const usable = candidates.find((line) => revokedProblem(lookup, keyOfLine(line), "") === undefined);
    if (usable !== undefined) {
        return { key: usable.trim().split(/\s+/).slice(0, 2).join(" ") };
    }
    if (candidates.length > 0) {
        return {
            problem: `every key listed for ${host.address} (${configured ? "hostKeys" : lookup!.path}) is marked @revoked in ${lookup!.path}`,
        };
    }
    // nothing lists a key for the host, and no @cert-authority line names it: only @revoked lines may
    if (sources.insecureSkipHostKeyVerification) {
        if (lookup === undefined || lookup.revoked.length === 0) {
            return { key: undefined };
        }
        return {
            problem:
                `${lookup.path} marks a key @revoked for ${host.address} (line ${lookup.revoked.map((e) => e.line).join(", ")}), ` +
                "which a client given no key to check would accept, insecureSkipHostKeyVerification or not",
        };
    }
    return { problem: `no public key for ${host.address} in hostKeys${lookup ? ` or ${lookup.path}` : ""}` };
}
