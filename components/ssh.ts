// Everything that crosses SSH: argv quoting, one pooled connection per host,
// timeouts, bounded retries, host-key verification, and HTTP over a forwarded
// channel. Providers only call `runCommand`, `runChecked` and `httpOverSsh`.
//
// The pool lives on globalThis rather than in a module variable: the dynamic
// provider host deserializes each provider's closure separately, and each copy
// of this module would otherwise open its own connections.
import type { Client, ClientChannel, ConnectConfig } from "ssh2";

/** A cluster host as resource inputs carry it (no credentials). */
export interface SshHost {
    /** IP address or DNS name. */
    address: string;
    /** sshd port. */
    port: number;
    /** Login user. */
    user: string;
    /** Prefix privileged commands with `sudo -n`. */
    sudo: boolean;
}

/** How to authenticate and verify hosts; read from stack config in `configure`, never a resource input. */
export interface SshSettings {
    privateKey?: string;
    privateKeyPath?: string;
    passphrase?: string;
    agentSocket?: string;
    /** address (or address:port) -> accepted public keys, "ssh-ed25519 AAAA..." */
    hostKeys: Record<string, string[]>;
    /** address (or address:port) -> accepted "SHA256:..." fingerprints */
    hostKeyFingerprints: Record<string, string[]>;
    knownHostsPath?: string;
    insecureSkipHostKeyVerification: boolean;
    connectTimeoutMs: number;
    commandTimeoutMs: number;
    connectAttempts: number;
}

export interface CommandResult {
    stdout: string;
    stderr: string;
    code: number;
}

export interface RunOptions {
    stdin?: string;
    timeoutMs?: number;
}

export interface HttpResponse {
    status: number;
    body: string;
}

export interface HttpRequest {
    method: string;
    path: string;
    body?: string;
    /** where the master's sshd connects to, e.g. 127.0.0.1:8080 for Marathon */
    targetHost: string;
    targetPort: number;
    timeoutMs?: number;
}

/** Counters for benchmarks and tests: what a run cost the cluster. */
export interface SshStats {
    connections: number;
    commands: number;
    forwards: number;
}

interface PooledConnection {
    client: Promise<Client>;
    activeChannels: number;
    waiting: Array<() => void>;
}

interface SshRegistry {
    settings?: SshSettings;
    connections: Map<string, PooledConnection>;
    stats: SshStats;
}

/** Parallel channels per connection; OpenSSH's MaxSessions is 10 and refuses the 11th. */
const maxChannelsPerConnection = 8;
/** Tries to open a command's channel while sshd still counts just-closed sessions. */
const channelOpenAttempts = 10;

function registry(): SshRegistry {
    // Created here, not captured: Pulumi's closure serializer cannot carry a Symbol into the provider host.
    const registryKey = Symbol.for("calico-stars/ssh-registry");
    const holder = globalThis as unknown as Record<symbol, SshRegistry | undefined>;
    let found = holder[registryKey];
    if (!found) {
        found = { connections: new Map(), stats: { connections: 0, commands: 0, forwards: 0 } };
        holder[registryKey] = found;
    }
    return found;
}

