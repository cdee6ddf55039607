// An OpenSSH ssh-agent of the test's own, holding the keys it is given; stopped by its PID.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface SshAgent {
    socket: string;
    stop(): Promise<void>;
}

export function sshAgentUnavailable(): string | undefined {
    return fs.existsSync("/usr/bin/ssh-agent") && fs.existsSync("/usr/bin/ssh-add")
        ? undefined
        : "needs ssh-agent and ssh-add (Debian's openssh-client; .ci/run installs it)";
}

/** `ssh-agent -D -a <socket>` in the foreground, then `ssh-add` of each key. */
export async function startSshAgent(keyPaths: string[]): Promise<SshAgent> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-agent-"));
    const socket = path.join(dir, "agent.sock");
    const child: ChildProcess = spawn("/usr/bin/ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
            process.kill(child.pid, "SIGTERM");
            await exited;
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        for (const deadline = Date.now() + 5000; !fs.existsSync(socket);) {
            if (Date.now() > deadline) {
                throw new Error(`ssh-agent made no socket at ${socket} within 5 s`);
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
        for (const key of keyPaths) {
            execFileSync("/usr/bin/ssh-add", ["-q", key], {
                env: { ...process.env, SSH_AUTH_SOCK: socket },
                stdio: "ignore",
            });
        }
    } catch (error) {
        await stop();
        throw error;
    }
    return { socket, stop };
}
