// README's shell blocks, read as a new user pastes them: every `npm run X` is a script of package.json, every
// file or folder of the checkout that a command names exists (or an earlier command makes it), and every
// `pulumi` command and flag is one the Pulumi 3.x CLI has (test/support/pulumiCli.json, from the CLI's own
// command definitions at v3.248.0). README is read here, so README and this test cannot drift apart.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { demoBlock, simpleCommands } from "../../scripts/readmeShell";
import { projectContext, readmeProblems } from "../support/readmeCheck";

const projectDir = path.resolve(__dirname, "../..");
const readme = fs.readFileSync(path.join(projectDir, "README.md"), "utf8");
const context = projectContext(projectDir);

describe("README's shell blocks", () => {
    const problems = readmeProblems(readme, context);

    it("holds commands to check", () => {
        assert.ok(problems.commands > 20, `found ${problems.commands} commands`);
    });

    it("names only npm scripts that package.json has", () => {
        assert.deepStrictEqual(problems.npmScripts, []);
    });

    it("names only files and folders that exist or that an earlier command makes", () => {
        assert.deepStrictEqual(problems.paths, []);
    });

    it("runs only pulumi commands and flags that the Pulumi 3.x CLI has", () => {
        assert.deepStrictEqual(problems.pulumi, []);
    });

    it("marks the block `npm run demo` runs, and that block brings a stack up and down on the sandbox", () => {
        const words = simpleCommands(demoBlock(readme).text).map((command) => command.join(" "));
        for (const step of ["npm run sandbox -- up", "pulumi stack init sandbox", "pulumi up --yes -s sandbox", "pulumi preview --diff -s sandbox",
            "pulumi destroy --yes -s sandbox", "npm run sandbox -- down"]) {
            assert.ok(words.includes(step), `the demo block runs ${step}`);
        }
    });
});

describe("the README check itself", () => {
    const bad = [
        "```sh",
        "npm run no-such-script",
        "cat components/no-such-file.ts && cat Pulumi.sandbox.yaml",
        "pulumi stack select dev --no-such-flag",
        "pulumi stacks init dev",
        "curl \"$(pulumi stack output uiUrl --bogus)\"",
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
});
