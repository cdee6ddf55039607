// What the rendered Marathon group and resources file say will run: which app
// is the collector and which are probes, on which network and address, which
// port each listens on and which URLs each probe fetches. Read from the very
// JSON the program deploys, so verify checks what is deployed, not a copy.
//
// star v0.5.0 (mesosphere/star tag v0.5.0, src/bin/star-probe.rs and
// src/bin/star-collect.rs, the docopt USAGE strings): star-probe takes
// `--urls=<comma list>` (empty items dropped) and listens on `--http-port`,
// default 9000; star-collect listens on `--http-port`, default 9001. Each
// fetches once a round: star-probe every `--http-probe-seconds`, star-collect
// every `--http-request-seconds`, 5 by default (`parse::<u32>().unwrap()`).
import type { MarathonGroup } from "../marathon/group";
import { VerifyInputError } from "../errors";

type StarRole = "collector" | "probe" | "other";

export interface DeployedApp {
    /** The app's id within the group, e.g. "frontend". */
    id: string;
    /** Which star binary its command runs. */
    role: StarRole;
    /** The Docker network it joins (the `net` parameter): its Calico profile. */
    network?: string;
    /** Its fixed address (the `ip` parameter), when it asks for one. */
    fixedAddress?: string;
    /** The port it listens on (star's --http-port, or the binary's default). */
    listenPort?: number;
    /** The URLs a probe fetches (its --urls), in order. */
    urls: string[];
    /** How often it fetches (star-probe's --http-probe-seconds, star-collect's --http-request-seconds), in seconds. */
    intervalSeconds?: number;
}

/** One entry of the collector's resources file. */
export interface DeployedResource {
    /** The resource id: the name the UI draws on the node. */
    id: string;
    /** The URL the collector fetches: the probe's /status. */
    url: string;
}

const defaultPorts: Record<Exclude<StarRole, "other">, number> = { probe: 9000, collector: 9001 };
const intervalFlags: Record<Exclude<StarRole, "other">, string> = {
    probe: "--http-probe-seconds",
    collector: "--http-request-seconds",
};
/** Both binaries' default interval (star v0.5.0's USAGE strings). */
const defaultIntervalSeconds = 5;
const binaries: Record<string, StarRole> = { "star-probe": "probe", "star-collect": "collector" };

export function deployedApps(group: MarathonGroup): DeployedApp[] {
    return group.apps.map((app) => {
        const words = app.cmd.trim().split(/\s+/);
        const role = binaries[words[0].split("/").pop() ?? ""] ?? "other";
        const parameter = (key: string) => app.container.docker.parameters.find((p) => p.key === key)?.value;
        const port = flagValue(words, "--http-port");
        return {
            id: app.id,
            role,
            network: parameter("net"),
            fixedAddress: parameter("ip"),
            listenPort: role === "other" ? undefined : port === undefined ? defaultPorts[role] : parsePort(port),
            urls: role === "probe" ? (flagValue(words, "--urls") ?? "").split(",").filter((url) => url !== "") : [],
            intervalSeconds: role === "other" ? undefined : parseSeconds(flagValue(words, intervalFlags[role])),
        };
    });
}

/** docopt accepts `--name=value` and `--name value`. */
function flagValue(words: readonly string[], name: string): string | undefined {
    for (let i = 1; i < words.length; i++) {
        if (words[i].startsWith(`${name}=`)) {
            return words[i].slice(name.length + 1);
        }
        if (words[i] === name) {
            return words[i + 1];
        }
    }
    return undefined;
}

function parsePort(text: string): number | undefined {
    // star parses it with .parse().unwrap(): anything else makes the binary panic at start
    return /^[0-9]{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined;
}

function parseSeconds(text: string | undefined): number {
    return text !== undefined && /^[0-9]{1,6}$/.test(text) && Number(text) > 0 ? Number(text) : defaultIntervalSeconds;
}

/**
 * How long a change takes to show in the collector's /responses at most, in ms: the slowest probe's
 * interval (its next round) plus the collector's (its next fetch of that probe).
 */
export function probeRoundMs(group: MarathonGroup): number {
    const apps = deployedApps(group);
    const slowest = (role: StarRole) =>
        Math.max(
            ...apps.filter((app) => app.role === role).map((app) => app.intervalSeconds ?? defaultIntervalSeconds),
            0,
        ) || defaultIntervalSeconds;
    return (slowest("probe") + slowest("collector")) * 1000;
}

export function parseResourcesFile(text: string): DeployedResource[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (error) {
        throw new VerifyInputError(
            `the resources file is not JSON: ${error instanceof Error ? error.message : String(error)}`,
        );
    }
    if (!Array.isArray(parsed)) {
        throw new VerifyInputError("the resources file must be a JSON list of {id, url}");
    }
    return parsed.map((entry: unknown, index) => {
        const { id, url } = (typeof entry === "object" && entry !== null ? entry : {}) as {
            id?: unknown;
            url?: unknown;
        };
        if (typeof id !== "string" || typeof url !== "string") {
            throw new VerifyInputError(
                `the resources file's entry ${index} must be {"id": string, "url": string}, not ${JSON.stringify(entry)}`,
            );
        }
        return { id, url };
    });
}