/** POSIX shell quoting: the result is always one inert word. */
export function quote(arg: string): string {
    if (arg.includes("\0")) {
        throw new Error("a command argument contains a NUL byte");
    }
    if (/^[A-Za-z0-9_\/.:,=@%+-]+$/.test(arg)) {
        return arg;
    }
    return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One shell command from an argv; the only way the program builds remote command text. */
export function commandLine(argv: readonly string[]): string {
    if (argv.length === 0) {
        throw new Error("empty command");
    }
    return argv.map(quote).join(" ");
}

/** argv with `sudo -n` in front when the host needs it. */
export function privileged(host: SshHost, argv: readonly string[]): string[] {
    return host.sudo ? ["sudo", "-n", ...argv] : [...argv];
}

/**
 * Pulumi's closure serializer turns `super(message)` into `Error.call(this, message)`, which sets nothing on
 * `this`; so, for the provider host, the message and name are set here too.
 */
export class SshError extends Error {
    constructor(message: string) {
        super(message);
        this.message = message;
        this.name = "SshError";
    }
}

export function configureSsh(settings: SshSettings): void {
    registry().settings = settings;
}

export function sshStats(): SshStats {
    return { ...registry().stats };
}

export function resetSshStats(): void {
    const stats = registry().stats;
    stats.connections = 0;
    stats.commands = 0;
    stats.forwards = 0;
}

export async function closeAllConnections(): Promise<void> {
    const reg = registry();
    const pending = [...reg.connections.values()];
    reg.connections.clear();
    await Promise.all(pending.map(async (pooled) => {
        try {
            (await pooled.client).end();
        } catch {
            // a connection that never opened has nothing to close
        }
    }));
}

function settingsOrThrow(): SshSettings {
    const settings = registry().settings;
    if (!settings) {
        throw new SshError("SSH is not configured: the provider's configure() did not run");
    }
    return settings;
}

export function hostLabel(host: SshHost): string {
    return `${host.user}@${host.address}:${host.port}`;
}

function poolKey(host: SshHost): string {
    return `${host.user}@${host.address}:${host.port}`;
}

/** Runs one command; a non-zero exit is a result, not an error. */
export async function runCommand(host: SshHost, argvOrScript: readonly string[] | { script: string }, options: RunOptions = {}): Promise<CommandResult> {
    const settings = settingsOrThrow();
    const command = "script" in argvOrScript ? argvOrScript.script : commandLine(argvOrScript);
    const timeoutMs = options.timeoutMs ?? settings.commandTimeoutMs;
    for (let attempt = 1; ; attempt++) {
        try {
            return await withChannel(host, (client) => execOnce(client, host, command, options.stdin, timeoutMs));
        } catch (err) {
            // sshd frees a closed session's slot a moment after the close, so a burst can still meet its
            // MaxSessions; the command never started, so it is safe to open the channel again
            if (!(err as { channelRefused?: boolean }).channelRefused || attempt === channelOpenAttempts) {
                throw err;
            }
            await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
        }
    }
}

/** Runs one command and throws, naming host, command and output, unless it exits 0. */
export async function runChecked(host: SshHost, argvOrScript: readonly string[] | { script: string }, options: RunOptions = {}): Promise<CommandResult> {
    const result = await runCommand(host, argvOrScript, options);
    if (result.code !== 0) {
        throw commandFailure(host, argvOrScript, result);
    }
    return result;
}

export function commandFailure(host: SshHost, argvOrScript: readonly string[] | { script: string }, result: CommandResult): SshError {
    const command = "script" in argvOrScript ? argvOrScript.script : commandLine(argvOrScript);
    const output = [result.stderr.trim(), result.stdout.trim()].filter((s) => s.length > 0).join("\n");
    return new SshError(`on ${hostLabel(host)}: \`${abbreviate(command)}\` exited ${result.code}${output ? `: ${abbreviate(output)}` : ""}`);
}

function abbreviate(text: string): string {
    return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

/** An HTTP request tunnelled through the host's sshd (a direct-tcpip channel); no curl on the host. */
export async function httpOverSsh(host: SshHost, request: HttpRequest): Promise<HttpResponse> {
    const settings = settingsOrThrow();
    const timeoutMs = request.timeoutMs ?? settings.commandTimeoutMs;
    const http: typeof import("http") = require("http");
    return withChannel(host, async (client) => {
        registry().stats.forwards++;
        const channel = await openForward(client, host, request, timeoutMs);
        return new Promise<HttpResponse>((resolve, reject) => {
            const what = `${request.method} http://${request.targetHost}:${request.targetPort}${request.path} via ${hostLabel(host)}`;
            let timer: NodeJS.Timeout | undefined;
            const fail = (err: Error) => {
                clearTimeout(timer);
                channel.destroy();
                reject(new SshError(`${what}: ${err.message}`));
            };
            const req = http.request({
                method: request.method,
                path: request.path,
                host: request.targetHost,
                port: request.targetPort,
                headers: {
                    "Accept": "application/json",
                    "Connection": "close",
                    ...(request.body !== undefined ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(request.body) } : {}),
                },
                createConnection: () => channel as unknown as import("net").Socket,
            }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (chunk: Buffer) => chunks.push(chunk));
                res.on("end", () => {
                    clearTimeout(timer);
                    resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
                });
                res.on("error", (err) => fail(err));
            });
            timer = setTimeout(() => {
                req.destroy();
                fail(new Error(`no answer within ${timeoutMs} ms`));
            }, timeoutMs);
            req.on("error", fail);
            req.end(request.body);
        });
    });
}

