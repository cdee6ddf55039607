// The dynamic providers by resource type: a resource's `__provider` in state is one line that requires this
// package and takes one of these (components/packagedResource.ts).
import { dockerNetworkProvider } from "./dockerNetwork";
import { iptablesDnatProvider } from "./iptablesDnat";
import { marathonGroupProvider } from "./marathonGroup";
import { marathonGroupClaimProvider } from "./marathonGroupClaim";
import { profileRulesProvider } from "./profileRules";
import { verifyPolicyProvider } from "./verifyPolicy";

export const providers = {
    DockerNetwork: dockerNetworkProvider,
    ProfileRules: profileRulesProvider,
    IptablesDnat: iptablesDnatProvider,
    MarathonGroupClaim: marathonGroupClaimProvider,
    MarathonGroup: marathonGroupProvider,
    VerifyPolicy: verifyPolicyProvider,
};

export type ProviderName = keyof typeof providers;
