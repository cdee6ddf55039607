// The runbook's step 4 on one host: the UI's port forwarded to the collector, and what is forwarded masqueraded,
// by rules carrying this stack's comment. Its args and behaviour: @calico-stars/providers, iptablesDnat.ts.
import { packagedResource } from "./packagedResource";

export class IptablesDnat extends packagedResource("IptablesDnat", { rules: undefined }) {}
