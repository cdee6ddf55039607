// verify on the sandbox: the VerifyPolicy resource inside `up` (config verifyPolicy), and `npm run verify` as a user
// runs it, against the stack file the sandbox writes (Pulumi.sandbox.yaml): a pass after `up`, the JSON report against
// the committed schema, the picture, a hand edit with calicoctl named by edge and rule, and an `up` that fails with the
// report when an edge the policy allows is dropped by hand on the agents. Also the effect of a change before it is
// applied: the stack output `connectivity` in the engine's preview of a one-rule change, and `verify --plan` before
// and after the hand edit.
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

const projectDir = path.resolve(__dirname, "../..");
/** The runbook's edges, as the stack output says them (no host or address appears in them). */
const runbookConnectivity = connectivityOf(configuredMatrix(stackConfig()));
const artifacts = path.join(projectDir, "test/artifacts");
const picture = path.join(artifacts, "verify-sandbox.svg");
const planPicture = path.join(artifacts, "verify-plan-sandbox.svg");

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

describe("verify on the sandbox", function () {
    this.timeout(600000);
    let stack: SandboxStack;
    const timings: Record<string, number> = {};
    const dropped: { host: ReturnType<typeof sshHostOf>; rule: string[] }[] = [];

    before(async function () {
        stack = await startStackOrSkip(this);
        await stack.driver.setConfig("calico-stars:verifyPolicy", "true");
        await stack.driver.setConfig("calico-stars:verifyTimeoutSeconds", "90");
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

    it("npm run verify passes (exit 0), printing both matrices and the picture's paths", async function () {
        const run = await runVerify([]);
        timings["verify: match"] = run.ms;
        console.log(run.stdout.replace(/^/gm, "        "));
        assert.strictEqual(run.code, 0, run.stdout + run.stderr);
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
        const run = await runVerify(["--json"]);
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
        const svg = fs.readFileSync(picture, "utf8");
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
        const png = picture.replace(/\.svg$/, ".png");
        if (fs.existsSync("/usr/bin/rsvg-convert")) {
            assert.deepStrictEqual([...fs.readFileSync(png).subarray(1, 4)], [...Buffer.from("PNG")]);
        }
    });

    it("after a hand edit with calicoctl (backend's rule for frontend removed), verify fails (exit 1) naming that edge and that profile's rule", async function () {
        await stack.on(stack.agent, [
            "calicoctl",
            "profile",
            "backend",
            "rule",
            "remove",
            "inbound",
            "allow",
            "tcp",
            "from",
            "tag",
            "frontend",
            "to",
            "ports",
            "9000",
        ]);
        const run = await runVerify(["--timeout", "40"]);
        timings["verify: mismatch (timeout 40 s)"] = run.ms;
        console.log(run.stdout.replace(/^/gm, "        "));
        assert.strictEqual(run.code, 1, run.stdout + run.stderr);
        assert.match(run.stdout, /^verify: MISMATCH: 10 edges: 9 match, 1 mismatch, 0 unknown\n/);
        assert.ok(
            run.stdout.includes(
                "\nMISMATCH frontend -> backend (http://backend-calico-stars.marathon.mesos:9000/status): declared reachable, observed blocked " +
                    "(F reports http://backend-calico-stars.marathon.mesos:9000/status unreachable); should have been allowed by " +
                    'frontend outbound rule 1 "allow" and backend inbound rule 3 "allow tcp from tag frontend to ports 9000"\n',
            ),
            run.stdout,
        );
    });

    it("verify --plan after the hand edit names the edge up would restore and the rule behind it, exit 1", async function () {
        const run = await runVerify(["--plan"], planPicture);
        timings["verify --plan: the hand edit"] = run.ms;
        console.log(run.stdout.replace(/^/gm, "        "));
        assert.strictEqual(run.code, 1, run.stdout + run.stderr);
        assert.ok(
            run.stdout.includes(
                "\nopens frontend -> backend:9000\n" +
                    "    now:      blocked by backend inbound: no rule matched (default drop)\n" +
                    '    after up: allowed by frontend outbound rule 1 "allow" and backend inbound rule 3 "allow tcp from tag frontend to ports 9000"\n',
            ),
            run.stdout,
        );
        const json = await runVerify(["--plan", "--json"], planPicture);
        assert.strictEqual(json.code, 1, json.stderr);
        const plan = JSON.parse(json.stdout) as Plan;
        assert.deepStrictEqual(
            plan.edges.filter((edge) => edge.change !== "none").map((edge) => [edge.change, edge.edge]),
            [["opens", "frontend -> backend:9000"]],
        );
        assert.deepStrictEqual(plan.edges.find((edge) => edge.change === "opens")!.afterUp.rules[1], {
            profile: "backend",
            direction: "inbound",
            position: 3,
            text: "allow tcp from tag frontend to ports 9000",
        });
        const svg = fs.readFileSync(planPicture, "utf8");
        assert.ok(svg.includes('class="edge opens" data-edge="frontend-&gt;backend"'), svg);
    });

    it("refresh records the broken edge, and the next up rewrites the rule and checks again until it holds", async function () {
        const refreshed = await stack.driver.refresh();
        assert.deepStrictEqual(
            refreshed.steps
                .filter((s) => s.op === "update")
                .map((s) => s.name)
                .sort(),
            ["profile-backend", "verify-policy"],
        );
        const started = Date.now();
        const run = await stack.driver.up();
        timings["up repairing the rule, checked"] = Date.now() - started;
        assert.deepStrictEqual(
            run.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name]),
            [
                ["update", "profile-backend"],
                ["update", "verify-policy"],
            ],
        );
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
        // a policy change makes the up check again: backend admits client instead of frontend, client -> frontend stays allowed
        await stack.driver.setConfig("calico-stars:policy", JSON.stringify(oneRuleChange));
        await stack.driver.setConfig("calico-stars:verifyTimeoutSeconds", "40");
        const started = Date.now();
        const failure = await stack.driver.up().then(
            () => undefined,
            (error: unknown) => error,
        );
        timings["up failing its check (timeout 40 s)"] = Date.now() - started;
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
});
