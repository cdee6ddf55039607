// Credentials changed in the stack config, then refresh or destroy: Pulumi configures the dynamic providers from
// the config saved at the last up (the default provider's inputs in the checkpoint), and each @pulumi/command keeps
// its connection (key, host key, dial attempts) in its own state. So until an up saves the change, refresh and
// destroy log in as the last up did. This is what docs/operations.md tells users (run `up` after
// changing credentials, before `destroy`). Run by the test engine, and by the Pulumi CLI where one is installed;
// needs root and the sandbox, and skips, saying so, without.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StackRun, StackRunError } from "../../engine";
import { authorizedKeys, rekeyHost, restartSshd, setAuthorizedKeys, stopSshd } from "../support/sandboxFaults";
import { SandboxStack } from "../../scripts/sandboxStack";
import { driverTitle, lifecycleDrivers, startStackOrSkip } from "../support/sandboxStack";

for (const kind of lifecycleDrivers)
    describe(`credentials changed, then refresh and destroy, run by ${driverTitle(kind)}`, function () {
        this.timeout(300000);
        let stack: SandboxStack;
        let keyDir: string;
        let sandboxKeys: string;
        const keyPath = (name: string) => path.join(keyDir, name);
        const newKey = (name: string) => {
            fs.rmSync(keyPath(name), { force: true });
            fs.rmSync(`${keyPath(name)}.pub`, { force: true });
            execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", keyPath(name)]);
            return fs.readFileSync(`${keyPath(name)}.pub`, "utf8");
        };
        const fails = async (run: Promise<StackRun>, pattern: RegExp) => {
            await assert.rejects(run, (error: Error) => {
                assert.ok(error instanceof StackRunError, String(error));
                assert.match(error.message, pattern);
                return true;
            });
        };

        before(async function () {
            stack = await startStackOrSkip(this, kind);
            keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-keys-"));
            // the sandbox's own key stays authorized throughout: the test logs in with it to look at the cluster
            sandboxKeys = authorizedKeys();
            setAuthorizedKeys(sandboxKeys + newKey("a"));
            await stack.driver.setConfig("calico-stars:sshPrivateKeyPath", keyPath("a"));
            await stack.driver.up();
            await stack.assertConverged();
        });

        after(async function () {
            if (stack !== undefined) {
                setAuthorizedKeys(sandboxKeys);
                await stack.close();
            }
            if (keyDir !== undefined) {
                fs.rmSync(keyDir, { recursive: true, force: true });
            }
        });

        it("a new key path: refresh still logs in with the key of the last up, and fails once that key is revoked; an up saves the new one", async function () {
            setAuthorizedKeys(sandboxKeys + fs.readFileSync(`${keyPath("a")}.pub`, "utf8") + newKey("b"));
            await stack.driver.setConfig("calico-stars:sshPrivateKeyPath", keyPath("b"));
            await stack.driver.refresh();
            setAuthorizedKeys(sandboxKeys + fs.readFileSync(`${keyPath("b")}.pub`, "utf8"));
            await fails(
                stack.driver.refresh(),
                /cannot log in to vagrant@10\.197\.0\.1[1-3]:22: the server refused every offered key/,
            );
            await stack.driver.up();
            await stack.driver.refresh();
            await stack.assertConverged();
        });

        it("a key replaced in place (same path): destroy fails on @pulumi/command's delete, which logs in with the key in its state, until an up", async function () {
            // the providers read the file again; each agent's prep keeps the key it was created with
            setAuthorizedKeys(sandboxKeys + newKey("b"));
            await stack.driver.refresh();
            await fails(
                stack.driver.destroy(),
                /agent-prep-10\.197\.0\.1[23].*after 3 failed attempts: ssh: handshake failed: ssh: unable to authenticate, attempted methods \[none publickey\], no supported methods remain/s,
            );
            await stack.driver.up();
            await stack.assertConverged();
        });

        it("a host given a new host key: refresh and destroy refuse it while the config names it, until an up saves it", async function () {
            const rekeyed = await rekeyHost("cs-agent1");
            try {
                await stack.driver.setConfig(
                    "calico-stars:hostKeys",
                    JSON.stringify({ ...stack.cluster.hostKeys, "10.197.0.12": [rekeyed.publicKey] }),
                );
                await stack.driver.setConfig(
                    "calico-stars:hostKeyFingerprints",
                    JSON.stringify({ ...stack.cluster.hostKeyFingerprints, "10.197.0.12": [rekeyed.fingerprint] }),
                );
                await fails(
                    stack.driver.refresh(),
                    /refusing vagrant@10\.197\.0\.12:22: host key SHA256:\S+ is not among the configured hostKeys/,
                );
                await fails(
                    stack.driver.destroy(),
                    /(refusing vagrant@10\.197\.0\.12:22: host key SHA256:\S+ is not among the configured hostKeys|agent-prep-10\.197\.0\.12.*ssh: handshake failed: ssh: host key mismatch)/s,
                );
                // (the test itself trusts only the sandbox's host keys: it looks at the cluster once the old key is
                // back)
                await stack.driver.up();
                await stack.driver.refresh();
            } finally {
                await rekeyed.restore();
                await stack.driver.setConfig("calico-stars:hostKeys", JSON.stringify(stack.cluster.hostKeys));
                await stack.driver.setConfig(
                    "calico-stars:hostKeyFingerprints",
                    JSON.stringify(stack.cluster.hostKeyFingerprints),
                );
            }
            await stack.driver.up();
            await stack.assertConverged();
        });

        it("fewer connect attempts: destroy dials an agent that is down as often as the last up said, then as the next up says", async function () {
            const agentDown =
                /agent-prep-10\.197\.0\.13.*after (\d+) failed attempts: dial tcp 10\.197\.0\.13:22: connect: connection refused/s;
            const attempts = async () => {
                await stopSshd("cs-agent2", { sessions: true });
                try {
                    let dials = 0;
                    await fails(
                        stack.driver.destroy().catch((error: Error) => {
                            dials = Number(agentDown.exec(error.message)?.[1]);
                            throw error;
                        }),
                        agentDown,
                    );
                    return dials;
                } finally {
                    await restartSshd("cs-agent2");
                }
            };
            await stack.driver.setConfig("calico-stars:connectAttempts", "1");
            assert.strictEqual(await attempts(), 3);
            await stack.driver.up();
            assert.strictEqual(await attempts(), 1);
            await stack.driver.destroy();
            assert.deepStrictEqual([await stack.networks(), await stack.natRules()], [[], []]);
        });
    });
