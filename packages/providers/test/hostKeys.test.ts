// Host-key verdicts as OpenSSH reaches them from known_hosts (openssh-portable V_9_9_P2 hostfile.c, match.c), where
// it matters held against this machine's ssh-keygen and ssh.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { utils } from "ssh2";
import {
    acceptedHostKey,
    hostKeyVerdict,
    matchPattern,
    matchPatternList,
    sha256Fingerprint,
} from "../src/ssh/hostKeys";
import type { SshHost, SshSettings } from "../src/ssh";

const keyA = Buffer.from("host key A: not a real key, only bytes to compare");
const keyB = Buffer.from("host key B: another one");
const line = (hosts: string, key: Buffer, marker = "") =>
    `${marker ? `${marker} ` : ""}${hosts} ssh-ed25519 ${key.toString("base64")}`;
const hashed = (name: string) => {
    const salt = crypto.randomBytes(20);
    return `|1|${salt.toString("base64")}|${crypto.createHmac("sha1", salt).update(name).digest("base64")}`;
};
const host = (address: string, port = 22): SshHost => ({ address, port, user: "root", sudo: false });
const publicLine = (key: Buffer) => `ssh-ed25519 ${key.toString("base64")}`;

describe("known_hosts patterns (match.c)", function () {
    it("matches * and ? over the whole name", function () {
        assert.deepStrictEqual(
            [
                matchPattern("10.197.0.12", "10.197.0.*"),
                matchPattern("10.197.0.12", "10.197.0.1?"),
                matchPattern("10.197.0.123", "10.197.0.1?"),
                matchPattern("a.example", "*.example"),
                matchPattern("example", "*.example"),
            ],
            [true, true, false, true, false],
        );
    });

    it("reads a pattern list: a positive match, no match, and a negation that excludes the host outright", function () {
        assert.deepStrictEqual(
            [
                matchPatternList("10.197.0.12", "10.197.0.*,other"),
                matchPatternList("10.9.9.9", "10.197.0.*"),
                matchPatternList("10.197.0.12", "10.197.0.*,!10.197.0.12"),
                matchPatternList("MASTER.Example", "master.example"),
            ],
            [1, 0, -1, 1],
        );
    });
});

