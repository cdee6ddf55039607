// The reachability matrix: who should reach (declared) or does reach
// (observed) whom. Nodes are the stars demo's parts plus the outside world the
// UI is browsed from; edges are the ones the demo can show.
import { z } from "zod";
import { flowVerdictSchema } from "./felixEvaluator";

export const reachSchema = z
    .enum(["reachable", "blocked", "unknown"])
    .describe("reachable, blocked, or unknown (no data, or it depends on something verify does not know)");

export const matrixNodeSchema = z
    .object({
        id: z.string().describe('the app id in the Marathon group, or "outside"'),
        /** Its part in the demo. */
        kind: z.enum(["outside", "collector", "probe"]),
        label: z.string().describe("what the picture writes on the node (a probe's resource id)"),
        /**
         * The probe's URL in the collector's resources file: the UI draws an edge to it when a target URL equals it.
         */
        resourceUrl: z.string().optional(),
        /** Its Calico profile (Docker network). */
        profile: z.string().optional(),
        /** Its address, when known. */
        address: z.string().optional(),
    })
    .strict();

/** What keeps an edge from being reachable, whatever the policy says: a fact of the deployment. */
export const deploymentCauseSchema = z.discriminatedUnion("kind", [
    /** The URL's host does not resolve; `served`, the name Mesos-DNS serves for the app instead. */
    z.object({ kind: z.literal("unresolved"), host: z.string(), served: z.string().optional() }).strict(),
    /** Nothing listens on the port; `listenPort`, where the app does listen. */
    z
        .object({ kind: z.literal("no-listener"), port: z.number().int(), listenPort: z.number().int().optional() })
        .strict(),
    /** The source does not probe the target at all. */
    z.object({ kind: z.literal("not-probed") }).strict(),
    z.object({ kind: z.literal("bad-url"), problem: z.string() }).strict(),
]);

/** Why a declared edge is what it is. */
const declaredCauseSchema = z.union([
    z.object({ kind: z.literal("policy"), verdict: flowVerdictSchema }),
    deploymentCauseSchema,
]);

const declaredEdgeSchema = z.object({
    /** Source node id. */
    source: z.string(),
    /** Target node id. */
    target: z.string(),
    /** The URL the source fetches, when it fetches one (not for the UI's DNAT'd connection). */
    url: z.string().optional(),
    /** The TCP port the connection goes to. */
    port: z.number().int().optional(),
    /** What the policy and the deployment together make of it. */
    reach: reachSchema,
    /** Whether the stars UI would draw this edge at all (the source probes the target's resource URL). */
    drawn: z.boolean(),
    /** Why. */
    cause: declaredCauseSchema,
    /** The cause in one line. */
    reason: z.string(),
});

/** Every edge of the demo, declared: what the policy and the deployment make of it. */
export const declaredMatrixSchema = z
    .object({
        /** Every node, outside first, then the collector, then the probes in resources-file order. */
        nodes: z.array(matrixNodeSchema).min(1),
        /** Every checked edge: outside -> collector, collector -> each probe, each probe -> each other probe. */
        edges: z.array(declaredEdgeSchema).min(1),
        /** Things worth knowing that are not edges (URLs no node answers to, ...). */
        notes: z.array(z.string()),
    })
    .superRefine((matrix, ctx) => {
        const ids = matrix.nodes.map((n) => n.id);
        matrix.edges.forEach((e, i) => {
            for (const end of [e.source, e.target].filter((id) => !ids.includes(id))) {
                ctx.addIssue({
                    code: "custom",
                    path: ["edges", i],
                    message: `names node "${end}", which the matrix does not have`,
                });
            }
        });
    });

export type Reach = z.output<typeof reachSchema>;
export type MatrixNode = z.output<typeof matrixNodeSchema>;
export type DeclaredCause = z.output<typeof declaredCauseSchema>;
export type DeclaredEdge = z.output<typeof declaredEdgeSchema>;
export type DeclaredMatrix = z.output<typeof declaredMatrixSchema>;

export interface ObservedEdge {
    /** Source node id. */
    source: string;
    /** Target node id. */
    target: string;
    /** What the collector's data shows. */
    reach: Reach;
    /** Whether the data has this edge at all (the source's targets list the target's URL); false when unknown. */
    drawn: boolean;
    /** Where that comes from, in one line. */
    detail: string;
}

export interface ObservedMatrix {
    /** The same edges as the declared matrix, in the same order. */
    edges: ObservedEdge[];
    /** Things worth knowing (resources the collector lists that verify does not know, ...). */
    notes: string[];
}

export function edgeName(edge: { source: string; target: string }): string {
    return `${edge.source} -> ${edge.target}`;
}
