// `npm run demo` without the Pulumi CLI: it says what to install and stops before touching anything.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const projectDir = path.resolve(__dirname, "../..");

describe("npm run demo", () => {
    it("without pulumi on PATH, says how to install it and exits 1 without starting the sandbox", function () {
        this.timeout(20000);
        // a PATH with node alone, wherever this machine keeps pulumi
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "demo-path-"));
        fs.symlinkSync(process.execPath, path.join(bin, "node"));
        const run = spawnSync(
            process.execPath,
            ["-r", require.resolve("ts-node/register/transpile-only"), "scripts/demo.ts"],
            {
                cwd: projectDir,
                encoding: "utf8",
                env: { ...process.env, PATH: bin },
            },
        );
        fs.rmSync(bin, { recursive: true });
        assert.strictEqual(run.status, 1, run.stderr);
        assert.match(run.stderr, /Pulumi CLI, which is not on PATH/);
        assert.match(run.stderr, /curl -fsSL https:\/\/get\.pulumi\.com \| sh/);
        assert.strictEqual(run.stdout, "");
    });
});
