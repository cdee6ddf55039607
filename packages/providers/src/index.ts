// @calico-stars/providers: the dynamic providers of calico-stars' cluster resources, loaded by name in
// Pulumi's dynamic provider host, and what they share with the program. More at ./calico, ./marathon, ./ssh
// and ./verify.
export { ConfigError, OwnershipError, PolicyVerificationError, RemoteCommandError } from "./errors";
export { providers } from "./providers";
export type { ProviderName } from "./providers";
export type { DockerNetworkInputs, DockerNetworkOutputs } from "./dockerNetwork";
export { dnatRules } from "./iptablesDnat";
export type { IptablesDnatInputs, IptablesDnatOutputs } from "./iptablesDnat";
export type { MarathonGroupInputs, MarathonGroupOutputs } from "./marathonGroup";
export type { ProfileRulesInputs, ProfileRulesOutputs } from "./profileRules";
export type { VerifyPolicyInputs, VerifyPolicyOutputs } from "./verifyPolicy";
export { ipv4InCidr, isAddress, isCidr, isDnsName, isIpv4, networkOf, splitHostPort } from "./netAddress";
export { issueMessages, parseConfigKeys, projectName } from "./stackConfig";
export { address, interfaceName, ipv4, marathonGroupId, networkName, ownerKey, port } from "./validators";
export type { ConfigGetter } from "./stackConfig";
