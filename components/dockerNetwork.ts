// A Docker network on the calico driver (the runbook's step 1), which calico-libnetwork gives a profile named by
// the network's ID. Its args and behaviour: @calico-stars/providers, dockerNetwork.ts.
import { packagedResource } from "./packagedResource";

export class DockerNetwork extends packagedResource("DockerNetwork", {
    networkId: undefined,
    adopted: undefined,
    rulesBeforeAdoption: undefined,
}) {}
