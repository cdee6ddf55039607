// What the stars UI shows, two ways: derived from the collector's /responses by the UI's own rules
// (mesosphere/star v0.5.0 assets/index.html: a node per non-null response, an edge n -> m when a target URL of n
// equals m's resource URL exactly), and read from the page a real browser drew.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The little of the page's DOM the graph is read with (the project compiles without the DOM's types). */
interface PageWindow {
    document: { querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }> };
}

interface StarsEdge {
    from: string;
    to: string;
    reachable: boolean;
}

export interface StarsGraph {
    nodes: string[];
    edges: StarsEdge[];
}

interface Response {
    url: string;
    json?: { status?: { targets?: { url: string; reachable: boolean }[] } };
}

/** The graph the UI draws for a /responses body. */
export function graphOf(responses: Record<string, Response | null>): StarsGraph {
    const nodes = Object.entries(responses).filter((entry): entry is [string, Response] => entry[1] !== null);
    const edges = nodes.flatMap(([from, response]) =>
        nodes
            .filter(([to]) => to !== from)
            .flatMap(([to, other]) => {
                const target = (response.json?.status?.targets ?? []).filter((t) => t.url === other.url).at(-1);
                return target ? [{ from, to, reachable: target.reachable === true }] : [];
            }),
    );
    return sorted({ nodes: nodes.map(([id]) => id), edges });
}

function sorted(graph: StarsGraph): StarsGraph {
    return {
        nodes: [...graph.nodes].sort(),
        edges: [...graph.edges].sort((a, b) => `${a.from}${a.to}`.localeCompare(`${b.from}${b.to}`)),
    };
}

/** The probes' full mesh, each edge reachable only when listed in `reachable` (as "C>F"). */
export function meshWith(nodes: string[], reachable: string[]): StarsGraph {
    const edges = nodes.flatMap((from) =>
        nodes.filter((to) => to !== from).map((to) => ({ from, to, reachable: reachable.includes(`${from}>${to}`) })),
    );
    return sorted({ nodes, edges });
}

/** Reachable edges as "C>F", for messages. */
export function describeGraph(graph: StarsGraph): string {
    return `nodes ${graph.nodes.join(",") || "none"}; reachable ${
        graph.edges
            .filter((e) => e.reachable)
            .map((e) => `${e.from}>${e.to}`)
            .join(",") || "none"
    }`;
}

export const chromiumPath = "/usr/bin/chromium";
/** The flags the project runs Chromium with: nothing fetched from outside, no sandbox (root in CI). */
const chromiumFlags = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/**
 * Loads `url` in headless Chromium run inside network namespace `namespace` (through `ip netns exec`), or in this
 * process's own when none is given, waits for the page to draw, saves a screenshot and returns the graph the page's DOM
 * holds.
 */
export async function browseGraph(url: string, namespace: string | undefined, screenshot: string): Promise<StarsGraph> {
    const { chromium } = await import("playwright-core");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stars-browser-"));
    let executablePath = chromiumPath;
    if (namespace !== undefined) {
        executablePath = path.join(dir, "chromium-in-namespace");
        fs.writeFileSync(
            executablePath,
            `#!/bin/sh\nexec /usr/sbin/ip netns exec ${namespace} ${chromiumPath} "$@"\n`,
            { mode: 0o755 },
        );
    }
    // a fresh profile directory for each run
    const browser = await chromium.launchPersistentContext(path.join(dir, "profile"), {
        executablePath,
        headless: true,
        args: chromiumFlags,
        timeout: 30000,
        viewport: { width: 1000, height: 800 },
    });
    try {
        const page = await browser.newPage();
        await page.goto(url, { timeout: 15000 });
        await page.waitForSelector('#graph[data-state="drawn"]', { timeout: 15000 });
        fs.mkdirSync(path.dirname(screenshot), { recursive: true });
        await page.screenshot({ path: screenshot });
        // runs in the page; the project compiles without the DOM's types
        const drawn: StarsGraph = await page.evaluate(() => ({
            nodes: [...(globalThis as unknown as PageWindow).document.querySelectorAll(".node")].map(
                (node) => node.getAttribute("data-id") ?? "",
            ),
            edges: [...(globalThis as unknown as PageWindow).document.querySelectorAll(".edge")].map((edge) => ({
                from: edge.getAttribute("data-source") ?? "",
                to: edge.getAttribute("data-target") ?? "",
                reachable: edge.getAttribute("data-reachable") === "true",
            })),
        }));
        return sorted(drawn);
    } finally {
        await browser.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
