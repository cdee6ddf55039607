// Stack config -> StarsDemo -> stack outputs.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { staleBuild } from "./components/builtSources";
import { ConfigError, parseStackConfig, projectName } from "./components/config";
import { expandHome } from "@calico-stars/providers/ssh";
import { StarsDemo } from "./components/starsDemo";

// before anything is registered: a program compiled from other sources than those beside it stops here
const stale = staleBuild(__filename);
if (stale !== undefined) {
    throw new pulumi.RunError(stale);
}

/** Never read by the program itself except as secrets, so they cannot leak into plain inputs. */
const secretKeys = ["sshPrivateKey", "sshPrivateKeyPassphrase"];

const stackConfig = new pulumi.Config(projectName);

/**
 * Pulumi hands the default dynamic provider the whole stack config as its inputs, which the state keeps in clear
 * unless a value is a secret (pulumi/pulumi v3.248.0, pkg/resource/deploy/target.go), so a plain key stops the program.
 */
function refusePlainSecrets(): void {
    // sdk/nodejs/runtime/config.ts isConfigSecret (v3.248.0): exported at run time, left out of the typings
    const { isConfigSecret } = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };
    const present = pulumi.runtime.allConfig();
    const plain = secretKeys.filter((name) => {
        const key = `${projectName}:${name}`;
        return key in present && !isConfigSecret(key);
    });
    if (plain.length > 0) {
        const fix = (name: string) =>
            name === "sshPrivateKey"
                ? `pulumi config set --secret ${name} < <key file>`
                : `pulumi config set --secret ${name}`;
        throw new pulumi.RunError(
            plain
                .map(
                    (name) =>
                        `${projectName}:${name} is set in plain text, which the stack's state would keep in clear; ` +
                        `set it as a secret: ${fix(name)}`,
                )
                .join("\n"),
        );
    }
}

function loadConfig() {
    refusePlainSecrets();
    try {
        return parseStackConfig((key) => {
            const name = key.slice(projectName.length + 1);
            return secretKeys.includes(name) ? undefined : stackConfig.get(name);
        }, Object.keys(pulumi.runtime.allConfig()));
    } catch (err) {
        // a RunError is shown without a stack trace: the message names every bad key
        throw err instanceof ConfigError ? new pulumi.RunError(err.message) : err;
    }
}

function readPrivateKeyFile(path: string): pulumi.Output<string> {
    try {
        return pulumi.secret(fs.readFileSync(expandHome(path), "utf8"));
    } catch (err) {
        throw new pulumi.RunError(
            `calico-stars:sshPrivateKeyPath: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
        );
    }
}

const config = loadConfig();
const privateKey =
    stackConfig.getSecret("sshPrivateKey") ??
    (config.sshPrivateKeyPath !== undefined ? readPrivateKeyFile(config.sshPrivateKeyPath) : undefined);

const privateKeyPassword = stackConfig.getSecret("sshPrivateKeyPassphrase");

const demo = new StarsDemo("stars", { config, privateKey, privateKeyPassword });

export const uiUrl = demo.uiUrl;
export const networkIds = demo.networkIds;
export const profiles = demo.profiles;
export const connectivity = demo.connectivity;
