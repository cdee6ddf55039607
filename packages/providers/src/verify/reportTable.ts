// The report as a person reads it in a terminal: the declared and the
// observed matrix side by side (rows sources, columns targets), mismatches
// marked with "!" (and in red on a colour terminal), after a live check when
// each reading was trusted, then one line per mismatch naming the edge and the
// rule, then the notes.
import { edgeName, Reach } from "./matrix";
import type { ReportEdge, VerifyReport } from "./report";

export interface TableOptions {
    /** Whether to use ANSI colour (only on a TTY: see colorWanted). */
    color: boolean;
}

const marks: Record<Reach, string> = { reachable: "✔", blocked: "✘", unknown: "?" };
const notChecked = "·";
const notTrusted = "-";
const mismatchMark = "!";
const gap = "    ";
const ansi = { red: "\u001b[1;31m", yellow: "\u001b[33m", bold: "\u001b[1m", reset: "\u001b[0m" };

/** ANSI colour only on a terminal, and never when NO_COLOR is set (no-color.org) or TERM is dumb. */
export function colorWanted(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
    return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== "dumb";
}

export function formatReportTable(report: VerifyReport, options: TableOptions): string {
    const paint = (code: string, text: string) => (options.color ? `${code}${text}${ansi.reset}` : text);
    const byName = new Map(report.edges.map((edge) => [edgeName(edge), edge]));
    const sources = report.nodes.filter((node) => report.edges.some((edge) => edge.source === node.id));
    const targets = report.nodes.filter((node) => report.edges.some((edge) => edge.target === node.id));
    const rowHeader = Math.max("from \\ to".length, ...sources.map((node) => node.id.length));
    const widths = targets.map((node) => Math.max(node.id.length, 2));
    // every cell is padded to its column, so a grid's visible width is fixed even with ANSI codes in it
    const gridWidth = widths.reduce((sum, width) => sum + width, 0) + 2 * (widths.length - 1);

    const cell = (edge: ReportEdge | undefined, side: "declared" | "observed", width: number): string => {
        if (edge === undefined) {
            return notChecked.padEnd(width);
        }
        const mismatch = edge.status === "mismatch";
        const text = `${marks[edge[side].reach]}${mismatch ? mismatchMark : ""}`;
        const padding = " ".repeat(width - text.length);
        if (mismatch) return paint(ansi.red, text) + padding;
        return (edge[side].reach === "unknown" ? paint(ansi.yellow, text) : text) + padding;
    };
    const grid = (source: string, side: "declared" | "observed") =>
        targets.map((target, i) => cell(byName.get(`${source} -> ${target.id}`), side, widths[i])).join("  ");
    const header = targets.map((node, i) => node.id.padEnd(widths[i])).join("  ");

    const verdict = {
        match: "verify: observed matches declared",
        mismatch: "verify: MISMATCH",
        incomplete: "verify: INCOMPLETE (some edges unknown)",
    }[report.result];
    const lines = [
        paint(report.result === "match" ? ansi.bold : ansi.red, `${verdict}: ${report.summary}`),
        "",
        `${"".padEnd(rowHeader)}${gap}${"declared".padEnd(gridWidth)}${gap}observed`,
        `${"from \\ to".padEnd(rowHeader)}${gap}${header.padEnd(gridWidth)}${gap}${header}`.trimEnd(),
        ...sources.map((node) =>
            `${node.id.padEnd(rowHeader)}${gap}${grid(node.id, "declared")}${gap}${grid(node.id, "observed")}`.trimEnd(),
        ),
        "",
        `${marks.reachable} reachable   ${marks.blocked} blocked   ${marks.unknown} unknown   ${notChecked} not checked   ${mismatchMark} mismatch`,
    ];
    if (report.wait !== undefined) {
        const trustedAt = (edge: ReportEdge | undefined) =>
            edge?.trust === undefined ? notChecked : (edge.trust.trustedAfterSeconds?.toFixed(1) ?? notTrusted);
        const trustWidths = targets.map((node, i) =>
            Math.max(widths[i], ...sources.map((source) => trustedAt(byName.get(`${source.id} -> ${node.id}`)).length)),
        );
        lines.push(
            "",
            `trusted at (s after the start; ${notTrusted} not trusted within the wait of ${report.wait.waitedSeconds} s)`,
            `${"from \\ to".padEnd(rowHeader)}${gap}${targets.map((node, i) => node.id.padEnd(trustWidths[i])).join("  ")}`.trimEnd(),
            ...sources.map((source) =>
                `${source.id.padEnd(rowHeader)}${gap}${targets
                    .map((target, i) => trustedAt(byName.get(`${source.id} -> ${target.id}`)).padEnd(trustWidths[i]))
                    .join("  ")}`.trimEnd(),
            ),
        );
    }
    if (report.mismatches.length > 0) {
        lines.push("", ...report.mismatches.map((mismatch) => paint(ansi.red, `MISMATCH ${mismatch.message}`)));
    }
    const unknowns = report.edges.filter((edge) => edge.status === "unknown");
    if (unknowns.length > 0) {
        lines.push(
            "",
            ...unknowns.map(
                (edge) =>
                    `unknown ${edgeName(edge)}: ${edge.declared.reach === "unknown" ? edge.declared.reason : edge.observed.detail}`,
            ),
        );
    }
    if (report.notes.length > 0) {
        lines.push("", ...report.notes.map((note) => `note: ${note}`));
    }
    return `${lines.join("\n")}\n`;
}
