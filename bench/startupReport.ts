// The bench's account of a run's fixed cost: the exported state's size and how it grows, where a no-op up spends its
// time, and the verdicts on the targets for both.
import type { StartupBreakdown } from "./startup";
import type { Summary, Verdict } from "./summary";

const stateTargetBytes = 100_000;
const noopTargetMs = 2000;
const upToFloorTarget = 1.5;

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;

function runbookCase(summaries: Summary[], name: string): Summary | undefined {
    return summaries.find((s) => s.policy === summaries[0].policy && s.case === name);
}

/** State per shape, and its growth per profile and per rule from the scaled policies' corners. */
function stateLines(summaries: Summary[]): string[] {
    const ups = summaries.filter((s) => s.case === "up" && s.figures?.stateBytes !== undefined);
    const sizeAt = (profiles: number, rules: number) =>
        ups.find((s) => s.scale?.profiles === profiles && s.scale?.rules === rules)?.figures!.stateBytes;
    const scales = ups.filter((s) => s.scale !== undefined).map((s) => s.scale!);
    const profileCounts = [...new Set(scales.map((s) => s.profiles))].sort((a, b) => a - b);
    const ruleCounts = [...new Set(scales.map((s) => s.rules))].sort((a, b) => a - b);
    const growth: string[] = [];
    if (profileCounts.length >= 2 && ruleCounts.length >= 2) {
        const [few, many] = [profileCounts[0], profileCounts[profileCounts.length - 1]];
        const [fewRules, manyRules] = [ruleCounts[0], ruleCounts[ruleCounts.length - 1]];
        for (const rules of [fewRules, manyRules]) {
            const [small, large] = [sizeAt(few, rules), sizeAt(many, rules)];
            if (small !== undefined && large !== undefined) {
                growth.push(
                    `  per profile (${few} -> ${many} profiles, ${rules} rule${rules === 1 ? "" : "s"} each): +${kb((large - small) / (many - few))}`,
                );
            }
        }
        const [oneRule, manyRule] = [sizeAt(few, fewRules), sizeAt(few, manyRules)];
        if (oneRule !== undefined && manyRule !== undefined) {
            growth.push(
                `  per rule (${fewRules} -> ${manyRules} rules in each of ${few} profiles): +${((manyRule - oneRule) / ((manyRules - fewRules) * few)).toFixed(0)} bytes`,
            );
        }
    }
    return [
        "State: the test engine's `pulumi stack export` after up (median), which Pulumi writes again after every step:",
        ...ups.map((s) => `  ${s.policy}: ${kb(s.figures!.stateBytes!)}`),
        ...growth,
    ];
}

