// A stack's configuration read from its files, without the Pulumi CLI: the
// project's Pulumi.yaml (its name, stackConfigDir and project-level config) and
// Pulumi.<stack>.yaml, turned into the very strings the program's
// pulumi.Config gets. Read from pulumi/pulumi tag v3.248.0:
// - sdk/go/common/resource/config/object.go, unmarshalObject and MarshalString:
//   a YAML value is decoded (gopkg.in/yaml.v3) and handed to the program as a
//   string as it is, a bool or number as its JSON text, a one-key map
//   `{secure: <ciphertext>}` as a secret, any other map or list as JSON text
//   (a secret inside it stays `{"secure": ...}` until the CLI decrypts it).
// - sdk/go/common/config/key.go ParseKey: a key without a namespace belongs to the project.
// - sdk/go/common/workspace/project.go: `stackConfigDir` says where the stack files
//   live; `config` holds project-level values, each a plain value or
//   `{type, description, items, default, value, secret}`, which the stack's own values override.
// - sdk/go/common/tokens/stack_name.go ParseStackName: a stack name is 1 to 100 letters, digits, `_`, `.` and `-`.
// - pkg/workspace/workspace.go settingsPath: `pulumi stack select` records the stack in
//   `$PULUMI_HOME/workspaces/<project>-<sha1 of Pulumi.yaml's path>-workspace.json` as `{"stack": ...}`.
// Secrets cannot be decrypted here (that needs the stack's secrets provider, i.e. the CLI):
// such keys are listed, not read.
import { createHash } from "crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from "fs";
import { homedir } from "os";
import { join, resolve } from "path";
import { parseDocument } from "yaml";
import { defaultMaxOutputBytes } from "@calico-stars/providers/ssh";
import { VerifyInputError } from "@calico-stars/providers/verify";

export interface StackFileConfig {
    /** The project's name (Pulumi.yaml `name`). */
    project: string;
    /** The stack's name. */
    stack: string;
    /** The stack file read. */
    path: string;
    /** Every key with its namespace ("calico-stars:master") -> the string the program would get. */
    values: ReadonlyMap<string, string>;
    /** Keys whose value is, or holds, a secret only the CLI can decrypt. */
    secretKeys: readonly string[];
    /** Things worth saying (e.g. ESC environments verify cannot open). */
    warnings: string[];
}

const projectConfigFields = ["type", "description", "items", "default", "value", "secret"];

/** The file's text, refused past the cap the SSH and HTTP reads have: a larger one is no stack file. */
function readCapped(path: string): string {
    const limit = defaultMaxOutputBytes;
    const buffer = Buffer.alloc(limit + 1);
    const fd = openSync(path, "r");
    let length = 0;
    try {
        for (let read = 1; read > 0 && length <= limit;) {
            read = readSync(fd, buffer, length, buffer.length - length, null);
            length += read;
        }
    } finally {
        closeSync(fd);
    }
    if (length > limit) {
        throw new VerifyInputError(
            `${path} is larger than ${limit} bytes, which no stack file is; refusing to read it`,
        );
    }
    return buffer.toString("utf8", 0, length);
}

