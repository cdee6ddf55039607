// Shared by the verify unit tests: a stack config with the program's
// defaults, its declared matrix, and /responses bodies as star-collect writes them.
import { parseStackConfig, StarsConfig } from "../../components/config";
import { starsParameters } from "../../components/starsTemplate";
import type { DeclaredMatrix } from "@calico-stars/providers/verify";
import { declaredMatrixForStack, stackProfiles } from "../../components/connectivity";

/** A stack config with the program's defaults: only the hosts are given, plus `extra` keys. */
export function stackConfig(extra: Record<string, unknown> = {}): StarsConfig {
    const raw: Record<string, string> = {
        "calico-stars:master": JSON.stringify({ address: "10.1.0.11" }),
        "calico-stars:agents": JSON.stringify([{ address: "10.1.0.12" }]),
        "calico-stars:insecureSkipHostKeyVerification": "true",
    };
    for (const [key, value] of Object.entries(extra)) {
        raw[`calico-stars:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return parseStackConfig((key) => raw[key]);
}

export function declaredOf(config: StarsConfig, addresses?: Record<string, string>): DeclaredMatrix {
    return declaredMatrixForStack(starsParameters(config, "test-owner"), stackProfiles(config), { addresses });
}

/** The probe URL the default config renders. */
export function probeUrl(app: string): string {
    return `http://${app}-calico-stars.marathon.mesos:9000/status`;
}

const resourceIds: Record<string, string> = { client: "C", frontend: "F", backend: "B" };

/**
 * A /responses body as star-collect writes it: probe -> its targets (reachable or not), or null when its fetch failed.
 */
export function responsesBody(probes: Record<string, Record<string, boolean> | null>): string {
    const responses = Object.fromEntries(
        Object.entries(probes).map(([app, targets]) => [
            resourceIds[app],
            targets === null
                ? null
                : {
                      url: probeUrl(app),
                      statusCode: 200,
                      json: {
                          status: {
                              targets: Object.entries(targets).map(([target, reachable]) => ({
                                  url: probeUrl(target),
                                  reachable,
                              })),
                          },
                      },
                  },
        ]),
    );
    return JSON.stringify({ responses });
}

/** What the runbook's final graph looks like from the collector. */
export const healthyProbes: Record<string, Record<string, boolean>> = {
    client: { frontend: true, backend: false },
    frontend: { client: false, backend: true },
    backend: { client: false, frontend: false },
};
