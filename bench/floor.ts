// The floor: the remote commands the runbook types, as one shell script per host over one SSH connection
// per host, and the Marathon PUT/DELETE with the program's own deployment wait. It goes through the
// program's SSH layer, so that the floor and the program differ only in what they send and how often. It logs
// in as the program does: with `sudo`, docker, calicoctl (given ETCD_AUTHORITY, which sudo drops), iptables and
// the resources file go through `sudo -n`, as a vagrant user types them on the reference cluster.
import * as crypto from "crypto";
import { setTimeout as sleep } from "timers/promises";
import { StarsConfig } from "../components/config";
import { commandLine, httpOverSsh, privileged, runChecked, SshError, SshHost } from "@calico-stars/providers/ssh";
import {
    renderResourcesFile,
    renderStarsGroup,
    resourcesFileLocation,
    starsParameters,
} from "../components/starsTemplate";
import { PolicyShape } from "./shapes";

export interface Floor {
    up(): Promise<void>;
    destroy(): Promise<void>;
}

export function floor(config: StarsConfig, shape: PolicyShape): Floor {
    const hostOf = (h: { address: string; port: number; user?: string }): SshHost => ({
        address: h.address,
        port: h.port,
        user: h.user ?? config.sshUser,
        sudo: config.sudo,
    });
    const master = hostOf(config.master);
    const agents = config.agents.map(hostOf);
    const [networkHost, ...otherAgents] = agents;
    const asRoot = (argv: string[]) => commandLine(privileged({ sudo: config.sudo }, argv));
    const calicoctl = asRoot([
        ...(config.etcdAuthority !== undefined ? ["env", `ETCD_AUTHORITY=${config.etcdAuthority}`] : []),
        "calicoctl",
    ]);
    // the same group and resources file as the program's
    const parameters = starsParameters(config, crypto.randomBytes(4).toString("hex"));
    const resourcesFile = resourcesFileLocation(config);
    const groupPath = `/v2/groups/${config.groupId}`;
    const dnat = (operation: "-A" | "-D") => [
        asRoot([
            "iptables",
            operation,
            "PREROUTING",
            "-t",
            "nat",
            "-i",
            config.publicInterface,
            "-p",
            "tcp",
            "--dport",
            String(config.uiPort),
            "-j",
            "DNAT",
            "--to",
            `${config.collectorIp}:${config.collectorPort}`,
        ]),
        asRoot([
            "iptables",
            "-t",
            "nat",
            operation,
            "OUTPUT",
            "-p",
            "tcp",
            "-o",
            "lo",
            "--dport",
            String(config.uiPort),
            "-j",
            "DNAT",
            "--to-destination",
            `${config.collectorIp}:${config.collectorPort}`,
        ]),
    ];
    const agentPrep = [
        // the prep step's pre-pull, skipped when the image is there, as the program does it
        `${asRoot(["docker", "inspect", "--type=image", config.image])} >/dev/null 2>&1 || ${asRoot(["docker", "pull", config.image])}`,
        `${asRoot(["mkdir", "-p", resourcesFile.dir])} && ${asRoot(["tee", resourcesFile.path])} >/dev/null <<'EOF'\n${renderResourcesFile(parameters)}EOF`,
    ];
    const networkCreates = shape.networks.map((n) =>
        asRoot([
            "docker",
            "network",
            "create",
            "--driver",
            "calico",
            "--ipam-driver",
            "calico",
            ...(n.subnet !== undefined ? [`--subnet=${n.subnet}`] : []),
            n.name,
        ]),
    );

    const script = (host: SshHost, lines: string[]) => runChecked(host, { script: ["set -e", ...lines].join("\n") });
    const marathon = async (method: string, path: string, body?: unknown) => {
        const request = { targetHost: config.marathonHost, targetPort: config.marathonPort };
        const response = await httpOverSsh(master, {
            ...request,
            method,
            path,
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (![200, 201, 202].includes(response.status)) {
            throw new SshError(`Marathon ${method} ${path}: HTTP ${response.status}: ${response.body}`);
        }
        const { deploymentId } = JSON.parse(response.body) as { deploymentId: string };
        // the program's poll schedule (@calico-stars/providers, marathonClient.ts), so that waiting costs both the same
        const deadline = Date.now() + config.deploymentTimeoutSeconds * 1000;
        for (let delayMs = 200; ; delayMs = Math.min(delayMs * 2, 2000)) {
            const deployments = await httpOverSsh(master, { ...request, method: "GET", path: "/v2/deployments" });
            if (!(JSON.parse(deployments.body) as { id: string }[]).some((d) => d.id === deploymentId)) {
                return;
            }
            if (Date.now() >= deadline) {
                throw new SshError(
                    `Marathon ${method} ${path}: deployment ${deploymentId} not finished within ${config.deploymentTimeoutSeconds} s`,
                );
            }
            await sleep(delayMs);
        }
    };

    return {
        // the group goes in once its networks and the agents' files are there; the DNAT rules need nothing
        async up() {
            await Promise.all([
                script(master, dnat("-A")),
                Promise.all([
                    script(networkHost, [...networkCreates, ...shape.floorProfileCommands(calicoctl), ...agentPrep]),
                    ...otherAgents.map((agent) => script(agent, agentPrep)),
                ]).then(() => marathon("PUT", groupPath, renderStarsGroup(parameters))),
            ]);
        },
        // the networks go once no app uses them; libnetwork removes each network's profile with it
        async destroy() {
            const removeFile = asRoot(["rm", "-f", resourcesFile.path]);
            await Promise.all([
                script(master, dnat("-D")),
                marathon("DELETE", `${groupPath}?force=true`).then(() =>
                    Promise.all([
                        script(networkHost, [
                            asRoot(["docker", "network", "rm", ...shape.networks.map((n) => n.name)]),
                            removeFile,
                        ]),
                        ...otherAgents.map((agent) => script(agent, [removeFile])),
                    ]),
                ),
            ]);
        },
    };
}
