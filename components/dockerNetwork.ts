// A Docker network on the calico driver (the runbook's step 1), which Calico-libnetwork gives a profile named
// by the network's ID. Its provider, @calico-stars/providers' dockerNetwork.ts, creates it or adopts one.
import * as pulumi from "@pulumi/pulumi";
import type { ProfileRulesJson } from "@calico-stars/providers/calico";
import type { SshHost } from "@calico-stars/providers/ssh";
import { PackagedResource } from "./packagedResource";

export interface DockerNetworkArgs {
    /** The host whose Docker daemon creates the network (networks are cluster-wide through the cluster store). */
    host: pulumi.Input<SshHost>;
    /** The Docker network's name; also the Calico tag other profiles use for it. */
    networkName: pulumi.Input<string>;
    /** `--subnet`, needed for a container that asks for a fixed `--ip`. */
    subnet?: pulumi.Input<string>;
    /** This stack's ownership id, recorded on the network as the driver option `calico-stars.owner`. */
    ownerId: pulumi.Input<string>;
    /** Take over a network of this name that this stack did not make (config `adoptNetworks`). */
    adopt?: pulumi.Input<boolean>;
    /** ETCD_AUTHORITY for calicoctl, which reads an adopted network's rules. */
    etcdAuthority?: pulumi.Input<string>;
}

export class DockerNetwork extends PackagedResource {
    declare readonly networkId: pulumi.Output<string>;
    declare readonly networkName: pulumi.Output<string>;
    declare readonly adopted: pulumi.Output<boolean>;
    declare readonly rulesBeforeAdoption: pulumi.Output<ProfileRulesJson | undefined>;

    constructor(name: string, args: DockerNetworkArgs, opts?: pulumi.CustomResourceOptions) {
        super("DockerNetwork", name, { networkId: undefined, subnet: undefined, adopted: undefined, rulesBeforeAdoption: undefined, ...args }, opts);
    }
}