function openForward(client: Client, host: SshHost, request: HttpRequest, timeoutMs: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new SshError(`on ${hostLabel(host)}: forwarding to ${request.targetHost}:${request.targetPort} timed out after ${timeoutMs} ms`)), timeoutMs);
        client.forwardOut("127.0.0.1", 0, request.targetHost, request.targetPort, (err, channel) => {
            clearTimeout(timer);
            if (err) {
                reject(new SshError(`on ${hostLabel(host)}: cannot reach ${request.targetHost}:${request.targetPort} through sshd: ${err.message}`));
            } else {
                resolve(channel);
            }
        });
    });
}

function execOnce(client: Client, host: SshHost, command: string, stdin: string | undefined, timeoutMs: number): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        // declared before use: Pulumi's closure serializer rejects a const read before its declaration
        let settled = false;
        let channelRef: ClientChannel | undefined;
        let timer: NodeJS.Timeout | undefined;
        const finish = (outcome: () => void) => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                outcome();
            }
        };
        timer = setTimeout(() => {
            channelRef?.close();
            finish(() => reject(new SshError(`on ${hostLabel(host)}: \`${abbreviate(command)}\` timed out after ${timeoutMs} ms`)));
        }, timeoutMs);
        client.exec(command, (err, channel) => {
            if (err) {
                const refused = new SshError(`on ${hostLabel(host)}: cannot start \`${abbreviate(command)}\`: ${err.message}`);
                finish(() => reject(Object.assign(refused, { channelRefused: /open failed|Channel open failure/.test(err.message) })));
                return;
            }
            channelRef = channel;
            registry().stats.commands++;
            const stdout: Buffer[] = [];
            const stderr: Buffer[] = [];
            let exitCode: number | undefined;
            channel.on("data", (chunk: Buffer) => stdout.push(chunk));
            channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
            channel.on("exit", (code: number | null, signal?: string) => {
                exitCode = code ?? (signal ? 128 : 255);
            });
            channel.on("close", () => {
                if (exitCode === undefined) {
                    finish(() => reject(new SshError(`on ${hostLabel(host)}: \`${abbreviate(command)}\`: the connection closed before the command finished`)));
                    return;
                }
                const code = exitCode;
                finish(() => resolve({ stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8"), code }));
            });
            channel.end(stdin);
        });
    });
}

/** Waits for a free channel slot on the host's connection, then runs `use`. */
async function withChannel<T>(host: SshHost, use: (client: Client) => Promise<T>): Promise<T> {
    const pooled = connectionFor(host);
    if (pooled.activeChannels >= maxChannelsPerConnection) {
        await new Promise<void>((resolve) => pooled.waiting.push(resolve));
    }
    pooled.activeChannels++;
    try {
        return await use(await pooled.client);
    } finally {
        pooled.activeChannels--;
        pooled.waiting.shift()?.();
    }
}

