// The docs' review example prints the test engine's preview as the CLI's display lays out a preview's outputs
// (pulumi/pulumi v3.248.0, pkg/backend/display/object_diff.go).
import * as assert from "assert";
import { runbookPolicy } from "../../components/config";
import { configuredMatrix, connectivityOf } from "../../components/connectivity";
import type { StackRun } from "../../engine";
import { previewText } from "../../scripts/verify/planPreviewText";
import { stackConfig } from "../support/verifyFixtures";

const same = { op: "same" as const, urn: "urn", type: "type", name: "name" };
const run = (outputs: Record<string, unknown>, steps: StackRun["steps"] = [same]): StackRun => ({
    steps,
    outputs,
    diagnostics: [],
});

describe("the review example's preview text", function () {
    it("lays out changed outputs as Pulumi's display does: marks, aligned titles, nested sames unmarked, top-level sames left out", function () {
        assert.strictEqual(
            previewText(run({ a: [1, 2, { x: "y" }], b: { k: "v", same: true }, c: "z", kept: "k" }), {
                a: [1],
                b: { k: "w", same: true },
                d: "gone",
                kept: "k",
            }),
            [
                "",
                "Outputs:",
                "  ~ a   : [",
                "        [0]: 1",
                "      + [1]: 2",
                "      + [2]: {",
                '              + x: "y"',
                "            }",
                "    ]",
                "  ~ b   : {",
                '      ~ k   : "w" => "v"',
                "        same: true",
                "    }",
                '  + c   : "z"',
                '  - d   : "gone"',
                "",
                "Resources:",
                "    1 unchanged",
                "",
            ].join("\n"),
        );
    });

    it("names the preview's steps and the edges a one-rule change opens and closes, quoted as Go's %q quotes", function () {
        const backend = {
            inbound: [...runbookPolicy.backend.inbound.slice(0, 2), "allow tcp from tag client to ports 9000"],
            outbound: ["allow"],
        };
        const before = connectivityOf(configuredMatrix(stackConfig()));
        const after = connectivityOf(configuredMatrix(stackConfig({ policy: { ...runbookPolicy, backend } })));
        const update = {
            op: "update" as const,
            urn: "urn",
            type: "pulumi-nodejs:dynamic/calico-stars:ProfileRules",
            name: "profile-backend",
            diffKeys: ["inbound", "tagNetworkIds"],
        };
        const lines = previewText(run({ connectivity: after }, [same, update]), { connectivity: before }).split("\n");
        assert.strictEqual(
            lines[0],
            " ~  pulumi-nodejs:dynamic/calico-stars:ProfileRules  profile-backend  update  [diff: ~inbound,tagNetworkIds]",
        );
        assert.deepStrictEqual(
            lines.filter((line) => line.startsWith("      ~ ")),
            [
                '      ~ client -> backend:9000        : "blocked by backend inbound: no rule matched (default drop)" => ' +
                    '"allowed by client outbound rule 1 \\"allow\\" and backend inbound rule 3 \\"allow tcp from tag client to ports 9000\\""',
                '      ~ frontend -> backend:9000      : "allowed by frontend outbound rule 1 \\"allow\\" and backend inbound rule 3 ' +
                    '\\"allow tcp from tag frontend to ports 9000\\"" => "blocked by backend inbound: no rule matched (default drop)"',
            ],
        );
        assert.strictEqual(lines.filter((line) => line.startsWith("        ")).length, 8);
        assert.deepStrictEqual(lines.slice(-4), ["Resources:", "    ~ 1 to update", "    1 unchanged", ""]);
    });
});
