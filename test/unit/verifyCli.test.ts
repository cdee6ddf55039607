// `npm run verify` where it cannot run: each refusal says why on stderr, prints nothing on stdout and exits 3,
// before or without touching a host (the only connection tried is to a closed port on 127.0.0.1).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { utils } from "ssh2";

const script = path.resolve(__dirname, "../../scripts/verify/main.ts");

describe("the verify command", function () {
    this.timeout(60000);
    let dir: string;

    function verify(args: string[], env: NodeJS.ProcessEnv = {}) {
        const run = spawnSync(
            process.execPath,
            ["-r", require.resolve("ts-node/register/transpile-only"), script, ...args],
            {
                cwd: dir,
                encoding: "utf8",
                timeout: 50000,
                env: {
                    PATH: process.env.PATH,
                    PULUMI_HOME: path.join(dir, "pulumi-home"),
                    TS_NODE_PROJECT: path.resolve(__dirname, "../../tsconfig.json"),
                    ...env,
                },
            },
        );
        return { code: run.status, stdout: run.stdout, stderr: run.stderr };
    }

    function stackFile(extra: string, { masterPort = 1, connectAttempts = 1 } = {}): void {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: calico-stars\nruntime: nodejs\n");
        fs.writeFileSync(
            path.join(dir, "Pulumi.t.yaml"),
            [
                "config:",
                `  calico-stars:master: {address: 127.0.0.1, port: ${masterPort}, user: nobody}`,
                "  calico-stars:agents: [{address: 127.0.0.2, port: 1}]",
                "  calico-stars:insecureSkipHostKeyVerification: true",
                `  calico-stars:connectAttempts: ${connectAttempts}`,
                extra,
                "",
            ].join("\n"),
        );
    }

    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-verify-cli-"));
    });

    afterEach(function () {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("refuses an unknown flag with its usage", function () {
        const run = verify(["--stak", "t"]);
        assert.deepStrictEqual([run.code, run.stdout], [3, ""]);
        assert.match(run.stderr, /^verify: Unknown option '--stak'.*\nusage: npm run verify -- \[--stack <name>\]/s);
    });

    it("says a secret key needs a key file or an agent, and connects nowhere", function () {
        stackFile("  calico-stars:sshPrivateKey:\n    secure: v1:AAAA");
        const run = verify(["--stack", "t"]);
        assert.deepStrictEqual([run.code, run.stdout], [3, ""]);
        assert.match(
            run.stderr,
            /^verify: calico-stars:sshPrivateKey cannot be used by verify: only the Pulumi CLI can decrypt it .* verify needs calico-stars:sshPrivateKeyPath/,
        );
    });

    it("names a bad config key as the program does", function () {
        stackFile("  calico-stars:collectorPort: 0");
        const run = verify(["--stack", "t"]);
        assert.deepStrictEqual(
            [run.code, run.stdout, run.stderr],
            [3, "", "verify: invalid stack configuration:\n  calico-stars:collectorPort: must be 1-65535\n"],
        );
    });

    it("says which host it could not reach", function () {
        fs.writeFileSync(path.join(dir, "key"), utils.generateKeyPairSync("ed25519").private);
        stackFile(`  calico-stars:sshPrivateKeyPath: ${path.join(dir, "key")}`);
        const run = verify(["--stack", "t", "--timeout", "5"]);
        assert.deepStrictEqual([run.code, run.stdout], [3, ""]);
        assert.match(run.stderr, /^verify: cannot connect to nobody@127\.0\.0\.1:1: .*ECONNREFUSED/);
    });

    it("says which host never sent its SSH greeting, and exits 3 rather than crashing", async function () {
        // the kernel accepts the connection; nothing ever speaks on it
        const silent = net.createServer(() => undefined);
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        try {
            fs.writeFileSync(path.join(dir, "key"), utils.generateKeyPairSync("ed25519").private);
            stackFile(
                `  calico-stars:sshPrivateKeyPath: ${path.join(dir, "key")}\n  calico-stars:connectTimeoutSeconds: 0.5`,
                // a second attempt: the first one's client reports the lost connection while the retry waits
                { masterPort: (silent.address() as net.AddressInfo).port, connectAttempts: 2 },
            );
            const run = verify(["--stack", "t", "--timeout", "5"]);
            assert.deepStrictEqual([run.code, run.stdout], [3, ""], run.stderr);
            assert.match(
                run.stderr,
                /^verify: cannot connect to nobody@127\.0\.0\.1:\d+: Timed out while waiting for handshake\n$/,
            );
        } finally {
            silent.close();
        }
    });

    it("--plan says which host it could not read the rules on: the network host, where calicoctl runs", function () {
        fs.writeFileSync(path.join(dir, "key"), utils.generateKeyPairSync("ed25519").private);
        stackFile(`  calico-stars:sshPrivateKeyPath: ${path.join(dir, "key")}`);
        const run = verify(["--plan", "--stack", "t"]);
        assert.deepStrictEqual([run.code, run.stdout], [3, ""]);
        assert.match(run.stderr, /^verify: cannot connect to vagrant@127\.0\.0\.2:1: .*ECONNREFUSED/);
    });

    it("--plan refuses --timeout, which only verify's wait on the probes takes", function () {
        const run = verify(["--plan", "--timeout", "5"]);
        assert.deepStrictEqual([run.code, run.stdout], [3, ""]);
        assert.match(
            run.stderr,
            /^verify: --timeout is for verify's wait on the probes; --plan waits for nothing\nusage: /,
        );
    });
});
