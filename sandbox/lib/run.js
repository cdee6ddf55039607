// @ts-check
// Running commands: short ones to completion, long-lived ones detached with a pid file and a log.
const { execFile, spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { paths } = require("./layout");

/**
 * Runs a command to completion and resolves to its stdout; rejects with its stderr on a non-zero exit.
 * Its stdin is closed at once, so that nothing can wait on a question.
 * @param {string} file
 * @param {string[]} args
 * @returns {Promise<string>}
 */
function run(file, args) {
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

/**
 * Like run, but a failure only resolves to undefined (for cleanup steps whose target may be gone already).
 * @param {string} file
 * @param {string[]} args
 * @returns {Promise<string | undefined>}
 */
function runQuietly(file, args) {
    return run(file, args).catch(() => undefined);
}

/**
 * @typedef {{ pid: number, logFile: string, exitStatus: () => string | undefined }} Detached
 */

/**
 * Starts a long-lived process in its own session, its output in logs/<logName>.log and its pid in pids/<name>.pid.
 * @param {string} name
 * @param {string[]} argv
 * @param {string} [logName] when the process writes logs/<name>.log itself
 * @returns {Detached}
 */
function startDetached(name, argv, logName = name) {
    const logFile = path.join(paths.logs, `${logName}.log`);
    const log = fs.openSync(logFile, "a");
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    if (child.pid === undefined) {
        throw new Error(`${name} did not start: ${argv[0]} could not be run`);
    }
    /** @type {string | undefined} */
    let exitStatus;
    child.on("exit", (code, signal) => { exitStatus = signal ? `was killed by ${signal}` : `exited with code ${code}`; });
    child.on("error", (error) => { exitStatus = `could not be run: ${error.message}`; });
    child.unref();
    fs.writeFileSync(pidFile(name), `${child.pid}\n`);
    return { pid: child.pid, logFile, exitStatus: () => exitStatus };
}

/** @param {string} name */
function pidFile(name) {
    return path.join(paths.pids, `${name}.pid`);
}

/**
 * @param {string} name
 * @returns {number | undefined}
 */
function readPid(name) {
    try {
        const pid = Number(fs.readFileSync(pidFile(name), "utf8").trim());
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

module.exports = { run, runQuietly, startDetached, readPid };
