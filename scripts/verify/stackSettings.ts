// The stack's config and SSH settings for `npm run verify`, from the stack
// files (stackFile.ts), validated by the program's own schema (parseStackConfig)
// and turned into SSH settings as the providers' configure() does
// (sshSettingsFrom), so verify logs in and checks host keys exactly as `pulumi up` does.
//
// The one difference is secrets: index.ts reads sshPrivateKey and
// sshPrivateKeyPassphrase only as secrets, which only the CLI can decrypt. A key
// or passphrase written in plain text is used; a `secure:` one is not, and verify
// then logs in with sshPrivateKeyPath or an SSH agent, or says why it cannot.
import { clusterHosts, parseStackConfig, projectName, StarsConfig } from "../../components/config";
import { SshHost, SshSettings, sshSettingsFrom } from "@calico-stars/providers/ssh";
import { VerifyInputError } from "@calico-stars/providers/verify";
import { readStackConfig, StackFileConfig } from "./stackFile";

export interface VerifySettings {
    /** The validated stack config. */
    config: StarsConfig;
    /** How to log in and check host keys. */
    ssh: SshSettings;
    /** The master, as the program addresses it. */
    master: SshHost;
    /** The stack files read. */
    stackFile: StackFileConfig;
    /** What the user should know (secrets skipped, ...). */
    warnings: string[];
}

const keyName = (key: string) => `${projectName}:${key}`;

export function verifySettings(
    projectDir: string,
    stack: string | undefined,
    environment: NodeJS.ProcessEnv = process.env,
): VerifySettings {
    const stackFile = readStackConfig(projectDir, stack, environment);
    const warnings = [...stackFile.warnings];
    const secretKey = stackFile.secretKeys.includes(keyName("sshPrivateKey"));
    const secretPassphrase = stackFile.secretKeys.includes(keyName("sshPrivateKeyPassphrase"));
    const otherSecrets = stackFile.secretKeys.filter(
        (key) => key !== keyName("sshPrivateKey") && key !== keyName("sshPrivateKeyPassphrase"),
    );
    if (otherSecrets.length > 0) {
        throw new VerifyInputError(
            `${otherSecrets.join(", ")} in ${stackFile.path} hold${otherSecrets.length === 1 ? "s" : ""} a secret (secure: ciphertext) ` +
                "that only the Pulumi CLI can decrypt; verify reads the stack file without it. Set the value in plain text to use verify",
        );
    }
    const config = parseStackConfig(
        (key) => stackFile.values.get(key),
        [...stackFile.values.keys(), ...stackFile.secretKeys],
    );
    const ssh = sshSettingsFrom(config, environment);
    const agent = config.sshAgentSocket ?? environment.SSH_AUTH_SOCK;
    const encryptedSecret = `only the Pulumi CLI can decrypt it (it is a secret, secure: ciphertext, in ${stackFile.path})`;
    if (secretKey && config.sshPrivateKeyPath === undefined) {
        if (agent === undefined) {
            throw new VerifyInputError(
                `calico-stars:sshPrivateKey cannot be used by verify: ${encryptedSecret}. verify needs calico-stars:sshPrivateKeyPath ` +
                    "(the key file) or an SSH agent holding the key (ssh-add; SSH_AUTH_SOCK or calico-stars:sshAgentSocket)",
            );
        }
        warnings.push(
            `calico-stars:sshPrivateKey is a secret only the Pulumi CLI can decrypt: logging in with the SSH agent at ${agent}`,
        );
        ssh.agentSocket = agent;
    }
    if (secretPassphrase && ssh.privateKeyPath !== undefined) {
        if (agent === undefined) {
            throw new VerifyInputError(
                `calico-stars:sshPrivateKeyPassphrase cannot be used by verify: ${encryptedSecret}, so the key at ` +
                    `${ssh.privateKeyPath} cannot be opened here. Load the key into an SSH agent (ssh-add; SSH_AUTH_SOCK or calico-stars:sshAgentSocket)`,
            );
        }
        warnings.push(
            `calico-stars:sshPrivateKeyPassphrase is a secret only the Pulumi CLI can decrypt: logging in with the SSH agent at ${agent} instead of ${ssh.privateKeyPath}`,
        );
        ssh.privateKeyPath = undefined;
        ssh.agentSocket = agent;
    }
    if (ssh.privateKey === undefined && ssh.privateKeyPath === undefined && ssh.agentSocket === undefined) {
        throw new VerifyInputError(
            "no SSH credentials: set calico-stars:sshPrivateKeyPath, or run an SSH agent holding the key (SSH_AUTH_SOCK or calico-stars:sshAgentSocket)",
        );
    }
    const { master } = clusterHosts(config);
    return { config, ssh, master, stackFile, warnings };
}
