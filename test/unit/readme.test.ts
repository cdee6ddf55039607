// README's shell blocks, read as a new user pastes them: every `npm run X` is a script of package.json,
// every file or folder of the checkout that a command names exists (or is one the blocks make, listed
// below with what makes it), and every `pulumi` command and flag is one the Pulumi 3.x CLI has
// (test/support/pulumiCli.json, from the CLI's own command definitions).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { demoBlock, shellBlocks, simpleCommands } from "../../scripts/readmeShell";

const projectDir = path.resolve(__dirname, "../..");
const readme = fs.readFileSync(path.join(projectDir, "README.md"), "utf8");
const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")).scripts;
const cli: { global: { flags: string[] }; commands: Record<string, { flags: string[] }> } =
    JSON.parse(fs.readFileSync(path.join(projectDir, "test/support/pulumiCli.json"), "utf8"));

/** Paths the blocks name before they exist: each is made by a command README runs first. */
const madeByTheBlocks: Record<string, string> = {
    "Pulumi.sandbox.yaml": "npm run sandbox -- up",
    "sandbox/.state": "npm run sandbox -- up",
};

const commands = shellBlocks(readme).flatMap((block) => simpleCommands(block.text).map((words) => ({ block, words })));

/** The longest command path of pulumiCli.json that the words start with ("stack init", "config set", "up"). */
function pulumiCommand(words: string[]): string | undefined {
    const positional = words.filter((w) => !w.startsWith("-"));
    for (let length = Math.min(2, positional.length); length > 0; length--) {
        const candidate = positional.slice(0, length).join(" ");
        if (cli.commands[candidate] !== undefined) {
            return candidate;
        }
    }
    return undefined;
}

function flagName(word: string): string {
    return word.replace(/=.*$/s, "");
}

/** Words that name a file or folder of the checkout: relative, with a slash or a known extension. */
function checkoutPaths(words: string[]): string[] {
    return words.filter((w) => !w.startsWith("-") && !w.includes("$") && !/^[a-z]+:/.test(w) && !w.startsWith("~") && !w.startsWith("/")
        && (w.includes("/") || /\.(ya?ml|json|ts|js|md)$/.test(w)) && !w.includes("*"));
}

describe("README's shell blocks", () => {
    it("has shell blocks to check", () => {
        assert.ok(commands.length > 10, `found ${commands.length} commands`);
    });

    it("names only npm scripts that package.json has", () => {
        const missing = commands.filter(({ words }) => words[0] === "npm" && words[1] === "run" && !(words[2] in scripts))
            .map(({ block, words }) => `line ${block.line}: npm run ${words[2]}`);
        assert.deepStrictEqual(missing, []);
    });

    it("names only files and folders that exist or that an earlier command makes", () => {
        const missing = commands.flatMap(({ block, words }) => checkoutPaths(words)
            .filter((p) => !fs.existsSync(path.join(projectDir, p)) && !Object.keys(madeByTheBlocks).some((made) => p === made || p.startsWith(`${made}/`)))
            .map((p) => `line ${block.line}: ${p}`));
        assert.deepStrictEqual(missing, []);
    });

    it("runs only pulumi commands and flags that the Pulumi 3.x CLI has", () => {
        const problems = commands.filter(({ words }) => words[0] === "pulumi").flatMap(({ block, words }) => {
            const args = words.slice(1);
            const command = pulumiCommand(args);
            if (command === undefined) {
                return [`line ${block.line}: pulumi ${args.join(" ")}: no such command`];
            }
            const known = new Set([...cli.commands[command].flags, ...cli.global.flags]);
            return args.filter((w) => w.startsWith("-") && w !== "--" && !known.has(flagName(w)))
                .map((w) => `line ${block.line}: pulumi ${command}: no flag ${flagName(w)}`);
        });
        assert.deepStrictEqual(problems, []);
    });

    it("marks one block as the one `npm run demo` runs", () => {
        assert.ok(demoBlock(readme).text.includes("pulumi up"));
    });
});
