// The runbook's step 4 on one host: forward a host port to the collector's
// Calico address, both for traffic arriving on the public interface
// (PREROUTING) and for the host's own loopback traffic (OUTPUT), and masquerade
// what was forwarded (POSTROUTING), which the runbook leaves out: the collector
// runs on an agent, so without it its replies go from that agent straight back
// to a browser on the hosts' network, around this host's DNAT, and are dropped.
// Each rule carries an ownership comment, so only this stack's rules are ever touched.
import { z } from "zod";
import { ConfigError } from "./errors";
import { checkInputs, configureFromStack, Provider, requireHost, sameHost } from "./provider";
import { command, joined, privileged, runChecked, sh, ShellScript, SshHost, sshHostSchema } from "./ssh";
import { interfaceName, ipv4, ownerId, port } from "./validators";

/** What the forwarding is made from; the IptablesDnat resource (components/iptablesDnat.ts) takes these as its args. */
const iptablesDnatInputs = z.object({
    /** The host whose nat table gets the rules (the runbook browses the master). */
    host: sshHostSchema,
    /** The interface outside traffic arrives on (`eth1` on the Vagrant cluster). */
    publicInterface: interfaceName,
    /** The host port to forward. */
    publicPort: port,
    /** Where to: the collector's fixed Calico IP. */
    targetIp: ipv4,
    /** The collector's port. */
    targetPort: port,
    /** This stack's ownership id, written into each rule's comment. */
    ownerId,
});

export type IptablesDnatInputs = z.output<typeof iptablesDnatInputs>;

export interface IptablesDnatOutputs extends IptablesDnatInputs {
    /** The rules found in the nat table at the last apply or refresh, as iptables arguments after `-t nat -A`. */
    rules: string[][];
}

function ownershipComment(ownerId: string): string {
    return `calico-stars:${ownerId}`;
}

/**
 * The three rules, as iptables arguments after `-t nat -A|-C|-D`. The POSTROUTING rule takes only connections this
 * host DNATed to the collector (`--ctstate DNAT`, in iptables 1.4.21's libxt_conntrack, CentOS 7's release), so the
 * collector's replies come back here to be un-DNATed; the collector sees this host as the client.
 */
export function dnatRules(inputs: IptablesDnatInputs): string[][] {
    const owned = ["-m", "comment", "--comment", ownershipComment(inputs.ownerId)];
    const match = ["-p", "tcp", "--dport", String(inputs.publicPort), ...owned];
    const jump = ["-j", "DNAT", "--to-destination", `${inputs.targetIp}:${inputs.targetPort}`];
    return [
        ["PREROUTING", "-i", inputs.publicInterface, ...match, ...jump],
        ["OUTPUT", "-o", "lo", ...match, ...jump],
        [
            "POSTROUTING",
            "-d",
            inputs.targetIp,
            "-p",
            "tcp",
            "--dport",
            String(inputs.targetPort),
            "-m",
            "conntrack",
            "--ctstate",
            "DNAT",
            ...owned,
            "-j",
            "MASQUERADE",
        ],
    ];
}

function iptables(host: SshHost, operation: "-A" | "-C" | "-D", rule: string[]): ShellScript {
    return command(privileged(host, ["iptables", "-t", "nat", operation, ...rule]));
}

/** One SSH command for a whole step: `&&` keeps the first failure's exit code and stderr. */
async function runScript(host: SshHost, steps: ShellScript[]): Promise<void> {
    await runChecked(host, joined(steps, "&&"));
}

function addMissing(host: SshHost, rules: string[][]): ShellScript[] {
    return rules.map((rule) => sh`{ ${iptables(host, "-C", rule)} 2>/dev/null || ${iptables(host, "-A", rule)}; }`);
}

function removePresent(host: SshHost, rules: string[][]): ShellScript[] {
    return rules.map(
        (rule) => sh`{ if ${iptables(host, "-C", rule)} 2>/dev/null; then ${iptables(host, "-D", rule)}; fi; }`,
    );
}

async function presentRules(host: SshHost, rules: string[][]): Promise<string[][]> {
    const script = joined(
        rules.map((rule) => sh`if ${iptables(host, "-C", rule)} 2>/dev/null; then echo present; else echo missing; fi`),
        ";",
    );
    const result = await runChecked(host, script);
    const verdicts = result.stdout.trim().split("\n");
    return rules.filter((_, i) => verdicts[i] === "present");
}

function sameRules(a: string[][], b: string[][]): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

export const iptablesDnatProvider: Provider<IptablesDnatInputs, IptablesDnatOutputs> = {
    configure: configureFromStack,

    async check(_olds, news) {
        return checkInputs<IptablesDnatInputs>(iptablesDnatInputs, news);
    },

    async diff(_id, olds, news) {
        // olds.rules is what was found on the host, so a rule deleted by hand shows as a change
        return { changes: !sameRules(olds.rules, dnatRules(news)) || !sameHost(olds.host, news.host), replaces: [] };
    },

    async create(inputs) {
        const rules = dnatRules(inputs);
        await runScript(inputs.host, addMissing(inputs.host, rules));
        const outs: IptablesDnatOutputs = { ...inputs, rules };
        return { id: `${inputs.host.address}:${inputs.publicPort}`, outs };
    },

    /** Only the rules carrying this stack's comment are looked at, so every input is needed to read. */
    async read(id, props) {
        const host = requireHost(props, `DNAT rules ${id}`);
        const parsed = iptablesDnatInputs.safeParse({ ...props, host });
        if (!parsed.success) {
            throw new ConfigError(
                `DNAT rules ${id}: cannot read them without ${[...new Set(parsed.error.issues.map((i) => String(i.path[0])))].join(", ")} ` +
                    "in the resource's properties: only rules carrying this stack's comment are ever looked at",
            );
        }
        const outs: IptablesDnatOutputs = {
            ...props!,
            ...parsed.data,
            rules: await presentRules(host, dnatRules(parsed.data)),
        };
        return { id, props: outs };
    },

    async update(_id, olds, news) {
        const wanted = dnatRules(news);
        const stale = olds.rules.filter((rule) => !wanted.some((w) => sameRules([w], [rule])));
        // the same nat table (another login to the same host): one command, new rules before old ones go
        const sameTable = olds.host.address === news.host.address && olds.host.port === news.host.port;
        await runScript(news.host, [
            ...addMissing(news.host, wanted),
            ...(sameTable ? removePresent(news.host, stale) : []),
        ]);
        if (!sameTable) {
            // only once the new host forwards: a failure there leaves the old forwarding in place
            await runScript(olds.host, removePresent(olds.host, olds.rules));
        }
        const outs: IptablesDnatOutputs = { ...news, rules: wanted };
        return { outs };
    },

    async delete(_id, props) {
        await runScript(props.host, removePresent(props.host, dnatRules(props)));
    },
};
