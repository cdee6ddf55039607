// The lifecycle suite through the real Pulumi CLI, where `pulumi` is on PATH: a StackDriver on the Automation API.
// Follows pulumi/pulumi v3.248.0, sdk/nodejs/automation/ (LocalWorkspace, Stack, the engine events).
//
// The project directory as the workspace, a file:// backend in a temporary directory and the passphrase secrets
// provider, so nothing leaves the machine and nothing outlives the test but the stack's config file
// (Pulumi.<stack>.yaml, as `pulumi config set` writes it). The steps a run shows come from the engine events the CLI
// streams.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import which from "which";
import { StateFile, StepOp, StepRecord } from "./types";
import { isDefaultProvider } from "./defaultProviders";
import { StackDriver, StackRun, StackRunError } from "./stackDriver";

/** Why the CLI driver cannot run here, if it cannot. */
export function cliUnavailable(): string | undefined {
    return which.sync("pulumi", { nothrow: true }) !== null
        ? undefined
        : "the Pulumi CLI is not on PATH (install it to run this suite through the Automation API)";
}

const logicalOps: StepOp[] = ["same", "create", "update", "replace", "delete", "read"];

function topLevelChanges(olds: Record<string, unknown> = {}, news: Record<string, unknown> = {}): string[] {
    return [...new Set([...Object.keys(olds), ...Object.keys(news)])]
        .filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]))
        .sort();
}

/**
 * The steps a run shows, from its engine events: the logical steps announced (resourcePreEvent) that did not fail,
 * or for a refresh the result of each refresh step (resOutputsEvent, whose op is same, update or delete); default
 * providers' steps are internal to the engine and not shown. As the CLI's display computes for a dynamic resource,
 * the changed keys are the inputs (refresh: the outputs) that differ.
 */
export function stepRecords(events: EngineEvent[], refresh: boolean): StepRecord[] {
    const failed = new Set(
        events.flatMap((event) => (event.resOpFailedEvent ? [event.resOpFailedEvent.metadata.urn] : [])),
    );
    return events.flatMap((event): StepRecord[] => {
        const metadata = refresh ? event.resOutputsEvent?.metadata : event.resourcePreEvent?.metadata;
        if (
            metadata === undefined ||
            metadata.logical === false ||
            failed.has(metadata.urn) ||
            !logicalOps.includes(metadata.op as StepOp)
        ) {
            return [];
        }
        if (isDefaultProvider(metadata.urn)) {
            return [];
        }
        const op = metadata.op as StepOp;
        const diffKeys =
            op === "update" || op === "replace"
                ? refresh
                    ? topLevelChanges(metadata.old?.outputs, metadata.new?.outputs)
                    : topLevelChanges(metadata.old?.inputs, metadata.new?.inputs)
                : [];
        return [
            {
                op,
                urn: metadata.urn,
                type: metadata.type,
                name: metadata.urn.split("::").slice(3).join("::"),
                ...(diffKeys.length > 0 && { diffKeys }),
                ...(op === "replace" && metadata.keys !== undefined && { replaceKeys: metadata.keys }),
            },
        ];
    });
}

export class AutomationDriver implements StackDriver {
    readonly name = "the Pulumi CLI";

    private constructor(
        private readonly stack: Stack,
        private readonly backendDir: string,
    ) {}

    /** A new stack on a fresh file:// backend, with the given config (keys with their namespace). */
    static async create(
        projectDir: string,
        stackName: string,
        config: Record<string, string>,
    ): Promise<AutomationDriver> {
        const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
        const backendDir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-backend-"));
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName, workDir: projectDir },
            {
                envVars: {
                    PULUMI_BACKEND_URL: `file://${backendDir}`,
                    PULUMI_CONFIG_PASSPHRASE: "calico-stars-lifecycle",
                    PULUMI_SKIP_UPDATE_CHECK: "true",
                },
                secretsProvider: "passphrase",
            },
        );
        await stack.setAllConfig(Object.fromEntries(Object.entries(config).map(([key, value]) => [key, { value }])));
        return new AutomationDriver(stack, backendDir);
    }

    async setConfig(key: string, value: string, options: { secret?: boolean } = {}): Promise<void> {
        await this.stack.setConfig(key, { value, secret: options.secret ?? false });
    }

    /**
     * Stack.up runs `pulumi up --yes --skip-preview` (sdk/nodejs/automation/stack.ts): the update without a preview.
     */
    up(): Promise<StackRun> {
        return this.run(false, (onEvent, onOutput) => this.stack.up({ onEvent, onOutput }));
    }

    preview(): Promise<StackRun> {
        return this.run(false, (onEvent, onOutput) => this.stack.preview({ onEvent, onOutput }));
    }

    refresh(options: { clearPendingCreates?: boolean } = {}): Promise<StackRun> {
        return this.run(true, (onEvent, onOutput) =>
            this.stack.refresh({ onEvent, onOutput, clearPendingCreates: options.clearPendingCreates }),
        );
    }

    destroy(): Promise<StackRun> {
        return this.run(false, (onEvent, onOutput) => this.stack.destroy({ onEvent, onOutput }));
    }

    cancel(): Promise<void> {
        return this.stack.cancel();
    }

    async exportStack(): Promise<StateFile> {
        return (await this.stack.exportStack()) as unknown as StateFile;
    }

    async close(): Promise<void> {
        fs.rmSync(this.backendDir, { recursive: true, force: true });
    }

    private async run(
        refresh: boolean,
        operation: (onEvent: (event: EngineEvent) => void, onOutput: (out: string) => void) => Promise<object>,
    ): Promise<StackRun> {
        const events: EngineEvent[] = [];
        const diagnostics: string[] = [];
        const collected = (outputs: Record<string, { value: unknown }> = {}): StackRun => ({
            steps: stepRecords(events, refresh),
            outputs: Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.value])),
            diagnostics: [
                ...diagnostics,
                ...events.flatMap((event) => (event.diagnosticEvent ? [event.diagnosticEvent.message.trimEnd()] : [])),
            ],
        });
        try {
            const result = await operation(
                (event) => events.push(event),
                (out) => diagnostics.push(...out.split("\n").filter(Boolean)),
            );
            return collected((result as { outputs?: Record<string, { value: unknown }> }).outputs);
        } catch (error) {
            throw new StackRunError((error as Error).message, collected());
        }
    }
}
