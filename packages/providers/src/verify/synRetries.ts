// Each star app's connect limit, from its containers' net.ipv4.tcp_syn_retries, read on the agents over SSH: one
// command per agent lists its running containers with their MARATHON_APP_ID (mesosphere/marathon v0.14.2,
// TaskBuilder.scala, sets it in every task's environment) and reads the setting inside each (`docker exec <container>
// cat /proc/sys/net/ipv4/tcp_syn_retries`: /proc/sys/net shows the reader's network namespace, here the container's).
// An app with no container read gets Linux's default, and says why.
import { command, privileged, runCommand, SshHost } from "../ssh";
import { linuxDefaultSynRetries, synRetriesRange } from "./connectLimit";
import type { AppSynRetries } from "./readingBounds";

const readTimeoutMs = 30000;

const listingScript = [
    "containers=$(docker ps -q) || exit 3",
    "for container in $containers; do",
    "  app=$(docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' \"$container\" | sed -n 's/^MARATHON_APP_ID=//p')",
    '  [ -n "$app" ] || continue',
    '  value=$(docker exec "$container" cat /proc/sys/net/ipv4/tcp_syn_retries 2>&1 | tr -d "\\n")',
    '  printf \'%s %s %s\\n\' "$app" "$container" "$value"',
    "done",
].join("\n");

/** One container's line of the listing. */
export interface ContainerSynRetries {
    /** Its MARATHON_APP_ID, e.g. "/calico-stars/frontend". */
    appId: string;
    container: string;
    /** The setting, or what reading it printed instead. */
    value: number | string;
}

/** The listing's lines: "<app id> <container> <value or error>". */
export function parseSynRetriesListing(output: string): ContainerSynRetries[] {
    return output
        .split("\n")
        .map((line) => /^(\S+) (\S+) ?(.*)$/.exec(line))
        .filter((match): match is RegExpExecArray => match !== null)
        .map(([, appId, container, text]) => {
            const value = Number(text);
            const valid = /^[0-9]+$/.test(text) && value >= synRetriesRange.min && value <= synRetriesRange.max;
            return { appId, container, value: valid ? value : text || "nothing printed" };
        });
}

/**
 * Each app's setting: the largest its containers have (the slowest decides), or Linux's default when none of them
 * could be read.
 */
export function synRetriesOfApps(
    groupId: string,
    apps: readonly string[],
    listings: readonly { agent: string; containers?: ContainerSynRetries[]; error?: string }[],
): AppSynRetries[] {
    const group = `/${groupId.replace(/^\/+|\/+$/g, "")}`;
    return apps.map((app) => {
        const found = listings.flatMap((listing) =>
            (listing.containers ?? [])
                .filter((entry) => entry.appId === `${group}/${app}`)
                .map((entry) => ({ ...entry, agent: listing.agent })),
        );
        const read = found.filter(
            (entry): entry is typeof entry & { value: number } => typeof entry.value === "number",
        );
        if (read.length > 0) {
            const largest = read.reduce((max, entry) => (entry.value > max.value ? entry : max));
            return {
                app,
                synRetries: largest.value,
                from: `read in its container on ${[...new Set(read.map((entry) => entry.agent))].join(", ")}`,
            };
        }
        const why = [
            ...found.map((entry) => `${entry.agent}: ${entry.value}`),
            ...listings.filter((listing) => listing.error !== undefined).map((l) => `${l.agent}: ${l.error}`),
        ];
        return {
            app,
            synRetries: linuxDefaultSynRetries,
            from: `Linux's default: not read (${why.length > 0 ? why.join("; ") : `no running container of ${group}/${app} on the agents`})`,
        };
    });
}

/** Reads every agent at once; an agent that cannot be read is a reason, not an error. */
export async function readSynRetries(
    agents: readonly SshHost[],
    groupId: string,
    apps: readonly string[],
): Promise<AppSynRetries[]> {
    const listings = await Promise.all(
        agents.map(async (agent) => {
            try {
                const result = await runCommand(
                    agent,
                    command(privileged(agent, ["sh", "-c", listingScript, "calico-stars-syn-retries"])),
                    { timeoutMs: readTimeoutMs },
                );
                if (result.code !== 0) {
                    return {
                        agent: agent.address,
                        error: `exit ${result.code}: ${result.stderr.trim().slice(0, 200)}`,
                    };
                }
                return { agent: agent.address, containers: parseSynRetriesListing(result.stdout) };
            } catch (error) {
                return { agent: agent.address, error: error instanceof Error ? error.message : String(error) };
            }
        }),
    );
    return synRetriesOfApps(groupId, apps, listings);
}
