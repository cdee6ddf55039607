// A PNG of the picture when a converter is on this machine: rsvg-convert
// (Debian's librsvg2-bin), else a headless Chromium. Optional: without one the
// result says so and names what to install.
import { execFile } from "child_process";
import { readFileSync, rmSync } from "fs";
import { resolve } from "path";
import which from "which";

export interface PngOutcome {
    /** The PNG's path, when one was written. */
    png?: string;
    /** The converter used. */
    converter?: string;
    /** Why no PNG was written. */
    skipped?: string;
}

export interface PngOptions {
    /** The picture's size in pixels (Chromium needs it for its window). */
    width: number;
    /** The picture's height in pixels. */
    height: number;
    /** How long the converter may run. */
    timeoutMs?: number;
    /** Where to look for converters; defaults to $PATH. */
    searchPath?: string;
}

const defaultTimeoutMs = 60_000;
const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const chromiumNames = ["chromium", "chromium-browser", "google-chrome"];

/** The first executable of that name on the search path. */
export function findExecutable(name: string, searchPath: string): string | undefined {
    return which.sync(name, { path: searchPath, nothrow: true }) ?? undefined;
}

export async function svgToPng(svgPath: string, pngPath: string, options: PngOptions): Promise<PngOutcome> {
    const searchPath = options.searchPath ?? process.env.PATH ?? "";
    const timeout = options.timeoutMs ?? defaultTimeoutMs;
    const rsvg = findExecutable("rsvg-convert", searchPath);
    const chromium = chromiumNames.map((name) => findExecutable(name, searchPath)).find((path) => path !== undefined);
    let converter: string;
    let args: string[];
    if (rsvg !== undefined) {
        converter = rsvg;
        args = ["--format=png", `--output=${pngPath}`, svgPath];
    } else if (chromium !== undefined) {
        converter = chromium;
        // --no-sandbox: Chromium refuses to run as root with its sandbox, and this runs on a build machine
        args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            `--window-size=${options.width},${options.height}`,
            `--screenshot=${resolve(pngPath)}`,
            `file://${resolve(svgPath)}`,
        ];
    } else {
        return {
            skipped:
                "no SVG-to-PNG converter found (install rsvg-convert from librsvg2-bin, or chromium); the SVG is written",
        };
    }
    // a PNG left from an earlier run must not pass for this one
    rmSync(pngPath, { force: true });
    try {
        await run(converter, args, timeout);
    } catch (error) {
        return { skipped: `${converter} failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    const written = readIfPresent(pngPath);
    if (written === undefined || !written.subarray(0, pngSignature.length).equals(pngSignature)) {
        return { skipped: `${converter} wrote no PNG at ${pngPath}` };
    }
    return { png: pngPath, converter };
}

function run(file: string, args: string[], timeout: number): Promise<void> {
    return new Promise((done, fail) => {
        execFile(file, args, { timeout, killSignal: "SIGKILL" }, (error, _stdout, stderr) => {
            if (error) {
                fail(
                    new Error(
                        `${error.killed ? `timed out after ${timeout} ms` : error.message.split("\n")[0]}${stderr ? `: ${String(stderr).trim().slice(0, 300)}` : ""}`,
                    ),
                );
            } else {
                done();
            }
        });
    });
}

function readIfPresent(path: string): Buffer | undefined {
    try {
        return readFileSync(path);
    } catch {
        return undefined;
    }
}
