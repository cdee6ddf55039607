// The dynamic providers, by the type of resource each serves, each loaded on first use: a resource's `__provider`
// in state is one line that requires this package and takes one of these (components/packagedResource.ts), so the
// provider host loads only the providers its resources need. The modules they use are this package's other entry points
// (@calico-stars/providers/ssh, /calicoRule, ...), for the program, the verify CLI and the tests.
import type { dockerNetworkProvider } from "./dockerNetwork";
import type { iptablesDnatProvider } from "./iptablesDnat";
import type { marathonGroupProvider } from "./marathonGroup";
import type { profileRulesProvider } from "./profileRules";
import type { verifyPolicyProvider } from "./verifyPolicy";

export const providers = {
    get DockerNetwork(): typeof dockerNetworkProvider {
        return (require("./dockerNetwork") as typeof import("./dockerNetwork")).dockerNetworkProvider;
    },
    get ProfileRules(): typeof profileRulesProvider {
        return (require("./profileRules") as typeof import("./profileRules")).profileRulesProvider;
    },
    get IptablesDnat(): typeof iptablesDnatProvider {
        return (require("./iptablesDnat") as typeof import("./iptablesDnat")).iptablesDnatProvider;
    },
    get MarathonGroup(): typeof marathonGroupProvider {
        return (require("./marathonGroup") as typeof import("./marathonGroup")).marathonGroupProvider;
    },
    get VerifyPolicy(): typeof verifyPolicyProvider {
        return (require("./verifyPolicy") as typeof import("./verifyPolicy")).verifyPolicyProvider;
    },
};

export type Providers = typeof providers;
export type ProviderName = keyof Providers;
