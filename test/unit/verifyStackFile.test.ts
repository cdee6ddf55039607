import * as assert from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import { mkdirSync } from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { VerifyInputError } from "@calico-stars/providers/verify";
import { readStackConfig } from "../../scripts/verify/stackFile";
import { verifySettings } from "../../scripts/verify/stackSettings";

const projectDir = path.resolve(__dirname, "../..");

describe("verify's reading of the stack files, without the Pulumi CLI", function () {
    let dir: string;
    /** A project directory with Pulumi.yaml and the given stack files. */
    const project = (files: Record<string, string>, projectYaml = "name: calico-stars\nruntime: nodejs\n") => {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), projectYaml);
        for (const [name, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
            fs.writeFileSync(path.join(dir, name), text);
        }
    };
    const noHome = () => ({ PULUMI_HOME: path.join(dir, "pulumi-home") });

    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-stackfile-"));
    });

    afterEach(function () {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    describe("values, as the CLI hands them to the program", function () {
        it("passes strings as they are, numbers and booleans as their JSON text, maps and lists as JSON", function () {
            project({
                "Pulumi.s.yaml": [
                    "config:",
                    "  calico-stars:master: {address: 10.0.0.1, port: 2222}",
                    "  calico-stars:sudo: true",
                    "  calico-stars:marathonPort: 8080",
                    "  calico-stars:publicInterface: eth1",
                    '  calico-stars:image: "djosborne/star:v0.5.0"',
                    "  calico-stars:agents:",
                    "    - address: 10.0.0.2",
                    "  calico-stars:groupId: 'true'",
                    "",
                ].join("\n"),
            });
            const read = readStackConfig(dir, "s", noHome());
            assert.deepStrictEqual(Object.fromEntries(read.values), {
                "calico-stars:master": '{"address":"10.0.0.1","port":2222}',
                "calico-stars:sudo": "true",
                "calico-stars:marathonPort": "8080",
                "calico-stars:publicInterface": "eth1",
                "calico-stars:image": "djosborne/star:v0.5.0",
                "calico-stars:agents": '[{"address":"10.0.0.2"}]',
                "calico-stars:groupId": "true",
            });
            assert.deepStrictEqual(
                [read.project, read.stack, read.path, read.secretKeys],
                ["calico-stars", "s", path.join(dir, "Pulumi.s.yaml"), []],
            );
        });

        it("puts a key without a namespace in the project's, and lets the stack override the project's config", function () {
            project(
                { "Pulumi.s.yaml": "config:\n  marathonPort: 9090\n  other:thing: x\n" },
                "name: calico-stars\nruntime: nodejs\nconfig:\n  marathonPort: {type: integer, default: 8080}\n  calico-stars:groupId: {default: demo}\n  uiPort: 9005\n",
            );
            assert.deepStrictEqual(Object.fromEntries(readStackConfig(dir, "s", noHome()).values), {
                "calico-stars:marathonPort": "9090",
                "calico-stars:groupId": "demo",
                "calico-stars:uiPort": "9005",
                "other:thing": "x",
            });
        });

        it("lists a secret, or a map holding one, as a key it cannot read", function () {
            project({
                "Pulumi.s.yaml":
                    "config:\n  calico-stars:sshPrivateKey:\n    secure: v1:abc\n  calico-stars:hostKeys:\n    h: [{secure: v1:def}]\n  calico-stars:sudo: false\n",
            });
            const read = readStackConfig(dir, "s", noHome());
            assert.deepStrictEqual(
                [read.secretKeys, [...read.values.keys()]],
                [["calico-stars:sshPrivateKey", "calico-stars:hostKeys"], ["calico-stars:sudo"]],
            );
        });

        it("reads the stack file from stackConfigDir", function () {
            project(
                { "stacks/Pulumi.s.yaml": "config:\n  calico-stars:sudo: true\n" },
                "name: calico-stars\nruntime: nodejs\nstackConfigDir: stacks\n",
            );
            assert.strictEqual(readStackConfig(dir, "s", noHome()).path, path.join(dir, "stacks/Pulumi.s.yaml"));
        });

        it("reads the repository's Pulumi.dev.yaml into the values the program's schema reads", function () {
            const values = readStackConfig(projectDir, "dev", noHome()).values;
            assert.strictEqual(
                values.get("calico-stars:master"),
                '{"address":"172.24.197.101","port":22,"user":"vagrant"}',
            );
            assert.strictEqual(values.get("calico-stars:sudo"), "true");
        });
    });

    describe("which stack", function () {
        it("takes the stack `pulumi stack select` recorded in the workspace file", function () {
            project({ "Pulumi.a.yaml": "config: {}\n", "Pulumi.b.yaml": "config: {}\n" });
            const home = path.join(dir, "pulumi-home");
            const hash = createHash("sha1").update(path.join(dir, "Pulumi.yaml")).digest("hex");
            fs.mkdirSync(path.join(home, "workspaces"), { recursive: true });
            fs.writeFileSync(
                path.join(home, "workspaces", `calico-stars-${hash}-workspace.json`),
                JSON.stringify({ stack: "organization/calico-stars/b" }),
            );
            assert.strictEqual(readStackConfig(dir, undefined, { PULUMI_HOME: home }).stack, "b");
        });

        it("takes the only stack file when none is selected, and asks for --stack when there are several", function () {
            project({ "Pulumi.only.yaml": "config: {}\n" });
            assert.strictEqual(readStackConfig(dir, undefined, noHome()).stack, "only");
            fs.writeFileSync(path.join(dir, "Pulumi.second.yaml"), "config: {}\n");
            assert.throws(
                () => readStackConfig(dir, undefined, noHome()),
                (error: Error) =>
                    error instanceof VerifyInputError &&
                    error.message ===
                        "which stack? No stack is selected (pulumi stack select) and there are several: Pulumi.only.yaml, Pulumi.second.yaml; name one with --stack <name>",
            );
        });

        it("names the missing stack file and the ones there are", function () {
            project({ "Pulumi.a.yaml": "config: {}\n" });
            assert.throws(
                () => readStackConfig(dir, "prod", noHome()),
                (error: Error) =>
                    error.message ===
                    `stack prod: there is no ${path.join(dir, "Pulumi.prod.yaml")} (stack files: Pulumi.a.yaml)`,
            );
        });

        it("refuses a stack file larger than 8 MiB before parsing it, and reads one of 8 MiB", function () {
            const ofSize = (bytes: number) => `config: {}\n${"#".repeat(bytes - "config: {}\n".length - 1)}\n`;
            project({ "Pulumi.big.yaml": ofSize(8 * 1024 * 1024 + 1), "Pulumi.edge.yaml": ofSize(8 * 1024 * 1024) });
            assert.throws(
                () => readStackConfig(dir, "big", noHome()),
                (error: Error) =>
                    error instanceof VerifyInputError &&
                    error.message ===
                        `${path.join(dir, "Pulumi.big.yaml")} is larger than 8388608 bytes, which no stack file is; refusing to read it`,
            );
            assert.strictEqual(readStackConfig(dir, "edge", noHome()).stack, "edge");
        });

        for (const stack of ["/../../outside/evil", "../evil", "a/b", "", "x".repeat(101)]) {
            it(`refuses ${JSON.stringify(stack.length > 20 ? `${stack.slice(0, 8)}... (${stack.length})` : stack)}, which is no stack name (Pulumi's rule), before reading anything`, function () {
                // a stack file where the name would lead, so that only the name's check can refuse it
                mkdirSync(path.join(dir, "project"));
                mkdirSync(path.join(dir, "outside"));
                fs.writeFileSync(path.join(dir, "outside", "evil.yaml"), "config: {}\n");
                project({});
                fs.renameSync(path.join(dir, "Pulumi.yaml"), path.join(dir, "project", "Pulumi.yaml"));
                assert.throws(
                    () => readStackConfig(path.join(dir, "project"), stack, noHome()),
                    (error: Error) =>
                        error instanceof VerifyInputError &&
                        error.message.startsWith(`stack ${JSON.stringify(stack)} is not a stack name: a stack name `),
                );
            });
        }

        it("says where a stack file is not YAML", function () {
            project({ "Pulumi.a.yaml": "config: [\n" });
            assert.throws(
                () => readStackConfig(dir, "a", noHome()),
                (error: Error) => error.message.startsWith(`${path.join(dir, "Pulumi.a.yaml")} is not valid YAML: `),
            );
        });
    });

    describe("the settings verify runs with", function () {
        let keyPath: string;
        const stackWith = (extra: string) =>
            [
                "config:",
                "  calico-stars:master: {address: 10.0.0.1, port: 22, user: root}",
                "  calico-stars:agents: [{address: 10.0.0.2}]",
                "  calico-stars:insecureSkipHostKeyVerification: true",
                extra,
                "",
            ].join("\n");

        beforeEach(function () {
            keyPath = path.join(dir, "id_test");
            fs.writeFileSync(keyPath, "not a key\n");
        });

        it("validates with the program's schema: the same config as the program's getter gives", function () {
            project({
                "Pulumi.s.yaml": stackWith(`  calico-stars:sshPrivateKeyPath: ${keyPath}\n  calico-stars:uiPort: 9005`),
            });
            const settings = verifySettings(dir, "s", noHome());
            const raw: Record<string, string> = {
                "calico-stars:master": JSON.stringify({ address: "10.0.0.1", port: 22, user: "root" }),
                "calico-stars:agents": JSON.stringify([{ address: "10.0.0.2" }]),
                "calico-stars:insecureSkipHostKeyVerification": "true",
                "calico-stars:sshPrivateKeyPath": keyPath,
                "calico-stars:uiPort": "9005",
            };
            assert.deepStrictEqual(
                settings.config,
                parseStackConfig((key) => raw[key]),
            );
            assert.deepStrictEqual(
                [settings.master, settings.ssh.privateKeyPath, settings.ssh.agentSocket, settings.warnings],
                [{ address: "10.0.0.1", port: 22, user: "root", sudo: false }, keyPath, undefined, []],
            );
        });

        it("refuses an unknown key, as the program does", function () {
            project({
                "Pulumi.s.yaml": stackWith(
                    `  calico-stars:sshPrivateKeyPath: ${keyPath}\n  calico-stars:verifyPolice: true`,
                ),
            });
            assert.throws(
                () => verifySettings(dir, "s", noHome()),
                /calico-stars:verifyPolice: unknown configuration key/,
            );
        });

        it("says that a secret key needs sshPrivateKeyPath or an SSH agent when it has neither", function () {
            project({ "Pulumi.s.yaml": stackWith("  calico-stars:sshPrivateKey:\n    secure: v1:abc") });
            assert.throws(
                () => verifySettings(dir, "s", noHome()),
                (error: Error) =>
                    error instanceof VerifyInputError &&
                    error.message ===
                        `calico-stars:sshPrivateKey cannot be used by verify: only the Pulumi CLI can decrypt it (it is a secret, secure: ciphertext, in ${path.join(dir, "Pulumi.s.yaml")}). ` +
                            "verify needs calico-stars:sshPrivateKeyPath (the key file) or an SSH agent holding the key (ssh-add; SSH_AUTH_SOCK or calico-stars:sshAgentSocket)",
            );
        });

        it("logs in with the SSH agent when the key is a secret, and says so", function () {
            project({ "Pulumi.s.yaml": stackWith("  calico-stars:sshPrivateKey:\n    secure: v1:abc") });
            const settings = verifySettings(dir, "s", { ...noHome(), SSH_AUTH_SOCK: "/run/agent.sock" });
            assert.deepStrictEqual([settings.ssh.privateKey, settings.ssh.agentSocket], [undefined, "/run/agent.sock"]);
            assert.deepStrictEqual(settings.warnings, [
                "calico-stars:sshPrivateKey is a secret only the Pulumi CLI can decrypt: logging in with the SSH agent at /run/agent.sock",
            ]);
        });

        it("prefers the key file when the key is also given as a secret", function () {
            project({
                "Pulumi.s.yaml": stackWith(
                    `  calico-stars:sshPrivateKey:\n    secure: v1:abc\n  calico-stars:sshPrivateKeyPath: ${keyPath}`,
                ),
            });
            const settings = verifySettings(dir, "s", { ...noHome(), SSH_AUTH_SOCK: "/run/agent.sock" });
            assert.deepStrictEqual(
                [settings.ssh.privateKeyPath, settings.ssh.agentSocket, settings.warnings],
                [keyPath, undefined, []],
            );
        });

        it("cannot open a key file whose passphrase is a secret without an agent, and says so", function () {
            project({
                "Pulumi.s.yaml": stackWith(
                    `  calico-stars:sshPrivateKeyPath: ${keyPath}\n  calico-stars:sshPrivateKeyPassphrase:\n    secure: v1:abc`,
                ),
            });
            assert.throws(
                () => verifySettings(dir, "s", noHome()),
                /^VerifyInputError: calico-stars:sshPrivateKeyPassphrase cannot be used by verify: .*Load the key into an SSH agent/s,
            );
            const settings = verifySettings(dir, "s", { ...noHome(), SSH_AUTH_SOCK: "/run/agent.sock" });
            assert.deepStrictEqual(
                [settings.ssh.privateKeyPath, settings.ssh.agentSocket],
                [undefined, "/run/agent.sock"],
            );
        });

        it("uses a key written in plain text", function () {
            project({
                "Pulumi.s.yaml": stackWith('  calico-stars:sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----"'),
            });
            assert.strictEqual(
                verifySettings(dir, "s", noHome()).ssh.privateKey,
                "-----BEGIN OPENSSH PRIVATE KEY-----",
            );
        });

        it("refuses any other secret, naming the key", function () {
            project({
                "Pulumi.s.yaml": stackWith(
                    `  calico-stars:sshPrivateKeyPath: ${keyPath}\n  calico-stars:etcdAuthority:\n    secure: v1:abc`,
                ),
            });
            assert.throws(
                () => verifySettings(dir, "s", noHome()),
                /^VerifyInputError: calico-stars:etcdAuthority in .* holds a secret \(secure: ciphertext\) that only the Pulumi CLI can decrypt/,
            );
        });

        it("says when there are no credentials at all", function () {
            project({ "Pulumi.s.yaml": stackWith("") });
            assert.throws(
                () => verifySettings(dir, "s", noHome()),
                /^VerifyInputError: no SSH credentials: set calico-stars:sshPrivateKeyPath, or run an SSH agent/,
            );
        });
    });
});
