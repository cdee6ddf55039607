// The check that the policy took effect, as a step of `pulumi up` (config `verifyPolicy`): it waits until the
// collector shows the declared matrix. Its inputs hold that matrix as plain data, so `pulumi preview` shows what
// will be checked. Its args and behaviour: @calico-stars/providers, verifyPolicy.ts.
import type { SshHost } from "@calico-stars/providers/ssh";
import { DeclaredMatrix, probeRoundMs } from "@calico-stars/providers/verify";
import type { StarsConfig } from "./config";
import { configuredMatrix } from "./connectivity";
import { packagedResource, ResourceArgs } from "./packagedResource";
import { renderStarsGroup, starsParameters } from "./starsTemplate";

export class VerifyPolicy extends packagedResource("VerifyPolicy", { result: undefined, summary: undefined }) {}

type VerifyPolicyArgs = ResourceArgs<"VerifyPolicy">;

/** The check's inputs from the stack config: the declared matrix (connectivity.ts, configuredMatrix), as plain data. */
export function verifyPolicyArgs(
    config: StarsConfig,
    master: SshHost,
    deployment: Pick<VerifyPolicyArgs, "groupVersion" | "networkIds">,
): VerifyPolicyArgs {
    return {
        host: master,
        collectorIp: config.collectorIp,
        collectorPort: config.collectorPort,
        // plain JSON: gRPC's Struct carries no `undefined`
        declared: JSON.parse(JSON.stringify(configuredMatrix(config))) as DeclaredMatrix,
        roundSeconds: probeRoundMs(renderStarsGroup(starsParameters(config, "0"))) / 1000,
        timeoutSeconds: config.verifyTimeoutSeconds,
        ...deployment,
    };
}
