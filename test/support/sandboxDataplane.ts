// Driving the sandbox's Calico dataplane from a test: Docker on a given host, calicoctl as an operator would run
// it, and probes from inside containers (busybox wget, ping, nslookup) or from a host's namespace.
import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import type { ClusterHost } from "../../sandbox/lib/clusterFiles";
import { paths } from "../../sandbox/lib/layout";

export type DataplaneHost = Pick<ClusterHost, "name" | "address" | "dockerHost">;

export interface Outcome {
    status: number | null;
    stdout: string;
    stderr: string;
}

const calicoctlPath = path.join(paths.sandbox, "bin", "calicoctl");

export function docker(host: DataplaneHost, ...args: string[]): Outcome {
    const result = spawnSync("/usr/bin/docker", ["-H", host.dockerHost, ...args], { encoding: "utf8", timeout: 30000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function dockerChecked(host: DataplaneHost, ...args: string[]): string {
    const result = docker(host, ...args);
    if (result.status !== 0) {
        throw new Error(`docker ${args.join(" ")} on ${host.name}: ${result.stderr}`);
    }
    return result.stdout.trim();
}

/** Async, so that probes from several containers run side by side. */
function dockerAsync(host: DataplaneHost, ...args: string[]): Promise<Outcome> {
    return new Promise((resolve) => {
        const child = spawn("/usr/bin/docker", ["-H", host.dockerHost, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
        });
        child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString();
        });
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

/** calicoctl as run on `host` (its ETCD_AUTHORITY and its own dockerd for network names). */
function calicoctl(host: DataplaneHost, args: string[], input = ""): Outcome {
    const result = spawnSync(calicoctlPath, args, {
        input,
        encoding: "utf8",
        timeout: 30000,
        env: {
            ...process.env,
            NODE_EXTRA_CA_CERTS: undefined,
            ETCD_AUTHORITY: "10.197.0.11:2379",
            DOCKER_HOST: host.dockerHost,
        },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `calicoctl profile <network> rule update` with the given rules (tags by network name, as the CLI maps them). */
export function updateRules(
    host: DataplaneHost,
    network: string,
    inbound: object[],
    outbound: object[] = [{ action: "allow" }],
): void {
    const result = calicoctl(
        host,
        ["profile", network, "rule", "update"],
        JSON.stringify({ id: network, inbound_rules: inbound, outbound_rules: outbound }),
    );
    if (result.status !== 0) {
        throw new Error(`calicoctl profile ${network} rule update: ${result.stdout}${result.stderr}`);
    }
}

/** A container that serves HTTP on each port (busybox httpd), kept running. */
export function runServer(
    host: DataplaneHost,
    name: string,
    network: string,
    image: string,
    ports: number[],
    ip?: string,
): string {
    const serve = ports.map((port) => `httpd -p ${port} -h /w`).join(" && ");
    dockerChecked(
        host,
        "run",
        "-d",
        "--pull=never",
        "--name",
        name,
        "--net",
        network,
        ...(ip ? ["--ip", ip] : []),
        image,
        "sh",
        "-c",
        `mkdir -p /w && echo ${name} >/w/index.html && ${serve} && exec sleep 3600`,
    );
    return addressOf(host, name, network);
}

export function runIdle(host: DataplaneHost, name: string, network: string, image: string): string {
    dockerChecked(host, "run", "-d", "--pull=never", "--name", name, "--net", network, image, "sleep", "3600");
    return addressOf(host, name, network);
}

export function addressOf(host: DataplaneHost, container: string, network: string): string {
    return dockerChecked(
        host,
        "inspect",
        "-f",
        `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`,
        container,
    );
}

/**
 * Whether an HTTP GET from inside `container` gets an answer within a second. (Debian's busybox 1.35 wget crashes
 * with -T, hence busybox's timeout.)
 */
export async function httpFrom(host: DataplaneHost, container: string, url: string): Promise<boolean> {
    return (
        (await dockerAsync(host, "exec", container, "timeout", "1", "wget", "-q", "-O", "/dev/null", url)).status === 0
    );
}

export async function pingFrom(host: DataplaneHost, container: string, address: string): Promise<boolean> {
    return (await dockerAsync(host, "exec", container, "ping", "-c", "1", "-W", "1", address)).status === 0;
}

/** Polls `probe` until it holds; resolves to the milliseconds it took, or throws after `withinMs`. */
export async function eventually(what: string, probe: () => Promise<boolean>, withinMs: number): Promise<number> {
    const started = Date.now();
    while (!(await probe())) {
        if (Date.now() - started > withinMs) {
            throw new Error(`${what}: not within ${withinMs} ms`);
        }
    }
    return Date.now() - started;
}

/** Runs a command in a host's network namespace (as a process on that host would). */
export function inNamespace(namespace: string, argv: string[], timeoutMs = 10000): Outcome {
    const result = spawnSync("/usr/sbin/ip", ["netns", "exec", namespace, ...argv], {
        encoding: "utf8",
        timeout: timeoutMs,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
