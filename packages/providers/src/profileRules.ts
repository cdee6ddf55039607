// The ordered inbound and outbound rules of one Calico profile (the runbook's
// step 5), written authoritatively: the whole rule set goes in with one
// `calicoctl profile <P> rule update` and is read back with `rule json` in the
// same SSH command, retried if a concurrent writer got in between.
import { setTimeout as sleep } from "timers/promises";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CalicoRule, canonicalRule, formatRule, parseRule, ruleToJson, storedRuleText } from "./calico/rule";
import {
    calicoctlRule,
    isProfileMissing,
    libnetworkDefaultRules,
    ProfileRulesJson,
    profileRulesJsonSchema,
    restoreProfileRules,
    ruleUpdateInput,
} from "./calico/calicoctl";
import { RemoteCommandError } from "./errors";
import { checkInputs, configureFromStack, gone, Provider, requireHost, sameHost, withoutUndefined } from "./provider";
import { command, hostLabel, runChecked, sh, sshHostSchema } from "./ssh";

/** One rule in calicoctl's grammar, stored in calicoctl's own spelling; a rule not known yet passes. */
const ruleListSchema = z.array(z.string()).transform((rules, ctx) =>
    rules.map((text, i) => {
        if (text === pulumi.runtime.unknownValue) {
            return text;
        }
        try {
            return canonicalRule(text);
        } catch (err) {
            ctx.addIssue({ code: "custom", path: [], message: `rule ${i + 1} "${text}": ${(err as Error).message}` });
            return text;
        }
    }),
);

/**
 * What a profile's rules are made from; the ProfileRules resource (components/profileRules.ts) takes these as its args.
 */
const profileRulesInputs = z.object({
    /** Any host with calicoctl and access to the cluster's etcd. */
    host: sshHostSchema,
    /** The profile's name: the Docker network's name, which calicoctl maps to the network ID. */
    profile: z.string().min(1),
    /** The Docker network's ID, so that a replaced network replaces its rules. */
    networkId: z.string().min(1),
    /**
     * Inbound rules in calicoctl's grammar, in order, e.g. "allow tcp from tag management-ui to ports 9000"; stored in
     * calicoctl's spelling.
     */
    inbound: ruleListSchema,
    /** Outbound rules in calicoctl's grammar, in order. */
    outbound: ruleListSchema,
    /**
     * The network ID behind each tag the rules name. calicoctl stores a tag as the network's ID, so a
     * replaced network leaves every rule naming it pointing at the old ID until the rules are written again.
     */
    tagNetworkIds: z.record(z.string(), z.string()),
    /** ETCD_AUTHORITY for calicoctl, when the host's environment does not set it. */
    etcdAuthority: z.string().optional(),
    /** What delete writes back: an adopted network's rules from before adoption; libnetwork's defaults when absent. */
    rulesOnDelete: profileRulesJsonSchema.optional(),
});

export type ProfileRulesInputs = z.output<typeof profileRulesInputs>;

/** Outputs are the inputs, with the rules as calicoctl prints them after the last apply or refresh. */
export type ProfileRulesOutputs = ProfileRulesInputs;

interface RuleSet {
    inbound: CalicoRule[];
    outbound: CalicoRule[];
}

/** Rules as `rule json` printed them, each as refresh shows it (storedRuleText). */
interface StoredRules {
    inbound: string[];
    outbound: string[];
}

const applyAttempts = 5;
const directions = ["inbound", "outbound"] as const;

function calicoctl(inputs: ProfileRulesInputs, args: string[]): string[] {
    return calicoctlRule(inputs.host, inputs.profile, inputs.etcdAuthority, args);
}

function rulesJson(profile: string, rules: RuleSet): string {
    return ruleUpdateInput(profile, {
        inbound_rules: rules.inbound.map(ruleToJson),
        outbound_rules: rules.outbound.map(ruleToJson),
    } as ProfileRulesJson);
}

/** Never throws on a rule another writer stored: a rule outside the grammar comes back as drift to show. */
function parseRulesJson(stdout: string, profile: string): StoredRules {
    let parsed: { inbound_rules?: unknown[]; outbound_rules?: unknown[] };
    try {
        parsed = JSON.parse(stdout);
    } catch {
        throw new RemoteCommandError(
            `calicoctl profile ${profile} rule json: unexpected output: ${stdout.slice(0, 200)}`,
        );
    }
    return {
        inbound: (parsed.inbound_rules ?? []).map(storedRuleText),
        outbound: (parsed.outbound_rules ?? []).map(storedRuleText),
    };
}

