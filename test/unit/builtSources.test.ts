// The compiled program refuses to run from sources other than those it was built from: a copy of the project, its
// program built as `npm run build` builds it, is previewed by the test engine after a source is edited.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { emulators, RunError, TestEngine } from "../../engine";
import { staleBuild } from "../../components/builtSources";

const projectDir = path.resolve(__dirname, "../..");
const copied = ["index.ts", "components", "bin", "package.json", "Pulumi.yaml", "tsconfig.json", "tsconfig.build.json"];
const stackConfig: Record<string, string> = {
    "calico-stars:master": JSON.stringify({ address: "10.1.0.11", port: 22 }),
    "calico-stars:agents": JSON.stringify([{ address: "10.1.0.12" }]),
    "calico-stars:insecureSkipHostKeyVerification": "true",
};

describe("the compiled program and the sources beside it", function () {
    this.timeout(60_000);
    let copy: string;

    before(function () {
        copy = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-copy-"));
        for (const entry of copied) {
            fs.cpSync(path.join(projectDir, entry), path.join(copy, entry), { recursive: true });
        }
        fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(copy, "node_modules"));
    });

    after(function () {
        fs.rmSync(copy, { recursive: true, force: true });
    });

    it("finds nothing to say about a copy as it was built, nor about the program run from its TypeScript", function () {
        assert.strictEqual(staleBuild(path.join(copy, "bin", "index.js")), undefined);
        assert.strictEqual(staleBuild(path.join(projectDir, "index.ts")), undefined);
    });

    it("stops a preview before any resource is registered once a source was edited, naming it and `npm run build`", async function () {
        fs.appendFileSync(path.join(copy, "components", "starsDemo.ts"), "// edited after the build\n");
        const engine = new TestEngine({
            projectDir: copy,
            project: "calico-stars",
            stack: "copy",
            config: stackConfig,
            emulators,
        });
        try {
            const error = await engine.preview().then(
                () => undefined,
                (e: unknown) => e,
            );
            assert.ok(error instanceof RunError, `expected the preview to fail, got ${String(error)}`);
            assert.match(
                error.message,
                /the compiled program in \S+\/bin was built from other sources than those beside it \(changed since: components\/starsDemo\.ts\): run `npm run build`, then run again/,
            );
            assert.deepStrictEqual(
                error.result.steps.filter((step) => step.type !== "pulumi:pulumi:Stack"),
                [],
            );
        } finally {
            await engine.close();
        }
    });
});
