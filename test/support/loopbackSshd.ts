// A real OpenSSH server on 127.0.0.1 for provider tests: throwaway keys, a
// ForceCommand that records each command and puts the recording stand-ins
// first on PATH. Needs root (sshd's privilege separation) and Debian's
// openssh-server; callers skip with a message when either is missing.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { closeAllConnections, configureSsh, resetSshStats, SshHost, SshSettings } from "@calico-stars/providers/ssh";
import type { State as FakeClusterState } from "./standins/fakeCluster";

export interface LoopbackSshd {
    port: number;
    dir: string;
    stateDir: string;
    privateKeyPath: string;
    hostKeyFingerprint: string;
    hostPublicKey: string;
    process: ChildProcess;
    /** Every command the server was asked to run, in order. */
    commands(): string[];
    /** The stand-ins' state: networks, profiles, nat rules. */
    cluster(): FakeClusterState;
    writeCluster(state: FakeClusterState): void;
    settings(overrides?: Partial<SshSettings>): SshSettings;
    stop(): Promise<void>;
}

export function sshdUnavailable(): string | undefined {
    if (process.getuid?.() !== 0) {
        return "needs root to run sshd (CI runs as root)";
    }
    if (!fs.existsSync("/usr/sbin/sshd")) {
        return "needs Debian's openssh-server (/usr/sbin/sshd; .ci/run installs it)";
    }
    return undefined;
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const open = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, "127.0.0.1", () => {
                socket.end();
                resolve(true);
            });
            socket.on("error", () => resolve(false));
        });
        if (open) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

export async function startLoopbackSshd(): Promise<LoopbackSshd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-sshd-"));
    const stateDir = path.join(dir, "state");
    const binDir = path.join(dir, "bin");
    fs.mkdirSync(stateDir);
    fs.mkdirSync(binDir);
    // The stand-ins run as a program of their own, once per command: compiled here for a plain node.
    const standIns = path.join(binDir, "fakeCluster.js");
    const source = fs.readFileSync(path.join(__dirname, "standins", "fakeCluster.ts"), "utf8");
    const compiled = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    fs.writeFileSync(standIns, `#!/usr/bin/env node\n${compiled}`, { mode: 0o755 });
    for (const tool of ["docker", "calicoctl", "iptables"]) {
        fs.symlinkSync(standIns, path.join(binDir, tool));
    }
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client_key")]);
    fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));
    const nodeDir = path.dirname(process.execPath);
    fs.writeFileSync(
        path.join(dir, "remote-shell"),
        [
            "#!/bin/sh",
            `printf '%s\\036' "$SSH_ORIGINAL_COMMAND" >> ${dir}/commands.log`,
            `export PATH=${binDir}:${nodeDir}:/usr/sbin:/usr/bin:/sbin:/bin FAKE_STATE=${stateDir}`,
            `exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"`,
            "",
        ].join("\n"),
        { mode: 0o755 },
    );
    const port = await freePort();
    fs.writeFileSync(
        path.join(dir, "sshd_config"),
        [
            `ListenAddress 127.0.0.1:${port}`,
            `HostKey ${dir}/host_key`,
            `PidFile ${dir}/sshd.pid`,
            `AuthorizedKeysFile ${dir}/authorized_keys`,
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "AllowTcpForwarding yes",
            `ForceCommand ${dir}/remote-shell`,
            "",
        ].join("\n"),
    );
    fs.mkdirSync("/run/sshd", { recursive: true });
    // An empty /root of its own, as on a fresh host: bash sources root's ~/.bashrc for every ssh session, and
    // this machine's (pyenv) would add half a second to each.
    const child = spawn(
        "/usr/bin/unshare",
        [
            "--mount",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            'mount -n -t tmpfs -o mode=700 tmpfs /root && exec /usr/sbin/sshd -D -e -f "$0"',
            path.join(dir, "sshd_config"),
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk) => {
        stderr += chunk;
    });
    try {
        await waitForPort(port, 5000);
    } catch (err) {
        child.kill("SIGKILL");
        throw new Error(`${(err as Error).message}: ${stderr}`, { cause: err });
    }
    const fingerprint = execFileSync("ssh-keygen", ["-lf", path.join(dir, "host_key.pub")], { encoding: "utf8" }).split(
        " ",
    )[1];
    const hostPublicKey = fs
        .readFileSync(path.join(dir, "host_key.pub"), "utf8")
        .trim()
        .split(" ")
        .slice(0, 2)
        .join(" ");
    const clusterPath = path.join(stateDir, "cluster.json");
    return {
        port,
        dir,
        stateDir,
        privateKeyPath: path.join(dir, "client_key"),
        hostKeyFingerprint: fingerprint,
        hostPublicKey,
        process: child,
        commands: () =>
            fs.existsSync(path.join(dir, "commands.log"))
                ? fs.readFileSync(path.join(dir, "commands.log"), "utf8").split("\x1e").slice(0, -1)
                : [],
        cluster: () =>
            fs.existsSync(clusterPath)
                ? (JSON.parse(fs.readFileSync(clusterPath, "utf8")) as FakeClusterState)
                : { networks: {}, profiles: {}, nat: [] },
        writeCluster: (state) => fs.writeFileSync(clusterPath, JSON.stringify(state)),
        settings: (overrides = {}) => ({
            privateKeyPath: path.join(dir, "client_key"),
            hostKeys: {},
            hostKeyFingerprints: { [`[127.0.0.1]:${port}`]: [fingerprint] },
            insecureSkipHostKeyVerification: false,
            connectTimeoutMs: 5000,
            commandTimeoutMs: 30000,
            connectAttempts: 2,
            ...overrides,
        }),
        stop: async () => {
            if (child.exitCode === null && child.signalCode === null) {
                const exited = new Promise((resolve) => child.once("exit", resolve));
                child.kill("SIGTERM");
                await exited;
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

export interface SshdSuite {
    sshd: LoopbackSshd;
    host: SshHost;
}

/**
 * For a describe(): starts the sshd before the suite (skipping it, saying why, where sshd cannot run),
 * gives each test a fresh connection pool, SSH settings and counters, and stops the sshd after.
 */
export function loopbackSshdSuite(): SshdSuite {
    const suite = {} as SshdSuite;
    before(async function () {
        const missing = sshdUnavailable();
        if (missing) {
            console.log(`      skipped: ${missing}`);
            this.skip();
        }
        suite.sshd = await startLoopbackSshd();
        suite.host = { address: "127.0.0.1", port: suite.sshd.port, user: "root", sudo: false };
        configureSsh(suite.sshd.settings());
    });

    after(async function () {
        await closeAllConnections();
        await suite.sshd?.stop();
    });

    beforeEach(async function () {
        await closeAllConnections();
        configureSsh(suite.sshd.settings());
        resetSshStats();
    });
    return suite;
}
