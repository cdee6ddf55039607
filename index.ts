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

function loadConfig() {
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
