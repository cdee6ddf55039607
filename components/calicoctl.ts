// calicoctl 0.x profile rule commands, as the providers run them (see
// /work/shared/reference/calicoctl-0x.md: errors are printed on stdout).
import { z } from "zod";
import { privileged, SshHost } from "./ssh";

/** One rule as calicoctl's JSON holds it: `{"action": "allow", "protocol": "tcp", "dst_ports": [9000], ...}`. */
export interface RuleJson {
    [field: string]: string | number | boolean | null | (string | number)[];
}

/** A profile's rules as `calicoctl profile <P> rule json` prints them and `rule update` reads them. */
export interface ProfileRulesJson {
    inbound_rules: RuleJson[];
    outbound_rules: RuleJson[];
}

/** `calicoctl profile <P> rule <args...>`, with ETCD_AUTHORITY when the host's environment lacks it. */
export function calicoctlRule(host: SshHost, profile: string, etcdAuthority: string | undefined, args: string[]): string[] {
    const environment = etcdAuthority !== undefined ? ["env", `ETCD_AUTHORITY=${etcdAuthority}`] : [];
    return privileged(host, [...environment, "calicoctl", "profile", profile, "rule", ...args]);
}

export function isProfileMissing(output: string, profile: string): boolean {
    return output.includes(`Profile ${profile} not found.`);
}

export function profileRulesJsonSchema() {
    const rule = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.union([z.string(), z.number()]))]));
    return z.object({ inbound_rules: z.array(rule), outbound_rules: z.array(rule) });
}
