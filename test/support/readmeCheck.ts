// What a new user's paste of README's shell blocks would trip over: an `npm run` script package.json lacks,
// a file or folder of the checkout that does not exist, a `pulumi` command or flag the CLI does not have.
import * as fs from "fs";
import * as path from "path";
import { shellBlocks, simpleCommands } from "../../scripts/readmeShell";

export interface PulumiCli {
    global: { flags: string[] };
    commands: Record<string, { flags: string[] }>;
}

export interface ReadmeContext {
    scripts: Record<string, string>;
    cli: PulumiCli;
    exists(relativePath: string): boolean;
    /** Paths the blocks name before they exist, each made by a command README runs first. */
    madeByTheBlocks: string[];
}

export interface ReadmeProblems {
    commands: number;
    npmScripts: string[];
    paths: string[];
    pulumi: string[];
}

export function projectContext(projectDir: string): ReadmeContext {
    return {
        scripts: JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")).scripts,
        cli: JSON.parse(fs.readFileSync(path.join(projectDir, "test/support/pulumiCli.json"), "utf8")),
        exists: (relativePath) => fs.existsSync(path.join(projectDir, relativePath)),
        madeByTheBlocks: ["Pulumi.sandbox.yaml", "sandbox/.state", ".pulumi-state"],
    };
}

/** The longest command path the CLI list has that the words start with ("stack init", "config set", "up"). */
function pulumiCommand(words: string[], cli: PulumiCli): string | undefined {
    const positional = words.filter((w) => !w.startsWith("-"));
    for (let length = Math.min(2, positional.length); length > 0; length--) {
        const candidate = positional.slice(0, length).join(" ");
        if (cli.commands[candidate] !== undefined) {
            return candidate;
        }
    }
    return undefined;
}

/** Words that name a file or folder of the checkout: relative, with a slash or a known extension. */
function checkoutPaths(words: string[]): string[] {
    return words.filter((w) => !w.startsWith("-") && !w.includes("$") && !/^[a-z]+:/.test(w) && !w.startsWith("~") && !w.startsWith("/")
        && !w.includes("*") && (w.includes("/") || /\.(ya?ml|json|ts|js|md)$/.test(w)));
}

export function readmeProblems(markdown: string, context: ReadmeContext): ReadmeProblems {
    const commands = shellBlocks(markdown).flatMap((block) => simpleCommands(block.text).map((words) => ({ line: block.line, words })));
    const pulumi = commands.filter(({ words }) => words[0] === "pulumi").flatMap(({ line, words }) => {
        const args = words.slice(1);
        const command = pulumiCommand(args, context.cli);
        if (command === undefined) {
            return [`block at line ${line}: pulumi ${args.join(" ")}: no such command`];
        }
        const known = new Set([...context.cli.commands[command].flags, ...context.cli.global.flags]);
        return args.filter((w) => w.startsWith("-") && w !== "--" && !known.has(w.replace(/=.*$/s, "")))
            .map((w) => `block at line ${line}: pulumi ${command}: no flag ${w.replace(/=.*$/s, "")}`);
    });
    return {
        commands: commands.length,
        npmScripts: commands.filter(({ words }) => words[0] === "npm" && words[1] === "run" && !(words[2] in context.scripts))
            .map(({ line, words }) => `block at line ${line}: npm run ${words[2]}`),
        paths: commands.flatMap(({ line, words }) => checkoutPaths(words)
            .filter((p) => !context.exists(p) && !context.madeByTheBlocks.some((made) => p === made || p.startsWith(`${made}/`)))
            .map((p) => `block at line ${line}: ${p}`)),
        pulumi,
    };
}
