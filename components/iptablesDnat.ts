// The runbook's step 4 on one host: forward a host port to the collector's
// Calico address, both for traffic arriving on the public interface
// (PREROUTING) and for the host's own loopback traffic (OUTPUT). Each rule
// carries an ownership comment, so only this stack's rules are ever touched.
import * as pulumi from "@pulumi/pulumi";
import { configureFromStack, Resolved, sameHost } from "./providerSupport";
import { commandLine, commandFailure, privileged, runCommand, SshHost } from "./ssh";

export interface IptablesDnatArgs {
    /** The host whose nat table gets the rules (the runbook browses the master). */
    host: pulumi.Input<SshHost>;
    /** The interface outside traffic arrives on (`eth1` on the Vagrant cluster). */
    publicInterface: pulumi.Input<string>;
    /** The host port to forward. */
    publicPort: pulumi.Input<number>;
    /** Where to: the collector's fixed Calico IP. */
    targetIp: pulumi.Input<string>;
    /** The collector's port. */
    targetPort: pulumi.Input<number>;
    /** This stack's ownership id, written into each rule's comment. */
    ownerId: pulumi.Input<string>;
}

type IptablesDnatInputs = Resolved<IptablesDnatArgs>;

interface IptablesDnatOutputs extends IptablesDnatInputs {
    /** The rules found in the nat table at the last apply or refresh, as iptables arguments after `-t nat -A`. */
    rules: string[][];
}

export function ownershipComment(ownerId: string): string {
    return `calico-stars:${ownerId}`;
}

/** The two rules, as iptables arguments after `-t nat -A|-C|-D`. */
export function dnatRules(inputs: IptablesDnatInputs): string[][] {
    const match = ["-p", "tcp", "--dport", String(inputs.publicPort), "-m", "comment", "--comment", ownershipComment(inputs.ownerId)];
    const jump = ["-j", "DNAT", "--to-destination", `${inputs.targetIp}:${inputs.targetPort}`];
    return [
        ["PREROUTING", "-i", inputs.publicInterface, ...match, ...jump],
        ["OUTPUT", "-o", "lo", ...match, ...jump],
    ];
}

function iptables(host: SshHost, operation: "-A" | "-C" | "-D", rule: string[]): string {
    return commandLine(privileged(host, ["iptables", "-t", "nat", operation, ...rule]));
}

/** One SSH command for a whole step: `&&` keeps the first failure's exit code and stderr. */
async function runScript(host: SshHost, lines: string[]): Promise<void> {
    const script = lines.join(" && ");
    const result = await runCommand(host, { script });
    if (result.code !== 0) {
        throw commandFailure(host, { script }, result);
    }
}

function addMissing(host: SshHost, rules: string[][]): string[] {
    return rules.map((rule) => `{ ${iptables(host, "-C", rule)} 2>/dev/null || ${iptables(host, "-A", rule)}; }`);
}

function removePresent(host: SshHost, rules: string[][]): string[] {
    return rules.map((rule) => `{ if ${iptables(host, "-C", rule)} 2>/dev/null; then ${iptables(host, "-D", rule)}; fi; }`);
}

async function presentRules(host: SshHost, rules: string[][]): Promise<string[][]> {
    const script = rules.map((rule) => `if ${iptables(host, "-C", rule)} 2>/dev/null; then echo present; else echo missing; fi`).join("; ");
    const result = await runCommand(host, { script });
    if (result.code !== 0) {
        throw commandFailure(host, { script }, result);
    }
    const verdicts = result.stdout.trim().split("\n");
    return rules.filter((_, i) => verdicts[i] === "present");
}

function sameRules(a: string[][], b: string[][]): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

export const iptablesDnatProvider: pulumi.dynamic.ResourceProvider = {
    configure: configureFromStack,

    async diff(_id: string, olds: IptablesDnatOutputs, news: IptablesDnatInputs) {
        // olds.rules is what was found on the host, so a rule deleted by hand shows as a change
        return { changes: !sameRules(olds.rules, dnatRules(news)) || !sameHost(olds.host, news.host), replaces: [] };
    },

    async create(inputs: IptablesDnatInputs) {
        const rules = dnatRules(inputs);
        await runScript(inputs.host, addMissing(inputs.host, rules));
        const outs: IptablesDnatOutputs = { ...inputs, rules };
        return { id: `${inputs.host.address}:${inputs.publicPort}`, outs };
    },

    async read(id: string, props: IptablesDnatOutputs) {
        const outs: IptablesDnatOutputs = { ...props, rules: await presentRules(props.host, dnatRules(props)) };
        return { id, props: outs };
    },

    async update(_id: string, olds: IptablesDnatOutputs, news: IptablesDnatInputs) {
        const wanted = dnatRules(news);
        const stale = olds.rules.filter((rule) => !wanted.some((w) => sameRules([w], [rule])));
        // the same nat table (another login to the same host): one command, new rules before old ones go
        const sameTable = olds.host.address === news.host.address && olds.host.port === news.host.port;
        await runScript(news.host, [...addMissing(news.host, wanted), ...(sameTable ? removePresent(news.host, stale) : [])]);
        if (!sameTable) {
            // only once the new host forwards: a failure there leaves the old forwarding in place
            await runScript(olds.host, removePresent(olds.host, olds.rules));
        }
        const outs: IptablesDnatOutputs = { ...news, rules: wanted };
        return { outs };
    },

    async delete(_id: string, props: IptablesDnatOutputs) {
        await runScript(props.host, removePresent(props.host, dnatRules(props)));
    },
};

export class IptablesDnat extends pulumi.dynamic.Resource {
    declare readonly rules: pulumi.Output<string[][]>;

    constructor(name: string, args: IptablesDnatArgs, opts?: pulumi.CustomResourceOptions) {
        super(iptablesDnatProvider, name, { rules: undefined, ...args }, opts, "calico-stars", "IptablesDnat");
    }
}
