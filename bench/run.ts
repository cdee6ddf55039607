// `npm run bench`: the program's up, no-op up, preview and destroy (through the lifecycle test engine and
// the real dynamic provider host) side by side with the floor, on the sandbox cluster, for the runbook's
// policy and for scaled ones. Prints a table and writes the same as JSON under bench/results/.
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../components/config";
import { emulators, RunResult, TestEngine } from "../engine";
import { sandboxUnavailable } from "../sandbox/cli";
import { oneRuleChange, sandbox, sandboxStackConfig, SandboxStack } from "../scripts/sandboxStack";
import { floor } from "./floor";
import { ClusterHost, measure, Sample } from "./measure";
import { report } from "./report";
import { PolicyShape, runbookShape, scaledShape } from "./shapes";
import { revivalTimings, startupBreakdown, stateBytes } from "./startup";
import { CaseResult } from "./summary";

const projectDir = path.resolve(__dirname, "..");
const runs = Number(process.env.BENCH_RUNS ?? 5);

let stack: SandboxStack | undefined;
let engine: TestEngine | undefined;
let tearingDown: Promise<void> | undefined;

function tearDown(): Promise<void> {
    tearingDown ??= (async () => {
        await engine?.close();
        await (stack ? stack.close() : sandbox.down());
    })();
    return tearingDown;
}

function expectSteps(result: RunResult, what: string, ok: (ops: string[]) => boolean): void {
    if (!ok(result.steps.map((s) => s.op))) {
        throw new Error(`${what}: unexpected steps ${JSON.stringify(result.steps.map((s) => [s.op, s.name]))}`);
    }
}

/** The commands the stack's @pulumi/command resources run, from its checkpoint. */
function pulumiCommandTexts(program: TestEngine): Set<string> {
    return new Set(
        program
            .state()
            .deployment.resources.filter((r) => r.type === "command:remote:Command")
            .flatMap((r) => [r.inputs.create, r.inputs.delete])
            .filter((text): text is string => typeof text === "string"),
    );
}

/** Between cases, outside any measurement: a case must start from an empty cluster, or it would adopt leftovers. */
async function expectEmptyCluster(on: SandboxStack, after: string): Promise<void> {
    const networks = await on.networks();
    const dnat = await on.natRules();
    const group = await on.marathon("GET", "/v2/groups/calico-stars");
    if (networks.length > 0 || dnat.length > 0 || group.status !== 404) {
        throw new Error(
            `after ${after} the cluster is not empty: networks [${networks.join(", ")}], DNAT rules ${dnat.length}, group HTTP ${group.status}`,
        );
    }
}

/**
 * `runs` complete program runs (an attempt that fails is kept as a failure, cleaned up and tried again, up
 * to twice as many attempts) and `runs` floor runs. The runbook's policy also gets the preview of a
 * one-rule change and a destroy with nothing to delete (what any destroy costs before its first command).
 */
