// The fenced blocks of the project's Markdown pages (README.md and docs/*.md), read the way a person pastes them:
// `npm run demo` runs the block that README marks as the demo, and a unit test checks every command of every page's
// shell blocks against the project and the Pulumi CLI, so the pages and the code cannot drift apart.
import { parse, ParseEntry } from "shell-quote";

export interface ShellBlock {
    /** 1-based line of the opening fence. */
    line: number;
    text: string;
}

/** The marker (an HTML comment, invisible when rendered) that README puts right before the demo block. */
export const demoMarker = "<!-- npm run demo runs the next block -->";

export interface FencedBlock extends ShellBlock {
    /** The word after the opening fence ("sh", "yaml"), "" when there is none. */
    tag: string;
    /** 1-based line of the closing fence. */
    end: number;
}

/** Every fenced block. */
export function fencedBlocks(markdown: string, page = "README.md"): FencedBlock[] {
    const blocks: FencedBlock[] = [];
    const lines = markdown.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const opening = /^\s*```(\S*)\s*$/.exec(lines[i]);
        if (opening === null) {
            continue;
        }
        const end = lines.findIndex((line, j) => j > i && line.trim() === "```");
        if (end === -1) {
            throw new Error(`${page} line ${i + 1}: a fenced block is never closed`);
        }
        blocks.push({ line: i + 1, tag: opening[1], end: end + 1, text: lines.slice(i + 1, end).join("\n") });
        i = end;
    }
    return blocks;
}

/** Every fenced block tagged `sh`. */
export function shellBlocks(markdown: string, page = "README.md"): ShellBlock[] {
    return fencedBlocks(markdown, page)
        .filter((block) => block.tag === "sh")
        .map(({ line, text }) => ({ line, text }));
}

/** The block right after the demo marker. */
export function demoBlock(markdown: string): ShellBlock {
    const at = markdown.indexOf(demoMarker);
    if (at === -1) {
        throw new Error(`README.md has no ${demoMarker}`);
    }
    const markerLine = markdown.slice(0, at).split("\n").length;
    const block = shellBlocks(markdown).find((b) => b.line > markerLine);
    if (
        block === undefined ||
        markdown
            .split("\n")
            .slice(markerLine, block.line - 1)
            .some((line) => line.trim() !== "")
    ) {
        throw new Error(`README.md line ${markerLine}: the demo marker must be followed directly by a \`\`\`sh block`);
    }
    return block;
}

/**
 * The simple commands of a block, each as its words: split at `&&`, `||`, `;`, `|`, `&` and line ends,
 * comments and redirections dropped, variables left as `$NAME`. A `$(...)` substitution is a command of
 * its own and stands as one word in the command around it.
 */
export function simpleCommands(text: string): string[][] {
    const commands: string[][] = [];
    const substitution = /\$\(([^()]*)\)/g;
    for (const line of joinContinuations(text)) {
        for (const inner of line.matchAll(substitution)) {
            commands.push(...simpleCommands(inner[1]));
        }
        let current: string[] = [];
        let redirectTarget = false;
        for (const entry of parse(line.replace(substitution, "$SUBSTITUTED"), (name) => `$${name}`) as ParseEntry[]) {
            if (typeof entry === "string") {
                if (redirectTarget) {
                    redirectTarget = false;
                } else {
                    current.push(entry);
                }
            } else if ("comment" in entry) {
                break;
            } else if ("op" in entry && /^[<>]/.test(entry.op)) {
                redirectTarget = true;
            } else if ("op" in entry) {
                commands.push(current);
                current = [];
            }
        }
        commands.push(current);
    }
    return commands.filter((words) => words.length > 0);
}

function joinContinuations(text: string): string[] {
    return text.replace(/\\\n/g, " ").split("\n");
}
