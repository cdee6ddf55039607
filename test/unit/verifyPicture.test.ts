import * as assert from "assert";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { writeGraphPicture } from "../../scripts/verify/picture";
import { drawnEdges, renderGraphSvg, renderPlanSvg } from "../../scripts/verify/graphSvg";
import { planOf } from "../../scripts/verify/plan";
import { runbookPolicy } from "../../components/config";
import { awaitVerdict, compareMatrices, observedMatrix, VerifyReport } from "@calico-stars/providers/verify";
import { findExecutable, svgToPng } from "../../scripts/verify/svgToPng";
import { declaredOf, healthyProbes, responsesBody, stackConfig } from "../support/verifyFixtures";

type Element = Record<string, unknown>;

function asList(value: unknown): Element[] {
    return value === undefined ? [] : Array.isArray(value) ? (value as Element[]) : [value as Element];
}

/** The panels of the picture, each with its node and edge elements. */
function panels(svg: string): Record<string, { nodes: Element[]; edges: Element[] }> {
    const document = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(svg) as {
        svg: { g: unknown };
    };
    const groups = asList(document.svg.g).filter((g) => g.class === "panel");
    return Object.fromEntries(
        groups.map((panel) => [
            String(panel["data-panel"]),
            {
                nodes: asList(panel.g).filter((g) => g.class === "node"),
                edges: asList(panel.path).filter((path) => String(path.class).split(" ").includes("edge")),
            },
        ]),
    );
}

const declared = declaredOf(stackConfig());
/**
 * Backend not fetched by the collector (its node hollow, its edges unknown), client no longer probing backend, frontend
 * cut off from client.
 */
const troubled: VerifyReport = compareMatrices(
    declared,
    observedMatrix(declared, {
        kind: "responses",
        body: responsesBody({ client: { frontend: false }, frontend: { client: false, backend: true }, backend: null }),
    }),
);

