// The picture: the declared graph beside the observed one, drawn the way the
// stars UI draws its graph (mesosphere/star tag v0.5.0, assets/index.html):
// - createGraph/findTarget: an edge n -> m only when a URL in n's targets equals
//   m's resource URL exactly;
// - createRenderer.redraw: edges first, then nodes over them; an edge in its
//   source node's colour, a quadratic curve whose control point sits a quarter
//   of the edge's length off its midpoint (computeQuadraticControlPoint), so n -> m
//   and m -> n bow apart; thick when reachable, faint when not; nodes are filled
//   circles ringed in the background colour, labelled with the resource id;
// - extractNodes: node colours in the order of the palette's `bright` entries;
//   a probe the collector holds no response from gets no node.
// Departures, for a still picture that compares: the layout is a fixed circle
// (arbor's force layout moves), an unreachable edge is dashed rather than at 10%
// alpha, a probe the collector could not fetch is drawn hollow instead of left
// out, edges end in arrowheads, the collector and the outside world are nodes
// too, and a mismatched edge is drawn in its own colour in both panels.
// verify --plan's picture is drawn the same way: the edges under the cluster's rules beside those after up, each edge
// up opens or closes in its own colour in both panels.
import { edgeName, MatrixNode, Reach, ReportEdge, VerifyReport } from "@calico-stars/providers/verify";
import type { Plan, PlanEdge } from "./plan";

export interface GraphPicture {
    /** The SVG document. */
    svg: string;
    /** Its width in pixels. */
    width: number;
    /** Its height in pixels. */
    height: number;
}

interface Point {
    x: number;
    y: number;
}

type Panel = "declared" | "observed";

/** The UI's palette (assets/index.html, `palette`). */
const background = "#2E3343";
const light = "#EFEFEF";
const nodeColours = ["#24CBFF", "#EE468A", "#2568F5", "#7F32DF", "#27C268", "#F4B826", "#F72C4F"];
const collectorColour = light;
const outsideColour = "#9AA0AE";
const unknownColour = "#8A8F9C";
/** Outside the UI's palette, so a mismatch never looks like a node's own edge. */
const mismatchColour = "#FF6A00";
/** verify --plan's: an edge up opens, and one it closes (the mismatch's orange: the cluster loses it). */
const openedColour = "#B8FF3B";
const closedColour = mismatchColour;

const panelWidth = 480;
const panelHeight = 470;
const margin = 20;
const legendHeight = 96;
const nodeRadius = 28;
const probeOrbit = 165;
const centre: Point = { x: panelWidth / 2, y: 265 };
const outsidePosition: Point = { x: 62, y: 92 };

export function renderGraphSvg(report: VerifyReport): GraphPicture {
    const positions = layout(report.nodes);
    const colours = nodeColourMap(report.nodes);
    const edgeColours = new Set<string>([mismatchColour, unknownColour, ...colours.values()]);
    const panels = (["declared", "observed"] as const).map((panel, i) =>
        panelSvg(report, panel, panelOrigin(i), positions, colours),
    );
    return svgDocument(`calico-stars verify: ${report.summary}`, edgeColours, [...panels, legendSvg(report)]);
}

/** verify --plan's picture: the edges now beside those after up, each edge up opens or closes in its own colour. */
export function renderPlanSvg(plan: Plan): GraphPicture {
    const positions = layout(plan.nodes);
    const colours = nodeColourMap(plan.nodes);
    const edgeColours = new Set<string>([openedColour, closedColour, unknownColour, ...colours.values()]);
    const titles = { now: "now: the cluster's rules", afterUp: "after up: the stack's policy" };
    const panels = (["now", "afterUp"] as const).map((side, i) =>
        panelFrame(side, titles[side], panelOrigin(i), [
            ...plan.edges.filter((edge) => edge.drawn).map((edge) => planEdgeSvg(edge, side, positions, colours)),
            ...plan.nodes.map((node) => nodeSvg(node, positions.get(node.id)!, colours.get(node.id)!, false)),
        ]),
    );
    const named = (change: PlanEdge["change"]) => {
        const edges = plan.edges.filter((edge) => edge.change === change).map((edge) => edge.edge);
        return edges.length > 0 ? ` (${edges.join(", ")})` : "";
    };
    return svgDocument(`calico-stars verify --plan: ${plan.summary}`, edgeColours, [
        ...panels,
        legendLines([
            [`${plan.result.toUpperCase()}: ${plan.summary}`],
            ["thick: allowed · dashed: blocked · dotted grey: unknown · no line: not probed"],
            [`lime: up opens it${named("opens")} · orange: up closes it${named("closes")}`],
            [edgeBowing],
        ]),
    ]);
}

