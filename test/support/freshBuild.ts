// Loaded by mocha before any test (.mocharc.json): the tests, the program and the provider host all run the compiled
// JavaScript (bin/, packages/providers/dist/), so a source edited since the last build is built first, or the tests
// would run the old code. `npm test` builds anyway; this covers `npx mocha <file>` after an edit.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const projectDir = path.resolve(__dirname, "../..");

/** Each build's sources (and its config) and the build info file tsc -b rewrites whenever it builds. */
const builds = [
    { sources: ["packages/providers/src", "packages/providers/tsconfig.json", "packages/providers/package.json"], info: "packages/providers/dist/tsconfig.tsbuildinfo" },
    { sources: ["index.ts", "components", "tsconfig.build.json", "tsconfig.json"], info: "bin/tsconfig.build.tsbuildinfo" },
];

function newestMtimeMs(at: string): number {
    const stat = fs.statSync(at);
    return stat.isDirectory() ? Math.max(0, ...fs.readdirSync(at).map((entry) => newestMtimeMs(path.join(at, entry)))) : stat.mtimeMs;
}

function isStale(build: { sources: string[]; info: string }): boolean {
    const info = path.join(projectDir, build.info);
    return !fs.existsSync(info) || Math.max(...build.sources.map((source) => newestMtimeMs(path.join(projectDir, source)))) > fs.statSync(info).mtimeMs;
}

if (builds.some(isStale)) {
    console.log("sources changed since the last build: npm run build");
    execFileSync("npm", ["run", "--silent", "build"], { cwd: projectDir, stdio: "inherit" });
}
