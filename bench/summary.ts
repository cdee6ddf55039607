// What the bench measured, summed up: each case's samples, their medians, and a verdict on a target. The report
// (report.ts, startupReport.ts) reads these.
import { median, Sample, total } from "./measure";
import type { RevivalTimings, StartupBreakdown } from "./startup";

export interface CaseResult {
    policy: string;
    scale?: { profiles: number; rules: number };
    case: string;
    samples: Sample[];
    /** The first line of each failed attempt's error. */
    failures: string[];
}

/** Medians over the runs that succeeded. */
export interface Figures {
    wallMs: number;
    ratioToFloor?: number;
    connections: number;
    commands: number;
    connectionsPerHost: Record<string, number>;
    commandsPerHost: Record<string, number>;
    pulumiCommandPerHost: Record<string, number>;
    /** After up: the exported state's size in bytes. */
    stateBytes?: number;
    /** Each phase's median (bench/startup.ts). */
    startup?: StartupBreakdown;
    /** Each provider's revival, each figure's median, by resource type. */
    revival?: Record<string, RevivalTimings>;
}

export interface Summary {
    policy: string;
    scale?: { profiles: number; rules: number };
    case: string;
    runs: number;
    failed: number;
    figures?: Figures;
}

export interface Verdict {
    target: string;
    met: boolean;
    detail: string;
    /** Why not, and what it would take; only when not met. */
    note?: string;
}

const floorOf: Record<string, string> = { up: "floor up", destroy: "floor destroy" };
const medianOf = (samples: Sample[], pick: (s: Sample) => number) => median(samples.map(pick));

function figures(result: CaseResult, all: CaseResult[]): Figures | undefined {
    const { samples } = result;
    if (samples.length === 0) {
        return undefined;
    }
    const perHost = (pick: (s: Sample) => Record<string, number>) =>
        Object.fromEntries(
            Object.keys(pick(samples[0])).map((host) => [host, medianOf(samples, (s) => pick(s)[host])]),
        );
    const wallMs = medianOf(samples, (s) => s.wallMs);
    const floorSamples = all.find((r) => r.policy === result.policy && r.case === floorOf[result.case])?.samples ?? [];
    return {
        wallMs,
        ratioToFloor: floorSamples.length > 0 ? wallMs / medianOf(floorSamples, (s) => s.wallMs) : undefined,
        connections: medianOf(samples, (s) => total(s.connections)),
        commands: medianOf(samples, (s) => total(s.commands)),
        connectionsPerHost: perHost((s) => s.connections),
        commandsPerHost: perHost((s) => s.commands),
        pulumiCommandPerHost: perHost((s) => s.pulumiCommand),
        ...medianFields(samples, "stateBytes", (s) => s.stateBytes),
        ...medianFields(samples, "startup", (s) => s.startup),
        ...medianFields(samples, "revival", (s) => s.revival),
    };
}

/**
 * `{ [key]: the median }` of a number, of each field of a record of numbers, or of each record's fields in a record,
 * over the samples that have it.
 */
function medianFields<K extends "stateBytes" | "startup" | "revival">(
    samples: Sample[],
    key: K,
    pick: (s: Sample) => unknown,
): Partial<Pick<Figures, K>> {
    const present = samples.map(pick).filter((value) => value !== undefined);
    if (present.length === 0) {
        return {};
    }
    const of = (values: unknown[]): unknown =>
        typeof values[0] === "number"
            ? median(values as number[])
            : Object.fromEntries(
                  Object.keys(values[0] as object).map((field) => [
                      field,
                      of(values.map((v) => (v as Record<string, unknown>)[field])),
                  ]),
              );
    // the median of each field has the shape of the samples' field
    return { [key]: of(present) } as Partial<Pick<Figures, K>>;
}

export function summarize(results: CaseResult[]): Summary[] {
    return results.map((r) => ({
        policy: r.policy,
        scale: r.scale,
        case: r.case,
        runs: r.samples.length,
        failed: r.failures.length,
        figures: figures(r, results),
    }));
}
