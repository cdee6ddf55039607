// verify on the sandbox: the VerifyPolicy resource inside `up` (config verifyPolicy), and `npm run verify` as a user
// runs it, against the stack file the sandbox writes (Pulumi.sandbox.yaml), with the star stand-in's real timing: a
// pass after `up` within the bound it prints, the JSON report against the committed schema, the picture, a hand edit
// with calicoctl named by edge and rule within the bound, and `up`s that fail with the report when an edge the policy
// allows is dropped by hand: on the agents, and by a hand edit made right after the policy step (the stale reading).
// Also the effect of a change before it is applied: the stack output `connectivity` in the engine's preview of a
// one-rule change, and `verify --plan` before and after the hand edit.
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { runbookPolicy } from "../../components/config";
import { oneRuleChange, SandboxStack, sshHostOf } from "../../scripts/sandboxStack";
import { startStackOrSkip } from "../support/sandboxStack";
import { drawnEdges } from "../../scripts/verify/graphSvg";
import { reportSchemaFileName } from "../../scripts/verify/reportSchema";
import type { VerifyReport } from "@calico-stars/providers/verify";
import { StackRunError } from "../../engine";
import { configuredMatrix, connectivityOf } from "../../components/connectivity";
import type { Plan } from "../../scripts/verify/plan";
import { stackConfig } from "../support/verifyFixtures";
import { waitUntil } from "../../sandbox/lib/wait";
import { httpOverSsh } from "@calico-stars/providers/ssh";

const projectDir = path.resolve(__dirname, "../..");
/** The runbook's edges, as the stack output says them (no host or address appears in them). */
const runbookConnectivity = connectivityOf(configuredMatrix(stackConfig()));
const artifacts = path.join(projectDir, "test/artifacts");
const picture = path.join(artifacts, "verify-sandbox.svg");
const planPicture = path.join(artifacts, "verify-plan-sandbox.svg");
const jsonPicture = path.join(artifacts, "verify-json-sandbox.svg");

interface VerifyRun {
    code: number | null;
    stdout: string;
    stderr: string;
    ms: number;
}

/** `npm run verify -- --stack sandbox ...` in the project directory, as a user runs it. */
function runVerify(args: string[], picturePath = picture): Promise<VerifyRun> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(
            "npm",
            ["run", "--silent", "verify", "--", "--stack", "sandbox", "--picture", picturePath, ...args],
            { cwd: projectDir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
        );
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
        const timer = setTimeout(() => child.kill("SIGKILL"), 300000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({
                code,
                stdout: Buffer.concat(out).toString(),
                stderr: Buffer.concat(err).toString(),
                ms: Date.now() - started,
            });
        });
    });
}

/** An SVG element as fast-xml-parser reads it: attributes as fields, the children that may repeat as lists. */
interface SvgGroup {
    class?: string;
    "data-panel"?: string;
    "data-node"?: string;
    "data-edge"?: string;
    g?: SvgGroup[];
    path?: SvgGroup[];
}

/** What verify printed at the start: by then every edge's reading is trusted (s). */
function printedBound(run: VerifyRun): number {
    const found = /every reading is trusted after at most ([0-9.]+) s; timeout ([0-9.]+) s/.exec(run.stderr);
    assert.ok(found, run.stderr);
    return Number(found[1]);
}

/** How long verify said it waited (s). */
function decidedAfter(run: VerifyRun): number {
    const found = /^decided after ([0-9.]+) s: /m.exec(run.stdout);
    assert.ok(found, run.stdout + run.stderr);
    return Number(found[1]);
}

/** A decision within the printed bound, give or take the one fetch that trusts the last reading (1 s apart). */
function assertWithinBound(run: VerifyRun): void {
    const bound = printedBound(run);
    assert.ok(bound < 60, `the sandbox's bound is well under verify's old 180 s: ${bound} s`);
    assert.ok(decidedAfter(run) <= bound + 2, `decided after ${decidedAfter(run)} s, bound ${bound} s\n${run.stderr}`);
}

