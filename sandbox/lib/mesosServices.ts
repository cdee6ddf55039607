// The workload's services: a Mesos agent stand-in on each agent, Mesos-DNS on the master.
import * as fs from "node:fs";
import {
    agents,
    containerSynRetries,
    dockerSocketOf,
    master,
    mesosAgentIdOf,
    mesosAgentPort,
    mesosAgentUrlOf,
    mesosDns,
    mesosWorkDirOf,
    NamedHost,
    paths,
    programs,
} from "./layout";
import { logFileOf, Service, startService } from "./run";
import { httpGet } from "./wait";

export const mesosAgentOf = (host: NamedHost & { address: string }): Service => ({
    label: `mesos agent ${host.name}`,
    name: `mesos-agent-${host.name}`,
    endpoint: mesosAgentUrlOf(host),
    answers: async () => (await httpGet(`${mesosAgentUrlOf(host)}/health`))?.status === 200,
});

export const mesosDnsService: Service = {
    label: "mesos-dns",
    name: "mesos-dns",
    endpoint: `${mesosDns.address}:${mesosDns.port}`,
    answers: async () => (await httpGet(`${mesosDns.url}/v1/version`))?.status === 200,
};

/**
 * The agent's Mesos agent stand-in, in the network, UTS and mount namespaces of the agent's sshd: so it sees the
 * agent's private /tmp and /var/tmp as a session on the agent does (its fetcher copies file:// URIs from there)
 * and the agent's resolv.conf.
 * @returns pid
 */
export function startMesosAgent(host: NamedHost & { address: string }, sshdPid: number): Promise<number> {
    const agent = mesosAgentOf(host);
    fs.mkdirSync(mesosWorkDirOf(host), { recursive: true });
    return startService(
        agent,
        [
            programs.nsenter,
            `--target=${sshdPid}`,
            "--net",
            "--uts",
            "--mount",
            "--",
            programs.node,
            paths.mesosAgentScript,
            "--listen",
            `${host.address}:${mesosAgentPort}`,
            "--id",
            mesosAgentIdOf(host),
            "--docker",
            programs.docker,
            "--docker-socket",
            dockerSocketOf(host),
            "--work-dir",
            mesosWorkDirOf(host),
            "--container-syn-retries",
            String(containerSynRetries),
            "--log-file",
            logFileOf(agent.name),
        ],
        { timeoutMs: 5000, ownLog: true },
    );
}

/** Mesos-DNS on the master, reading the agents' tasks. @returns pid */
export function startMesosDns(): Promise<number> {
    return startService(
        mesosDnsService,
        [
            programs.ip,
            "netns",
            "exec",
            master.name,
            programs.node,
            paths.mesosDnsScript,
            "--listen",
            mesosDns.address,
            "--port",
            String(mesosDns.port),
            "--http-port",
            String(mesosDns.httpPort),
            "--domain",
            mesosDns.domain,
            "--master",
            master.address,
            ...agents.flatMap((agent) => ["--agent", mesosAgentUrlOf(agent)]),
            // the runbook's dotted names resolve only when asked for: Mesos-DNS v0.5.0 serves hyphens
            ...(process.env.SANDBOX_MESOS_DNS_DOTTED_NAMES === "true" ? ["--dotted-task-names"] : []),
            "--log-file",
            logFileOf(mesosDnsService.name),
        ],
        { timeoutMs: 5000, ownLog: true },
    );
}
