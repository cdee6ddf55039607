// The observed matrix, read from the collector's GET /responses the way the
// stars UI reads it.
//
// mesosphere/star tag v0.5.0:
// - src/collect/http/json.rs, ResponsesSerializer: `{"responses": {"<resource id>":
//   {"url": .., "statusCode": .., "json": <probe body>} | null}}`; null until a fetch
//   succeeds, and again after one fails (src/collect/resource/client.rs,
//   ClientHandler::notify saves None on an HTTP error or a body that is not JSON).
// - src/probe/http (the probe's GET /status): `{"status": {"targets": [{"url": ..,
//   "reachable": bool}]}}`; a target is reachable when any HTTP response came back
//   (src/probe/status/client.rs).
// - assets/index.html: a node per non-null response; an edge n -> m when a URL in
//   n's targets equals m's response URL exactly (the last such target wins).
// Neither program stamps its data with a time, so freshness is the caller's
// call (`fresh`): after a change, wait a few probe rounds before trusting it.
import { z } from "zod";
import { DeclaredMatrix, MatrixNode, ObservedEdge, ObservedMatrix, Reach } from "./matrix";
import { VerifyInputError } from "../errors";

/** What verify got when it asked the collector for /responses. */
export type CollectorFetch =
    | {
          kind: "responses";
          /** The response body. */ body: string;
          /** Whether the probes have had time to see the current policy. */ fresh: boolean;
      }
    | { kind: "unreachable"; /** e.g. "connect timed out after 10 s". */ reason: string }
    | { kind: "not-fetched"; /** Why not, e.g. "no SSH connection to the master". */ reason: string };

interface StarTarget {
    /** The URL the probe fetches. */
    url: string;
    /** Whether its last fetch got any HTTP response. */
    reachable: boolean;
}

interface StarResponse {
    /** The resource URL the collector fetched. */
    url: string;
    /** The probe's HTTP status. */
    statusCode: number;
    /** The probe's targets, or undefined when its body is not a star-probe status. */
    targets?: StarTarget[];
}

/** Resource id -> the collector's last response from it (null: the last fetch failed). */
export type StarResponses = ReadonlyMap<string, StarResponse | null>;

const responsesSchema = z.object({
    responses: z.record(
        z.string(),
        z.union([z.null(), z.object({ url: z.string(), statusCode: z.number().int(), json: z.unknown() })]),
    ),
});

const probeStatusSchema = z.object({
    status: z.object({ targets: z.array(z.object({ url: z.string(), reachable: z.boolean() })) }),
});

export function parseResponses(body: string): StarResponses {
    let json: unknown;
    try {
        json = JSON.parse(body);
    } catch (error) {
        throw new VerifyInputError(
            `the collector's /responses is not JSON (${error instanceof Error ? error.message : String(error)}): ${body.slice(0, 120)}`,
        );
    }
    const parsed = responsesSchema.safeParse(json);
    if (!parsed.success) {
        const issues = parsed.error.issues
            .map((issue) => `${issue.path.join(".") || "(top)"}: ${issue.message}`)
            .join("; ");
        throw new VerifyInputError(`the collector's /responses is not star-collect's {"responses": {...}}: ${issues}`);
    }
    const statusSchema = probeStatusSchema;
    return new Map(
        Object.entries(parsed.data.responses).map(([id, response]) => {
            if (response === null) {
                return [id, null];
            }
            const status = statusSchema.safeParse(response.json);
            return [
                id,
                {
                    url: response.url,
                    statusCode: response.statusCode,
                    targets: status.success ? status.data.status.targets : undefined,
                },
            ];
        }),
    );
}

export function observedMatrix(declared: DeclaredMatrix, fetch: CollectorFetch): ObservedMatrix {
    const nodes = new Map(declared.nodes.map((node) => [node.id, node]));
    const responses: StarResponses = fetch.kind === "responses" ? parseResponses(fetch.body) : new Map();
    const notes = responseNotes(declared.nodes, responses);
    const edges = declared.edges.map(({ source, target }): ObservedEdge => {
        const from = nodes.get(source)!;
        const to = nodes.get(target)!;
        const edge = { source, target };
        if (from.kind === "outside") {
            return { ...edge, ...outsideEdge(fetch) };
        }
        if (fetch.kind !== "responses") {
            return { ...edge, ...unknown(`no data from the collector: ${fetch.reason}`) };
        }
        if (!fetch.fresh) {
            return { ...edge, ...unknown("no fresh probe results since the last change") };
        }
        return {
            ...edge,
            ...(from.kind === "collector" ? collectorEdge(to, responses) : probeEdge(from, to, responses)),
        };
    });
    return { edges, notes };
}

type EdgeState = { reach: Reach; drawn: boolean; detail: string };

function unknown(detail: string): EdgeState {
    return { reach: "unknown", drawn: false, detail };
}

function outsideEdge(fetch: CollectorFetch): EdgeState {
    switch (fetch.kind) {
        case "responses":
            return { reach: "reachable", drawn: true, detail: "verify's own fetch of /responses got an answer" };
        case "unreachable":
            return {
                reach: "blocked",
                drawn: true,
                detail: `verify's own fetch of /responses failed: ${fetch.reason}`,
            };
        case "not-fetched":
            return unknown(`not fetched: ${fetch.reason}`);
    }
}

function collectorEdge(probe: MatrixNode, responses: StarResponses): EdgeState {
    if (!responses.has(probe.label)) {
        return { reach: "blocked", drawn: false, detail: `the collector has no resource ${probe.label}` };
    }
    return responses.get(probe.label) === null
        ? { reach: "blocked", drawn: true, detail: `the collector's last fetch of ${probe.label} failed` }
        : { reach: "reachable", drawn: true, detail: `the collector holds ${probe.label}'s status` };
}

function probeEdge(source: MatrixNode, target: MatrixNode, responses: StarResponses): EdgeState {
    const response = responses.get(source.label);
    if (response === undefined || response === null) {
        return unknown(`no data: the collector holds no status of ${source.label}`);
    }
    if (response.targets === undefined) {
        return unknown(`${source.label}'s answer is not a star-probe status`);
    }
    const targetUrl = responses.get(target.label)?.url ?? target.resourceUrl;
    const listed = response.targets.filter((t) => t.url === targetUrl);
    if (listed.length === 0) {
        return {
            reach: "blocked",
            drawn: false,
            detail: `${source.label} does not probe ${targetUrl ?? `${target.id} (no resource URL)`}`,
        };
    }
    const reachable = listed[listed.length - 1].reachable;
    return {
        reach: reachable ? "reachable" : "blocked",
        drawn: true,
        detail: `${source.label} reports ${targetUrl} ${reachable ? "reachable" : "unreachable"}`,
    };
}

function responseNotes(nodes: readonly MatrixNode[], responses: StarResponses): string[] {
    const notes: string[] = [];
    const probes = nodes.filter((node) => node.kind === "probe");
    for (const [id, response] of responses) {
        const node = probes.find((probe) => probe.label === id);
        if (node === undefined) {
            notes.push(`the collector has a resource ${id} that the deployed resources file does not list`);
        } else if (response !== null && response.url !== node.resourceUrl) {
            notes.push(
                `the collector fetches ${id} at ${response.url}, but the deployed resources file says ${node.resourceUrl}`,
            );
        }
    }
    return notes;
}
