// `verify --plan`: the edges `up` would open and close. The same group is evaluated twice, as the stack output
// `connectivity` does (components/connectivity.ts): under the stack's policy (what `up` writes) and under the rules
// the cluster's profiles hold now (read with calicoctl, planCommand.ts). Only the rules differ between the two, so
// every edge that differs is one a policy change or a hand edit on the cluster makes.
import { formatRule, outsideGrammar, parseRule } from "@calico-stars/providers/calico";
import type { CalicoRule } from "@calico-stars/providers/calico";
import {
    ChainOutcome,
    DeclaredEdge,
    describeOutcome,
    describeRule,
    isDrop,
    MatrixNode,
    PolicyProfiles,
    Reach,
    RuleRef,
} from "@calico-stars/providers/verify";
import type { StarsConfig } from "../../components/config";
import { configuredMatrix, connectivityKey, edgeEffect, stackProfiles } from "../../components/connectivity";

const directions = ["inbound", "outbound"] as const;

/** A profile's rules as `calicoctl profile <P> rule json` gives them back, each as refresh shows it. */
export interface StoredProfile {
    inbound: readonly string[];
    outbound: readonly string[];
}

/** Profile -> its stored rules; a profile the cluster does not have is absent. */
export type ClusterRules = ReadonlyMap<string, StoredProfile>;

/** What an edge comes to on one side. */
interface PlanSide {
    reach: Reach;
    /** In one line, as the stack output `connectivity` says it. */
    effect: string;
    /** The rules behind it: those that let it through, or the one that drops it or that verify cannot decide. */
    rules: RuleRef[];
}

/**
 * opens, closes: its reach changes; unknown: one side cannot be told and the rules differ; rules-only: the same reach
 * under other rules; none: the same.
 */
type EdgeChange = "opens" | "closes" | "unknown" | "rules-only" | "none";

export interface PlanEdge {
    /** As `connectivity` names it, e.g. "client -> frontend:9000". */
    edge: string;
    source: string;
    target: string;
    port?: number;
    /** Whether the stars UI draws it (the source probes the target). */
    drawn: boolean;
    change: EdgeChange;
    /** Under the cluster's current rules. */
    now: PlanSide;
    /** Under the stack's policy, once `up` has written it. */
    afterUp: PlanSide;
}

/**
 * unchanged: up opens or closes no edge; changes: it does; incomplete: nothing changes that can be told, some edge
 * cannot.
 */
type PlanResult = "unchanged" | "changes" | "incomplete";

const planExitCodes = { unchanged: 0, changes: 1, incomplete: 2 } as const satisfies Record<PlanResult, number>;

export interface Plan {
    schemaVersion: 1;
    result: PlanResult;
    exitCode: (typeof planExitCodes)[PlanResult];
    /** e.g. "10 edges: 1 opens, 1 closes, 0 unknown, 0 rules only, 8 unchanged". */
    summary: string;
    /** The demo's nodes, as verify's report has them. */
    nodes: MatrixNode[];
    /** Every edge, in verify's order. */
    edges: PlanEdge[];
    /** What the cluster's rules hold that is worth knowing (profiles missing, rules verify cannot evaluate). */
    notes: string[];
}

interface ClusterProfiles {
    profiles: PolicyProfiles;
    /** The first rule of a chain that verify cannot evaluate: the chain is evaluated up to it. */
    cutShort: RuleRef[];
    notes: string[];
}

/** The cluster's profiles as Felix sees them; a chain holding a rule outside the grammar is kept up to that rule. */
function clusterProfiles(networks: readonly string[], rules: ClusterRules): ClusterProfiles {
    const cutShort: RuleRef[] = [];
    const notes: string[] = [];
    const profiles = new Map(
        networks.flatMap((name) => {
            const stored = rules.get(name);
            if (stored === undefined) {
                notes.push(`profile ${name} does not exist on the cluster: Felix drops everything to and from it`);
                return [];
            }
            const chain = (direction: (typeof directions)[number]): CalicoRule[] => {
                const parsed: CalicoRule[] = [];
                for (const [index, text] of stored[direction].entries()) {
                    const rule = evaluable(text);
                    if (rule === undefined) {
                        const ref = { profile: name, direction, position: index + 1, text };
                        cutShort.push(ref);
                        notes.push(`${describeRule(ref)} is outside the grammar verify evaluates`);
                        break;
                    }
                    parsed.push(rule);
                }
                return parsed;
            };
            return [[name, { name, tags: [name], inbound: chain("inbound"), outbound: chain("outbound") }] as const];
        }),
    );
    return { profiles, cutShort, notes };
}

