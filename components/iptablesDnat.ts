// The runbook's step 4 on one host: the UI's port forwarded to the collector (and what is forwarded
// masqueraded), by rules carrying this stack's comment; its provider is @calico-stars/providers' iptablesDnat.ts.
import * as pulumi from "@pulumi/pulumi";
import type { SshHost } from "@calico-stars/providers/ssh";
import { PackagedResource } from "./packagedResource";

export interface IptablesDnatArgs {
    /** The host whose nat table gets the rules (the runbook browses the master). */
    host: pulumi.Input<SshHost>;
    /** The interface outside traffic arrives on (`eth1` on the Vagrant cluster). */
    publicInterface: pulumi.Input<string>;
    /** The host port to forward. */
    publicPort: pulumi.Input<number>;
    /** Where to: the collector's fixed Calico IP. */
    targetIp: pulumi.Input<string>;
    /** The collector's port. */
    targetPort: pulumi.Input<number>;
    /** This stack's ownership id, written into each rule's comment. */
    ownerId: pulumi.Input<string>;
}

export class IptablesDnat extends PackagedResource {
    declare readonly rules: pulumi.Output<string[][]>;

    constructor(name: string, args: IptablesDnatArgs, opts?: pulumi.CustomResourceOptions) {
        super("IptablesDnat", name, { rules: undefined, ...args }, opts);
    }
}
