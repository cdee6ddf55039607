// A preview as text, for the docs' review example: the steps the test engine's preview takes and the stack outputs it
// changes, laid out as the Pulumi CLI's display lays out a preview's outputs, without colour (pulumi/pulumi v3.248.0,
// pkg/backend/display/object_diff.go: getResourceOutputsPropertiesString at indent 1 as progress.go's printOutputs
// calls it, printObjectDiff, printPropertyValueDiff, printPropertyValue; strings quoted as Go's %q quotes them).
// No Pulumi CLI runs here: this prints what the test engine's run holds.
import type { StackRun } from "../../engine";

type Mark = "~" | "+" | "-" | " ";

const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);

/** getIndentationString: four spaces a level, the last two of them the step's mark when the line is prefixed. */
function indentation(indent: number, mark?: Mark): string {
    const spaces = "    ".repeat(indent);
    return mark === undefined ? spaces : `${spaces.slice(0, -2)}${mark} `;
}

/** shouldPrintPropertyValue: nulls, empty strings, arrays and objects are left out. */
function printable(value: unknown): boolean {
    return !(
        value === null ||
        value === undefined ||
        value === "" ||
        (Array.isArray(value) && value.length === 0) ||
        (isObject(value) && Object.keys(value).length === 0)
    );
}

function primitive(value: unknown): string {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** printPropertyValue: the value after its title, its nested lines at `indent` with the same mark. */
function valueText(value: unknown, indent: number, mark: Mark | undefined): string {
    if (Array.isArray(value)) {
        if (value.length === 0) return "[]\n";
        const items = value.map(
            (item, i) => `${indentation(indent, mark)}    [${i}]: ${valueText(item, indent + 1, mark)}`,
        );
        return `[\n${items.join("")}${indentation(indent)}]\n`;
    }
    if (isObject(value)) {
        if (Object.keys(value).length === 0) return "{}\n";
        const keys = Object.keys(value).sort();
        const width = Math.max(...keys.map((key) => key.length));
        const lines = keys.map(
            (key) => `${indentation(indent + 1, mark)}${key.padEnd(width)}: ${valueText(value[key], indent + 1, mark)}`,
        );
        return `{\n${lines.join("")}${indentation(indent)}}\n`;
    }
    return `${primitive(value)}\n`;
}

/** printPropertyValueDiff: a changed value under its title (`title` writes it at the given mark). */
function valueDiffText(title: (mark: Mark) => string, old: unknown, now: unknown, indent: number): string {
    if (Array.isArray(old) && Array.isArray(now)) {
        const items = Array.from({ length: Math.max(old.length, now.length) }, (_, i) => {
            const itemTitle = (mark: Mark) => `${indentation(indent + 1, mark === " " ? undefined : mark)}[${i}]: `;
            if (i >= old.length) return `${itemTitle("+")}${valueText(now[i], indent + 2, "+")}`;
            if (i >= now.length) return `${itemTitle("-")}${valueText(old[i], indent + 2, "-")}`;
            if (JSON.stringify(old[i]) !== JSON.stringify(now[i])) {
                return valueDiffText(itemTitle, old[i], now[i], indent + 2);
            }
            return `${itemTitle(" ")}${valueText(now[i], indent + 2, undefined)}`;
        });
        return `${title("~")}[\n${items.join("")}${indentation(indent)}]\n`;
    }
    if (isObject(old) && isObject(now)) {
        return `${title("~")}{\n${objectDiffText(old, now, indent + 1, false)}${indentation(indent)}}\n`;
    }
    if (typeof old !== "object" && typeof now !== "object" && printable(old) && printable(now)) {
        return `${title("~")}${primitive(old)} => ${primitive(now)}\n`;
    }
    return (
        (printable(old) ? `${title("-")}${valueText(old, indent, "-")}` : "") +
        (printable(now) ? `${title("+")}${valueText(now, indent, "+")}` : "")
    );
}

/** printObjectDiff: every key in order, a title as wide as the longest; the same ones unmarked, or left out. */
function objectDiffText(
    old: Record<string, unknown>,
    now: Record<string, unknown>,
    indent: number,
    leaveOutSames: boolean,
): string {
    const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])].sort();
    const width = Math.max(...keys.map((key) => key.length));
    return keys
        .map((key) => {
            const title = (mark: Mark) =>
                `${indentation(indent, mark === " " ? undefined : mark)}${key.padEnd(width)}: `;
            if (!(key in old)) return `${title("+")}${valueText(now[key], indent, "+")}`;
            if (!(key in now)) return `${title("-")}${valueText(old[key], indent, "-")}`;
            if (JSON.stringify(old[key]) !== JSON.stringify(now[key])) {
                return valueDiffText(title, old[key], now[key], indent);
            }
            return leaveOutSames || !printable(now[key])
                ? ""
                : `${title(" ")}${valueText(now[key], indent, undefined)}`;
        })
        .join("");
}

/**
 * The preview's steps other than `same`, its stack outputs that change (against the last up's), and the count of
 * steps by kind, as the CLI's summary counts them.
 */
export function previewText(preview: StackRun, lastOutputs: Record<string, unknown>): string {
    const changed = preview.steps.filter((step) => step.op !== "same");
    const width = Math.max(0, ...changed.map((step) => step.type.length));
    const marks: Record<string, Mark> = { update: "~", create: "+", delete: "-", replace: "~" };
    const steps = changed.map(
        (step) =>
            ` ${marks[step.op] ?? " "}  ${step.type.padEnd(width)}  ${step.name}  ${step.op}` +
            ((step.diffKeys ?? []).length > 0 ? `  [diff: ~${step.diffKeys!.join(",")}]` : ""),
    );
    const outputs = objectDiffText(lastOutputs, preview.outputs, 1, true);
    const counts = [
        ...(["create", "update", "replace", "delete"] as const).flatMap((op) => {
            const count = changed.filter((step) => step.op === op).length;
            return count > 0 ? [`    ${marks[op]} ${count} to ${op}`] : [];
        }),
        `    ${preview.steps.filter((step) => step.op === "same").length} unchanged`,
    ];
    return [...steps, "", ...(outputs === "" ? [] : ["Outputs:", outputs]), "Resources:", ...counts, ""].join("\n");
}
