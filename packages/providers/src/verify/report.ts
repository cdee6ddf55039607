// The declared matrix held against the observed one: one report, with every
// edge, every mismatch naming the edge and the rule that should have allowed
// or blocked it, and the exit status that goes with it. Plain JSON data, so it
// prints with --json as it is.
import { z } from "zod";
import { describeOutcome, FlowVerdict, nearMissSchema, ruleRefSchema } from "./felixEvaluator";
import {
    DeclaredEdge,
    DeclaredMatrix,
    deploymentCauseSchema,
    edgeName,
    matrixNodeSchema,
    ObservedMatrix,
    Reach,
    reachSchema,
} from "./matrix";
import { directionSchema } from "./policyProfiles";

const edgeStatusSchema = z.enum(["match", "mismatch", "unknown"]);
const verifyResultSchema = z.enum(["match", "mismatch", "incomplete"]);

/** 0: observed equals declared; 1: some edge differs; 2: nothing differs but some edge could not be told. */
export const verifyExitCodes = { match: 0, mismatch: 1, incomplete: 2 } as const satisfies Record<
    z.output<typeof verifyResultSchema>,
    number
>;

const edgeBlockSchema = z
    .discriminatedUnion("kind", [
        z.object({ kind: z.literal("rule"), rule: ruleRefSchema, unprogrammable: z.string().optional() }).strict(),
        z
            .object({
                kind: z.literal("default-drop"),
                profile: z.string(),
                direction: directionSchema,
                nearMisses: z.array(nearMissSchema),
            })
            .strict(),
        z.object({ kind: z.literal("missing-profile"), profile: z.string(), direction: directionSchema }).strict(),
        ...deploymentCauseSchema.options,
    ])
    .describe("what keeps the edge from being reachable");

const declaredSideSchema = z
    .object({
        /** What the policy and deployment make of the edge. */
        reach: reachSchema,
        drawn: z.boolean().describe("whether the stars UI would draw this edge"),
        /** Why, in one line. */
        reason: z.string(),
        /** When reachable: the rules that let it through (the source's outbound, the target's inbound). */
        allowedBy: z.array(ruleRefSchema).optional(),
        /** When blocked: what blocks it. */
        blockedBy: edgeBlockSchema.optional(),
        /** When unknown: the rule verify cannot decide, and the clauses it needs. */
        undecidedBy: z
            .object({ rule: ruleRefSchema, clauses: z.array(z.string()) })
            .strict()
            .optional(),
    })
    .strict();

const observedSideSchema = z
    .object({
        /** What the collector's data shows. */
        reach: reachSchema,
        /** Whether the data has the edge at all. */
        drawn: z.boolean(),
        /** Where that comes from. */
        detail: z.string(),
    })
    .strict();

const reportEdgeSchema = z
    .object({
        /** Source node id. */
        source: z.string(),
        /** Target node id. */
        target: z.string(),
        /** The URL fetched, if any. */
        url: z.string().optional(),
        /** The TCP port. */
        port: z.number().int().optional(),
        declared: declaredSideSchema,
        observed: observedSideSchema,
        /** Whether they agree. */
        status: edgeStatusSchema,
    })
    .strict();

const mismatchSchema = z
    .object({
        edge: z.string().describe('"source -> target"'),
        /** Source node id. */
        source: z.string(),
        /** Target node id. */
        target: z.string(),
        declared: reachSchema,
        observed: reachSchema,
        /** What the policy says should have happened. */
        shouldHaveBeen: z.enum(["allowed", "blocked"]),
        by: z
            .string()
            .describe("the rule, default drop or deployment fact that should have allowed or blocked the edge"),
        /** The whole finding in one line. */
        message: z.string(),
    })
    .strict();

/** What `verify --json` prints (its JSON Schema is generated from this: npm run verify:schema). */
export const verifyReportSchema = z
    .object({
        /** The report format's version. */
        schemaVersion: z.literal(1),
        /** The overall finding. */
        result: verifyResultSchema,
        exitCode: z.union([z.literal(0), z.literal(1), z.literal(2)]).describe("0 match, 1 mismatch, 2 incomplete"),
        /** e.g. "10 edges: 9 match, 1 mismatch, 0 unknown". */
        summary: z.string(),
        /** The nodes, as in the declared matrix. */
        nodes: z.array(matrixNodeSchema),
        /** Every edge, declared and observed side by side. */
        edges: z.array(reportEdgeSchema),
        /** The edges that differ. */
        mismatches: z.array(mismatchSchema),
        /** Notes from both matrices. */
        notes: z.array(z.string()),
    })
    .strict()
    .describe("calico-stars verify: the declared reachability matrix against the observed one");

type EdgeStatus = z.output<typeof edgeStatusSchema>;
export type VerifyResult = z.output<typeof verifyResultSchema>;
type DeclaredSide = z.output<typeof declaredSideSchema>;
type ObservedSide = z.output<typeof observedSideSchema>;
export type ReportEdge = z.output<typeof reportEdgeSchema>;
export type Mismatch = z.output<typeof mismatchSchema>;
export type VerifyReport = z.output<typeof verifyReportSchema>;

export function compareMatrices(declared: DeclaredMatrix, observed: ObservedMatrix): VerifyReport {
    const observedByName = new Map(observed.edges.map((edge) => [edgeName(edge), edge]));
    const edges = declared.edges.map((edge): ReportEdge => {
        const seen = observedByName.get(edgeName(edge));
        const observedSide: ObservedSide =
            seen === undefined
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
        return {
            allowedBy: [verdict.outbound, verdict.inbound].flatMap((outcome) =>
                outcome.kind === "allowed" ? [outcome.rule] : [],
            ),
        };
    }
    switch (deciding.kind) {
        case "denied":
            return {
                blockedBy: {
                    kind: "rule",
                    rule: deciding.rule,
                    ...(deciding.unprogrammable === undefined ? {} : { unprogrammable: deciding.unprogrammable }),
                },
            };
        case "default-drop":
            return {
                blockedBy: {
                    kind: "default-drop",
                    profile: deciding.profile,
                    direction: deciding.direction,
                    nearMisses: deciding.nearMisses,
                },
            };
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
    const by =
        shouldHaveBeen === "allowed"
            ? (edge.declared.allowedBy ?? [])
                  .map((rule) => `${rule.profile} ${rule.direction} rule ${rule.position} "${rule.text}"`)
                  .join(" and ") || edge.declared.reason
            : blockDescription(edge);
    const target =
        edge.url === undefined
            ? `${edgeName(edge)}${edge.port === undefined ? "" : ` (tcp ${edge.port})`}`
            : `${edgeName(edge)} (${edge.url})`;
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
