// The whole demo as one component: networks -> profile rules -> Marathon
// group, with the image pre-pulled and the collector's resources file placed
// on every agent, and the UI port forwarded on the DNAT hosts.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { agentPrepCreate, removeResourcesFile, ResourcesFilePlace } from "./agentPrep";
import { parseRule, ruleTags } from "@calico-stars/providers/calico";
import { clusterHosts, networkHostOf, StarsConfig, starsTemplateOf } from "./config";
import { configuredMatrix, Connectivity, connectivityOf } from "./connectivity";
import { DockerNetwork } from "./dockerNetwork";
import { IptablesDnat } from "./iptablesDnat";
import { MarathonGroup } from "./marathonGroup";
import { MarathonGroupClaim } from "./marathonGroupClaim";
import { ProfileRules } from "./profileRules";
import { acceptedHostKey, SshHost } from "@calico-stars/providers/ssh";
import { renderResourcesFile, renderStarsGroup, resourcesFileLocation, starsParameters } from "./starsTemplate";
import { VerifyPolicy, verifyPolicyArgs } from "./verifyPolicy";

/** The tags a profile's rules name, sorted: each is a managed network (config validation sees to that). */
function policyTags(rules: { inbound: string[]; outbound: string[] }): string[] {
    return [...new Set([...rules.inbound, ...rules.outbound].flatMap((rule) => ruleTags(parseRule(rule))))].sort();
}

export interface StarsDemoArgs {
    /** The validated stack configuration. */
    config: StarsConfig;
    /** The SSH private key for @pulumi/command's connections (a secret), when no agent is used. */
    privateKey?: pulumi.Input<string>;
    /** The private key's passphrase (a secret), when it has one. */
    privateKeyPassword?: pulumi.Input<string>;
}

export class StarsDemo extends pulumi.ComponentResource {
    /** Where to browse the UI: the first DNAT host's forwarded port. */
    readonly uiUrl: pulumi.Output<string>;
    /** Docker network name -> network ID (the name of its Calico profile). */
    readonly networkIds: pulumi.Output<Record<string, string>>;
    /** Profile -> its inbound and outbound rules as calicoctl prints them. */
    readonly profiles: pulumi.Output<Record<string, { inbound: string[]; outbound: string[] }>>;
    /** Every edge of the demo -> "allowed by" its rules or "blocked by" what stops it, from the config alone. */
    readonly connectivity: pulumi.Output<Connectivity>;

