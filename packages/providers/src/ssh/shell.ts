// The only way the program builds remote command text: argv words are quoted
// one by one, and scripts are written with the `sh` template tag, whose
// literal parts are the program's own shell syntax and whose every
// interpolated value is quoted as one word unless it is itself a built script.
import type { SshHost } from "./types";

/** Shell text built by `command`, `sh` or `joined`: nothing in it was spliced in unquoted. */
export interface ShellScript {
    readonly script: string;
}

/** POSIX shell quoting: the result is always one inert word. */
export function quote(arg: string): string {
    if (arg.includes("\0")) {
        throw new Error("a command argument contains a NUL byte");
    }
    if (/^[A-Za-z0-9_/.:,=@%+-]+$/.test(arg)) {
        return arg;
    }
    return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One shell command line from an argv. */
export function commandLine(argv: readonly string[]): string {
    if (argv.length === 0) {
        throw new Error("empty command");
    }
    return argv.map(quote).join(" ");
}

/** One command from an argv, as a script. */
export function command(argv: readonly string[]): ShellScript {
    return { script: commandLine(argv) };
}

/** argv with `sudo -n` in front when the host needs it. */
export function privileged(host: Pick<SshHost, "sudo">, argv: readonly string[]): string[] {
    return host.sudo ? ["sudo", "-n", ...argv] : [...argv];
}

function isScript(value: unknown): value is ShellScript {
    return typeof value === "object" && value !== null && typeof (value as ShellScript).script === "string";
}

/**
 * A script from a template: `sh\`if ${check} 2>/dev/null; then rm -f ${path}; fi\``. A string or number
 * becomes one quoted word; a ShellScript goes in as it is.
 */
export function sh(
    literals: TemplateStringsArray,
    ...values: ReadonlyArray<string | number | ShellScript>
): ShellScript {
    let text = literals[0];
    values.forEach((value, i) => {
        text += (isScript(value) ? value.script : quote(String(value))) + literals[i + 1];
    });
    return { script: text };
}

/** Scripts joined by one operator; `&&` keeps the first failure's exit code and stderr. */
export function joined(scripts: readonly ShellScript[], operator: "&&" | "||" | ";"): ShellScript {
    if (scripts.length === 0) {
        throw new Error("empty script");
    }
    return { script: scripts.map((s) => s.script).join(operator === ";" ? "; " : ` ${operator} `) };
}

/** The text a caller shows for a command: a script as it is, an argv quoted. */
export function displayed(argvOrScript: readonly string[] | ShellScript): string {
    return isScript(argvOrScript) ? argvOrScript.script : commandLine(argvOrScript as readonly string[]);
}