function connectionFor(host: SshHost): PooledConnection {
    const reg = registry();
    const key = poolKey(host);
    let pooled = reg.connections.get(key);
    if (!pooled) {
        const created: PooledConnection = { client: connectWithRetry(host, settingsOrThrow()), activeChannels: 0, waiting: [] };
        created.client.then(
            (client) => client.on("close", () => forget(key, created)),
            () => forget(key, created),
        );
        reg.connections.set(key, created);
        pooled = created;
    }
    return pooled;
}

function forget(key: string, pooled: PooledConnection): void {
    const reg = registry();
    if (reg.connections.get(key) === pooled) {
        reg.connections.delete(key);
    }
}

/** Errors worth another attempt: the host or network, never authentication or host keys. */
function isTransient(err: unknown): boolean {
    const code = (err as { code?: string }).code;
    const level = (err as { level?: string }).level;
    if (level === "client-authentication" || err instanceof HostKeyRejected) {
        return false;
    }
    return ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"].includes(code ?? "")
        || level === "client-timeout" || level === "client-socket";
}

async function connectWithRetry(host: SshHost, settings: SshSettings): Promise<Client> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= settings.connectAttempts; attempt++) {
        try {
            return await connectOnce(host, settings);
        } catch (err) {
            lastError = err;
            if (!isTransient(err) || attempt === settings.connectAttempts) {
                break;
            }
            await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
        }
    }
    if (lastError instanceof SshError) {
        throw lastError;
    }
    throw new SshError(`cannot connect to ${hostLabel(host)}: ${(lastError as Error).message}`);
}

class HostKeyRejected extends SshError {
    constructor(message: string) {
        super(message);
        this.name = "HostKeyRejected";
    }
}

function connectOnce(host: SshHost, settings: SshSettings): Promise<Client> {
    const { Client: SshClient } = require("ssh2") as typeof import("ssh2");
    const fs: typeof import("fs") = require("fs");
    return new Promise((resolve, reject) => {
        const client = new SshClient();
        let hostKeyProblem: string | undefined;
        const config: ConnectConfig = {
            host: host.address,
            port: host.port,
            username: host.user,
            readyTimeout: settings.connectTimeoutMs,
            keepaliveInterval: 5000,
            keepaliveCountMax: 3,
            hostVerifier: (key: Buffer) => {
                hostKeyProblem = hostKeyVerdict(host, key, settings);
                return hostKeyProblem === undefined;
            },
        };
        if (settings.privateKey !== undefined) {
            config.privateKey = settings.privateKey;
        } else if (settings.privateKeyPath !== undefined) {
            config.privateKey = fs.readFileSync(expandHome(settings.privateKeyPath));
        }
        if (settings.passphrase !== undefined) {
            config.passphrase = settings.passphrase;
        }
        if (settings.agentSocket !== undefined) {
            config.agent = settings.agentSocket;
        }
        client.once("ready", () => {
            registry().stats.connections++;
            client.removeAllListeners("error");
            client.on("error", () => {
                // a later failure closes the client; in-flight commands report it themselves
            });
            resolve(client);
        });
        client.once("error", (err: Error) => {
            client.end();
            if (hostKeyProblem !== undefined) {
                reject(new HostKeyRejected(`refusing ${hostLabel(host)}: ${hostKeyProblem}`));
            } else if ((err as { level?: string }).level === "client-authentication") {
                reject(Object.assign(new SshError(`cannot log in to ${hostLabel(host)}: the server refused every offered key (check the user and the key)`), { level: "client-authentication" }));
            } else {
                reject(Object.assign(new SshError(`cannot connect to ${hostLabel(host)}: ${err.message}`), { code: (err as { code?: string }).code, level: (err as { level?: string }).level }));
            }
        });
        client.connect(config);
    });
}

