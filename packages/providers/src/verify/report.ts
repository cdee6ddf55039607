// The declared matrix held against the observed one: one report, with every
// edge, every mismatch naming the edge and the rule that should have allowed
// or blocked it, and the exit status that goes with it. Plain JSON data, so it
// prints with --json as it is.
import { describeOutcome, FlowVerdict, NearMiss, RuleRef } from "./felixEvaluator";
import { DeclaredCause, DeclaredEdge, DeclaredMatrix, edgeName, MatrixNode, ObservedMatrix, Reach } from "./matrix";
import type { Direction } from "./policyProfiles";

export type EdgeStatus = "match" | "mismatch" | "unknown";
export type VerifyResult = "match" | "mismatch" | "incomplete";

/** 0: observed equals declared; 1: some edge differs; 2: nothing differs but some edge could not be told. */
export const verifyExitCodes: Readonly<Record<VerifyResult, 0 | 1 | 2>> = { match: 0, mismatch: 1, incomplete: 2 };

/** What keeps a declared edge from being reachable. */
export type EdgeBlock =
    | { kind: "rule"; rule: RuleRef; unprogrammable?: string }
    | { kind: "default-drop"; profile: string; direction: Direction; nearMisses: NearMiss[] }
    | { kind: "missing-profile"; profile: string; direction: Direction }
    | Exclude<DeclaredCause, { kind: "policy" }>;

export interface DeclaredSide {
    /** What the policy and deployment make of the edge. */
    reach: Reach;
    /** Whether the stars UI would draw it. */
    drawn: boolean;
    /** Why, in one line. */
    reason: string;
    /** When reachable: the rules that let it through (the source's outbound, the target's inbound). */
    allowedBy?: RuleRef[];
    /** When blocked: what blocks it. */
    blockedBy?: EdgeBlock;
    /** When unknown: the rule verify cannot decide, and the clauses it needs. */
    undecidedBy?: { rule: RuleRef; clauses: string[] };
}

export interface ObservedSide {
    /** What the collector's data shows. */
    reach: Reach;
    /** Whether the data has the edge at all. */
    drawn: boolean;
    /** Where that comes from. */
    detail: string;
}

export interface ReportEdge {
    /** Source node id. */
    source: string;
    /** Target node id. */
    target: string;
    /** The URL fetched, if any. */
    url?: string;
    /** The TCP port. */
    port?: number;
    /** The declared side. */
    declared: DeclaredSide;
    /** The observed side. */
    observed: ObservedSide;
    /** Whether they agree. */
    status: EdgeStatus;
}

export interface Mismatch {
    /** "source -> target". */
    edge: string;
    /** Source node id. */
    source: string;
    /** Target node id. */
    target: string;
    /** The declared reach. */
    declared: Reach;
    /** The observed reach. */
    observed: Reach;
    /** What the policy says should have happened. */
    shouldHaveBeen: "allowed" | "blocked";
    /** The rule (or default drop, or deployment fact) that should have allowed or blocked it. */
    by: string;
    /** The whole finding in one line. */
    message: string;
}

export interface VerifyReport {
    /** The report format's version. */
    schemaVersion: 1;
    /** The overall finding. */
    result: VerifyResult;
    /** The process exit status that goes with it. */
    exitCode: 0 | 1 | 2;
    /** e.g. "10 edges: 9 match, 1 mismatch, 0 unknown". */
    summary: string;
    /** The nodes, as in the declared matrix. */
    nodes: MatrixNode[];
    /** Every edge, declared and observed side by side. */
    edges: ReportEdge[];
    /** The edges that differ. */
    mismatches: Mismatch[];
    /** Notes from both matrices. */
    notes: string[];
}