function planEdgeSvg(
    edge: PlanEdge,
    side: "now" | "afterUp",
    positions: Map<string, Point>,
    colours: Map<string, string>,
): string {
    const reach = edge[side].reach;
    const colour =
        edge.change === "opens"
            ? openedColour
            : edge.change === "closes"
              ? closedColour
              : reach === "unknown"
                ? unknownColour
                : colours.get(edge.source)!;
    return pathSvg(edge, positions, {
        className: `edge${edge.change === "opens" || edge.change === "closes" ? ` ${edge.change}` : ""}`,
        attributes: `data-reach="${reach}" data-change="${edge.change}"`,
        reach,
        colour,
        title: `${edge.edge}: ${edge[side].effect}${edge.change === "none" ? "" : ` (up: ${edge.change})`}`,
    });
}

/** Two panels side by side over a legend, on the UI's background. */
function svgDocument(title: string, edgeColours: Set<string>, body: string[]): GraphPicture {
    const width = 2 * panelWidth + 3 * margin;
    const height = panelHeight + 2 * margin + legendHeight;
    const svg = [
        `<?xml version="1.0" encoding="UTF-8"?>`,
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
        `<title>${escapeXml(title)}</title>`,
        `<defs>${[...edgeColours].map(arrowMarker).join("")}</defs>`,
        `<rect width="${width}" height="${height}" fill="${background}"/>`,
        ...body,
        `</svg>`,
        ``,
    ].join("\n");
    return { svg, width, height };
}

function panelOrigin(index: number): Point {
    return { x: margin + index * (panelWidth + margin), y: margin };
}

/** Which edges a panel draws: those its side has, plus unknown observed edges the declared side draws. */
export function drawnEdges(report: VerifyReport, panel: Panel): ReportEdge[] {
    return report.edges.filter((edge) =>
        panel === "declared"
            ? edge.declared.drawn
            : edge.observed.drawn || (edge.observed.reach === "unknown" && edge.declared.drawn),
    );
}

function layout(nodes: readonly MatrixNode[]): Map<string, Point> {
    const probes = nodes.filter((node) => node.kind === "probe");
    const positions = new Map<string, Point>();
    for (const node of nodes) {
        if (node.kind === "outside") positions.set(node.id, outsidePosition);
        if (node.kind === "collector") positions.set(node.id, centre);
    }
    probes.forEach((node, i) => {
        const angle = -Math.PI / 2 + (2 * Math.PI * i) / probes.length;
        positions.set(node.id, {
            x: centre.x + probeOrbit * Math.cos(angle),
            y: centre.y + probeOrbit * Math.sin(angle),
        });
    });
    return positions;
}

function nodeColourMap(nodes: readonly MatrixNode[]): Map<string, string> {
    const probes = nodes.filter((node) => node.kind === "probe");
    return new Map(
        nodes.map((node) => [
            node.id,
            node.kind === "probe"
                ? nodeColours[probes.indexOf(node) % nodeColours.length]
                : node.kind === "collector"
                  ? collectorColour
                  : outsideColour,
        ]),
    );
}