function readYaml(path: string): unknown {
    const document = parseDocument(readCapped(path), { version: "1.2" });
    if (document.errors.length > 0) {
        throw new VerifyInputError(`${path} is not valid YAML: ${document.errors[0].message}`);
    }
    return document.toJS();
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSecure(value: unknown): boolean {
    return isRecord(value) && Object.keys(value).length === 1 && typeof value.secure === "string";
}

function holdsSecure(value: unknown): boolean {
    if (isSecure(value)) {
        return true;
    }
    return Array.isArray(value) ? value.some(holdsSecure) : isRecord(value) && Object.values(value).some(holdsSecure);
}

/** The string pulumi.Config gets for a decoded YAML value (object.go MarshalString). */
export function configText(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Why `name` is no stack name, in ParseStackName's words, or undefined when it is one. */
function stackNameProblem(name: string): string | undefined {
    if (name === "") {
        return "a stack name may not be empty";
    }
    if (name.length > 100) {
        return "a stack name cannot exceed 100 characters";
    }
    const invalid = /[^A-Za-z0-9_.-]/.exec(name);
    return invalid === null
        ? undefined
        : "a stack name may only contain alphanumeric, hyphens, underscores, or periods: " +
              `invalid character ${JSON.stringify(invalid[0])} at position ${invalid.index}`;
}

function qualified(key: string, project: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/** The stack `pulumi stack select` chose for this project, if the workspace file records one. */
export function selectedStack(
    projectFile: string,
    project: string,
    environment: NodeJS.ProcessEnv = process.env,
): string | undefined {
    const home = environment.PULUMI_HOME ?? join(homedir(), ".pulumi");
    const name = `${project}-${createHash("sha1").update(projectFile).digest("hex")}-workspace.json`;
    try {
        const settings = JSON.parse(readFileSync(join(home, "workspaces", name), "utf8")) as { stack?: unknown };
        // a fully qualified name (org/project/stack) names the same stack file
        return typeof settings.stack === "string" && settings.stack !== ""
            ? settings.stack.split("/").pop()
            : undefined;
    } catch {
        return undefined;
    }
}

export function readStackConfig(
    projectDir: string,
    requestedStack?: string,
    environment: NodeJS.ProcessEnv = process.env,
): StackFileConfig {
    const projectFile = resolve(projectDir, "Pulumi.yaml");
    if (!existsSync(projectFile)) {
        throw new VerifyInputError(`no Pulumi.yaml in ${resolve(projectDir)}: run verify from the project's directory`);
    }
    const projectYaml = readYaml(projectFile);
    if (!isRecord(projectYaml) || typeof projectYaml.name !== "string" || projectYaml.name === "") {
        throw new VerifyInputError(`${projectFile} has no project name`);
    }
    const project = projectYaml.name;
    // before v3 the key was `config: <dir>`; project.go RewriteConfigPathIntoStackConfigDir still reads it so
    const configDir =
        typeof projectYaml.stackConfigDir === "string"
            ? projectYaml.stackConfigDir
            : typeof projectYaml.config === "string"
              ? projectYaml.config
              : ".";
    const stackDir = resolve(projectDir, configDir);
    const stackFiles = existsSync(stackDir)
        ? readdirSync(stackDir)
              .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
              .sort()
        : [];
    const stack =
        requestedStack ??
        selectedStack(projectFile, project, environment) ??
        (stackFiles.length === 1 ? stackFiles[0].slice("Pulumi.".length, -".yaml".length) : undefined);
    if (stack === undefined) {
        throw new VerifyInputError(
            `which stack? No stack is selected (pulumi stack select) and ${
                stackFiles.length === 0 ? "there is no stack file" : `there are several: ${stackFiles.join(", ")}`
            }; name one with --stack <name>`,
        );
    }
    const nameProblem = stackNameProblem(stack);
    if (nameProblem !== undefined) {
        throw new VerifyInputError(`stack ${JSON.stringify(stack)} is not a stack name: ${nameProblem}`);
    }
    const path = join(stackDir, `Pulumi.${stack}.yaml`);
    if (!existsSync(path)) {
        throw new VerifyInputError(
            `stack ${stack}: there is no ${path}${stackFiles.length > 0 ? ` (stack files: ${stackFiles.join(", ")})` : ""}`,
        );
    }
    const stackYaml = readYaml(path) ?? {};
    if (!isRecord(stackYaml)) {
        throw new VerifyInputError(`${path} must be a YAML map`);
    }
    const raw = new Map<string, unknown>();
    if (isRecord(projectYaml.config)) {
        for (const [key, entry] of Object.entries(projectYaml.config)) {
            const typed = isRecord(entry) && Object.keys(entry).every((field) => projectConfigFields.includes(field));
            const value = typed ? (entry.value ?? entry.default) : entry;
            if (value !== undefined) {
                raw.set(qualified(key, project), value);
            }
        }
    }
    if (stackYaml.config !== undefined && stackYaml.config !== null && !isRecord(stackYaml.config)) {
        throw new VerifyInputError(`${path}: config must be a map of keys to values`);
    }
    for (const [key, value] of Object.entries(stackYaml.config ?? {})) {
        raw.set(qualified(key, project), value);
    }
    const secretKeys = [...raw].filter(([, value]) => holdsSecure(value)).map(([key]) => key);
    const values = new Map(
        [...raw].filter(([key]) => !secretKeys.includes(key)).map(([key, value]) => [key, configText(value)]),
    );
    const warnings =
        stackYaml.environment === undefined
            ? []
            : [
                  `${path} imports ESC environments (environment:), which verify cannot open without the Pulumi CLI: their values are missing here`,
              ];
    return { project, stack, path, values, secretKeys, warnings };
}