function evaluable(text: string): CalicoRule | undefined {
    if (text.startsWith(outsideGrammar)) {
        return undefined;
    }
    try {
        return parseRule(text);
    } catch {
        return undefined;
    }
}

/** The chains ("backend inbound") whose rules are the same in the stack's policy and on the cluster. */
function sameChains(config: StarsConfig, rules: ClusterRules): Set<string> {
    const same = new Set<string>();
    for (const [name, profile] of stackProfiles(config)) {
        for (const direction of directions) {
            const declared = profile[direction].map(formatRule);
            const stored = rules.get(name)?.[direction];
            if (stored !== undefined && JSON.stringify(stored) === JSON.stringify(declared)) {
                same.add(`${name} ${direction}`);
            }
        }
    }
    return same;
}

function rulesOf(outcome: ChainOutcome): RuleRef[] {
    return "rule" in outcome ? [outcome.rule] : [];
}

function sideOf(edge: DeclaredEdge): PlanSide {
    const side = { reach: edge.reach, effect: edgeEffect(edge) };
    if (edge.cause.kind !== "policy") {
        return { ...side, rules: [] };
    }
    const verdict = edge.cause.verdict;
    const rules =
        verdict.allowed === true
            ? [verdict.outbound, verdict.inbound].filter((o) => o.kind === "allowed").flatMap(rulesOf)
            : rulesOf(verdict.deciding);
    return { ...side, rules };
}

/** A chain cut short that fell through to its end would have met the rule verify cannot evaluate. */
function clusterSide(edge: DeclaredEdge, cutShort: readonly RuleRef[]): PlanSide {
    const side = sideOf(edge);
    if (edge.cause.kind !== "policy") {
        return side;
    }
    const { outbound, inbound } = edge.cause.verdict;
    const cutAt = (outcome: ChainOutcome) =>
        outcome.kind === "default-drop"
            ? cutShort.find((ref) => ref.profile === outcome.profile && ref.direction === outcome.direction)
            : undefined;
    const cut = cutAt(outbound) ?? cutAt(inbound);
    if (cut === undefined) {
        return side;
    }
    const drop = [outbound, inbound].find((outcome) => cutAt(outcome) === undefined && isDrop(outcome));
    return drop !== undefined
        ? { reach: "blocked", effect: `blocked by ${describeOutcome(drop)}`, rules: rulesOf(drop) }
        : { reach: "unknown", effect: `unknown: depends on ${describeRule(cut)}`, rules: [cut] };
}

function changeOf(now: PlanSide, afterUp: PlanSide, sameRules: boolean): EdgeChange {
    if (sameRules || (now.reach === afterUp.reach && now.effect === afterUp.effect)) {
        return "none";
    }
    if (now.reach === "unknown" || afterUp.reach === "unknown") {
        return "unknown";
    }
    if (now.reach === afterUp.reach) {
        return "rules-only";
    }
    return afterUp.reach === "reachable" ? "opens" : "closes";
}