    constructor(name: string, args: StarsDemoArgs, opts?: pulumi.ComponentResourceOptions) {
        super("calico-stars:index:StarsDemo", name, {}, opts);
        const { config } = args;
        const parent = { parent: this };
        const { master, agents } = clusterHosts(config);
        const allHosts = [master, ...agents];
        const networkHost = networkHostOf(config);

        const owner = new random.RandomId("owner", { byteLength: 4 }, parent);

        // The owner id is recorded on each network it creates, so networks wait for it. Each network waits for the one
        // before: a delete-before-replace deletes the group only in the first replaced network's chain, and a chain
        // registered beside it could `docker network rm` while the group's tasks still hold that network
        // (pulumi/pulumi v3.248.0, pkg/resource/deploy/step_generator.go, calculateDependentReplacements).
        const networks: DockerNetwork[] = [];
        for (const network of config.networks) {
            networks.push(
                new DockerNetwork(
                    `network-${network.name}`,
                    {
                        host: networkHost,
                        networkName: network.name,
                        subnet: network.subnet,
                        ownerId: owner.hex,
                        adopt: config.adoptNetworks.includes(network.name),
                        etcdAuthority: config.etcdAuthority,
                    },
                    { parent: this, dependsOn: networks.slice(-1) },
                ),
            );
        }

        const networkNamed = (name: string) => networks[config.networks.findIndex((n) => n.name === name)];
        // A network's Docker ID is its resource's ID, which an update keeps even in a preview, where its outputs are
        // unknown (pulumi/pulumi v3.248.0, pkg/resource/deploy/step.go, UpdateStep.Apply): a change of connection
        // settings (sudo, sshUser, a port) updates the network and must not preview as a replacement of all that names
        // it.
        const networkIdOf = (name: string) => networkNamed(name).id;
        // calicoctl resolves every tag to a network ID, so each profile waits for all networks. Removing a
        // network drops its profile (libnetwork), so rules deleted with their network skip the reset to defaults.
        const profileRules = Object.entries(config.policy).map(
            ([profile, rules]) =>
                new ProfileRules(
                    `profile-${profile}`,
                    {
                        host: networkHost,
                        profile,
                        networkId: networkIdOf(profile),
                        inbound: rules.inbound,
                        outbound: rules.outbound,
                        tagNetworkIds: Object.fromEntries(policyTags(rules).map((tag) => [tag, networkIdOf(tag)])),
                        etcdAuthority: config.etcdAuthority,
                        // an adopted network's profile gets back the rules it had before adoption. Only adopted
                        // networks pass the output: one absent from a network's state would read as unknown in every
                        // preview.
                        rulesOnDelete: config.adoptNetworks.includes(profile)
                            ? networkNamed(profile).rulesBeforeAdoption
                            : undefined,
                    },
                    { parent: this, dependsOn: networks, deletedWith: networkNamed(profile) },
                ),
        );

        const connectionFor = (host: SshHost): command.types.input.remote.ConnectionArgs => ({
            host: host.address,
            port: host.port,
            user: host.user,
            privateKey: args.privateKey,
            privateKeyPassword: args.privateKey !== undefined ? args.privateKeyPassword : undefined,
            agentSocketPath:
                args.privateKey === undefined ? (config.sshAgentSocket ?? process.env.SSH_AUTH_SOCK) : undefined,
            // config validation made sure every agent has one, unless verification is off and nothing names the agent
            hostKey: ((found) => ("key" in found ? found.key : undefined))(acceptedHostKey(config, host)),
            perDialTimeout: config.connectTimeoutSeconds,
            dialErrorLimit: config.connectAttempts,
        });

        const resourcesFileAt = resourcesFileLocation(config);
        const placeFor = (ownerId: string): ResourcesFilePlace => ({
            baseDir: config.resourcesDir,
            groupPath: config.groupId,
            ownerId,
        });
        const parameters = owner.hex.apply((ownerId) => starsParameters(config, ownerId));
        const resourcesFile = parameters.apply(renderResourcesFile);
        // @pulumi/command's own limit on each step, since a dynamic provider's timeouts do not reach it
        const prepTimeout = `${config.commandTimeoutSeconds + config.connectTimeoutSeconds * config.connectAttempts}s`;
        // The group's path is claimed first, so that a group this stack may not write leaves the agents untouched.
        const claim = new MarathonGroupClaim(
            "marathon-group-claim",
            {
                host: master,
                marathonHost: config.marathonHost,
                marathonPort: config.marathonPort,
                groupId: `/${config.groupId}`,
                ownerId: owner.hex,
                deploymentTimeoutSeconds: config.deploymentTimeoutSeconds,
            },
            parent,
        );
        // The runbook's prep step and the collector's resources file in one command per agent, since
        // @pulumi/command opens an SSH connection for each. Delete before replace: the old resource's
        // delete removes the file at the very path the replacement writes.
        const agentPreps = agents.map(
            (agent) =>
                new command.remote.Command(
                    `agent-prep-${agent.address}`,
                    {
                        connection: connectionFor(agent),
                        create: owner.hex.apply((id) => agentPrepCreate(agent, config.image, placeFor(id)).script),
                        delete: owner.hex.apply((id) => removeResourcesFile(agent, placeFor(id)).script),
                        stdin: resourcesFile,
                        triggers: [config.image, resourcesFileAt.path, resourcesFile],
                    },
                    {
                        parent: this,
                        dependsOn: [claim],
                        deleteBeforeReplace: true,
                        customTimeouts: { create: prepTimeout, update: prepTimeout, delete: prepTimeout },
                    },
                ),
        );

        // The tasks hold their networks: a network replaced (delete before replace) takes the group down first,
        // since `docker network rm` refuses a network with containers on it, and the group comes back on the new one.
        const template = starsTemplateOf(config);
        const appNetworks = [
            ...new Set([template.collector.network, ...template.probes.map((probe) => probe.network)]),
        ].sort();
        const group = new MarathonGroup(
            "marathon-group",
            {
                host: master,
                marathonHost: config.marathonHost,
                marathonPort: config.marathonPort,
                group: parameters.apply(renderStarsGroup),
                ownerId: owner.hex,
                deploymentTimeoutSeconds: config.deploymentTimeoutSeconds,
                forceDeployments: config.forceDeployments,
                networkIds: Object.fromEntries(appNetworks.map((name) => [name, networkIdOf(name)])),
            },
            { parent: this, dependsOn: [...networks, ...profileRules, ...agentPreps] },
        );

        const dnatHosts = (config.dnatHosts ?? [master.address]).map((address) =>
            allHosts.find((h) => h.address === address)!,
        );
        for (const host of dnatHosts) {
            // the runbook opens the collector's profile before forwarding to it
            new IptablesDnat(
                `dnat-${host.address}`,
                {
                    host,
                    publicInterface: config.publicInterface,
                    publicPort: config.uiPort,
                    targetIp: config.collectorIp,
                    targetPort: config.collectorPort,
                    ownerId: owner.hex,
                },
                { parent: this, dependsOn: profileRules },
            );
        }
        if (config.verifyPolicy) {
            // its fetch goes from the master straight to the collector, so the DNAT rules are not what it checks
            new VerifyPolicy(
                "verify-policy",
                verifyPolicyArgs(config, master, {
                    groupVersion: group.version,
                    networkIds: networks.map((n) => n.id),
                }),
                { parent: this, dependsOn: [group, ...profileRules] },
            );
        }

        this.uiUrl = pulumi.output(`http://${dnatHosts[0].address}:${config.uiPort}`);
        this.networkIds = pulumi
            .all(networks.map((n) => n.id))
            .apply((ids) => Object.fromEntries(config.networks.map((n, i) => [n.name, ids[i]])));
        this.profiles = pulumi
            .all(profileRules.map((p) => pulumi.all([p.profile, p.inbound, p.outbound])))
            .apply((entries) =>
                Object.fromEntries(entries.map(([profile, inbound, outbound]) => [profile, { inbound, outbound }])),
            );
        this.connectivity = pulumi.output(connectivityOf(configuredMatrix(config)));
        this.registerOutputs({
            uiUrl: this.uiUrl,
            networkIds: this.networkIds,
            profiles: this.profiles,
            connectivity: this.connectivity,
        });
    }
}
