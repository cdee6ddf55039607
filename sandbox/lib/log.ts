// What the daemons log: a line each, with its time, appended to the daemon's log file (or written to stdout).
import * as fs from "node:fs";

export type Log = (line: string) => void;

export function lineLog(logFile?: string): Log {
    return (line) => {
        const text = `${new Date().toISOString()} ${line}\n`;
        if (logFile) fs.appendFileSync(logFile, text);
        else process.stdout.write(text);
    };
}