async function benchShape(on: SandboxStack, shape: PolicyShape, everyCase: boolean): Promise<CaseResult[]> {
    const hosts: ClusterHost[] = on.cluster.hosts;
    const config = { ...sandboxStackConfig(on.cluster), ...shape.config };
    const caseNames = [
        "up",
        "no-op up",
        ...(everyCase ? ["preview (1 rule)"] : []),
        "destroy",
        ...(everyCase ? ["no-op destroy"] : []),
        "floor up",
        "floor destroy",
    ];
    const results = new Map(
        caseNames.map((name): [string, CaseResult] => [
            name,
            { policy: shape.label, scale: shape.scale, case: name, samples: [], failures: [] },
        ]),
    );
    let progress: string[] = [];
    /** Measures one case; `annotate` adds what is read after the measurement (state size, the run's timings). */
    const record = async (
        name: string,
        run: () => Promise<unknown>,
        commandTexts?: () => Set<string>,
        annotate?: (sample: Sample) => void,
    ) => {
        const result = results.get(name)!;
        try {
            const sample = await measure(hosts, on.cluster.stateDir, run, commandTexts);
            annotate?.(sample);
            result.samples.push(sample);
            progress.push(`${name} ${sample.wallMs.toFixed(0)} ms`);
        } catch (error) {
            result.failures.push((error as Error).message.split("\n")[0]);
            progress.push(`${name} FAILED`);
            throw error;
        }
    };
    const newEngine = () =>
        new TestEngine({ projectDir, project: "calico-stars", stack: "sandbox", config, emulators });
    const theFloor = floor(
        parseStackConfig((key) => config[key]),
        shape,
    );
    /** One program run of every case; false when a case failed (kept as a failure, and cleaned up after). */
    const programRun = async (): Promise<boolean> => {
        const program = (engine = newEngine());
        let complete = false;
        let last: RunResult | undefined;
        const timed = (sample: Sample) => {
            sample.startup = startupBreakdown(last!);
        };
        try {
            await record(
                "up",
                async () => expectSteps((last = await program.up()), "up", (ops) => ops.every((op) => op === "create")),
                () => pulumiCommandTexts(program),
                (sample) => {
                    timed(sample);
                    sample.stateBytes = stateBytes(program.stateText());
                    if (everyCase) {
                        sample.revival = revivalTimings(projectDir, program.state());
                    }
                },
            );
            await record(
                "no-op up",
                async () =>
                    expectSteps((last = await program.up()), "no-op up", (ops) => ops.every((op) => op === "same")),
                undefined,
                timed,
            );
            if (everyCase) {
                program.setConfig("calico-stars:policy", JSON.stringify(oneRuleChange));
                await record(
                    "preview (1 rule)",
                    async () =>
                        expectSteps(
                            (last = await program.preview()),
                            "preview",
                            (ops) => ops.filter((op) => op !== "same").join() === "update",
                        ),
                    undefined,
                    timed,
                );
            }
            const created = pulumiCommandTexts(program);
            await record(
                "destroy",
                () => program.destroy(),
                () => created,
            );
            complete = true;
        } catch {
            // what the failed run made goes, so that the next case starts empty
            await program.destroy();
        } finally {
            await program.close();
            engine = undefined;
        }
        await expectEmptyCluster(on, "the program's destroy");
        return complete;
    };
    let programRuns = 0;
    let floorRuns = 0;
    for (let attempt = 1; (programRuns < runs || floorRuns < runs) && attempt <= 2 * runs; attempt++) {
        if (programRuns < runs && (await programRun())) {
            programRuns++;
            if (everyCase) {
                const empty = (engine = newEngine());
                await record("no-op destroy", () => empty.destroy()).finally(() => empty.close());
                engine = undefined;
            }
        }
        if (floorRuns < runs) {
            await record("floor up", () => theFloor.up());
            await record("floor destroy", () => theFloor.destroy());
            await expectEmptyCluster(on, "the floor's destroy");
            floorRuns++;
        }
        console.log(`${shape.label}, attempt ${attempt}: ${progress.join(", ")}`);
        progress = [];
    }
    return [...results.values()];
}

async function main(): Promise<void> {
    const missing = sandboxUnavailable();
    if (missing !== undefined) {
        throw new Error(`cannot bench: ${missing}`);
    }
    process.once("SIGINT", () => {
        console.error("\ninterrupted: bringing the sandbox down");
        void tearDown().finally(() => process.exit(130));
    });
    const startedAt = new Date();
    try {
        const on = (stack = await SandboxStack.start());
        const results: CaseResult[] = [];
        for (const [shape, everyCase] of [
            [runbookShape, true],
            [scaledShape(4, 1), false],
            [scaledShape(4, 50), false],
            [scaledShape(20, 1), false],
            [scaledShape(20, 50), false],
        ] as const) {
            results.push(...(await benchShape(on, shape, everyCase)));
        }
        const { text, json } = report(
            results,
            on.cluster.hosts.map((h: ClusterHost) => h.name),
        );
        console.log(`\n${text}`);
        const file = path.join(projectDir, "bench", "results", `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
        const environment = {
            node: process.version,
            marathonDeployDelayMs: process.env.SANDBOX_DEPLOY_DELAY_MS ?? "sandbox default",
        };
        // written whole, then renamed: an interrupted write leaves only a .tmp behind (gitignored)
        fs.writeFileSync(
            `${file}.tmp`,
            `${JSON.stringify({ startedAt: startedAt.toISOString(), runs, environment, ...json }, null, 2)}\n`,
        );
        fs.renameSync(`${file}.tmp`, file);
        console.log(`\nwritten: ${path.relative(projectDir, file)}`);
    } finally {
        await tearDown();
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    const diagnostics = (error as { result?: RunResult }).result?.diagnostics;
    if (diagnostics !== undefined) {
        console.error(diagnostics.join("\n"));
    }
    process.exitCode = 1;
});
