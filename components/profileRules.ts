// The ordered inbound and outbound rules of one Calico profile (the runbook's step 5), written whole by its
// provider, @calico-stars/providers' profileRules.ts.
import * as pulumi from "@pulumi/pulumi";
import type { ProfileRulesJson } from "@calico-stars/providers/calico";
import type { SshHost } from "@calico-stars/providers/ssh";
import { PackagedResource } from "./packagedResource";

export interface ProfileRulesArgs {
    /** Any host with calicoctl and access to the cluster's etcd. */
    host: pulumi.Input<SshHost>;
    /** The profile's name: the Docker network's name, which calicoctl maps to the network ID. */
    profile: pulumi.Input<string>;
    /** The Docker network's ID, so that a replaced network replaces its rules. */
    networkId: pulumi.Input<string>;
    /** Inbound rules in calicoctl's grammar, in order, e.g. "allow tcp from tag management-ui to ports 9000". */
    inbound: pulumi.Input<pulumi.Input<string>[]>;
    /** Outbound rules in calicoctl's grammar, in order. */
    outbound: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * The network ID behind each tag the rules name. calicoctl stores a tag as the network's ID, so a
     * replaced network leaves every rule naming it pointing at the old ID until the rules are written again.
     */
    tagNetworkIds: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** ETCD_AUTHORITY for calicoctl, when the host's environment does not set it. */
    etcdAuthority?: pulumi.Input<string>;
    /** What delete writes back: an adopted network's rules from before adoption; libnetwork's defaults when absent. */
    rulesOnDelete?: pulumi.Input<ProfileRulesJson | undefined>;
}

export class ProfileRules extends PackagedResource {
    declare readonly profile: pulumi.Output<string>;
    declare readonly inbound: pulumi.Output<string[]>;
    declare readonly outbound: pulumi.Output<string[]>;

    constructor(name: string, args: ProfileRulesArgs, opts?: pulumi.CustomResourceOptions) {
        super("ProfileRules", name, { etcdAuthority: undefined, ...args }, opts);
    }
}
