// The ordered inbound and outbound rules of one Calico profile (the runbook's step 5), written whole. Its args
// and behaviour: @calico-stars/providers, profileRules.ts.
import { packagedResource } from "./packagedResource";

export class ProfileRules extends packagedResource("ProfileRules", {}) {}