function panelSvg(
    report: VerifyReport,
    panel: Panel,
    origin: Point,
    positions: Map<string, Point>,
    colours: Map<string, string>,
): string {
    const title =
        panel === "declared" ? "declared: the policy as Felix evaluates it" : "observed: the collector's /responses";
    const edges = drawnEdges(report, panel).map((edge) => edgeSvg(edge, panel, positions, colours));
    const nodes = report.nodes.map((node) =>
        nodeSvg(node, positions.get(node.id)!, colours.get(node.id)!, panel === "observed" && !fetched(report, node)),
    );
    return panelFrame(panel, title, origin, [...edges, ...nodes]);
}

function panelFrame(panel: string, title: string, origin: Point, content: string[]): string {
    return [
        `<g class="panel" data-panel="${panel}" transform="translate(${origin.x},${origin.y})">`,
        `<rect width="${panelWidth}" height="${panelHeight}" fill="none" stroke="#454B5E" stroke-width="1"/>`,
        `<text x="12" y="24" font-size="15" fill="${light}">${escapeXml(title)}</text>`,
        ...content,
        `</g>`,
    ].join("\n");
}

/** Whether the UI would show the node: a probe only when the collector holds its response. */
function fetched(report: VerifyReport, node: MatrixNode): boolean {
    const collector = report.nodes.find((n) => n.kind === "collector");
    return (
        node.kind !== "probe" ||
        report.edges.some(
            (edge) => edge.source === collector?.id && edge.target === node.id && edge.observed.reach === "reachable",
        )
    );
}

function edgeSvg(edge: ReportEdge, panel: Panel, positions: Map<string, Point>, colours: Map<string, string>): string {
    const reach: Reach = edge[panel].reach;
    const mismatch = edge.status === "mismatch";
    const colour = mismatch ? mismatchColour : reach === "unknown" ? unknownColour : colours.get(edge.source)!;
    const detail = panel === "declared" ? edge.declared.reason : edge.observed.detail;
    return pathSvg(edge, positions, {
        className: `edge${mismatch ? " mismatch" : ""}`,
        attributes: `data-reach="${reach}" data-status="${edge.status}"`,
        reach,
        colour,
        title: `${edgeName(edge)}: ${reach}${mismatch ? " (MISMATCH)" : ""}: ${detail}`,
    });
}

/** An edge's curve: thick when reachable, dashed when blocked, dotted when unknown, with an arrowhead. */
function pathSvg(
    edge: { source: string; target: string },
    positions: Map<string, Point>,
    look: { className: string; attributes: string; reach: Reach; colour: string; title: string },
): string {
    const style =
        look.reach === "reachable"
            ? `stroke-width="9" stroke-opacity="0.95"`
            : look.reach === "blocked"
              ? `stroke-width="3" stroke-opacity="0.7" stroke-dasharray="10 7"`
              : `stroke-width="3" stroke-opacity="0.8" stroke-dasharray="2 6"`;
    return (
        `<path class="${look.className}" data-edge="${escapeXml(`${edge.source}->${edge.target}`)}" ${look.attributes} ` +
        `d="${curve(positions.get(edge.source)!, positions.get(edge.target)!)}" fill="none" stroke="${look.colour}" ${style} marker-end="url(#${markerId(look.colour)})">` +
        `<title>${escapeXml(look.title)}</title></path>`
    );
}

/** computeQuadraticControlPoint, with both ends pulled back to the nodes' rims so the arrowhead shows. */
function curve(p1: Point, p2: Point): string {
    const vector = { x: p2.x - p1.x, y: p2.y - p1.y };
    const length = Math.hypot(vector.x, vector.y);
    const normal = Math.atan2(vector.y, vector.x) + Math.PI / 2;
    const control = {
        x: p1.x + vector.x / 2 + Math.cos(normal) * length * 0.25,
        y: p1.y + vector.y / 2 + Math.sin(normal) * length * 0.25,
    };
    const start = towards(p1, control, nodeRadius);
    const end = towards(p2, control, nodeRadius + 4);
    return `M${fmt(start.x)},${fmt(start.y)} Q${fmt(control.x)},${fmt(control.y)} ${fmt(end.x)},${fmt(end.y)}`;
}

