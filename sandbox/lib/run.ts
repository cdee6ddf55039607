// Running commands: short ones to completion, the sandbox's services detached with a pid file and a log.
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths } from "./layout";
import { waitUntil } from "./wait";

/**
 * Runs a command to completion and resolves to its stdout; rejects with its stderr on a non-zero exit.
 * Its stdin is closed at once, so that nothing can wait on a question.
 */
export function run(file: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) {
                reject(new Error(`${[file, ...args].join(" ")} failed: ${String(stderr).trim() || error.message}`));
            } else {
                resolve(String(stdout));
            }
        });
        child.stdin?.end();
    });
}

/** Like run, but a failure only resolves to undefined (for cleanup steps whose target may be gone already). */
export function runQuietly(file: string, args: string[]): Promise<string | undefined> {
    return run(file, args).catch(() => undefined);
}

interface Detached {
    pid: number;
    logFile: string;
    exitStatus(): string | undefined;
}

/** Starts a long-lived process in its own session, its output in logs/<logName>.log and its pid in pids/<name>.pid. */
function startDetached(name: string, argv: string[], logName: string): Detached {
    const logFile = logFileOf(logName);
    const log = fs.openSync(logFile, "a");
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    if (child.pid === undefined) {
        throw new Error(`${name} did not start: ${argv[0]} could not be run`);
    }
    let exitStatus: string | undefined;
    child.on("exit", (code, signal) => {
        exitStatus = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    });
    child.on("error", (error) => {
        exitStatus = `could not be run: ${error.message}`;
    });
    child.unref();
    fs.writeFileSync(pidFile(name), `${child.pid}\n`);
    return { pid: child.pid, logFile, exitStatus: () => exitStatus };
}

/** logs/<name>.log */
export function logFileOf(name: string): string {
    return path.join(paths.logs, `${name}.log`);
}

/** A long-lived sandbox process, as `up` starts it and `status` looks at it. */
export interface Service {
    /** What status calls it ("dockerd cs-agent1"). */
    label: string;
    /** Its pid file is pids/<name>.pid. */
    name: string;
    /** Where it answers, as status shows it. */
    endpoint: string;
    /** Whether it answers now: `up` waits for it, `status` asks. */
    answers(): Promise<boolean>;
}

/**
 * Starts the service detached and resolves to its pid once it answers; fails when it exits first or does not answer
 * in `timeoutMs`, quoting the end of its output.
 * @param options.ownLog the process writes logs/<name>.log itself: its output goes to logs/<name>.stdout.log
 */
export async function startService(
    service: Service,
    argv: string[],
    options: { timeoutMs: number; ownLog?: boolean },
): Promise<number> {
    const started = startDetached(service.name, argv, options.ownLog ? `${service.name}.stdout` : service.name);
    await waitUntil(`${service.label} (${service.endpoint})`, service.answers, {
        timeoutMs: options.timeoutMs,
        process: started,
    });
    return started.pid;
}

function pidFile(name: string) {
    return path.join(paths.pids, `${name}.pid`);
}

export function readPid(name: string): number | undefined {
    try {
        const pid = Number(fs.readFileSync(pidFile(name), "utf8").trim());
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}