function breakdownLines(noop: StartupBreakdown, wallMs: number): string[] {
    const rows: [string, number, string?][] = [
        ["provider host: spawn until it listens", noop.providerHostStartMs, "in parallel with the next"],
        ["program's process: node, runner, @pulumi/pulumi loaded", noop.programSdkLoadMs],
        ["until the program starts (the later of the two)", noop.processesReadyMs],
        ["program load: require() of its modules, resources constructed", noop.programLoadMs],
        ["registrations until the first provider call", noop.registrationMs],
        [
            "provider host calls, first to last",
            noop.providerCallsMs,
            `Configure ${ms(noop.configureMs)}, Check ${ms(noop.checkMs)} (the first of each provider +${ms(noop.firstCheckExtraMs)}), Diff ${ms(noop.diffMs)}`,
        ],
        ["program end, processes stopped", noop.finishMs],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    return [
        ...rows.map(
            ([label, value, note]) => `  ${label.padEnd(width)} ${ms(value).padStart(8)}${note ? `   ${note}` : ""}`,
        ),
        `  ${"the engine's run / measured wall time".padEnd(width)} ${ms(noop.totalMs).padStart(8)} / ${ms(wallMs)}`,
    ];
}

export function startupSections(summaries: Summary[]): string[] {
    const noop = runbookCase(summaries, "no-op up")?.figures;
    const revival = runbookCase(summaries, "up")?.figures?.revival;
    return [
        ...stateLines(summaries),
        "",
        ...(noop?.startup
            ? [
                  `No-op up, ${summaries[0].policy}: where the time goes (medians of the engine's timings, engine/):`,
                  ...breakdownLines(noop.startup, noop.wallMs),
              ]
            : []),
        ...(revival
            ? [
                  "Each serialized provider revived in a fresh `node` as the provider host does it (require-from-string, handler(), check() twice):",
                  ...Object.entries(revival).map(
                      ([type, t]) =>
                          `  ${type.split(":").pop()}: revive ${ms(t.reviveMs)}, first check ${ms(t.firstCheckMs)}, second ${ms(t.secondCheckMs)}`,
                  ),
              ]
            : []),
        "What is whose: node and @pulumi/pulumi loading in both processes, the closure serializer and the provider host's revival are",
        "Pulumi's; the program load, its providers' Check and Diff are the program's; spawning, IPC with the program (instead of the",
        "CLI's resource monitor over gRPC) and keeping the checkpoint are this test engine's. The real CLI adds what the engine does",
        "not have: its own start, the language host and resource plugins (command, random) starting, the dynamic provider's shell",
        "shim (one more `node -e` before the host), and writing the checkpoint after every step to the backend.",
    ];
}

export function startupVerdicts(summaries: Summary[]): Verdict[] {
    const up = runbookCase(summaries, "up")?.figures;
    const noop = runbookCase(summaries, "no-op up")?.figures;
    const state: Verdict = {
        target: `the runbook stack's exported state under ${kb(stateTargetBytes)}`,
        met: up?.stateBytes !== undefined && up.stateBytes < stateTargetBytes,
        detail: up?.stateBytes !== undefined ? `${kb(up.stateBytes)} after up` : "not measured (failed runs)",
    };
    if (!state.met && up?.stateBytes !== undefined) {
        state.note =
            "Each dynamic resource stores its provider (`__provider`) in both its inputs and its outputs " +
            "(components/packagedResource.ts); a provider captured by value carries all the code it reaches.";
    }
    const noopVerdict: Verdict = {
        target: `a no-op up under ${noopTargetMs / 1000} s`,
        met: noop !== undefined && noop.wallMs < noopTargetMs,
        detail: noop ? `${ms(noop.wallMs)} (median)` : "not measured (failed runs)",
    };
    if (!noopVerdict.met && noop?.startup) {
        const s = noop.startup;
        noopVerdict.note =
            `The processes are ready after ${ms(s.processesReadyMs)} (provider host ${ms(s.providerHostStartMs)}, the program's node ` +
            `and SDK ${ms(s.programSdkLoadMs)}, in parallel: @pulumi/pulumi alone loads the TypeScript compiler for its closure serializer), ` +
            `then the program loads in ${ms(s.programLoadMs)}, registers in ${ms(s.registrationMs)} and the provider calls take ${ms(s.providerCallsMs)}.`;
    }
    const ratio = up?.ratioToFloor;
    const upVerdict: Verdict = {
        target: `the runbook's up within ${upToFloorTarget}x the floor's wall time in the same run`,
        met: ratio !== undefined && ratio <= upToFloorTarget,
        detail: ratio !== undefined ? `${ratio.toFixed(2)}x (${ms(up!.wallMs)})` : "not measured (failed runs)",
    };
    if (!upVerdict.met && ratio !== undefined && noop !== undefined) {
        const floorMs = up!.wallMs / ratio;
        upVerdict.note =
            `Of the up's ${ms(up!.wallMs)}, ${ms(noop.wallMs)} is what a no-op up costs (see above); the rest, ${ms(up!.wallMs - noop.wallMs)}, ` +
            `is ${((up!.wallMs - noop.wallMs) / floorMs).toFixed(2)}x the floor's ${ms(floorMs)}: the floor pays no process start at all.`;
    }
    return [state, noopVerdict, upVerdict];
}
