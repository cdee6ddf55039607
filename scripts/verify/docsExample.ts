// `npm run verify:picture` (root, like the sandbox; not part of npm test): regenerates the example on the verify
// page (docs/verify.md) and docs/verify.svg and .png from a sandbox run. Brings the sandbox up, runs the program's
// up (the lifecycle test engine, which drives Pulumi's real dynamic provider host; no Pulumi CLI is needed), runs
// `npm run verify` as a user does against the stack file the sandbox writes, removes one rule by hand with calicoctl
// and runs it again, writes the second run's picture into docs/ and both tables into docs/verify.md between its
// verify markers, and takes the sandbox down.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { sandboxUnavailable } from "../../sandbox/cli";
import { SandboxStack } from "../sandboxStack";

const projectDir = path.resolve(__dirname, "../..");
const docs = path.join(projectDir, "docs");
const page = path.join(docs, "verify.md");
const begin = "<!-- verify:begin (npm run verify:picture writes this part) -->";
const end = "<!-- verify:end -->";
/** The hand edit the examples make: backend's rule for frontend removed with calicoctl, as an operator might. */
export const handEdit = [
    "calicoctl",
    "profile",
    "backend",
    "rule",
    "remove",
    "inbound",
    "allow",
    "tcp",
    "from",
    "tag",
    "frontend",
    "to",
    "ports",
    "9000",
];

/** `npm run verify -- <args>` as a user runs it; the output with the project's path taken out. */
export function verify(args: string[]): { code: number | null; text: string } {
    const run = spawnSync("npm", ["run", "--silent", "verify", "--", ...args], {
        cwd: projectDir,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1" },
        timeout: 300000,
    });
    process.stderr.write(run.stderr);
    return { code: run.status, text: run.stdout.split(`${projectDir}/`).join("") };
}

/** A command as the user typed it, what it printed and its exit status, as a fenced block. */
export function commandBlock(command: string, run: { code: number | null; text: string }): string {
    return ["```", `$ ${command}`, run.text.trimEnd(), `$ echo $?`, String(run.code), "```"].join("\n");
}

/** Fails, before anything runs, when a page lacks the markers its example goes between. */
export function checkMarkers(page: string, begin: string, end: string): string {
    const text = fs.readFileSync(page, "utf8");
    if (!text.includes(begin) || !text.includes(end)) {
        throw new Error(`${path.relative(projectDir, page)} has no "${begin}" ... "${end}" markers`);
    }
    return text;
}

/** Writes `section` (which starts with `begin` and ends with `end`) over a page's part between those markers. */
export function writeBetween(page: string, begin: string, end: string, section: string): void {
    const text = checkMarkers(page, begin, end);
    fs.writeFileSync(page, text.slice(0, text.indexOf(begin)) + section + text.slice(text.indexOf(end) + end.length));
}

function section(
    match: { code: number | null; text: string },
    mismatch: { code: number | null; text: string },
): string {
    return [
        begin,
        "After `up` (the sandbox, stack file `Pulumi.sandbox.yaml`):",
        "",
        commandBlock("npm run verify -- --stack sandbox --picture docs/verify-match.svg", match),
        "",
        `After a hand edit that drops backend's rule for frontend (\`${handEdit.join(" ")}\`):`,
        "",
        commandBlock("npm run verify -- --stack sandbox --timeout 40 --picture docs/verify.svg", mismatch),
        "",
        "![verify: the declared graph beside the observed one, the broken edge in orange](verify.png)",
        end,
    ].join("\n");
}

async function main(): Promise<void> {
    const missing = sandboxUnavailable();
    if (missing) {
        throw new Error(`cannot run here: ${missing}`);
    }
    checkMarkers(page, begin, end);
    const stack = await SandboxStack.start();
    try {
        process.stderr.write("verify:picture: up\n");
        await stack.driver.up();
        const match = verify(["--stack", "sandbox", "--picture", path.join(docs, "verify-match.svg")]);
        await stack.on(stack.agent, handEdit);
        const mismatch = verify(["--stack", "sandbox", "--timeout", "40", "--picture", path.join(docs, "verify.svg")]);
        if (match.code !== 0 || mismatch.code !== 1) {
            throw new Error(
                `expected verify to exit 0, then 1 after the hand edit; it exited ${match.code}, then ${mismatch.code}:\n${match.text}\n${mismatch.text}`,
            );
        }
        writeBetween(page, begin, end, section(match, mismatch));
        process.stderr.write(
            "verify:picture: wrote docs/verify.md's example, docs/verify.svg, docs/verify.png, docs/verify-match.svg, docs/verify-match.png\n",
        );
    } finally {
        await stack.close();
    }
}

if (require.main === module) {
    main().catch((error: Error) => {
        process.stderr.write(`verify:picture: ${error.message}\n`);
        process.exit(1);
    });
}
