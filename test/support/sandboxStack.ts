// Fixtures of the lifecycle and reliability suites on the sandbox; the stack itself is scripts/sandboxStack.ts.
import { cliUnavailable } from "../../engine";
import { runbookNetworks, runbookPolicy } from "../../components/config";
import { sandboxUnavailable } from "../../sandbox/cli";
import { Policy, SandboxStack } from "../../scripts/sandboxStack";

/** The runbook's networks and policy plus a fifth network (the stars template needs the four), for renames. */
export function withExtraNetwork(name: string): { networks: { name: string; subnet?: string }[]; policy: Policy } {
    return {
        networks: [...runbookNetworks, { name }],
        policy: {
            ...runbookPolicy,
            [name]: { inbound: ["allow tcp from tag backend to ports 5432"], outbound: ["allow"] },
        },
    };
}

/** `calicoctl profile <P> rule show` of a profile calico-libnetwork just made. */
export const libnetworkDefaults = (profile: string) =>
    `Inbound rules:\n   1 allow from tag ${profile}\nOutbound rules:\n   1 allow\n`;

/** Who runs the program: the test engine, or the Pulumi CLI through the Automation API. */
export type DriverKind = "engine" | "cli";

/** The lifecycle suites run once per driver; the CLI's run skips, saying why, where there is no CLI. */
export const lifecycleDrivers: DriverKind[] = ["engine", "cli"];

export const driverTitle = (kind: DriverKind) => (kind === "engine" ? "the test engine" : "the Pulumi CLI");

/** For a suite's `before`: skips the suite, saying why, on a machine where the sandbox (or the CLI) cannot run. */
export async function startStackOrSkip(suite: Mocha.Context, kind: DriverKind = "engine"): Promise<SandboxStack> {
    const missing = sandboxUnavailable() ?? (kind === "cli" ? cliUnavailable() : undefined);
    if (missing) {
        console.log(`      skipped: ${missing}`);
        suite.skip();
    }
    return SandboxStack.start(kind);
}
