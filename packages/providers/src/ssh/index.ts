// Everything that crosses SSH: shell text built safely, host-key checks, one pooled connection per host,
// remote commands, HTTP through the host's sshd, and the settings that configure them from the stack config.
export { SshError } from "../errors";
export { runChecked, runCommand } from "./exec";
export { acceptedHostKey } from "./hostKeys";
export { httpOverSsh, isForwardRefused } from "./http";
export { closeAllConnections, configureSsh, hostLabel, resetSshStats, sshStats } from "./pool";
export { defaultMaxOutputBytes, expandHome, parseSshSettings, sshConfigShape, sshSettingsFrom } from "./settings";
export type { SshConfig, SshSettings } from "./settings";
export { command, commandLine, joined, privileged, quote, sh } from "./shell";
export type { ShellScript } from "./shell";
export { sshHostSchema } from "./types";
export type { CommandResult, HttpRequest, HttpResponse, RunOptions, SshHost, SshStats } from "./types";
