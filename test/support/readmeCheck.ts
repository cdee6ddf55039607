// What a new user of README.md and docs/ would trip over: in a shell block, an `npm run` script package.json lacks,
// a file or folder of the checkout that does not exist, a `pulumi` command or flag the CLI does not have; in the
// text, a link to a page or a heading that does not exist.
import * as fs from "fs";
import * as path from "path";
import { fencedBlocks, shellBlocks, simpleCommands } from "../../scripts/readmeShell";

interface PulumiCli {
    global: { flags: string[] };
    commands: Record<string, { flags: string[] }>;
}

export interface ReadmeContext {
    scripts: Record<string, string>;
    cli: PulumiCli;
    exists(relativePath: string): boolean;
    /** The text of a file of the checkout. */
    read(relativePath: string): string;
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
        read: (relativePath) => fs.readFileSync(path.join(projectDir, relativePath), "utf8"),
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
    return words.filter(
        (w) =>
            !w.startsWith("-") &&
            !w.includes("$") &&
            !/^[a-z]+:/.test(w) &&
            !w.startsWith("~") &&
            !w.startsWith("/") &&
            !w.includes("*") &&
            (w.includes("/") || /\.(ya?ml|json|ts|js|md)$/.test(w)),
    );
}

export function readmeProblems(markdown: string, context: ReadmeContext, page = "README.md"): ReadmeProblems {
    const commands = shellBlocks(markdown, page).flatMap((block) =>
        simpleCommands(block.text).map((words) => ({ line: block.line, words })),
    );
    const pulumi = commands
        .filter(({ words }) => words[0] === "pulumi")
        .flatMap(({ line, words }) => {
            const args = words.slice(1);
            const command = pulumiCommand(args, context.cli);
            if (command === undefined) {
                return [`block at line ${line}: pulumi ${args.join(" ")}: no such command`];
            }
            const known = new Set([...context.cli.commands[command].flags, ...context.cli.global.flags]);
            return args
                .filter((w) => w.startsWith("-") && w !== "--" && !known.has(w.replace(/=.*$/s, "")))
                .map((w) => `block at line ${line}: pulumi ${command}: no flag ${w.replace(/=.*$/s, "")}`);
        });
    return {
        commands: commands.length,
        npmScripts: commands
            .filter(({ words }) => words[0] === "npm" && words[1] === "run" && !(words[2] in context.scripts))
            .map(({ line, words }) => `block at line ${line}: npm run ${words[2]}`),
        paths: commands.flatMap(({ line, words }) =>
            checkoutPaths(words)
                .filter(
                    (p) =>
                        !context.exists(p) &&
                        !context.madeByTheBlocks.some((made) => p === made || p.startsWith(`${made}/`)),
                )
                .map((p) => `block at line ${line}: ${p}`),
        ),
        pulumi,
    };
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
export function headingAnchors(markdown: string): string[] {
    const inBlocks = new Set(
        fencedBlocks(markdown).flatMap((block) =>
            Array.from({ length: block.end - block.line + 1 }, (_, i) => block.line + i),
        ),
    );
    const seen = new Map<string, number>();
    return markdown.split("\n").flatMap((line, i) => {
        const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (heading === null || inBlocks.has(i + 1)) {
            return [];
        }
        const slug = heading[1]
            .toLowerCase()
            .replace(/[^\p{L}\p{N}\s_-]/gu, "")
            .replace(/\s/g, "-");
        const count = seen.get(slug) ?? 0;
        seen.set(slug, count + 1);
        return [count === 0 ? slug : `${slug}-${count}`];
    });
}

/**
 * The links (and pictures) of a page, outside code, that lead nowhere: a file of the checkout that does not exist,
 * or a heading its page lacks. Links to other sites are not followed.
 */
export function brokenLinks(markdown: string, page: string, context: ReadmeContext): string[] {
    const lines = markdown.split("\n");
    for (const block of fencedBlocks(markdown, page)) {
        lines.fill("", block.line - 1, block.end);
    }
    const prose = lines.join("\n").replace(/`[^`]*`/g, "");
    return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((link) => link[1])
        .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
        .flatMap((target) => {
            const [file, anchor] = target.split("#", 2);
            const linked = file === "" ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file));
            if (file !== "" && (linked.startsWith("../") || !context.exists(linked))) {
                return [`${page}: ${target}: no such file`];
            }
            const text = file === "" ? markdown : linked.endsWith(".md") ? context.read(linked) : "";
            if (anchor !== undefined && !headingAnchors(text).includes(anchor)) {
                return [`${page}: ${target}: no such heading in ${linked}`];
            }
            return [];
        });
}