/** The stack's declared edges against those the cluster's current rules give. */
export function planOf(config: StarsConfig, rules: ClusterRules): Plan {
    const networks = config.networks.map((network) => network.name);
    const cluster = clusterProfiles(networks, rules);
    const afterUp = configuredMatrix(config);
    const now = configuredMatrix(config, cluster.profiles);
    const same = sameChains(config, rules);
    const profileOf = new Map(afterUp.nodes.map((node) => [node.id, node.profile]));
    // the source's outbound rules and the target's inbound ones; outside Calico an end has none
    const chainsSame = (edge: DeclaredEdge) =>
        [
            [profileOf.get(edge.source), "outbound"],
            [profileOf.get(edge.target), "inbound"],
        ].every(([profile, direction]) => profile === undefined || same.has(`${profile} ${direction}`));
    const edges = afterUp.edges.map((edge, i): PlanEdge => {
        const nowSide = clusterSide(now.edges[i], cluster.cutShort);
        const afterSide = sideOf(edge);
        return {
            edge: connectivityKey(edge),
            source: edge.source,
            target: edge.target,
            ...(edge.port === undefined ? {} : { port: edge.port }),
            drawn: edge.drawn,
            change: changeOf(nowSide, afterSide, chainsSame(edge)),
            now: nowSide,
            afterUp: afterSide,
        };
    });
    const count = (change: EdgeChange) => edges.filter((edge) => edge.change === change).length;
    const result: PlanResult =
        count("opens") + count("closes") > 0 ? "changes" : count("unknown") > 0 ? "incomplete" : "unchanged";
    return {
        schemaVersion: 1,
        result,
        exitCode: planExitCodes[result],
        summary:
            `${edges.length} edges: ${count("opens")} opens, ${count("closes")} closes, ${count("unknown")} unknown, ` +
            `${count("rules-only")} rules only, ${count("none")} unchanged`,
        // plain JSON: a node's address or profile may be undefined
        nodes: JSON.parse(JSON.stringify(afterUp.nodes)) as MatrixNode[],
        edges,
        notes: [...cluster.notes, ...afterUp.notes],
    };
}

/** The plan as `verify --plan --json` prints it. */
export function planJson(plan: Plan): string {
    return `${JSON.stringify(plan, null, 2)}\n`;
}

const marks: Record<Reach, string> = { reachable: "✔", blocked: "✘", unknown: "?" };
const ansi = { green: "\u001b[32m", red: "\u001b[1;31m", yellow: "\u001b[33m", bold: "\u001b[1m", reset: "\u001b[0m" };
const changeColour: Partial<Record<EdgeChange, string>> = { opens: ansi.green, closes: ansi.red, unknown: ansi.yellow };

/** The plan as a person reads it: every edge now and after up, then each change with the rules behind both sides. */
export function formatPlan(plan: Plan, options: { color: boolean }): string {
    const paint = (code: string | undefined, text: string) =>
        options.color && code !== undefined ? `${code}${text}${ansi.reset}` : text;
    const headline = {
        unchanged: "verify --plan: up would open or close no edge",
        changes: "verify --plan: up would open or close edges",
        incomplete: "verify --plan: INCOMPLETE (some edges unknown)",
    }[plan.result];
    const width = Math.max("edge".length, ...plan.edges.map((edge) => edge.edge.length));
    const row = (edge: PlanEdge) => {
        const change = edge.change === "none" ? "" : paint(changeColour[edge.change], edge.change);
        return `${edge.edge.padEnd(width)}  ${marks[edge.now.reach].padEnd(3)}  ${marks[edge.afterUp.reach].padEnd(8)}  ${change}`;
    };
    const changed = plan.edges.filter((edge) => edge.change !== "none");
    const lines = [
        paint(
            plan.result === "changes" ? ansi.bold : plan.result === "incomplete" ? ansi.yellow : undefined,
            `${headline}: ${plan.summary}`,
        ),
        "",
        `${"edge".padEnd(width)}  now  after up`,
        ...plan.edges.map((edge) => row(edge).trimEnd()),
        "",
        `${marks.reachable} allowed   ${marks.blocked} blocked   ${marks.unknown} unknown`,
        ...changed.flatMap((edge) => [
            "",
            `${paint(changeColour[edge.change], edge.change)} ${edge.edge}`,
            `    now:      ${edge.now.effect}`,
            `    after up: ${edge.afterUp.effect}`,
        ]),
    ];
    if (plan.notes.length > 0) {
        lines.push("", ...plan.notes.map((note) => `note: ${note}`));
    }
    return `${lines.join("\n")}\n`;
}
