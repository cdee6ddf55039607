// The schema of `verify --json`: the VerifyReport, in zod, exported as JSON
// Schema (draft 2020-12) with zod 4's z.toJSONSchema. The generated schema is
// committed next to this file (verifyReport.schema.json; `npm run
// verify:schema` writes it) and a unit test keeps the two equal.
import { z } from "zod";

const reach = z.enum(["reachable", "blocked", "unknown"]).describe("reachable, blocked, or unknown (no data, or it depends on something verify does not know)");
const direction = z.enum(["inbound", "outbound"]);
const clause = z.enum(["protocol", "icmp_type", "icmp_code", "src_tag", "src_net", "src_ports", "dst_tag", "dst_net", "dst_ports"]);

const ruleRef = z.object({
    profile: z.string().describe("the profile (Docker network) that holds the rule"),
    direction,
    position: z.number().int().min(1).describe("1-based, as `calicoctl profile <P> rule show` numbers it"),
    text: z.string().describe("the rule as calicoctl prints it"),
}).strict();

const nearMiss = z.object({ rule: ruleRef, clause: clause.describe("the one clause that did not match") }).strict();

const edgeBlock = z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("rule"), rule: ruleRef, unprogrammable: z.string().optional() }).strict(),
    z.object({ kind: z.literal("default-drop"), profile: z.string(), direction, nearMisses: z.array(nearMiss) }).strict(),
    z.object({ kind: z.literal("missing-profile"), profile: z.string(), direction }).strict(),
    z.object({ kind: z.literal("unresolved"), host: z.string(), served: z.string().optional() }).strict(),
    z.object({ kind: z.literal("no-listener"), port: z.number().int(), listenPort: z.number().int().optional() }).strict(),
    z.object({ kind: z.literal("not-probed") }).strict(),
    z.object({ kind: z.literal("bad-url"), problem: z.string() }).strict(),
]).describe("what keeps the edge from being reachable");

const node = z.object({
    id: z.string().describe("the app id in the Marathon group, or \"outside\""),
    kind: z.enum(["outside", "collector", "probe"]),
    label: z.string().describe("what the picture writes on the node (a probe's resource id)"),
    resourceUrl: z.string().optional(),
    profile: z.string().optional(),
    address: z.string().optional(),
}).strict();

const edge = z.object({
    source: z.string(),
    target: z.string(),
    url: z.string().optional(),
    port: z.number().int().optional(),
    declared: z.object({
        reach,
        drawn: z.boolean().describe("whether the stars UI would draw this edge"),
        reason: z.string(),
        allowedBy: z.array(ruleRef).optional(),
        blockedBy: edgeBlock.optional(),
        undecidedBy: z.object({ rule: ruleRef, clauses: z.array(z.string()) }).strict().optional(),
    }).strict(),
    observed: z.object({ reach, drawn: z.boolean(), detail: z.string() }).strict(),
    status: z.enum(["match", "mismatch", "unknown"]),
}).strict();

const mismatch = z.object({
    edge: z.string().describe("\"source -> target\""),
    source: z.string(),
    target: z.string(),
    declared: reach,
    observed: reach,
    shouldHaveBeen: z.enum(["allowed", "blocked"]),
    by: z.string().describe("the rule, default drop or deployment fact that should have allowed or blocked the edge"),
    message: z.string(),
}).strict();

export const verifyReportSchema = z.object({
    schemaVersion: z.literal(1),
    result: z.enum(["match", "mismatch", "incomplete"]),
    exitCode: z.union([z.literal(0), z.literal(1), z.literal(2)]).describe("0 match, 1 mismatch, 2 incomplete"),
    summary: z.string(),
    nodes: z.array(node),
    edges: z.array(edge),
    mismatches: z.array(mismatch),
    notes: z.array(z.string()),
}).strict().describe("calico-stars verify: the declared reachability matrix against the observed one");

export const reportSchemaFileName = "verifyReport.schema.json";

/** The JSON Schema text as committed: two-space indent, trailing newline. */
export function verifyReportJsonSchemaText(): string {
    const schema = z.toJSONSchema(verifyReportSchema, { target: "draft-2020-12" });
    return `${JSON.stringify({ ...schema, title: "calico-stars verify report" }, null, 2)}\n`;
}
