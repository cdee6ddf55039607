// Where a run spends its time before (and besides) its remote commands, read from the test engine's timings
// (RunResult.timings): the two processes starting, the program loading, its resources registering, the calls to the
// provider host. Phases follow the run's critical path, so they add up to its wall time as the engine saw it.
import { execFileSync } from "child_process";
import * as path from "path";
import type { RunResult, StateFile } from "../engine";

export interface StartupBreakdown {
    /** The engine's whole run, from launching the program to both processes stopped. */
    totalMs: number;
    /** Spawn of the dynamic provider host until it printed its port (in parallel with the next). */
    providerHostStartMs: number;
    /** The program's process: node, the runner and @pulumi/pulumi loaded (in parallel with the provider host). */
    programSdkLoadMs: number;
    /** Until the program could start: the later of the two above. */
    processesReadyMs: number;
    /** require() of the program: its modules loaded, its resources constructed. */
    programLoadMs: number;
    /** From the program loaded to the first call to the provider host: registrations, serializing each provider. */
    registrationMs: number;
    /** From the first call to the provider host to the last answer: Configure, then Check and Diff per resource. */
    providerCallsMs: number;
    /**
     * Of those: Configure, and every Check and Diff summed (they run one at a time, as the step generator makes them).
     */
    configureMs: number;
    checkMs: number;
    diffMs: number;
    /**
     * The first Check of each provider (which deserializes it in the host and loads its modules) beyond a later Check's
     * median.
     */
    firstCheckExtraMs: number;
    /** The rest: the program ending, leftovers looked for, both processes stopped. */
    finishMs: number;
}

const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)];
};

export function startupBreakdown(result: RunResult): StartupBreakdown {
    const { marks, hostCalls } = result.timings;
    const at = (event: string) => {
        const mark = marks.find((m) => m.event === event);
        if (mark === undefined) {
            throw new Error(`the run has no "${event}" timing (marks: ${marks.map((m) => m.event).join(", ")})`);
        }
        return mark.atMs;
    };
    const started = at("program started");
    const loaded = at("program loaded");
    const firstCall = hostCalls.length > 0 ? Math.min(...hostCalls.map((c) => c.startMs)) : loaded;
    const lastAnswer = hostCalls.length > 0 ? Math.max(...hostCalls.map((c) => c.endMs)) : firstCall;
    const spent = (method: string) =>
        hostCalls.filter((c) => c.method === method).reduce((sum, c) => sum + c.endMs - c.startMs, 0);
    // a provider is one resource type; its first Check deserializes it in the host
    const checks = hostCalls.filter((c) => c.method === "Check");
    const typeOf = (urn: string) => urn.split("::")[2];
    const firstChecks = [...new Set(checks.map((c) => typeOf(c.urn)))].map((type) =>
        checks.find((c) => typeOf(c.urn) === type)!,
    );
    const laterCheckMs = median(checks.filter((c) => !firstChecks.includes(c)).map((c) => c.endMs - c.startMs));
    return {
        totalMs: at("processes stopped"),
        providerHostStartMs: at("provider host listening"),
        programSdkLoadMs: at("program SDK loaded"),
        processesReadyMs: started,
        programLoadMs: loaded - started,
        registrationMs: firstCall - loaded,
        providerCallsMs: lastAnswer - firstCall,
        configureMs: spent("Configure"),
        checkMs: spent("Check"),
        diffMs: spent("Diff"),
        firstCheckExtraMs: firstChecks.reduce((sum, c) => sum + Math.max(0, c.endMs - c.startMs - laterCheckMs), 0),
        finishMs: at("processes stopped") - lastAnswer,
    };
}

/** The size of `pulumi stack export` (the test engine's), in bytes. */
export function stateBytes(stateText: string): number {
    return Buffer.byteLength(stateText, "utf8");
}

/** Reviving one serialized provider, in ms: handler() on its text, then its first Check and a second one. */
export interface RevivalTimings {
    reviveMs: number;
    firstCheckMs: number;
    secondCheckMs: number;
}

/**
 * Each distinct serialized provider in the state, revived in a fresh plain `node` process in the project directory as
 * the provider host revives it (require-from-string, then handler()), and its check() called twice with empty inputs
 * (failures come back; nothing remote runs), by resource type. The first check pays for the modules the provider loads.
 */
export function revivalTimings(projectDir: string, state: StateFile): Record<string, RevivalTimings> {
    const texts = new Map<string, string>();
    for (const resource of state.deployment.resources) {
        const text = resource.inputs.__provider;
        if (typeof text === "string" && !texts.has(resource.type)) {
            texts.set(resource.type, text);
        }
    }
    const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [projectDir] }));
    // the host's own loader (sdk/nodejs/cmd/dynamic-provider/index.ts, getProvider), as the SDK resolves it
    const script = `
        const requireFromString = require(require.resolve("require-from-string", { paths: [${JSON.stringify(sdkDir)}] }));
        const texts = JSON.parse(require("fs").readFileSync(0, "utf8"));
        (async () => {
            const timings = {};
            for (const [type, text] of texts) {
                const start = performance.now();
                const provider = requireFromString(text).handler();
                const revived = performance.now();
                await provider.check({}, {});
                const checked = performance.now();
                await provider.check({}, {});
                timings[type] = { reviveMs: revived - start, firstCheckMs: checked - revived, secondCheckMs: performance.now() - checked };
            }
            process.stdout.write(JSON.stringify(timings));
        })();`;
    const output = execFileSync(process.execPath, ["-e", script], {
        cwd: projectDir,
        input: JSON.stringify([...texts]),
        encoding: "utf8",
    });
    return JSON.parse(output) as Record<string, RevivalTimings>;
}