function towards(from: Point, to: Point, distance: number): Point {
    const length = Math.hypot(to.x - from.x, to.y - from.y);
    return { x: from.x + ((to.x - from.x) / length) * distance, y: from.y + ((to.y - from.y) / length) * distance };
}

function nodeSvg(node: MatrixNode, at: Point, colour: string, hollow: boolean): string {
    const fill = hollow
        ? `fill="none" stroke="${colour}" stroke-width="3" stroke-dasharray="6 4"`
        : `fill="${colour}" stroke="${background}" stroke-width="6"`;
    const labelColour = hollow ? colour : background;
    const caption = captionAt(node, at);
    return (
        `<g class="node" data-node="${escapeXml(node.id)}" data-kind="${node.kind}"${hollow ? ` data-hollow="true"` : ""}>` +
        `<title>${escapeXml(`${node.id}${node.profile ? ` (profile ${node.profile})` : ""}${hollow ? ": the collector holds no response from it, so the UI leaves it out" : ""}`)}</title>` +
        `<circle cx="${fmt(at.x)}" cy="${fmt(at.y)}" r="${nodeRadius}" ${fill}/>` +
        `<text x="${fmt(at.x)}" y="${fmt(at.y + 7)}" font-size="${node.label.length > 3 ? 11 : 20}" text-anchor="middle" fill="${labelColour}">${escapeXml(node.kind === "probe" ? node.label : shortLabel(node))}</text>` +
        `<text x="${fmt(caption.x)}" y="${fmt(caption.y)}" font-size="12" text-anchor="${caption.anchor}" fill="${light}">${escapeXml(caption.text)}</text>` +
        `</g>`
    );
}

/** A probe's app id outside the ring, away from the edges; the others' beside them. */
function captionAt(node: MatrixNode, at: Point): Point & { text: string; anchor: string } {
    if (node.kind !== "probe") {
        return {
            x: at.x + nodeRadius + 6,
            y: at.y - nodeRadius + 4,
            text: node.kind === "collector" ? `${node.id} (star-collect)` : "the UI's browser",
            anchor: "start",
        };
    }
    const out = towards(at, { x: 2 * at.x - centre.x, y: 2 * at.y - centre.y }, nodeRadius + 14);
    return { x: out.x, y: out.y + 4, text: node.id, anchor: "middle" };
}

function shortLabel(node: MatrixNode): string {
    return node.kind === "collector" ? "UI" : "out";
}

function legendSvg(report: VerifyReport): string {
    const mismatched = report.mismatches.length > 0;
    return legendLines([
        [`${report.result.toUpperCase()}: ${report.summary}`],
        [
            "thick: reachable · dashed: blocked · dotted grey: unknown · no line: not probed · hollow node: the collector holds no response (the UI leaves it out)",
        ],
        [
            `orange: declared and observed differ${mismatched ? ` (${report.mismatches.map((m) => m.edge).join(", ")})` : ""}`,
            mismatched ? mismatchColour : light,
        ],
        [edgeBowing],
    ]);
}

const edgeBowing = "each edge bows to the right of its direction, as the stars UI draws it";

/** The legend under the panels: each line in its colour (light unless given). */
function legendLines(lines: [text: string, colour?: string][]): string {
    return (
        `<g class="legend" transform="translate(${margin},${panelHeight + 2 * margin})">` +
        lines
            .map(
                ([text, colour], i) =>
                    `<text x="0" y="${18 + i * 20}" font-size="13" fill="${colour ?? light}">${escapeXml(text)}</text>`,
            )
            .join("") +
        `</g>`
    );
}

function arrowMarker(colour: string): string {
    return (
        `<marker id="${markerId(colour)}" viewBox="0 0 10 10" refX="8" refY="5" markerUnits="userSpaceOnUse" markerWidth="14" markerHeight="14" orient="auto">` +
        `<path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`
    );
}

function markerId(colour: string): string {
    return `arrow-${colour.replace("#", "").toLowerCase()}`;
}

function fmt(n: number): string {
    return n.toFixed(1);
}

function escapeXml(text: string): string {
    return text.replace(
        /[&<>"']/g,
        (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!,
    );
}
