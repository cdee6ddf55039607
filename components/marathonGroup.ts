// The Marathon group that runs the demo's apps (the runbook's step 2), owned only when its whole subtree is this
// stack's. Its args and behaviour: @calico-stars/providers, marathonGroup.ts.
import { packagedResource } from "./packagedResource";

export class MarathonGroup extends packagedResource("MarathonGroup", { version: undefined }) {}