export function compareMatrices(declared: DeclaredMatrix, observed: ObservedMatrix): VerifyReport {
    const observedByName = new Map(observed.edges.map((edge) => [edgeName(edge), edge]));
    const edges = declared.edges.map((edge): ReportEdge => {
        const seen = observedByName.get(edgeName(edge));
        const observedSide: ObservedSide = seen === undefined
            ? { reach: "unknown", drawn: false, detail: "not in the observed matrix" }
            : { reach: seen.reach, drawn: seen.drawn, detail: seen.detail };
        return {
            source: edge.source,
            target: edge.target,
            ...(edge.url === undefined ? {} : { url: edge.url }),
            ...(edge.port === undefined ? {} : { port: edge.port }),
            declared: declaredSide(edge),
            observed: observedSide,
            status: statusOf(edge.reach, observedSide.reach),
        };
    });
    const mismatches = edges.filter((edge) => edge.status === "mismatch").map(mismatchOf);
    const count = (status: EdgeStatus) => edges.filter((edge) => edge.status === status).length;
    const result: VerifyResult = mismatches.length > 0 ? "mismatch" : count("unknown") > 0 ? "incomplete" : "match";
    return {
        schemaVersion: 1,
        result,
        exitCode: verifyExitCodes[result],
        summary: `${edges.length} edges: ${count("match")} match, ${count("mismatch")} mismatch, ${count("unknown")} unknown`,
        nodes: declared.nodes,
        edges,
        mismatches,
        notes: [...declared.notes, ...observed.notes],
    };
}

/** The report as `verify --json` prints it. */
export function reportJson(report: VerifyReport): string {
    return `${JSON.stringify(report, null, 2)}\n`;
}

function statusOf(declared: Reach, observed: Reach): EdgeStatus {
    if (declared === "unknown" || observed === "unknown") {
        return "unknown";
    }
    return declared === observed ? "match" : "mismatch";
}

function declaredSide(edge: DeclaredEdge): DeclaredSide {
    const side: DeclaredSide = { reach: edge.reach, drawn: edge.drawn, reason: edge.reason };
    if (edge.cause.kind !== "policy") {
        return { ...side, blockedBy: edge.cause };
    }
    return { ...side, ...policySide(edge.cause.verdict) };
}

function policySide(verdict: FlowVerdict): Pick<DeclaredSide, "allowedBy" | "blockedBy" | "undecidedBy"> {
    const deciding = verdict.deciding;
    if (verdict.allowed === true) {
        return { allowedBy: [verdict.outbound, verdict.inbound].flatMap((outcome) => (outcome.kind === "allowed" ? [outcome.rule] : [])) };
    }
    switch (deciding.kind) {
        case "denied":
            return { blockedBy: { kind: "rule", rule: deciding.rule, ...(deciding.unprogrammable === undefined ? {} : { unprogrammable: deciding.unprogrammable }) } };
        case "default-drop":
            return { blockedBy: { kind: "default-drop", profile: deciding.profile, direction: deciding.direction, nearMisses: deciding.nearMisses } };
        case "missing-profile":
            return { blockedBy: { kind: "missing-profile", profile: deciding.profile, direction: deciding.direction } };
        case "undecided":
            return { undecidedBy: { rule: deciding.rule, clauses: deciding.clauses } };
        default:
            return {};
    }
}

function mismatchOf(edge: ReportEdge): Mismatch {
    const shouldHaveBeen = edge.declared.reach === "reachable" ? "allowed" : "blocked";
    const by = shouldHaveBeen === "allowed"
        ? (edge.declared.allowedBy ?? []).map((rule) => `${rule.profile} ${rule.direction} rule ${rule.position} "${rule.text}"`).join(" and ") || edge.declared.reason
        : blockDescription(edge);
    const target = edge.url === undefined ? `${edgeName(edge)}${edge.port === undefined ? "" : ` (tcp ${edge.port})`}` : `${edgeName(edge)} (${edge.url})`;
    return {
        edge: edgeName(edge),
        source: edge.source,
        target: edge.target,
        declared: edge.declared.reach,
        observed: edge.observed.reach,
        shouldHaveBeen,
        by,
        message: `${target}: declared ${edge.declared.reach}, observed ${edge.observed.reach} (${edge.observed.detail}); should have been ${shouldHaveBeen} by ${by}`,
    };
}

function blockDescription(edge: ReportEdge): string {
    const block = edge.declared.blockedBy;
    if (block === undefined) {
        return edge.declared.reason;
    }
    switch (block.kind) {
        case "rule":
            return describeOutcome({ kind: "denied", rule: block.rule, unprogrammable: block.unprogrammable });
        case "default-drop":
        case "missing-profile":
            return describeOutcome(block);
        default:
            return edge.declared.reason;
    }
}
