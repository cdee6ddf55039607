// The program run by the test engine with the SSH key or its passphrase set without --secret: Pulumi hands the
// default dynamic provider the whole stack config as its inputs, which the state keeps in clear unless a value is a
// secret (pulumi/pulumi v3.248.0, pkg/resource/deploy/target.go), so the program refuses before registering anything.
// Previews only: a preview opens no SSH connection.
import * as assert from "assert";
import * as path from "path";
import { emulators, RunError, TestEngine } from "../../engine";

const projectDir = path.resolve(__dirname, "../..");

const hosts = {
    "calico-stars:master": JSON.stringify({ address: "127.0.0.11" }),
    "calico-stars:agents": JSON.stringify([{ address: "127.0.0.12" }]),
    "calico-stars:insecureSkipHostKeyVerification": "true",
};
const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----";

describe("the program with an SSH secret set in plain text", function () {
    this.timeout(60000);

    const previewWith = async (config: Record<string, string>, secretKeys: string[]) => {
        const engine = new TestEngine({
            projectDir,
            project: "calico-stars",
            stack: "plain",
            config: { ...hosts, ...config },
            secretKeys,
            emulators,
        });
        try {
            return await engine.preview().then(
                () => undefined,
                (error: Error) => error,
            );
        } finally {
            await engine.close();
        }
    };

    it("refuses a plain sshPrivateKey and sshPrivateKeyPassphrase, showing the --secret commands, before any resource", async function () {
        const error = await previewWith(
            { "calico-stars:sshPrivateKey": key, "calico-stars:sshPrivateKeyPassphrase": "not-a-real-passphrase" },
            [],
        );
        assert.ok(error instanceof RunError, String(error));
        assert.match(
            error.message,
            /calico-stars:sshPrivateKey is set in plain text.*pulumi config set --secret sshPrivateKey < /s,
        );
        assert.match(
            error.message,
            /calico-stars:sshPrivateKeyPassphrase is set in plain text.*pulumi config set --secret sshPrivateKeyPassphrase/s,
        );
        assert.ok(!error.message.includes("not-a-real"), "the message shows neither value");
        assert.deepStrictEqual(
            error.result.steps.filter((step) => step.type !== "pulumi:pulumi:Stack"),
            [],
        );
    });

    it("takes both as secrets", async function () {
        const error = await previewWith(
            { "calico-stars:sshPrivateKey": key, "calico-stars:sshPrivateKeyPassphrase": "not-a-real-passphrase" },
            ["calico-stars:sshPrivateKey", "calico-stars:sshPrivateKeyPassphrase"],
        );
        assert.strictEqual(error, undefined, String(error));
    });
});
