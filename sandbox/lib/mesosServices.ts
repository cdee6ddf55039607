// The workload's services: a Mesos agent stand-in on each agent, Mesos-DNS on the master.
import * as fs from "node:fs";
import * as path from "node:path";
import { master, paths, programs, dockerSocketOf, mesosAgentPort, mesosDns, mesosAgentIdOf, mesosAgentUrlOf, mesosWorkDirOf, agents } from "./layout";
import { startDetached } from "./run";
import { httpGet, waitUntil } from "./wait";
import type { Host } from "./layout";

export const mesosAgentName = (host: Host) => `mesos-agent-${host.name}`;

/**
 * The agent's Mesos agent stand-in, in the network, UTS and mount namespaces of the agent's sshd: so it sees the
 * agent's private /tmp and /var/tmp as a session on the agent does (its fetcher copies file:// URIs from there)
 * and the agent's resolv.conf.
 * @returns pid
 */
export async function startMesosAgent(host: Host, sshdPid: number): Promise<number> {
    fs.mkdirSync(mesosWorkDirOf(host), { recursive: true });
    const agent = startDetached(mesosAgentName(host), [
        programs.nsenter, `--target=${sshdPid}`, "--net", "--uts", "--mount", "--",
        programs.node, paths.mesosAgentScript,
        "--listen", `${host.address}:${mesosAgentPort}`,
        "--id", mesosAgentIdOf(host),
        "--docker", programs.docker,
        "--docker-socket", dockerSocketOf(host),
        "--work-dir", mesosWorkDirOf(host),
        "--log-file", path.join(paths.logs, `${mesosAgentName(host)}.log`),
    ], `${mesosAgentName(host)}.stdout`);
    const answers = async () => (await httpGet(`${mesosAgentUrlOf(host)}/health`))?.status === 200;
    await waitUntil(`Mesos agent stand-in on ${host.name}`, answers, { timeoutMs: 5000, process: agent });
    return agent.pid;
}

/** Mesos-DNS on the master, reading the agents' tasks. @returns pid */
export async function startMesosDns(): Promise<number> {
    const dns = startDetached("mesos-dns", [
        programs.ip, "netns", "exec", master.name, programs.node, paths.mesosDnsScript,
        "--listen", mesosDns.address,
        "--port", String(mesosDns.port),
        "--http-port", String(mesosDns.httpPort),
        "--domain", mesosDns.domain,
        "--master", master.address,
        ...agents.flatMap((agent) => ["--agent", mesosAgentUrlOf(agent)]),
        // the runbook's dotted names resolve only when asked for: Mesos-DNS v0.5.0 serves hyphens
        ...(process.env.SANDBOX_MESOS_DNS_DOTTED_NAMES === "true" ? ["--dotted-task-names"] : []),
        "--log-file", path.join(paths.logs, "mesos-dns.log"),
    ], "mesos-dns.stdout");
    const answers = async () => (await httpGet(`http://${mesosDns.address}:${mesosDns.httpPort}/v1/version`))?.status === 200;
    await waitUntil(`Mesos-DNS on ${master.name}`, answers, { timeoutMs: 5000, process: dns });
    return dns.pid;
}

