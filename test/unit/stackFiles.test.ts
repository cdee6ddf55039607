// The committed stack file holds the runbook's policy in full, so README's `pulumi config set --path
// 'policy.backend.inbound[2]' ...` edits a rule in place (Pulumi refuses a list index past a list's end,
// sdk/go/common/resource/config/object.go Set, v3.248.0); it must be the policy the program defaults to.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { runbookPolicy } from "../../components/config";

const projectDir = path.resolve(__dirname, "../..");

describe("Pulumi.dev.yaml", () => {
    const config = parse(fs.readFileSync(path.join(projectDir, "Pulumi.dev.yaml"), "utf8")).config;

    it("holds the runbook's policy, the program's default, as YAML objects", () => {
        assert.deepStrictEqual(config["calico-stars:policy"], runbookPolicy);
    });

    it("has the rule README's policy edit replaces", () => {
        assert.strictEqual(
            config["calico-stars:policy"].backend.inbound[2],
            "allow tcp from tag frontend to ports 9000",
        );
    });
});
