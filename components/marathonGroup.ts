// The Marathon group that runs the demo's four apps (the runbook's step 2). Its provider,
// @calico-stars/providers' marathonGroup.ts, owns the group only when its whole subtree is the stack's own.
import * as pulumi from "@pulumi/pulumi";
import type { MarathonGroup as GroupDefinition } from "@calico-stars/providers/marathon";
import type { SshHost } from "@calico-stars/providers/ssh";
import { PackagedResource } from "./packagedResource";

export interface MarathonGroupArgs {
    /** The host whose sshd forwards to Marathon (the master). */
    host: pulumi.Input<SshHost>;
    /** Marathon's address as seen from that host. */
    marathonHost: pulumi.Input<string>;
    /** Marathon's port. */
    marathonPort: pulumi.Input<number>;
    /** The group to PUT, apps with ids relative to the group. */
    group: pulumi.Input<GroupDefinition>;
    /** This stack's ownership id; every app carries it as a label. */
    ownerId: pulumi.Input<string>;
    /** How long one operation may take: retries, waiting out locks, and the deployment. */
    deploymentTimeoutSeconds: pulumi.Input<number>;
    /** Send writes with ?force=true, which cancels the deployments in their way (config `forceDeployments`). */
    forceDeployments?: pulumi.Input<boolean>;
    /**
     * The ID of each Docker network the apps join, by name. A replaced network replaces the group: its tasks keep
     * the old network in use, so `docker network rm` would fail while they run.
     */
    networkIds?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class MarathonGroup extends PackagedResource {
    declare readonly version: pulumi.Output<string>;

    constructor(name: string, args: MarathonGroupArgs, opts?: pulumi.CustomResourceOptions) {
        super("MarathonGroup", name, { version: undefined, ...args }, opts);
    }
}