function sameRules(stored: string[], wanted: CalicoRule[]): boolean {
    return stored.length === wanted.length && stored.every((text, i) => text === formatRule(wanted[i]));
}

/** Writes the whole rule set and reads it back in one SSH command; retries while the read-back differs. */
async function applyRules(inputs: ProfileRulesInputs, wanted: RuleSet): Promise<StoredRules> {
    const update = command(calicoctl(inputs, ["update"]));
    // calicoctl 0.x prints its errors on stdout: the update's output goes to stderr, where a failure shows it
    const script = sh`${update} >&2 && ${command(calicoctl(inputs, ["json"]))}`;
    let observed: StoredRules | undefined;
    for (let attempt = 1; attempt <= applyAttempts; attempt++) {
        const result = await runChecked(inputs.host, script, {
            stdin: rulesJson(inputs.profile, wanted),
            shownAs: update,
        });
        observed = parseRulesJson(result.stdout, inputs.profile);
        if (sameRules(observed.inbound, wanted.inbound) && sameRules(observed.outbound, wanted.outbound)) {
            return observed;
        }
        pulumi.log.warn(
            `profile ${inputs.profile}: the rules read back differ from the ones just written (another writer?); writing again (${attempt}/${applyAttempts})`,
        );
        // a random pause, so that this write and the other writer's stop colliding
        await sleep(100 + Math.random() * 200 * attempt);
    }
    throw new RemoteCommandError(
        `profile ${inputs.profile} on ${hostLabel(inputs.host)}: after ${applyAttempts} attempts the rules read back still differ from the declared ones ` +
            `(another writer is editing this profile?): inbound [${observed!.inbound.join("; ")}], outbound [${observed!.outbound.join("; ")}]`,
    );
}

function declared(inputs: ProfileRulesInputs): RuleSet {
    return { inbound: inputs.inbound.map(parseRule), outbound: inputs.outbound.map(parseRule) };
}

function outputsFor(inputs: ProfileRulesInputs, rules: StoredRules): ProfileRulesOutputs {
    return withoutUndefined({ ...inputs, inbound: rules.inbound, outbound: rules.outbound });
}

function sameList(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

export const profileRulesProvider: Provider<ProfileRulesInputs, ProfileRulesOutputs> = {
    configure: configureFromStack,

    /**
     * Rejects a rule outside calicoctl's grammar before anything runs, and stores each rule in calicoctl's own
     * spelling.
     */
    async check(_olds, news) {
        return checkInputs<ProfileRulesInputs>(profileRulesInputs, news);
    },

    async diff(_id, olds, news) {
        const replaces = (["profile", "networkId"] as const).filter((key) => olds[key] !== news[key]);
        const changes =
            replaces.length > 0 ||
            directions.some((d) => !sameList(olds[d], news[d])) ||
            !sameList(olds.tagNetworkIds, news.tagNetworkIds) ||
            !sameList(olds.rulesOnDelete, news.rulesOnDelete) ||
            olds.etcdAuthority !== news.etcdAuthority ||
            !sameHost(olds.host, news.host);
        // a new profile's rules must not be reset to the defaults by the old resource's delete
        return { changes, replaces, deleteBeforeReplace: true };
    },

    async create(inputs) {
        const applied = await applyRules(inputs, declared(inputs));
        return { id: `${inputs.networkId}`, outs: outputsFor(inputs, applied) };
    },

    async read(id, props) {
        // the profile is named after the network; without props, the id (the network ID) names it
        const known = {
            ...props,
            host: requireHost(props, `profile ${props?.profile ?? id}`),
            profile: props?.profile ?? id,
            networkId: props?.networkId ?? id,
        } as ProfileRulesOutputs;
        const argv = calicoctl(known, ["json"]);
        const result = await runChecked(known.host, argv, { accept: (r) => isProfileMissing(r.stdout, known.profile) });
        if (result.code !== 0) {
            return gone();
        }
        const outs = outputsFor(known, parseRulesJson(result.stdout, known.profile));
        return { id, props: outs, inputs: outs };
    },

    async update(_id, _olds, news) {
        const applied = await applyRules(news, declared(news));
        return { outs: outputsFor(news, applied) };
    },

    /**
     * Gives the profile back what it had before this stack: libnetwork's defaults, or an adopted network's
     * own rules; a profile already gone (its network removed) is fine.
     */
    async delete(_id, props) {
        await restoreProfileRules(
            props.host,
            props.profile,
            props.etcdAuthority,
            props.rulesOnDelete ?? libnetworkDefaultRules(props.profile),
        );
    },
};
