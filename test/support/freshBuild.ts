// Loaded by mocha before any test (.mocharc.json): the program, the provider host and the sandbox's processes run the
// compiled JavaScript (bin/, packages/providers/dist/, sandbox/dist/), so a source edited since the last build is built
// first, or the tests would run the old code. `npm test` builds anyway; this covers `npx mocha <file>` after an edit.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const projectDir = path.resolve(__dirname, "../..");

interface Build {
    /** Its sources and its config, files or directories. */
    sources: string[];
    /** What under those directories is not a source (its output, its run time state). */
    notSources?: string[];
    /** Which files under those directories tsc reads, when not all. */
    isSource?: (file: string) => boolean;
    /** The build info file tsc -b rewrites whenever it builds. */
    info: string;
}

const builds: Build[] = [
    {
        sources: ["packages/providers/src", "packages/providers/tsconfig.json", "packages/providers/package.json"],
        info: "packages/providers/dist/tsconfig.tsbuildinfo",
    },
    {
        sources: ["index.ts", "components", "tsconfig.build.json", "tsconfig.json"],
        info: "bin/tsconfig.build.tsbuildinfo",
    },
    {
        sources: ["sandbox", "tsconfig.json"],
        notSources: ["sandbox/dist", "sandbox/.state"],
        isSource: (file) => file.endsWith(".ts") || file.endsWith("tsconfig.json"),
        info: "sandbox/dist/tsconfig.tsbuildinfo",
    },
];

function newestMtimeMs(at: string, build: Build): number {
    if ((build.notSources ?? []).some((notSource) => at === path.join(projectDir, notSource))) {
        return 0;
    }
    const stat = fs.statSync(at);
    if (stat.isDirectory()) {
        return Math.max(0, ...fs.readdirSync(at).map((entry) => newestMtimeMs(path.join(at, entry), build)));
    }
    return build.isSource === undefined || build.isSource(at) ? stat.mtimeMs : 0;
}

function isStale(build: Build): boolean {
    const info = path.join(projectDir, build.info);
    return (
        !fs.existsSync(info) ||
        Math.max(...build.sources.map((source) => newestMtimeMs(path.join(projectDir, source), build))) >
            fs.statSync(info).mtimeMs
    );
}

if (builds.some(isStale)) {
    console.log("sources changed since the last build: npm run build");
    execFileSync("npm", ["run", "--silent", "build"], { cwd: projectDir, stdio: "inherit" });
}
