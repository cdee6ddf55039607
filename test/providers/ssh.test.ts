// The SSH layer against a real OpenSSH server on loopback.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { writeResourcesFile } from "../../components/agentPrep";
import {
    closeAllConnections,
    configureSsh,
    httpOverSsh,
    parseSshSettings,
    runChecked,
    runCommand,
    sshStats,
} from "@calico-stars/providers/ssh";
import { loopbackSshdSuite } from "../support/loopbackSshd";

describe("SSH layer over a real sshd", function () {
    this.timeout(60000);
    const env = loopbackSshdSuite();

    it("returns stdout, stderr and the exit code", async function () {
        const result = await runCommand(env.host, { script: "echo out; echo err >&2; exit 3" });
        assert.deepStrictEqual(result, { stdout: "out\n", stderr: "err\n", code: 3 });
    });

    it("passes stdin through", async function () {
        assert.strictEqual((await runCommand(env.host, ["cat"], { stdin: '{"a": 1}' })).stdout, '{"a": 1}');
    });

    it("queues past sshd's MaxSessions on one connection", async function () {
        const results = await Promise.all(
            Array.from({ length: 60 }, (_, i) => runCommand(env.host, ["echo", String(i)])),
        );
        assert.deepStrictEqual(
            results.map((r) => r.stdout.trim()),
            Array.from({ length: 60 }, (_, i) => String(i)),
        );
        assert.deepStrictEqual(sshStats(), { connections: 1, commands: 60, forwards: 0 });
    });

    it("times a command out, naming host and command", async function () {
        await assert.rejects(
            runCommand(env.host, ["sleep", "5"], { timeoutMs: 300 }),
            /on root@127\.0\.0\.1:\d+: `sleep 5` timed out after 300 ms/,
        );
    });

    it("never runs a command whose timeout fired while it waited for a channel", async function () {
        const marker = path.join(env.sshd.dir, "ran-late");
        const busy = Array.from({ length: 8 }, () => runCommand(env.host, ["sleep", "1.5"]));
        await new Promise((resolve) => setTimeout(resolve, 200));
        await assert.rejects(
            runCommand(env.host, ["touch", marker], { timeoutMs: 300 }),
            /`touch \S+` timed out after 300 ms \(waiting for a free channel\)/,
        );
        await Promise.all(busy);
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepStrictEqual(
            [fs.existsSync(marker), env.sshd.commands().some((c) => c.startsWith("touch"))],
            [false, false],
        );
    });

    it("stops a command that prints more than the cap, naming it", async function () {
        configureSsh(env.sshd.settings({ maxOutputBytes: 4096 }));
        await assert.rejects(
            runCommand(env.host, ["head", "-c", "100000", "/dev/zero"]),
            /`head -c 100000 \/dev\/zero` printed more than 4096 bytes on stdout; stopped it/,
        );
    });

    it("caps what a command prints at 8 MiB with the settings the stack config builds, which name no cap", async function () {
        const config: Record<string, string> = {
            "calico-stars:sshPrivateKeyPath": env.sshd.privateKeyPath,
            "calico-stars:hostKeyFingerprints": JSON.stringify({
                [`[127.0.0.1]:${env.sshd.port}`]: [env.sshd.hostKeyFingerprint],
            }),
        };
        const settings = parseSshSettings((key) => config[key]);
        assert.strictEqual(settings.maxOutputBytes, undefined);
        configureSsh(settings);
        const mebibytes8 = 8 * 1024 * 1024;
        assert.strictEqual(
            (await runCommand(env.host, ["head", "-c", String(mebibytes8), "/dev/zero"])).stdout.length,
            mebibytes8,
        );
        await assert.rejects(
            runCommand(env.host, ["head", "-c", String(mebibytes8 + 1), "/dev/zero"]),
            /printed more than 8388608 bytes on stdout; stopped it/,
        );
    });

    it("stops reading an HTTP answer larger than the cap", async function () {
        configureSsh(env.sshd.settings({ maxOutputBytes: 4096 }));
        const server = http.createServer((_req, res) => res.end("x".repeat(100000)));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const port = (server.address() as AddressInfo).port;
            await assert.rejects(
                httpOverSsh(env.host, { method: "GET", path: "/big", targetHost: "127.0.0.1", targetPort: port }),
                /GET http:\/\/127\.0\.0\.1:\d+\/big via root@127\.0\.0\.1:\d+: the response is larger than 4096 bytes; stopped reading/,
            );
        } finally {
            server.closeAllConnections();
            server.close();
        }
    });

    it("names host, command and output when a command fails", async function () {
        await assert.rejects(
            runChecked(env.host, { script: "echo nope >&2; exit 4" }),
            /on root@127\.0\.0\.1:\d+: `echo nope >&2; exit 4` exited 4: nope/,
        );
    });

    it("refuses a host whose key matches no configured fingerprint", async function () {
        configureSsh(
            env.sshd.settings({
                hostKeyFingerprints: { "127.0.0.1": ["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] },
            }),
        );
        await assert.rejects(
            runCommand(env.host, ["true"]),
            /refusing root@127\.0\.0\.1:\d+: host key SHA256:\S+ is not among the configured hostKeyFingerprints/,
        );
        assert.strictEqual(env.sshd.commands().filter((c) => c === "true").length, 0);
    });

    it("refuses a host it has no key for", async function () {
        configureSsh(env.sshd.settings({ hostKeyFingerprints: {} }));
        await assert.rejects(
            runCommand(env.host, ["true"]),
            /no hostKeys or hostKeyFingerprints entry for 127\.0\.0\.1/,
        );
    });

    it("accepts a host listed by public key", async function () {
        configureSsh(
            env.sshd.settings({ hostKeyFingerprints: {}, hostKeys: { "127.0.0.1": [env.sshd.hostPublicKey] } }),
        );
        assert.strictEqual((await runCommand(env.host, ["true"])).code, 0);
    });

    it("accepts a host through a known_hosts wildcard entry on its port", async function () {
        const knownHosts = path.join(env.sshd.dir, "known_hosts_wildcard");
        fs.writeFileSync(knownHosts, `[127.0.0.*]:${env.sshd.port} ${env.sshd.hostPublicKey}\n`);
        configureSsh(env.sshd.settings({ hostKeyFingerprints: {}, knownHostsPath: knownHosts }));
        assert.strictEqual((await runCommand(env.host, ["true"])).code, 0);
    });

    it("refuses a host whose key known_hosts marks @revoked, even when a fingerprint pins it, and runs nothing", async function () {
        const knownHosts = path.join(env.sshd.dir, "known_hosts_revoked");
        fs.writeFileSync(
            knownHosts,
            `[127.0.0.1]:${env.sshd.port} ${env.sshd.hostPublicKey}\n@revoked * ${env.sshd.hostPublicKey}\n`,
        );
        configureSsh(env.sshd.settings({ knownHostsPath: knownHosts }));
        const before = env.sshd.commands().length;
        await assert.rejects(
            runCommand(env.host, ["true"]),
            /refusing root@127\.0\.0\.1:\d+: host key SHA256:\S+ is marked @revoked in \S+ \(line 2\)/,
        );
        assert.strictEqual(env.sshd.commands().length, before);
    });

    describe("known_hosts read as the real ssh reads it", function () {
        /** A hashed known_hosts name, as ssh-keygen -H writes it (hostfile.c host_hash). */
        const hashed = (name: string) => {
            const salt = crypto.randomBytes(20);
            return `|1|${salt.toString("base64")}|${crypto.createHmac("sha1", salt).update(name).digest("base64")}`;
        };

        /** What OpenSSH's own client makes of the host with this known_hosts file. */
        const opensshVerdict = (knownHosts: string, name: string) => {
            const run = spawnSync(
                "ssh",
                [
                    ...["-F", "/dev/null", "-T", "-i", env.sshd.privateKeyPath, "-p", String(env.sshd.port)],
                    ...["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"],
                    ...["-o", `UserKnownHostsFile=${knownHosts}`, "-o", "GlobalKnownHostsFile=/dev/null"],
                    ...["-o", "UpdateHostKeys=no", "-o", "ConnectTimeout=5", `root@${name}`, "true"],
                ],
                { encoding: "utf8", timeout: 20000 },
            );
            return run.status === 0 ? "accepted" : /REVOKED HOST KEY/.test(run.stderr) ? "revoked" : run.stderr;
        };

        const ourVerdict = async (knownHosts: string, name: string) => {
            await closeAllConnections();
            configureSsh(env.sshd.settings({ hostKeyFingerprints: {}, knownHostsPath: knownHosts }));
            try {
                await runCommand({ ...env.host, address: name }, ["true"]);
                return "accepted";
            } catch (err) {
                return /is marked @revoked/.test((err as Error).message) ? "revoked" : (err as Error).message;
            }
        };

        const cases: { what: string; name: string; knownHosts: (port: number, key: string) => string; is: string }[] = [
            {
                what: "CRLF line ends, the key listed and revoked",
                name: "127.0.0.1",
                knownHosts: (port, key) => `[127.0.0.1]:${port} ${key}\r\n@revoked [127.0.0.1]:${port} ${key}\r\n`,
                is: "revoked",
            },
            {
                what: "CRLF line ends, the key listed",
                name: "127.0.0.1",
                knownHosts: (port, key) => `[127.0.0.1]:${port} ${key}\r\n`,
                is: "accepted",
            },
            {
                what: "a host written in capitals, revoked by a hashed entry of its lower-case name",
                name: "LocalHost",
                knownHosts: (port, key) =>
                    `@revoked ${hashed(`[localhost]:${port}`)} ${key}\n[localhost]:${port} ${key}\n`,
                is: "revoked",
            },
            {
                what: "a host written in capitals, listed by a hashed entry of its lower-case name",
                name: "LocalHost",
                knownHosts: (port, key) => `${hashed(`[localhost]:${port}`)} ${key}\n`,
                is: "accepted",
            },
        ];
        for (const { what, name, knownHosts, is } of cases) {
            it(`agrees with ssh: ${what}`, async function () {
                const file = path.join(env.sshd.dir, `known_hosts_${crypto.randomBytes(4).toString("hex")}`);
                fs.writeFileSync(file, knownHosts(env.sshd.port, env.sshd.hostPublicKey));
                assert.deepStrictEqual([opensshVerdict(file, name), await ourVerdict(file, name)], [is, is]);
            });
        }
    });

    it("says so when the user is refused, without retrying or showing the key", async function () {
        const wrongUser = { ...env.host, user: "nobody-here" };
        await assert.rejects(runCommand(wrongUser, ["true"]), (err: Error) => {
            assert.match(err.message, /cannot log in to nobody-here@127\.0\.0\.1:\d+/);
            assert.ok(!err.message.includes("PRIVATE KEY"));
            return true;
        });
    });

    it("names the host when nothing listens, after bounded retries", async function () {
        configureSsh(
            env.sshd.settings({
                connectAttempts: 2,
                hostKeyFingerprints: { "127.0.0.1": [env.sshd.hostKeyFingerprint] },
            }),
        );
        const started = Date.now();
        await assert.rejects(
            runCommand({ ...env.host, port: 1 }, ["true"]),
            /cannot connect to root@127\.0\.0\.1:1: .*ECONNREFUSED/,
        );
        assert.ok(Date.now() - started < 3000);
    });

    it("writes the resources file over SSH from stdin, and refuses a resources directory that is a symbolic link", async function () {
        const place = { baseDir: path.join(env.sshd.dir, "resources"), groupPath: "calico-stars", ownerId: "0a1b2c3d" };
        await runChecked(env.host, writeResourcesFile(env.host, place), { stdin: '[{"id": "C"}]\n' });
        assert.strictEqual(
            fs.readFileSync(path.join(place.baseDir, "calico-stars", "calico-stars-resources.json"), "utf8"),
            '[{"id": "C"}]\n',
        );
        const linked = { ...place, baseDir: path.join(env.sshd.dir, "linked") };
        fs.symlinkSync(place.baseDir, linked.baseDir);
        await assert.rejects(
            runChecked(env.host, writeResourcesFile(env.host, linked), { stdin: "[]\n" }),
            /exited 3: calico-stars: refusing to write the resources file under \S+linked: it is a symbolic link/,
        );
        assert.strictEqual(
            fs.readFileSync(path.join(place.baseDir, "calico-stars", "calico-stars-resources.json"), "utf8"),
            '[{"id": "C"}]\n',
        );
    });
});
