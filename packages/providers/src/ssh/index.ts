// Everything that crosses SSH, in one folder: shell text (shell.ts), host-key
// verification (hostKeys.ts), the connection pool (pool.ts), remote commands
// (exec.ts) and HTTP over a forwarded channel (http.ts). Providers import from here.
export { SshError } from "../errors";
export { runChecked, runCommand, commandFailure } from "./exec";
export type { RunCheckedOptions } from "./exec";
export { httpOverSsh, isForwardRefused } from "./http";
export { acceptedHostKey, hostKeyVerdict, sha256Fingerprint } from "./hostKeys";
export { expandHome } from "./localPath";
export { closeAllConnections, configureSsh, hostLabel, resetSshStats, sshStats } from "./pool";
export { command, commandLine, joined, privileged, quote, sh } from "./shell";
export type { ShellScript } from "./shell";
export type { CommandResult, HttpRequest, HttpResponse, RunOptions, SshHost, SshSettings, SshStats } from "./types";
