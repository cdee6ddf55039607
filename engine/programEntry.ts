// Which file the Node.js language host runs as the program, in which directory, and whether through ts-node, from the
// project's Pulumi.yaml and package.json, as pulumi/pulumi v3.248.0 decides it:
// - pkg/engine/project.go, getPwdMain: Pulumi.yaml's `main` (a file, or a directory) relative to the project; the
//   program runs in that directory (a file's parent), the project directory without one;
// - sdk/nodejs/cmd/pulumi-language-nodejs/main.go, parseOptions: the runtime option `typescript` (true unless set;
//   docs: https://www.pulumi.com/docs/iac/concepts/projects/project-file/, runtime options);
// - sdk/nodejs/cmd/run/run.ts, run: without `main`, package.json's `exports` (a string, or "." as a string or its
//   default/require/import) and then its `main`, when that file exists; then require() of what is left, a directory
//   by its own package.json or index.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

interface ProgramEntry {
    /** What the runner requires. */
    programPath: string;
    /** Its working directory (`--pwd`). */
    workDir: string;
    /** Pulumi.yaml's runtime option `typescript`: the language host registers ts-node. */
    typescript: boolean;
}

interface ProjectFile {
    main?: string;
    runtime: string | { name: string; options?: { typescript?: boolean } };
}

/** searchupPackageManifest: the nearest directory, from `dir` up, holding a package.json. */
function packageRoot(dir: string): string | undefined {
    for (let at = dir; ; at = path.dirname(at)) {
        if (fs.existsSync(path.join(at, "package.json"))) {
            return at;
        }
        if (path.dirname(at) === at) {
            return undefined;
        }
    }
}

/** The entry package.json names, when that file exists (resolveEntrypoint warns and falls back otherwise). */
function packageEntry(root: string): string | undefined {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
        exports?: unknown;
        main?: string;
    };
    const dot =
        typeof pkg.exports === "object" && pkg.exports !== null
            ? (pkg.exports as Record<string, unknown>)["."]
            : undefined;
    const conditions =
        typeof dot === "object" && dot !== null ? (dot as Record<string, string | undefined>) : undefined;
    const entry =
        typeof pkg.exports === "string"
            ? pkg.exports
            : typeof dot === "string"
              ? dot
              : conditions !== undefined
                ? (conditions.default ?? conditions.require ?? conditions.import)
                : pkg.main;
    return entry !== undefined && fs.existsSync(path.join(root, entry)) ? path.join(root, entry) : undefined;
}

export function programEntry(projectDir: string): ProgramEntry {
    const project = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as ProjectFile;
    const typescript = typeof project.runtime === "string" || project.runtime.options?.typescript !== false;
    const main = project.main === undefined ? projectDir : path.resolve(projectDir, project.main);
    if (!fs.statSync(main).isDirectory()) {
        return { programPath: main, workDir: path.dirname(main), typescript };
    }
    const root = packageRoot(main);
    return { programPath: (root !== undefined ? packageEntry(root) : undefined) ?? main, workDir: main, typescript };
}
