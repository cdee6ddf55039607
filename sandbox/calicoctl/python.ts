// What calicoctl's Python 2 runtime does to values and text: int(), str()/repr(), type names, json.dumps and
// textwrap, and how an uncaught exception ends a command (calicoctl.py's main: "<Type>: <message>" and a blank
// line on stdout, the traceback on stderr, exit 1). Sources: CPython v2.7.18 (Objects/intobject.c
// PyInt_FromString, Lib/json/encoder.py, Lib/textwrap.py) and calico-containers v0.19.0 calicoctl/calicoctl.py.
import { PythonDict } from "./pythonDict";

/** How a command ends: what the real tool prints, and its exit status. */
export class CommandExit extends Error {
    constructor(
        readonly stdout: string,
        readonly code: number,
        readonly stderr = "",
    ) {
        super(stdout);
    }
}

/** A Python exception on its way to calicoctl.py's main. */
export class PythonException extends Error {
    /**
     * @param type e.g. "ValueError"
     * @param pythonMessage str(exception)
     */
    constructor(
        readonly type: string,
        readonly pythonMessage: string,
    ) {
        super(`${type}: ${pythonMessage}`);
    }

    /** calicoctl.py main: `print "{0}: {1}\n".format(type(e).__name__, e)`, traceback.print_exc(), exit 1. */
    toExit(): CommandExit {
        const line = `${this.type}: ${this.pythonMessage}`;
        return new CommandExit(
            `${line}\n\n`,
            1,
            `Traceback (most recent call last):\n  (calicoctl stand-in)\n${line}\n`,
        );
    }
}

/** Python 2 int() of a str: surrounding whitespace, a sign, decimal digits (leading zeros allowed). */
export function pythonInt(text: string) {
    return /^[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*$/.test(text) ? Number(text.trim()) : undefined;
}

/** int(value) on a value json.loads or the command line produced: the int, or the exception int() raises. */
export function intOf(value: unknown): number {
    if (typeof value === "number") {
        return Math.trunc(value);
    }
    if (typeof value === "boolean") {
        return value ? 1 : 0;
    }
    if (typeof value === "string") {
        const number = pythonInt(value);
        if (number === undefined) {
            throw new PythonException("ValueError", `invalid literal for int() with base 10: ${strRepr(value)}`);
        }
        return number;
    }
    throw new PythonException(
        "TypeError",
        `int() argument must be a string or a number, not '${pythonTypeName(value)}'`,
    );
}

/** type(value).__name__ of a json.loads value. */
export function pythonTypeName(value: unknown) {
    if (value === null || value === undefined) {
        return "NoneType";
    }
    if (Array.isArray(value)) {
        return "list";
    }
    if (value instanceof PythonDict) {
        return "dict";
    }
    if (typeof value === "number") {
        return Number.isInteger(value) ? "int" : "float";
    }
    return { string: "unicode", boolean: "bool" }[typeof value as "string" | "boolean"] ?? "object";
}

/** repr() of a byte string: what Python 2 shows for str values (and int()'s error). */
function strRepr(text: string) {
    const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
    const body = [...text]
        .map((c) => {
            if (c === "\\" || c === quote) return `\\${c}`;
            if (c === "\n") return "\\n";
            if (c === "\r") return "\\r";
            if (c === "\t") return "\\t";
            const code = c.charCodeAt(0);
            return code < 0x20 || code >= 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : c;
        })
        .join("");
    return `${quote}${body}${quote}`;
}

/** repr() of a json.loads value: strings are unicode (u'...'). */
function pythonRepr(value: unknown): string {
    if (typeof value === "string") {
        return `u${strRepr(value)}`;
    }
    if (Array.isArray(value)) {
        return `[${value.map(pythonRepr).join(", ")}]`;
    }
    if (value instanceof PythonDict) {
        return `{${value
            .entries()
            .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
            .join(", ")}}`;
    }
    return pythonStr(value);
}

/** str() of a json.loads value (an IPNetwork-like value brings its own toString). */
export function pythonStr(value: unknown): string {
    if (value === null || value === undefined) {
        return "None";
    }
    if (typeof value === "boolean") {
        return value ? "True" : "False";
    }
    if (typeof value === "string") {
        return value;
    }
    if (typeof value === "number") {
        return String(value);
    }
    return Array.isArray(value) || value instanceof PythonDict ? pythonRepr(value) : String(value);
}

/**
 * json.dumps with Python 2's defaults: ", " and ": " separators, ensure_ascii. With an indent, the item separator
 * keeps its trailing space before each newline. A PythonDict prints in its slot order, a Map (OrderedDict) in
 * insertion order.
 */
export function pythonJson(value: unknown, indent?: number, depth: number = 0): string {
    if (Array.isArray(value) || value instanceof PythonDict || value instanceof Map) {
        const entries = Array.isArray(value)
            ? value.map((item) => pythonJson(item, indent, depth + 1))
            : [...(value instanceof Map ? value.entries() : value.entries())].map(
                  ([key, item]) => `${pythonJson(key)}: ${pythonJson(item, indent, depth + 1)}`,
              );
        const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
        if (entries.length === 0) {
            return open + close;
        }
        if (indent === undefined) {
            return open + entries.join(", ") + close;
        }
        const inner = "\n" + " ".repeat(indent * (depth + 1));
        return open + inner + entries.join(", " + inner) + "\n" + " ".repeat(indent * depth) + close;
    }
    if (value === undefined) {
        return "null";
    }
    return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** json.loads: objects become dicts filled in document order. */
export function pythonJsonLoads(text: string) {
    const convert = (value: unknown): unknown => {
        if (Array.isArray(value)) {
            return value.map(convert);
        }
        if (value !== null && typeof value === "object") {
            return PythonDict.fromEntries(Object.entries(value).map(([key, item]) => [key, convert(item)]));
        }
        return value;
    };
    try {
        return convert(JSON.parse(text));
    } catch {
        throw new PythonException("ValueError", "No JSON object could be decoded");
    }
}

/** calico_ctl.utils.print_paragraph: the message wrapped at 80 columns, then a blank line. */
export function paragraph(message: string) {
    return `${wrapText(message, 80).join("\n")}\n\n`;
}

/** Python 2.7 textwrap.wrap with its defaults (breaks after hyphens of hyphenated words, splits long words). */
function wrapText(text: string, width: number) {
    const chunks = text
        .replace(/\s/g, " ")
        .split(/( +|[^\s\w]*\w+[^0-9\W]-(?=\w+[^0-9\W])|(?<=[\w!"'&.,?])-{2,}(?=\w))/)
        .filter((chunk) => chunk !== "")
        .reverse();
    const lines = [];
    while (chunks.length > 0) {
        if (chunks[chunks.length - 1].trim() === "" && lines.length > 0) {
            chunks.pop();
        }
        const line = [];
        let length = 0;
        while (chunks.length > 0 && length + chunks[chunks.length - 1].length <= width) {
            const chunk = chunks.pop() as string;
            line.push(chunk);
            length += chunk.length;
        }
        if (chunks.length > 0 && chunks[chunks.length - 1].length > width) {
            const longWord = chunks[chunks.length - 1];
            const room = Math.max(width - length, 1);
            line.push(longWord.slice(0, room));
            chunks[chunks.length - 1] = longWord.slice(room);
        }
        if (line.length > 0 && line[line.length - 1].trim() === "") {
            line.pop();
        }
        if (line.length > 0) {
            lines.push(line.join(""));
        }
    }
    return lines;
}