const cutClientToFrontend = [
    "calicoctl",
    "profile",
    "frontend",
    "rule",
    "remove",
    "inbound",
    "allow",
    "tcp",
    "from",
    "tag",
    "client",
    "to",
    "ports",
    "9000",
];

describe("verify on the sandbox", function () {
    this.timeout(600000);
    let stack: SandboxStack;
    const timings: Record<string, number> = {};
    const dropped: { host: ReturnType<typeof sshHostOf>; rule: string[] }[] = [];

    before(async function () {
        stack = await startStackOrSkip(this);
        await stack.driver.setConfig("calico-stars:verifyPolicy", "true");
        fs.mkdirSync(artifacts, { recursive: true });
    });

    after(async function () {
        console.log(`      timings (ms): ${JSON.stringify(timings)}`);
        await stack?.close();
    });

    const verifyStep = (steps: { name: string; op: string }[]) =>
        steps.find((step) => step.name.endsWith("verify-policy"));

    it("up with verifyPolicy on creates the check after the group and the rules, and passes once the collector shows the declared graph", async function () {
        const started = Date.now();
        const run = await stack.driver.up();
        timings["up with verifyPolicy"] = Date.now() - started;
        assert.strictEqual(verifyStep(run.steps)?.op, "create");
        assert.deepStrictEqual(run.outputs.connectivity, runbookConnectivity);
        const state = await stack.driver.exportStack();
        const check = state.deployment.resources.find((r) => r.urn.endsWith("::verify-policy"))!;
        assert.deepStrictEqual(
            [check.outputs.result, check.outputs.summary],
            ["match", "10 edges: 10 match, 0 mismatch, 0 unknown"],
        );
        const dependencies = check.dependencies ?? [];
        assert.ok(
            dependencies.some((urn) => urn.endsWith("::marathon-group")) &&
                dependencies.some((urn) => urn.endsWith("::profile-backend")),
            JSON.stringify(dependencies),
        );
    });

    it("a no-op up checks nothing again: no step, no remote command", async function () {
        const before = stack.auditLines();
        const run = await stack.driver.up();
        assert.deepStrictEqual(
            run.steps.filter((s) => s.op !== "same"),
            [],
        );
        assert.strictEqual(stack.auditLines() - before, 0);
    });

    it("the preview of a policy change shows the check as an update with the new declared matrix, and writes nothing", async function () {
        const before = stack.auditLines();
        await stack.driver.setConfig("calico-stars:policy", JSON.stringify(oneRuleChange));
        try {
            const run = await stack.driver.preview();
            const step = run.steps.find((s) => s.name.endsWith("verify-policy"));
            assert.deepStrictEqual([step?.op, step?.diffKeys], ["update", ["declared"]]);
            // the edges it opens and closes, in the stack output, and nothing replaced
            const changed = Object.keys(run.outputs.connectivity)
                .filter((edge) => run.outputs.connectivity[edge] !== runbookConnectivity[edge])
                .map((edge) => [edge, run.outputs.connectivity[edge]]);
            assert.deepStrictEqual(changed, [
                [
                    "client -> backend:9000",
                    'allowed by client outbound rule 1 "allow" and backend inbound rule 3 "allow tcp from tag client to ports 9000"',
                ],
                ["frontend -> backend:9000", "blocked by backend inbound: no rule matched (default drop)"],
            ]);
            assert.deepStrictEqual(Object.keys(run.outputs.connectivity), Object.keys(runbookConnectivity));
            assert.deepStrictEqual(
                run.steps.filter((s) => s.op === "replace" || (s.replaceKeys ?? []).length > 0),
                [],
            );
        } finally {
            await stack.driver.setConfig("calico-stars:policy", JSON.stringify(runbookPolicy));
        }
        assert.strictEqual(stack.auditLines() - before, 0);
    });

    /** `verify --json`, started beside the first plain run: both wait out the same bound, so they wait once. */
    let jsonRun: Promise<VerifyRun> | undefined;

    it("npm run verify passes (exit 0) within the bound it prints, printing both matrices and the picture's paths", async function () {
        jsonRun = runVerify(["--json"], jsonPicture);
        const run = await runVerify([]);
        timings["verify: match"] = run.ms;
        console.log(run.stdout.replace(/^/gm, "        "));
        console.log(run.stderr.replace(/^/gm, "        "));
        assert.strictEqual(run.code, 0, run.stdout + run.stderr);
        assertWithinBound(run);
        assert.match(
            run.stderr,
            /connect limits: .*management-ui 7 s \(tcp_syn_retries 2, read in its container on 10\.197\.0\.1[23]\)/,
        );
        assert.match(run.stdout, /^verify: observed matches declared: 10 edges: 10 match, 0 mismatch, 0 unknown\n/);
        assert.ok(
            run.stdout.includes(
                "\nclient           ·              ·       ✔         ✘          ·              ·       ✔         ✘\n",
            ),
            run.stdout,
        );
        assert.ok(run.stdout.includes(`picture: ${picture}\n`), run.stdout);
        assert.ok(
            run.stdout.includes(`picture: ${picture.replace(/\.svg$/, ".png")}\n`) || run.stdout.includes("no PNG: "),
            run.stdout,
        );
    });

    it("verify --plan after up: no edge would change, exit 0", async function () {
        const run = await runVerify(["--plan"], planPicture);
        timings["verify --plan: unchanged"] = run.ms;
        console.log(run.stdout.replace(/^/gm, "        "));
        assert.strictEqual(run.code, 0, run.stdout + run.stderr);
        assert.match(
            run.stdout,
            /^verify --plan: up would open or close no edge: 10 edges: 0 opens, 0 closes, 0 unknown, 0 rules only, 10 unchanged\n/,
        );
        assert.ok(run.stdout.includes(`picture: ${planPicture}\n`), run.stdout);
    });

    let jsonReport: VerifyReport | undefined;

    it("--json prints the report only, valid against the committed schema", async function () {
        const run = await (jsonRun ?? assert.fail("no --json run beside the first verify"));
        timings["verify --json: match"] = run.ms;
        assert.strictEqual(run.code, 0, run.stderr);
        const report = JSON.parse(run.stdout) as VerifyReport;
        const schema = JSON.parse(
            fs.readFileSync(path.join(projectDir, "scripts/verify", reportSchemaFileName), "utf8"),
        );
        const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
        assert.ok(validate(report), JSON.stringify(validate.errors));
        assert.deepStrictEqual([report.result, report.exitCode, report.mismatches], ["match", 0, []]);
        assert.deepStrictEqual(
            report.nodes.map((node) => [node.id, node.label]),
            [
                ["outside", "outside"],
                ["management-ui", "management-ui"],
                ["client", "C"],
                ["frontend", "F"],
                ["backend", "B"],
            ],
        );
        jsonReport = report;
    });

    it("the SVG that run wrote is well-formed and holds one element per node and per drawn edge in each panel", async function () {
        const report = jsonReport ?? assert.fail("no report from the --json run");
        const svg = fs.readFileSync(jsonPicture, "utf8");
        assert.strictEqual(XMLValidator.validate(svg), true);
        const parsed = new XMLParser({
            ignoreAttributes: false,
            attributeNamePrefix: "",
            isArray: (name) => ["g", "path", "marker"].includes(name),
        }).parse(svg) as { svg: SvgGroup };
        const panels = (parsed.svg.g ?? []).filter((g) => g.class === "panel");
        assert.deepStrictEqual(
            panels.map((panel) => panel["data-panel"]),
            ["declared", "observed"],
        );
        for (const panel of panels) {
            assert.deepStrictEqual(
                (panel.g ?? []).filter((g) => g.class === "node").map((g) => g["data-node"]),
                report.nodes.map((node) => node.id),
            );
            assert.deepStrictEqual(
                (panel.path ?? []).filter((p) => p.class?.startsWith("edge")).map((p) => p["data-edge"]),
                drawnEdges(report, panel["data-panel"] as "declared" | "observed").map(
                    (edge) => `${edge.source}->${edge.target}`,
                ),
            );
        }
        const png = jsonPicture.replace(/\.svg$/, ".png");
        if (fs.existsSync("/usr/bin/rsvg-convert")) {
            assert.deepStrictEqual([...fs.readFileSync(png).subarray(1, 4)], [...Buffer.from("PNG")]);
        }
    });

    it("right after a hand edit with calicoctl (frontend's rule for client removed), verify started at once fails (exit 1) within its printed bound, naming that edge and that profile's rule", async function () {
        await stack.on(stack.agent, cutClientToFrontend);
        const run = await runVerify([]);
        timings["verify: mismatch right after the edit"] = run.ms;
        console.log(run.stdout.replace(/^/gm, "        "));
        console.log(run.stderr.replace(/^/gm, "        "));
        assert.strictEqual(run.code, 1, run.stdout + run.stderr);
        assert.match(run.stdout, /^verify: MISMATCH: 10 edges: \d+ match, 1 mismatch, \d+ unknown\n/);
        assert.ok(
            run.stdout.includes(
                "\nMISMATCH client -> frontend (http://frontend-calico-stars.marathon.mesos:9000/status): declared reachable, observed blocked " +
                    "(C reports http://frontend-calico-stars.marathon.mesos:9000/status unreachable); should have been allowed by " +
                    'client outbound rule 1 "allow" and frontend inbound rule 3 "allow tcp from tag client to ports 9000"\n',
            ),
            run.stdout,
        );
        assertWithinBound(run);
    });

    it("verify --plan after the hand edit names the edge up would restore and the rule behind it, exit 1", async function () {
        const run = await runVerify(["--plan"], planPicture);
        timings["verify --plan: the hand edit"] = run.ms;
        console.log(run.stdout.replace(/^/gm, "        "));
        assert.strictEqual(run.code, 1, run.stdout + run.stderr);
        assert.ok(
            run.stdout.includes(
                "\nopens client -> frontend:9000\n" +
                    "    now:      blocked by frontend inbound: no rule matched (default drop)\n" +
                    '    after up: allowed by client outbound rule 1 "allow" and frontend inbound rule 3 "allow tcp from tag client to ports 9000"\n',
            ),
            run.stdout,
        );
        const json = await runVerify(["--plan", "--json"], planPicture);
        assert.strictEqual(json.code, 1, json.stderr);
        const plan = JSON.parse(json.stdout) as Plan;
        assert.deepStrictEqual(
            plan.edges.filter((edge) => edge.change !== "none").map((edge) => [edge.change, edge.edge]),
            [["opens", "client -> frontend:9000"]],
        );
        assert.deepStrictEqual(plan.edges.find((edge) => edge.change === "opens")!.afterUp.rules[1], {
            profile: "frontend",
            direction: "inbound",
            position: 3,
            text: "allow tcp from tag client to ports 9000",
        });
        const svg = fs.readFileSync(planPicture, "utf8");
        assert.ok(svg.includes('class="edge opens" data-edge="client-&gt;frontend"'), svg);
    });

    it("refresh records the broken edge, and the next up rewrites the rule and checks again until it holds", async function () {
        const refreshed = await stack.driver.refresh();
        assert.deepStrictEqual(
            refreshed.steps
                .filter((s) => s.op === "update")
                .map((s) => s.name)
                .sort(),
            ["profile-frontend", "verify-policy"],
        );
        const started = Date.now();
        const run = await stack.driver.up();
        timings["up repairing the rule, checked"] = Date.now() - started;
        assert.deepStrictEqual(
            run.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name]),
            [
                ["update", "profile-frontend"],
                ["update", "verify-policy"],
            ],
        );
    });

    it("after up restored the rule, npm run verify passes (exit 0), again within its printed bound", async function () {
        const run = await runVerify([]);
        timings["verify: match after the repair"] = run.ms;
        assert.strictEqual(run.code, 0, run.stdout + run.stderr);
        assertWithinBound(run);
    });

    it("an up whose check cannot hold (client -> frontend dropped by hand on the agents) fails with the report naming the edge and its rules", async function () {
        const tasks = JSON.parse((await stack.marathon("GET", "/v2/tasks")).body).tasks as {
            appId: string;
            ipAddresses: { ipAddress: string }[];
        }[];
        const addressOf = (app: string) =>
            tasks.find((task) => task.appId === `/calico-stars/${app}`)!.ipAddresses[0].ipAddress;
        const rule = [
            "FORWARD",
            "-s",
            addressOf("client"),
            "-d",
            addressOf("frontend"),
            "-p",
            "tcp",
            "--dport",
            "9000",
            "-j",
            "DROP",
        ];
        for (const agent of stack.cluster.agents) {
            await stack.on(sshHostOf(agent), ["iptables", "-I", ...rule]);
            dropped.push({ host: sshHostOf(agent), rule });
        }
        // a policy change makes the up check again: backend admits client instead of frontend, client -> frontend stays
        // allowed
        await stack.driver.setConfig("calico-stars:policy", JSON.stringify(oneRuleChange));
        const started = Date.now();
        const failure = await stack.driver.up().then(
            () => undefined,
            (error: unknown) => error,
        );
        timings["up failing its check (DROP on the agents)"] = Date.now() - started;
        assert.ok(failure instanceof StackRunError, String(failure));
        const text = [failure.message, ...failure.run.diagnostics].join("\n");
        assert.ok(text.includes("does not match the declared policy"), text);
        assert.ok(
            text.includes(
                "MISMATCH client -> frontend (http://frontend-calico-stars.marathon.mesos:9000/status): declared reachable, observed blocked",
            ) &&
                text.includes(
                    'should have been allowed by client outbound rule 1 "allow" and frontend inbound rule 3 "allow tcp from tag client to ports 9000"',
                ),
            text,
        );
        assert.ok(
            !text.includes("MISMATCH client -> backend") && !text.includes("MISMATCH frontend -> backend"),
            "the policy change itself took effect",
        );
    });

    it("with the hand-made DROP gone, the next up checks again and passes", async function () {
        for (const { host, rule } of dropped.splice(0)) {
            await stack.on(host, ["iptables", "-D", ...rule]);
        }
        const run = await stack.driver.up();
        assert.deepStrictEqual(
            run.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name]),
            [["update", "verify-policy"]],
        );
    });

    it("an up whose change wrongly cuts an edge (client -> frontend removed by hand right after the policy step) fails instead of passing on the stale reading", async function () {
        // the change: backend admits frontend again; client -> frontend stays declared reachable
        await stack.driver.setConfig("calico-stars:policy", JSON.stringify(runbookPolicy));
        const seen = new Set(stack.auditEntries());
        const started = Date.now();
        const outcome = stack.driver.up().then(
            () => undefined,
            (error: unknown) => error,
        );
        await waitUntil(
            "the program's write of backend's rules",
            async () =>
                stack
                    .auditEntries()
                    .some((line) => !seen.has(line) && /calicoctl profile backend rule update/.test(line)),
            { timeoutMs: 120000, pauseMs: 20 },
        );
        await stack.on(stack.agent, cutClientToFrontend);
        // what the collector shows just after the edit: still the declared matrix (a dropped connect takes 7 s to fail)
        const responses = await httpOverSsh(stack.master, {
            method: "GET",
            path: "/responses",
            targetHost: "192.168.255.254",
            targetPort: 9001,
        });
        const clientTargets = (
            JSON.parse(responses.body) as {
                responses: Record<string, { json: { status: { targets: { url: string; reachable: boolean }[] } } }>;
            }
        ).responses.C.json.status.targets;
        assert.deepStrictEqual(
            clientTargets.find((target) => target.url.includes("frontend"))?.reachable,
            true,
            "a stale reading: client still reports frontend reachable",
        );
        const failure = await outcome;
        timings["up failing its check (hand edit during the up)"] = Date.now() - started;
        assert.ok(failure instanceof StackRunError, String(failure));
        const text = [failure.message, ...failure.run.diagnostics].join("\n");
        assert.ok(text.includes("does not match the declared policy"), text);
        assert.ok(
            text.includes(
                "MISMATCH client -> frontend (http://frontend-calico-stars.marathon.mesos:9000/status): declared reachable, observed blocked",
            ) && text.includes('frontend inbound rule 3 "allow tcp from tag client to ports 9000"'),
            text,
        );
    });
});