describe("verify's picture", function () {
    describe("the SVG", function () {
        const { svg } = renderGraphSvg(troubled);

        it("is well-formed XML", function () {
            assert.strictEqual(XMLValidator.validate(svg), true);
        });

        it("has a declared and an observed panel, each with one element per node", function () {
            const found = panels(svg);
            assert.deepStrictEqual(Object.keys(found), ["declared", "observed"]);
            for (const panel of Object.values(found)) {
                assert.deepStrictEqual(
                    panel.nodes.map((node) => node["data-node"]),
                    ["outside", "management-ui", "client", "frontend", "backend"],
                );
            }
        });

        it("has one element per edge the panel draws: all 10 declared, 9 observed (client no longer probes backend)", function () {
            const found = panels(svg);
            assert.deepStrictEqual([found.declared.edges.length, found.observed.edges.length], [10, 9]);
            assert.deepStrictEqual(
                found.observed.edges.map((edge) => edge["data-edge"]),
                drawnEdges(troubled, "observed").map((edge) => `${edge.source}->${edge.target}`),
            );
            assert.ok(!found.observed.edges.some((edge) => edge["data-edge"] === "client->backend"));
        });

        it("draws the mismatches in their own colour in both panels", function () {
            const found = panels(svg);
            const mismatched = (edges: Element[]) =>
                edges
                    .filter((edge) => edge.stroke === "#FF6A00")
                    .map((edge) => edge["data-edge"])
                    .sort();
            assert.deepStrictEqual(troubled.mismatches.map((m) => m.edge).sort(), [
                "client -> frontend",
                "management-ui -> backend",
            ]);
            assert.deepStrictEqual(mismatched(found.declared.edges), ["client->frontend", "management-ui->backend"]);
            assert.deepStrictEqual(mismatched(found.observed.edges), ["client->frontend", "management-ui->backend"]);
        });

        it("draws reachable edges solid and blocked ones dashed, in the source node's colour", function () {
            const declaredEdges = panels(svg).declared.edges;
            const byName = (name: string) => declaredEdges.find((edge) => edge["data-edge"] === name)!;
            assert.deepStrictEqual(
                [byName("frontend->backend")["stroke-dasharray"], byName("frontend->backend").stroke],
                [undefined, "#EE468A"],
            );
            assert.deepStrictEqual(
                [byName("frontend->client")["stroke-dasharray"], byName("frontend->client").stroke],
                ["10 7", "#EE468A"],
            );
        });

        it("draws a probe the collector holds no response from hollow in the observed panel only", function () {
            const found = panels(svg);
            const hollow = (nodes: Element[]) =>
                nodes.filter((node) => node["data-hollow"] === "true").map((node) => node["data-node"]);
            assert.deepStrictEqual([hollow(found.declared.nodes), hollow(found.observed.nodes)], [[], ["backend"]]);
        });

        it("draws all 10 edges in the observed panel when the probes see the declared graph", function () {
            const healthy = compareMatrices(
                declared,
                observedMatrix(declared, { kind: "responses", body: responsesBody(healthyProbes) }),
            );
            assert.deepStrictEqual(panels(renderGraphSvg(healthy).svg).observed.edges.length, 10);
        });

        it("after a live check, labels each observed edge with when its reading was trusted, and says how long it waited and why", async function () {
            // reachable readings trusted at once, blocked ones not within the 50 ms wait
            const { report } = await awaitVerdict(
                declared,
                async () => ({ kind: "responses", body: responsesBody(healthyProbes) }),
                {
                    source: "a scripted collector",
                    since: "a scripted change",
                    bounds: declared.edges.map((edge) => ({
                        source: edge.source,
                        target: edge.target,
                        reachableMs: 0,
                        blockedMs: 10000,
                        unknownMs: 10000,
                        reason: "scripted",
                    })),
                    timeoutMs: 50,
                    pollMs: 10,
                },
            );
            const text = renderGraphSvg(report).svg;
            assert.strictEqual(XMLValidator.validate(text), true);
            const document = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(text) as {
                svg: { g: Element[] };
            };
            const [declaredPanel, observedPanel] = document.svg.g.filter((g) => g.class === "panel");
            const labels = (panel: Element) =>
                Object.fromEntries(
                    asList(panel.text)
                        .filter((label) => label.class === "trust")
                        .map((label) => [label["data-edge"], label["#text"]]),
                );
            assert.deepStrictEqual(labels(declaredPanel), {});
            assert.deepStrictEqual(
                [labels(observedPanel)["client->frontend"], labels(observedPanel)["client->backend"]],
                ["0 s", "-"],
            );
            const legend = asList(document.svg.g.find((g) => g.class === "legend")!.text).map((line) => line["#text"]);
            assert.ok(
                legend.some((line) =>
                    /^gave up after 0\.\d s: the 0\.1 s timeout ran out with 4 edge\(s\) not trusted yet$/.test(
                        String(line),
                    ),
                ),
                legend.join("\n"),
            );
            assert.ok(legend.includes("counted from the start: a scripted change"), legend.join("\n"));
        });

        it("escapes text, so a strange label still makes well-formed XML", function () {
            const strange: VerifyReport = {
                ...troubled,
                summary: `<&"'>`,
                nodes: troubled.nodes.map((node) => (node.id === "client" ? { ...node, label: "<C&>" } : node)),
            };
            const text = renderGraphSvg(strange).svg;
            assert.strictEqual(XMLValidator.validate(text), true);
            assert.ok(text.includes("&lt;C&amp;&gt;"));
        });
    });

    describe("verify --plan's SVG, for the one-rule change (backend admits client instead of frontend)", function () {
        const backend = {
            inbound: [...runbookPolicy.backend.inbound.slice(0, 2), "allow tcp from tag client to ports 9000"],
            outbound: ["allow"],
        };
        const plan = planOf(
            stackConfig({ policy: { ...runbookPolicy, backend } }),
            new Map(Object.entries(runbookPolicy)),
        );
        const { svg } = renderPlanSvg(plan);
        const edge = (panel: { edges: Element[] }, name: string) => panel.edges.find((e) => e["data-edge"] === name)!;

        it("is well-formed XML with a panel now and one after up, each with every node and every edge", function () {
            assert.strictEqual(XMLValidator.validate(svg), true);
            const found = panels(svg);
            assert.deepStrictEqual(Object.keys(found), ["now", "afterUp"]);
            for (const panel of Object.values(found)) {
                assert.deepStrictEqual(
                    panel.nodes.map((node) => node["data-node"]),
                    ["outside", "management-ui", "client", "frontend", "backend"],
                );
                assert.strictEqual(panel.edges.length, 10);
            }
        });

        it("draws the edge up opens in lime and the one it closes in orange, in both panels, blocked where it is", function () {
            const { now, afterUp } = panels(svg);
            const look = (panel: { edges: Element[] }, name: string) => {
                const found = edge(panel, name);
                return [found.class, found.stroke, found["data-reach"]];
            };
            assert.deepStrictEqual(
                [look(now, "client->backend"), look(afterUp, "client->backend")],
                [
                    ["edge opens", "#B8FF3B", "blocked"],
                    ["edge opens", "#B8FF3B", "reachable"],
                ],
            );
            assert.deepStrictEqual(
                [look(now, "frontend->backend"), look(afterUp, "frontend->backend")],
                [
                    ["edge closes", "#FF6A00", "reachable"],
                    ["edge closes", "#FF6A00", "blocked"],
                ],
            );
            assert.deepStrictEqual(look(afterUp, "client->frontend"), ["edge", "#24CBFF", "reachable"]);
        });

        it("names the changes in its legend", function () {
            assert.ok(
                svg.includes(
                    "lime: up opens it (client -&gt; backend:9000) · orange: up closes it (frontend -&gt; backend:9000)",
                ),
            );
        });
    });

    describe("the PNG", function () {
        let dir: string;
        beforeEach(function () {
            dir = mkdtempSync(join(tmpdir(), "verify-picture-"));
        });
        afterEach(function () {
            rmSync(dir, { recursive: true, force: true });
        });

        /** The PNG's size, from its IHDR chunk. */
        function pngSize(path: string): number[] {
            const png = readFileSync(path);
            return [png.readUInt32BE(16), png.readUInt32BE(20)];
        }

        it("is skipped with a note naming what to install when no converter is found, and the SVG is still written", async function () {
            const svgPath = join(dir, "verify.svg");
            const { svg, width, height } = renderGraphSvg(troubled);
            writeFileSync(svgPath, svg);
            assert.deepStrictEqual(
                await svgToPng(svgPath, join(dir, "verify.png"), { width, height, searchPath: dir }),
                {
                    skipped:
                        "no SVG-to-PNG converter found (install rsvg-convert from librsvg2-bin, or chromium); the SVG is written",
                },
            );
        });

        it("is written by rsvg-convert at the picture's size (librsvg2-bin, which .ci/run installs)", async function () {
            this.timeout(60000);
            if (findExecutable("rsvg-convert", process.env.PATH ?? "") === undefined) {
                console.log("      (skipped: no rsvg-convert on PATH; .ci/run installs librsvg2-bin)");
                this.skip();
            }
            const written = await writeGraphPicture(troubled, {
                svgPath: join(dir, "verify.svg"),
                pngPath: join(dir, "verify.png"),
                timeoutMs: 50000,
            });
            assert.strictEqual(written.png, join(dir, "verify.png"), written.pngSkipped);
            assert.ok(readFileSync(written.svg, "utf8").startsWith("<?xml"));
            const { width, height } = renderGraphSvg(troubled);
            assert.deepStrictEqual(pngSize(written.png!), [width, height]);
        });

        it("replaces a symbolic link at a picture's path instead of writing through it", async function () {
            this.timeout(60000);
            for (const name of ["other.svg", "other.png"]) {
                writeFileSync(join(dir, name), "someone else's file\n");
            }
            symlinkSync(join(dir, "other.svg"), join(dir, "verify.svg"));
            symlinkSync(join(dir, "other.png"), join(dir, "verify.png"));
            const written = await writeGraphPicture(troubled, {
                svgPath: join(dir, "verify.svg"),
                pngPath: join(dir, "verify.png"),
                timeoutMs: 50000,
            });
            assert.deepStrictEqual(
                ["other.svg", "other.png"].map((name) => readFileSync(join(dir, name), "utf8")),
                ["someone else's file\n", "someone else's file\n"],
            );
            assert.ok(lstatSync(written.svg).isFile() && readFileSync(written.svg, "utf8").startsWith("<?xml"));
            assert.ok(!lstatSync(join(dir, "verify.png"), { throwIfNoEntry: false })?.isSymbolicLink());
            assert.deepStrictEqual(
                readdirSync(dir).filter((name) => name.startsWith(".")),
                [],
                "no scratch directory left",
            );
        });

        it("is written by a headless Chromium when that is the converter present", async function () {
            this.timeout(60000);
            const chromium = ["chromium", "chromium-browser", "google-chrome"]
                .map((name) => findExecutable(name, process.env.PATH ?? ""))
                .find((found) => found !== undefined);
            if (chromium === undefined) {
                console.log("      (skipped: no chromium on PATH)");
                this.skip();
            }
            // a search path that holds only Chromium, so rsvg-convert is not picked first
            const onlyChromium = join(dir, "bin");
            mkdirSync(onlyChromium);
            symlinkSync(chromium, join(onlyChromium, "chromium"));
            const { svg, width, height } = renderGraphSvg(troubled);
            writeFileSync(join(dir, "verify.svg"), svg);
            const outcome = await svgToPng(join(dir, "verify.svg"), join(dir, "verify.png"), {
                width,
                height,
                searchPath: onlyChromium,
                timeoutMs: 50000,
            });
            assert.deepStrictEqual(outcome, {
                png: join(dir, "verify.png"),
                converter: join(onlyChromium, "chromium"),
            });
            assert.deepStrictEqual(pngSize(outcome.png!), [width, height]);
        });
    });
});
