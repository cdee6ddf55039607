// The Marathon group's path claimed for this stack before the agents are touched. Its args and behaviour:
// @calico-stars/providers, marathonGroupClaim.ts.
import { packagedResource } from "./packagedResource";

export class MarathonGroupClaim extends packagedResource("MarathonGroupClaim", {}) {}
