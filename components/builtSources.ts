// What the compiled program was built from. Pulumi runs bin/index.js (Pulumi.yaml: typescript false) and builds
// nothing itself, so `npm run build` records a hash of every source it compiled, the program's and the providers
// package's, beside its output (run as `node bin/components/builtSources.js`); the program compares those with the
// sources beside it before it registers anything, so a preview never shows what old code would do.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

const recordName = "sources.json";

/** Every file under `dir` (relative to `root`) that `include` takes, sorted. */
function filesUnder(root: string, dir: string, include: (name: string) => boolean): string[] {
    const at = path.join(root, dir);
    if (!fs.existsSync(at)) {
        return [];
    }
    return fs
        .readdirSync(at, { withFileTypes: true })
        .flatMap((entry) => {
            const relative = path.join(dir, entry.name);
            return entry.isDirectory() ? filesUnder(root, relative, include) : include(entry.name) ? [relative] : [];
        })
        .sort();
}

/**
 * The sources tsc compiles for the program (tsconfig.build.json) and their configs: the program's by path from the
 * project, the providers package's (wherever it is installed) by path from the package, under its name.
 */
function sourceHashes(projectDir: string): Record<string, string> {
    const providers = "@calico-stars/providers";
    const providersDir = path.resolve(path.dirname(require.resolve(providers)), "..");
    const tsOrJson = (name: string) => /\.(ts|json)$/.test(name);
    const files: [string, string][] = [
        ...["index.ts", "tsconfig.json", "tsconfig.build.json", ...filesUnder(projectDir, "components", tsOrJson)].map(
            (file): [string, string] => [file, path.join(projectDir, file)],
        ),
        ...["package.json", "tsconfig.json", ...filesUnder(providersDir, "src", tsOrJson)].map(
            (file): [string, string] => [`${providers}/${file}`, path.join(providersDir, file)],
        ),
    ];
    return Object.fromEntries(
        files.map(([name, file]) => [name, createHash("sha256").update(fs.readFileSync(file)).digest("hex")]),
    );
}

/**
 * Why the compiled program at `entryFile` (bin/index.js) must not run: sources beside it that differ from those it was
 * built from. Nothing when it runs from its TypeScript source, or has no sources beside it to compare with.
 */
export function staleBuild(entryFile: string): string | undefined {
    const builtDir = path.dirname(entryFile);
    const projectDir = path.dirname(builtDir);
    if (entryFile.endsWith(".ts") || !fs.existsSync(path.join(projectDir, "index.ts"))) {
        return undefined;
    }
    const recordFile = path.join(builtDir, recordName);
    const rebuild = "run `npm run build`, then run again";
    if (!fs.existsSync(recordFile)) {
        return `the compiled program in ${builtDir} does not say what it was built from (no ${recordName}): ${rebuild}`;
    }
    const built = JSON.parse(fs.readFileSync(recordFile, "utf8")) as Record<string, string>;
    const now = sourceHashes(projectDir);
    const differences = [
        ...Object.keys(now)
            .filter((file) => built[file] !== now[file])
            .map((file) => (built[file] === undefined ? `${file} (new)` : file)),
        ...Object.keys(built)
            .filter((file) => now[file] === undefined)
            .map((file) => `${file} (gone)`),
    ];
    return differences.length === 0
        ? undefined
        : `the compiled program in ${builtDir} was built from other sources than those beside it ` +
              `(changed since: ${differences.join(", ")}): ${rebuild}`;
}

if (require.main === module) {
    // the build step: bin/components/builtSources.js records the sources of the program in bin/
    const builtDir = path.resolve(__dirname, "..");
    fs.writeFileSync(
        path.join(builtDir, recordName),
        `${JSON.stringify(sourceHashes(path.dirname(builtDir)), null, 2)}\n`,
    );
}
