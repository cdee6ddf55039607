// calicoctl 0.x profile rule commands, as the providers run them; calicoctl prints its errors on stdout
// (projectcalico/calico-containers v0.19.0, calicoctl/calico_ctl/profile.py).
import { z } from "zod";
import { privileged, runChecked, SshHost } from "../ssh";

/** One rule as calicoctl's JSON holds it: `{"action": "allow", "protocol": "tcp", "dst_ports": [9000], ...}`. */
const ruleJsonSchema = z.record(
    z.string(),
    z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.union([z.string(), z.number()]))]),
);

/** A profile's rules as `calicoctl profile <P> rule json` prints them and `rule update` reads them. */
export const profileRulesJsonSchema = z.object({
    inbound_rules: z.array(ruleJsonSchema),
    outbound_rules: z.array(ruleJsonSchema),
});

export type RuleJson = z.output<typeof ruleJsonSchema>;
export type ProfileRulesJson = z.output<typeof profileRulesJsonSchema>;

/** `calicoctl profile <P> rule <args...>`, with ETCD_AUTHORITY when the host's environment lacks it. */
export function calicoctlRule(
    host: SshHost,
    profile: string,
    etcdAuthority: string | undefined,
    args: string[],
): string[] {
    const environment = etcdAuthority !== undefined ? ["env", `ETCD_AUTHORITY=${etcdAuthority}`] : [];
    return privileged(host, [...environment, "calicoctl", "profile", profile, "rule", ...args]);
}

export function isProfileMissing(output: string, profile: string): boolean {
    return output.includes(`Profile ${profile} not found.`);
}

/**
 * What calico-libnetwork gives a new network's profile (libcalico's create_profile): members may talk to each
 * other, all may go out. `rule show` prints it as `allow from tag <P>` / `allow`.
 */
export function libnetworkDefaultRules(profile: string): ProfileRulesJson {
    return { inbound_rules: [{ action: "allow", src_tag: profile }], outbound_rules: [{ action: "allow" }] };
}

/** What `calicoctl profile <P> rule update` reads on stdin: the whole rule set, with the profile's name as its id. */
export function ruleUpdateInput(profile: string, rules: ProfileRulesJson): string {
    return JSON.stringify({ id: profile, inbound_rules: rules.inbound_rules, outbound_rules: rules.outbound_rules });
}

/**
 * Writes a profile's whole rule set back (defaults, or an adopted network's own rules); a profile already gone is fine.
 */
export async function restoreProfileRules(
    host: SshHost,
    profile: string,
    etcdAuthority: string | undefined,
    rules: ProfileRulesJson,
): Promise<void> {
    await runChecked(host, calicoctlRule(host, profile, etcdAuthority, ["update"]), {
        stdin: ruleUpdateInput(profile, rules),
        accept: (result) => isProfileMissing(result.stdout, profile),
    });
}