/** undefined when the key is accepted, otherwise why not. */
function hostKeyVerdict(host: SshHost, key: Buffer, settings: SshSettings): string | undefined {
    if (settings.insecureSkipHostKeyVerification) {
        return undefined;
    }
    const fingerprint = sha256Fingerprint(key);
    const knownKeys = settings.hostKeys[`${host.address}:${host.port}`] ?? settings.hostKeys[host.address];
    if (knownKeys !== undefined) {
        return knownKeys.some((line) => line.trim().split(/\s+/)[1] === key.toString("base64")) ? undefined
            : `host key ${fingerprint} is not among the configured hostKeys`;
    }
    const pinned = settings.hostKeyFingerprints[`${host.address}:${host.port}`] ?? settings.hostKeyFingerprints[host.address];
    if (pinned !== undefined) {
        return pinned.includes(fingerprint) ? undefined
            : `host key ${fingerprint} is not among the configured hostKeyFingerprints (${pinned.join(", ")})`;
    }
    if (settings.knownHostsPath !== undefined) {
        return knownHostsVerdict(host, key, settings.knownHostsPath);
    }
    return `no hostKeys or hostKeyFingerprints entry for ${host.address} and no knownHostsPath; the host offered ${fingerprint}`;
}

export function sha256Fingerprint(key: Buffer): string {
    const crypto: typeof import("crypto") = require("crypto");
    return `SHA256:${crypto.createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** `~/...` as a shell would read it: stack files such as Pulumi.dev.yaml name `~/.ssh/known_hosts`. */
export function expandHome(path: string): string {
    const os: typeof import("os") = require("os");
    return path === "~" || path.startsWith("~/") ? os.homedir() + path.slice(1) : path;
}

interface KnownHostEntry {
    marker?: "@revoked" | "@cert-authority";
    keyType: string;
    blob: string;
}

/** The known_hosts entries (plain or hashed) that name this host. */
function knownHostEntries(path: string, host: SshHost): KnownHostEntry[] {
    const fs: typeof import("fs") = require("fs");
    const crypto: typeof import("crypto") = require("crypto");
    const names = host.port === 22 ? [host.address] : [`[${host.address}]:${host.port}`];
    const matchesHost = (pattern: string): boolean => {
        if (pattern.startsWith("|1|")) {
            const [, , salt, hash] = pattern.split("|");
            return names.some((name) => crypto.createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash);
        }
        return pattern.split(",").some((entry) => names.includes(entry));
    };
    const entries: KnownHostEntry[] = [];
    for (const line of fs.readFileSync(expandHome(path), "utf8").split("\n")) {
        const fields = line.trim().split(/\s+/);
        if (fields.length < 3 || fields[0].startsWith("#")) {
            continue;
        }
        const marker = fields[0] === "@revoked" || fields[0] === "@cert-authority" ? fields[0] : undefined;
        const [hosts, keyType, blob] = marker ? fields.slice(1) : fields;
        if (blob !== undefined && matchesHost(hosts)) {
            entries.push({ marker, keyType, blob });
        }
    }
    return entries;
}

/** The host's public key line from known_hosts, for clients that want the key itself. */
export function knownHostKey(path: string, host: SshHost): string | undefined {
    const entry = knownHostEntries(path, host).find((e) => e.marker === undefined);
    return entry && `${entry.keyType} ${entry.blob}`;
}

function knownHostsVerdict(host: SshHost, key: Buffer, path: string): string | undefined {
    const offered = key.toString("base64");
    const entries = knownHostEntries(path, host);
    if (entries.some((e) => e.marker === "@revoked" && e.blob === offered)) {
        return `host key ${sha256Fingerprint(key)} is marked @revoked in ${path}`;
    }
    const plain = entries.filter((e) => e.marker === undefined);
    if (plain.some((e) => e.blob === offered)) {
        return undefined;
    }
    return plain.length > 0 ? `host key ${sha256Fingerprint(key)} does not match ${path} (possible man-in-the-middle; fix known_hosts if the host was rebuilt)`
        : `${host.address} is not in ${path}`;
}
