// `npm run verify:plan-example` (root, like the sandbox; not part of npm test): regenerates the review example on the
// policy page (docs/policy.md), the --plan example on the verify page (docs/verify.md) and docs/verify-plan.svg and
// .png from a sandbox run. Brings the sandbox up, runs the program's up and then the preview of the one-rule change
// through the test engine (no Pulumi CLI runs: the preview is printed from the engine's steps and outputs,
// planPreviewText.ts), makes the same change in the stack file as `pulumi config set --path` does and runs
// `npm run verify -- --plan` as a user does, puts the file back, removes one rule by hand with calicoctl and runs the
// plan again, writes both pages between their markers, and takes the sandbox down.
import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { sandboxUnavailable } from "../../sandbox/cli";
import { oneRuleChange, SandboxStack } from "../sandboxStack";
import { checkMarkers, commandBlock, handEdit, verify, writeBetween } from "./docsExample";
import { previewText } from "./planPreviewText";

const projectDir = path.resolve(__dirname, "../..");
const docs = path.join(projectDir, "docs");
const policyPage = path.join(docs, "policy.md");
const reviewBegin = "<!-- review:begin (npm run verify:plan-example writes this part) -->";
const reviewEnd = "<!-- review:end -->";
const verifyPage = path.join(docs, "verify.md");
const planBegin = "<!-- plan:begin (npm run verify:plan-example writes this part) -->";
const planEnd = "<!-- plan:end -->";
const newRule = oneRuleChange.backend.inbound[2];

async function main(): Promise<void> {
    const missing = sandboxUnavailable();
    if (missing) {
        throw new Error(`cannot run here: ${missing}`);
    }
    checkMarkers(policyPage, reviewBegin, reviewEnd);
    checkMarkers(verifyPage, planBegin, planEnd);
    const stack = await SandboxStack.start();
    const stackFile = stack.cluster.pulumiConfigPath;
    let savedStackFile: string | undefined;
    try {
        process.stderr.write("verify:plan-example: up\n");
        const up = await stack.driver.up();
        await stack.driver.setConfig("calico-stars:policy", JSON.stringify(oneRuleChange));
        const preview = await stack.driver.preview();
        savedStackFile = fs.readFileSync(stackFile, "utf8");
        const changed = parseDocument(savedStackFile);
        changed.setIn(["config", "calico-stars:policy", "backend", "inbound", 2], newRule);
        fs.writeFileSync(stackFile, changed.toString({ lineWidth: 0 }));
        const planned = verify(["--plan", "--stack", "sandbox", "--picture", path.join(docs, "verify-plan.svg")]);
        fs.writeFileSync(stackFile, savedStackFile);
        savedStackFile = undefined;
        await stack.on(stack.agent, handEdit);
        const handEdited = verify(["--plan", "--stack", "sandbox"]);
        if (planned.code !== 1 || handEdited.code !== 1) {
            throw new Error(
                `expected both plans to exit 1; they exited ${planned.code} and ${handEdited.code}:\n${planned.text}\n${handEdited.text}`,
            );
        }
        writeBetween(
            policyPage,
            reviewBegin,
            reviewEnd,
            [
                reviewBegin,
                "The test engine's preview of that change on the sandbox, after `up`: its steps, and the stack outputs it",
                "changes laid out as Pulumi v3.248.0's display lays out a preview's outputs (no Pulumi CLI ran here).",
                "`connectivity` names the two edges the change opens and closes:",
                "",
                "```",
                previewText(preview, up.outputs).trimEnd(),
                "```",
                "",
                "The same change held against the rules the cluster holds, without the Pulumi CLI, once the",
                "`pulumi config set` above has written it into `Pulumi.sandbox.yaml` (the example writes it there as that",
                "command does):",
                "",
                commandBlock("npm run verify -- --plan --stack sandbox --picture docs/verify-plan.svg", planned),
                "",
                "![verify --plan: the edges now beside those after up, the opened edge in lime, the closed one in orange](verify-plan.png)",
                reviewEnd,
            ].join("\n"),
        );
        writeBetween(
            verifyPage,
            planBegin,
            planEnd,
            [
                planBegin,
                "After `up` and a hand edit that drops backend's rule for frontend, the stack file unchanged",
                `(\`${handEdit.join(" ")}\`):`,
                "",
                commandBlock("npm run verify -- --plan --stack sandbox", handEdited),
                planEnd,
            ].join("\n"),
        );
        process.stderr.write(
            "verify:plan-example: wrote docs/policy.md's and docs/verify.md's examples, docs/verify-plan.svg, docs/verify-plan.png\n",
        );
    } finally {
        if (savedStackFile !== undefined) {
            fs.writeFileSync(stackFile, savedStackFile);
        }
        await stack.close();
    }
}

main().catch((error: Error) => {
    process.stderr.write(`verify:plan-example: ${error.message}\n`);
    process.exit(1);
});