describe("host-key verdicts", function () {
    let dir: string;
    const settingsWith = (knownHosts: string[], overrides: Partial<SshSettings> = {}): SshSettings => {
        const knownHostsPath = path.join(dir, `known_hosts_${crypto.randomBytes(4).toString("hex")}`);
        fs.writeFileSync(knownHostsPath, `${knownHosts.join("\n")}\n`);
        return {
            hostKeys: {},
            hostKeyFingerprints: {},
            knownHostsPath,
            insecureSkipHostKeyVerification: false,
            connectTimeoutMs: 1,
            commandTimeoutMs: 1,
            connectAttempts: 1,
            ...overrides,
        };
    };

    before(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-known-hosts-"));
    });

    after(function () {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("accepts a plain entry and refuses another key for the same host", function () {
        const settings = settingsWith([line("10.197.0.12", keyA)]);
        assert.strictEqual(hostKeyVerdict(host("10.197.0.12"), keyA, settings), undefined);
        assert.match(
            hostKeyVerdict(host("10.197.0.12"), keyB, settings)!,
            /does not match .*possible man-in-the-middle/,
        );
    });

    it("accepts a wildcard entry", function () {
        assert.strictEqual(
            hostKeyVerdict(host("10.197.0.12"), keyA, settingsWith([line("10.197.0.*", keyA)])),
            undefined,
        );
    });

    it("does not apply a line whose negated pattern names the host", function () {
        assert.match(
            hostKeyVerdict(host("10.197.0.12"), keyA, settingsWith([line("10.197.0.*,!10.197.0.12", keyA)]))!,
            /10\.197\.0\.12 is not in /,
        );
    });

    it("accepts a hashed entry", function () {
        assert.strictEqual(
            hostKeyVerdict(host("10.197.0.12"), keyA, settingsWith([line(hashed("10.197.0.12"), keyA)])),
            undefined,
        );
    });

    it("looks a host on another port up as [host]:port, plain or hashed", function () {
        const other = host("10.197.0.12", 2222);
        assert.strictEqual(hostKeyVerdict(other, keyA, settingsWith([line("[10.197.0.12]:2222", keyA)])), undefined);
        assert.strictEqual(
            hostKeyVerdict(other, keyA, settingsWith([line(hashed("[10.197.0.12]:2222"), keyA)])),
            undefined,
        );
        assert.match(
            hostKeyVerdict(other, keyA, settingsWith([line("10.197.0.12", keyA)]))!,
            /\[10\.197\.0\.12\]:2222 is not in /,
        );
    });

    it("takes a configured key under [address]:port for that port only, and an IPv6 address that ends in :22 as an address", function () {
        const ipv6 = { hostKeys: { "2001:db8::1:22": [publicLine(keyA)], "2001:db8::1": [publicLine(keyB)] } };
        assert.deepStrictEqual(
            [keyA, keyB].map((key) => hostKeyVerdict(host("2001:db8::1"), key, settingsWith([], ipv6)) ?? "accepted"),
            ["host key " + sha256Fingerprint(keyA) + " is not among the configured hostKeys", "accepted"],
        );
        const byPort = {
            hostKeyFingerprints: {
                "[10.0.0.9]:2222": [sha256Fingerprint(keyA)],
                "10.0.0.9": [sha256Fingerprint(keyB)],
            },
        };
        assert.deepStrictEqual(
            [host("10.0.0.9", 2222), host("10.0.0.9")].map(
                (h) => hostKeyVerdict(h, keyA, settingsWith([], byPort)) ?? "accepted",
            ),
            [
                "accepted",
                `host key ${sha256Fingerprint(keyA)} is not among the configured hostKeyFingerprints (${sha256Fingerprint(keyB)})`,
            ],
        );
    });

    it("refuses a key marked @revoked, even next to a plain entry for it", function () {
        const settings = settingsWith([line("10.197.0.12", keyA), line("*", keyA, "@revoked")]);
        assert.match(
            hostKeyVerdict(host("10.197.0.12"), keyA, settings)!,
            /host key SHA256:\S+ is marked @revoked in .* \(line 2\)/,
        );
    });

    it("refuses a revoked key even when hostKeys or insecureSkipHostKeyVerification would accept it", function () {
        const revoked = [line("10.197.0.*", keyA, "@revoked")];
        assert.match(
            hostKeyVerdict(
                host("10.197.0.12"),
                keyA,
                settingsWith(revoked, { hostKeys: { "10.197.0.12": [line("x", keyA).split(" ").slice(1).join(" ")] } }),
            )!,
            /@revoked/,
        );
        assert.match(
            hostKeyVerdict(
                host("10.197.0.12"),
                keyA,
                settingsWith(revoked, { insecureSkipHostKeyVerification: true }),
            )!,
            /@revoked/,
        );
    });

    it("applies @revoked only to the hosts its pattern names", function () {
        assert.strictEqual(
            hostKeyVerdict(
                host("10.197.0.12"),
                keyA,
                settingsWith([line("10.197.0.12", keyA), line("10.9.9.9", keyA, "@revoked")]),
            ),
            undefined,
        );
    });

    it("refuses @cert-authority entries with a message rather than ignoring them", function () {
        const settings = settingsWith([
            line("*.cluster,10.197.0.*", keyB, "@cert-authority"),
            line("10.197.0.12", keyA),
        ]);
        assert.match(
            hostKeyVerdict(host("10.197.0.12"), keyA, settings)!,
            /line 1: @cert-authority entries \(host certificates\) are not supported; list the host's own public key instead/,
        );
    });

    it("ignores a line with an unknown marker, as ssh does", function () {
        assert.match(
            hostKeyVerdict(host("10.197.0.12"), keyA, settingsWith([line("10.197.0.12", keyA, "@trusted")]))!,
            /is not in/,
        );
    });
});

describe("the host key handed to @pulumi/command", function () {
    let dir: string;
    const knownHosts = (lines: string[]) => {
        const file = path.join(dir, `known_hosts_${crypto.randomBytes(4).toString("hex")}`);
        fs.writeFileSync(file, `${lines.join("\n")}\n`);
        return file;
    };

    before(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-command-key-"));
    });

    after(function () {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("skips a revoked key and hands over the next one", function () {
        const file = knownHosts([line("10.197.0.12", keyA), line("10.197.0.12", keyB), line("*", keyA, "@revoked")]);
        assert.deepStrictEqual(acceptedHostKey({ hostKeys: {}, knownHostsPath: file }, host("10.197.0.12")), {
            key: `ssh-ed25519 ${keyB.toString("base64")}`,
        });
    });

    it("hands over no configured key that known_hosts revokes, and says why", function () {
        const file = knownHosts([line("*", keyA, "@revoked")]);
        const found = acceptedHostKey(
            { hostKeys: { "10.197.0.12": [`ssh-ed25519 ${keyA.toString("base64")}`] }, knownHostsPath: file },
            host("10.197.0.12"),
        );
        assert.match(
            (found as { problem: string }).problem,
            /every key listed for 10\.197\.0\.12 \(hostKeys\) is marked @revoked/,
        );
    });

    it("refuses a host known only through @cert-authority", function () {
        const found = acceptedHostKey(
            { hostKeys: {}, knownHostsPath: knownHosts([line("10.197.0.*", keyA, "@cert-authority")]) },
            host("10.197.0.12"),
        );
        assert.match(
            (found as { problem: string }).problem,
            /@cert-authority entries \(host certificates\) are not supported/,
        );
    });
});

describe("known_hosts as OpenSSH reads it, held against ssh-keygen and ssh", function () {
    let dir: string;
    /** A real ed25519 public key line, which ssh-keygen can parse. */
    const realKey = () => utils.generateKeyPairSync("ed25519").public.split(" ").slice(0, 2).join(" ");
    const keyBytes = (keyLine: string) => Buffer.from(keyLine.split(" ")[1], "base64");
    const file = (text: string) => {
        const written = path.join(dir, `known_hosts_${crypto.randomBytes(4).toString("hex")}`);
        fs.writeFileSync(written, text);
        return written;
    };
    const settings = (knownHostsPath: string, overrides: Partial<SshSettings> = {}): SshSettings => ({
        hostKeys: {},
        hostKeyFingerprints: {},
        knownHostsPath,
        insecureSkipHostKeyVerification: false,
        connectTimeoutMs: 1,
        commandTimeoutMs: 1,
        connectAttempts: 1,
        ...overrides,
    });

    before(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-openssh-"));
    });

    after(function () {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("reads a key on a CRLF line as the key itself, as ssh-keygen does, so @revoked holds on every path", function () {
        const key = realKey();
        const known = file(`10.0.0.7 ${key}\r\n@revoked 10.0.0.7 ${key}\r\n`);
        // ssh-keygen -l prints the fingerprint of the key it read from each (unmarked) line
        const printed = execFileSync("ssh-keygen", ["-l", "-f", known], { encoding: "utf8" }).split(" ")[1];
        assert.strictEqual(printed, sha256Fingerprint(keyBytes(key)));
        const pinnedBy: Partial<SshSettings>[] = [
            {},
            { hostKeys: { "10.0.0.7": [key] } },
            { hostKeyFingerprints: { "10.0.0.7": [printed] } },
            { insecureSkipHostKeyVerification: true },
        ];
        for (const overrides of pinnedBy) {
            assert.match(
                hostKeyVerdict(host("10.0.0.7"), keyBytes(key), settings(known, overrides)) ?? "(accepted)",
                /is marked @revoked in \S+ \(line 2\)/,
                JSON.stringify(overrides),
            );
        }
        assert.match(
            (acceptedHostKey({ hostKeys: {}, knownHostsPath: known }, host("10.0.0.7")) as { problem: string }).problem,
            /every key listed for 10\.0\.0\.7 .* is marked @revoked/,
        );
    });

    it("looks a host written in capitals up under the lower-case name ssh uses, so a hashed @revoked entry holds", function () {
        const key = realKey();
        const known = file(`@revoked ${hashed("host9.example.com")} ${key}\nhost9.example.com ${key}\n`);
        // the name ssh looks the host up under (ssh -G), and the line ssh-keygen -F finds for that name
        const sshName = /^hostname (\S+)$/m.exec(
            execFileSync("ssh", ["-G", "-T", "-F", "/dev/null", "Host9.Example.com"], { encoding: "utf8" }),
        )![1];
        assert.strictEqual(sshName, "host9.example.com");
        assert.match(
            execFileSync("ssh-keygen", ["-F", sshName, "-f", known], { encoding: "utf8" }),
            /found: line 1 REVOKED/,
        );
        assert.match(
            hostKeyVerdict(host("Host9.Example.com"), keyBytes(key), settings(known)) ?? "(accepted)",
            /is marked @revoked in \S+ \(line 1\)/,
        );
    });

    it("accepts a host written in capitals through a hashed entry of its lower-case name", function () {
        const key = realKey();
        const known = file(`${hashed("[host9.example.com]:2222")} ${key}\n`);
        assert.strictEqual(hostKeyVerdict(host("Host9.Example.com", 2222), keyBytes(key), settings(known)), undefined);
    });
});
