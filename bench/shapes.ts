// The policies the bench runs: the runbook's, and generated ones that scale profiles and rules apart.
import { runbookNetworks } from "../components/config";
import { parseRule, ruleToJson } from "@calico-stars/providers/calico";
import { commandLine } from "@calico-stars/providers/ssh";

type Policy = Record<string, { inbound: string[]; outbound: string[] }>;

export interface PolicyShape {
    label: string;
    /** Set for a generated policy: how many profiles, and inbound rules in each. */
    scale?: { profiles: number; rules: number };
    /** Stack config beyond the cluster's; empty for the runbook's defaults. */
    config: Record<string, string>;
    networks: { name: string; subnet?: string }[];
    /**
     * What the floor runs on the network host once the networks exist, given how calicoctl is typed there (with sudo,
     * say).
     */
    floorProfileCommands(calicoctl: string): string[];
}

export const runbookShape: PolicyShape = {
    label: "runbook (4 profiles, 1-3 rules)",
    config: {},
    networks: runbookNetworks,
    // typed as the runbook types them, with `ports` and 9000 for its two slips (docs/policy.md)
    floorProfileCommands: (calicoctl) => [
        `${calicoctl} profile management-ui rule remove inbound allow from tag management-ui`,
        `${calicoctl} profile management-ui rule add inbound allow tcp to ports 9001`,
        `${calicoctl} profile client rule add inbound allow tcp from tag management-ui to ports 9000`,
        `${calicoctl} profile backend rule add inbound allow tcp from tag management-ui to ports 9000`,
        `${calicoctl} profile frontend rule add inbound allow tcp from tag management-ui to ports 9000`,
        `${calicoctl} profile frontend rule add inbound allow tcp from tag client to ports 9000`,
        `${calicoctl} profile backend rule add inbound allow tcp from tag frontend to ports 9000`,
    ],
};

/**
 * `profiles` networks (the stars apps' four, then net-05...), each profile with `rules` distinct inbound
 * rules and outbound `allow`. The floor writes each profile with one `rule update`: typing the runbook's
 * `rule add` once per rule would cost one calicoctl run per rule, which is no floor.
 */
export function scaledShape(profiles: number, rules: number): PolicyShape {
    const networks = [
        ...runbookNetworks,
        ...Array.from({ length: profiles - runbookNetworks.length }, (_, i) => ({
            name: `net-${String(i + 5).padStart(2, "0")}`,
        })),
    ];
    const names = networks.map((n) => n.name);
    const policy: Policy = Object.fromEntries(
        names.map((name) => [
            name,
            {
                inbound: Array.from(
                    { length: rules },
                    (_, i) => `allow tcp from tag ${names[i % names.length]} to ports ${10000 + i}`,
                ),
                outbound: ["allow"],
            },
        ]),
    );
    return {
        label: `scaled: ${profiles} profiles x ${rules} rules`,
        scale: { profiles, rules },
        config: { "calico-stars:networks": JSON.stringify(networks), "calico-stars:policy": JSON.stringify(policy) },
        networks,
        floorProfileCommands: (calicoctl) =>
            Object.entries(policy).map(([profile, rules]) => {
                const json = JSON.stringify({
                    id: profile,
                    inbound_rules: rules.inbound.map((r) => ruleToJson(parseRule(r))),
                    outbound_rules: rules.outbound.map((r) => ruleToJson(parseRule(r))),
                });
                return `${calicoctl} ${commandLine(["profile", profile, "rule", "update"])} <<'EOF'\n${json}\nEOF`;
            }),
    };
}
