// Looking at the sandbox's workload from the dev box (the root namespace): Marathon's API, the agents' Docker
// daemons, Mesos-DNS, and the collector's page. For the sandbox and lifecycle suites.
import * as assert from "assert";
import { execFile } from "child_process";
import * as dgram from "dgram";
import * as net from "net";
import * as dnsPacket from "dns-packet";
import type { Cluster } from "../../sandbox/lib/clusterFiles";
import { waitUntil } from "../../sandbox/lib/wait";

export type WorkloadCluster = Pick<
    Cluster,
    "master" | "agents" | "marathon" | "mesosAgents" | "mesosDns" | "docker" | "collectorAddress"
>;

export interface MarathonTask {
    id: string;
    appId: string;
    host: string;
    version: string;
    slaveId: string;
    stagedAt: string;
    startedAt: string | null;
    ipAddresses: { ipAddress: string }[];
}

export interface MarathonDeployment {
    id: string;
    currentStep: number;
    totalSteps: number;
    currentActions: { action: string; app: string }[];
}

/** Waits at the pace of the workload (tasks start in seconds) until `check` gives a value; fails after `timeoutMs`. */
export function waitFor<T>(
    what: string,
    check: () => Promise<T | undefined | false>,
    timeoutMs = 20000,
    pauseMs = 100,
): Promise<T> {
    return waitUntil(what, check, { timeoutMs, pauseMs });
}

/** An app's counts in Marathon's GET /v2/apps/<id>. */
interface AppStatus {
    tasksRunning: number;
    tasksStaged: number;
    deployments: { id: string }[];
}

export class Workload {
    constructor(readonly cluster: WorkloadCluster) {}

    async marathon<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
        const response = await fetch(`${this.cluster.marathon.url}${path}`, {
            method,
            headers: { "Content-Type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(10000),
        });
        const text = await response.text();
        return {
            status: response.status,
            body: (response.headers.get("content-type") === "application/json" ? JSON.parse(text) : text) as T,
        };
    }

    async deployments(): Promise<MarathonDeployment[]> {
        return (await this.marathon<MarathonDeployment[]>("GET", "/v2/deployments")).body;
    }

    async tasks(appId: string): Promise<MarathonTask[]> {
        const reply = await this.marathon<{ tasks: MarathonTask[] }>("GET", "/v2/tasks");
        return reply.body.tasks.filter((task) => task.appId === appId);
    }

    async app(appId: string): Promise<AppStatus> {
        return (await this.marathon<{ app: AppStatus }>("GET", `/v2/apps${appId}`)).body.app;
    }

    /** PUTs the group and returns its deployment id. */
    async putGroup(group: { id: string; apps: object[] }, query = ""): Promise<string> {
        const reply = await this.marathon<{ deploymentId: string; message?: string }>(
            "PUT",
            `/v2/groups${group.id}${query}`,
            group,
        );
        assert.strictEqual(reply.status, 200, JSON.stringify(reply.body));
        return reply.body.deploymentId;
    }

    async deploymentListed(id: string): Promise<boolean> {
        return (await this.deployments()).some((deployment) => deployment.id === id);
    }

    async waitUntilDeployed(id: string, timeoutMs = 30000): Promise<void> {
        await waitFor(`deployment ${id} to finish`, async () => !(await this.deploymentListed(id)), timeoutMs);
    }

    async deleteGroup(groupId: string): Promise<void> {
        const reply = await this.marathon<{ deploymentId: string }>("DELETE", `/v2/groups${groupId}?force=true`);
        if (reply.status === 200) await this.waitUntilDeployed(reply.body.deploymentId);
    }

    /** `docker` against one agent's daemon, from the dev box. */
    docker(agent: { dockerSocket: string }, args: string[]): Promise<string> {
        return new Promise((resolve, reject) => {
            execFile(
                "/usr/bin/docker",
                ["-H", `unix://${agent.dockerSocket}`, ...args],
                { timeout: 30000 },
                (error, stdout, stderr) =>
                    error ? reject(new Error(`docker ${args.join(" ")}: ${stderr || error.message}`)) : resolve(stdout),
            );
        });
    }

    /** The names of the running Mesos containers on every agent. */
    async mesosContainers(): Promise<string[]> {
        const names = await Promise.all(
            this.cluster.agents.map((agent) =>
                this.docker(agent, ["ps", "--filter", "name=^mesos-", "--format", "{{.Names}}"]),
            ),
        );
        return names.flatMap((text) => text.split("\n").filter(Boolean)).sort();
    }

    /** The agent a task runs on (by its host address). */
    agentOf(task: MarathonTask): WorkloadCluster["agents"][number] {
        const agent = this.cluster.agents.find((candidate) => candidate.address === task.host);
        assert.ok(agent, `task ${task.id} runs on ${task.host}, which is no agent`);
        return agent;
    }

    /** An A query to Mesos-DNS over UDP (or TCP): the rcode and the addresses. */
    dns(
        name: string,
        options: { type?: "A" | "AAAA"; tcp?: boolean } = {},
    ): Promise<{ rcode: string; addresses: string[] }> {
        const query = dnsPacket.encode({
            type: "query",
            id: Math.floor(Math.random() * 65535),
            flags: dnsPacket.RECURSION_DESIRED,
            questions: [{ type: options.type ?? "A", name }],
        });
        const { address, port } = this.cluster.mesosDns;
        const decode = (message: Buffer) => {
            // dns-packet's types leave out the decoded rcode, which it does set.
            const packet = dnsPacket.decode(message) as dnsPacket.DecodedPacket & { rcode?: string };
            const addresses = (packet.answers ?? []).flatMap((answer) =>
                answer.type === "A" ? [String(answer.data)] : [],
            );
            return { rcode: packet.rcode ?? "NOERROR", addresses };
        };
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                close();
                reject(new Error(`no DNS answer for ${name} in 2 s`));
            }, 2000);
            let close = () => clearTimeout(timer);
            if (options.tcp) {
                const socket = net.connect(port, address, () =>
                    socket.write(dnsPacket.streamEncode(dnsPacket.decode(query))),
                );
                close = () => {
                    clearTimeout(timer);
                    socket.destroy();
                };
                let buffered = Buffer.alloc(0);
                socket.on("data", (chunk) => {
                    buffered = Buffer.concat([buffered, chunk]);
                    if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
                        close();
                        resolve(decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
                    }
                });
                socket.on("error", (error) => {
                    close();
                    reject(error);
                });
            } else {
                const socket = dgram.createSocket("udp4");
                close = () => {
                    clearTimeout(timer);
                    socket.close();
                };
                socket.on("message", (message) => {
                    close();
                    resolve(decode(message));
                });
                socket.on("error", (error) => {
                    close();
                    reject(error);
                });
                socket.send(query, port, address);
            }
        });
    }
}
