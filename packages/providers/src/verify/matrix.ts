// The reachability matrix: who should reach (declared) or does reach
// (observed) whom. Nodes are the stars demo's parts plus the outside world the
// UI is browsed from; edges are the ones the demo can show.
import type { FlowVerdict } from "./felixEvaluator";

export type Reach = "reachable" | "blocked" | "unknown";

export type NodeKind = "outside" | "collector" | "probe";

export interface MatrixNode {
    /** The app's id in the Marathon group; "outside" for the world the UI is browsed from. */
    id: string;
    /** Its part in the demo. */
    kind: NodeKind;
    /** What the picture writes on it: a probe's resource id (as the stars UI does), else the id. */
    label: string;
    /** The probe's URL in the collector's resources file: the UI draws an edge to it when a target URL equals it. */
    resourceUrl?: string;
    /** Its Calico profile (Docker network). */
    profile?: string;
    /** Its address, when known. */
    address?: string;
}

/** Why a declared edge is what it is. */
export type DeclaredCause =
    | { kind: "policy"; verdict: FlowVerdict }
    | { kind: "unresolved"; host: string; served?: string }
    | { kind: "no-listener"; port: number; listenPort?: number }
    | { kind: "not-probed" }
    | { kind: "bad-url"; problem: string };

export interface DeclaredEdge {
    /** Source node id. */
    source: string;
    /** Target node id. */
    target: string;
    /** The URL the source fetches, when it fetches one (not for the UI's DNAT'd connection). */
    url?: string;
    /** The TCP port the connection goes to. */
    port?: number;
    /** What the policy and the deployment together make of it. */
    reach: Reach;
    /** Whether the stars UI would draw this edge at all (the source probes the target's resource URL). */
    drawn: boolean;
    /** Why. */
    cause: DeclaredCause;
    /** The cause in one line. */
    reason: string;
}

export interface DeclaredMatrix {
    /** Every node, outside first, then the collector, then the probes in resources-file order. */
    nodes: MatrixNode[];
    /** Every checked edge: outside -> collector, collector -> each probe, each probe -> each other probe. */
    edges: DeclaredEdge[];
    /** Things worth knowing that are not edges (URLs no node answers to, ...). */
    notes: string[];
}

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
