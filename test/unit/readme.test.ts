// README.md and every page of docs/, read as a new user reads them. In each shell block: every `npm run X` is a
// script of package.json, every file or folder of the checkout that a command names exists (or an earlier command
// makes it), and every `pulumi` command and flag is one the Pulumi 3.x CLI has (test/support/pulumiCli.json, from
// the CLI's own command definitions at v3.248.0). In the text: every link leads to a file and heading that exist.
// The pages are read here, so the pages and this test cannot drift apart.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { demoBlock, fencedBlocks, simpleCommands } from "../../scripts/readmeShell";
import { brokenLinks, headingAnchors, projectContext, readmeProblems } from "../support/readmeCheck";

const projectDir = path.resolve(__dirname, "../..");
const context = projectContext(projectDir);
const docsPages = fs
    .readdirSync(path.join(projectDir, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
const pages = ["README.md", ...docsPages];
const readme = context.read("README.md");

/** Whether every key and item of `part` is in `whole` with the same value (lists: item by item, same length). */
function isPartOf(part: unknown, whole: unknown): boolean {
    if (Array.isArray(part)) {
        return (
            Array.isArray(whole) && part.length === whole.length && part.every((item, i) => isPartOf(item, whole[i]))
        );
    }
    if (typeof part === "object" && part !== null) {
        return (
            typeof whole === "object" &&
            whole !== null &&
            !Array.isArray(whole) &&
            Object.entries(part).every(([key, value]) => isPartOf(value, (whole as Record<string, unknown>)[key]))
        );
    }
    return part === whole;
}

describe("the shell blocks of README.md and docs/", () => {
    const problems = pages.map((page) => ({ page, problems: readmeProblems(context.read(page), context, page) }));

    it("reads README.md and the pages of docs/", () => {
        assert.ok(docsPages.length >= 8, `found ${docsPages.join(", ")}`);
        assert.ok(docsPages.includes("docs/configuration.md") && docsPages.includes("docs/verify.md"));
    });

    it("holds commands to check", () => {
        const commands = problems.reduce((sum, { problems: p }) => sum + p.commands, 0);
        assert.ok(commands > 20, `found ${commands} commands`);
    });

    for (const { page, problems: found } of problems) {
        describe(page, () => {
            it("names only npm scripts that package.json has", () => {
                assert.deepStrictEqual(found.npmScripts, []);
            });

            it("names only files and folders that exist or that an earlier command makes", () => {
                assert.deepStrictEqual(found.paths, []);
            });

            it("runs only pulumi commands and flags that the Pulumi 3.x CLI has", () => {
                assert.deepStrictEqual(found.pulumi, []);
            });

            it("links only to files and headings that exist", () => {
                assert.deepStrictEqual(brokenLinks(context.read(page), page, context), []);
            });
        });
    }

    it("marks the block `npm run demo` runs, and that block brings a stack up and down on the sandbox", () => {
        const words = simpleCommands(demoBlock(readme).text).map((command) => command.join(" "));
        for (const step of [
            "npm run sandbox -- up",
            "pulumi stack init sandbox",
            "pulumi up --yes -s sandbox",
            "pulumi preview --diff -s sandbox",
            "pulumi destroy --yes -s sandbox",
            "npm run sandbox -- down",
        ]) {
            assert.ok(words.includes(step), `the demo block runs ${step}`);
        }
    });

    it('keeps the demo block in README\'s "Try it on the sandbox"', () => {
        const section = readme.split(/^## /m).find((part) => part.startsWith("Try it on the sandbox\n"));
        assert.ok(section !== undefined, 'README has a section "Try it on the sandbox"');
        assert.ok(section.includes(demoBlock(readme).text), "the demo block is in it");
    });

    it("shows in README a part of the committed stack file, Pulumi.dev.yaml, as it is", () => {
        const excerpts = fencedBlocks(readme).filter((block) => block.tag === "yaml");
        assert.strictEqual(excerpts.length, 1);
        assert.ok(isPartOf(parse(excerpts[0].text), parse(context.read("Pulumi.dev.yaml"))), excerpts[0].text);
    });
});

describe("the README check itself", () => {
    const bad = [
        "```sh",
        "npm run no-such-script",
        "cat components/no-such-file.ts && cat Pulumi.sandbox.yaml",
        "pulumi stack select dev --no-such-flag",
        "pulumi stacks init dev",
        'curl "$(pulumi stack output uiUrl --bogus)"',
        "pulumi config set --secret --path 'a.b[0]' x < key  # a comment --not-a-flag",
        "```",
    ].join("\n");
    const problems = readmeProblems(bad, context);

    it("finds a script package.json lacks", () => {
        assert.deepStrictEqual(problems.npmScripts, ["block at line 1: npm run no-such-script"]);
    });

    it("finds a missing file, but not one an earlier command makes", () => {
        assert.deepStrictEqual(problems.paths, ["block at line 1: components/no-such-file.ts"]);
    });

    it("finds an unknown command and unknown flags, also inside $(...), and reads past redirections and comments", () => {
        assert.deepStrictEqual(problems.pulumi.sort(), [
            "block at line 1: pulumi stack output: no flag --bogus",
            "block at line 1: pulumi stack select: no flag --no-such-flag",
            "block at line 1: pulumi stacks init dev: no such command",
        ]);
    });

    it("checks the shell blocks of a page of docs/ too, and none of its other blocks", () => {
        const page = [
            "# A page",
            "```",
            "npm run no-such-script",
            "```",
            "```sh",
            "npm run no-such-script",
            "```",
        ].join("\n");
        assert.deepStrictEqual(readmeProblems(page, context, "docs/page.md").npmScripts, [
            "block at line 5: npm run no-such-script",
        ]);
    });

    it("names the anchors of headings as GitHub does, outside code blocks", () => {
        const page = [
            "# Inside `pulumi up`",
            "## The runbook's slips",
            "```",
            "# not a heading",
            "```",
            "## Parts",
            "## Parts",
        ].join("\n");
        assert.deepStrictEqual(headingAnchors(page), ["inside-pulumi-up", "the-runbooks-slips", "parts", "parts-1"]);
    });

    it("finds a link to a missing page or heading, and ignores other sites and links inside code", () => {
        const pages: Record<string, string> = {
            "README.md": "# calico-stars\n## Try it on the sandbox\n",
            "docs/policy.md": "# Policy\n## How rules are written\n",
            "docs/verify.png": "",
        };
        const files = { ...context, exists: (file: string) => file in pages, read: (file: string) => pages[file] };
        const page = [
            "[fine](policy.md#how-rules-are-written) [fine too](../README.md#try-it-on-the-sandbox) [here](#a-page)",
            "![picture](verify.png) [site](https://example.com/x.md)",
            "[gone](noSuchPage.md) [no heading](policy.md#no-such-heading) [outside](../../etc/passwd)",
            "`[in code](noSuchCode.md)`",
            "```",
            "[in a block](noSuchBlock.md)",
            "```",
            "# A page",
        ].join("\n");
        assert.deepStrictEqual(brokenLinks(page, "docs/page.md", files), [
            "docs/page.md: noSuchPage.md: no such file",
            "docs/page.md: policy.md#no-such-heading: no such heading in docs/policy.md",
            "docs/page.md: ../../etc/passwd: no such file",
        ]);
    });
});
