// Which Marathon app a URL's host names, and whether Mesos-DNS answers for it: Mesos-DNS serves a task's name
// mapped to an RFC 1123 label, so "frontend-calico-stars.marathon.mesos" resolves and the runbook's dotted
// "frontend.calico-stars.marathon.mesos" does not. `mesosDnsDomain` ("marathon.mesos") is `<framework>.<domain>`.

const maxLabelLength = 63;

/**
 * Marathon's task name for an app: its path reversed, joined with dots (mesosphere/marathon, PathId.toHostname),
 * so /calico-stars/frontend runs as "frontend.calico-stars".
 */
export function marathonTaskName(groupId: string, appId: string): string {
    const path = appId.startsWith("/") ? appId : `${groupId.replace(/\/+$/, "")}/${appId}`;
    return path
        .split("/")
        .filter((segment) => segment !== "")
        .reverse()
        .join(".");
}

/**
 * Mesos-DNS v0.5.0's labels.RFC1123 (records/labels/labels.go): lower case, `.` and `_` become `-`, other characters
 * dropped, leading `-` trimmed, cut at 63, trailing `-` trimmed.
 */
export function rfc1123Label(name: string): string {
    const mapped = [...name]
        .map((c) => {
            if (/[A-Z]/.test(c)) return c.toLowerCase();
            if (/[a-z0-9]/.test(c)) return c;
            return c === "-" || c === "." || c === "_" ? "-" : "";
        })
        .join("");
    const trimmed = mapped.replace(/^-+/, "");
    const head = trimmed.slice(0, maxLabelLength).replace(/-+$/, "");
    if (head.length === Math.min(trimmed.length, maxLabelLength)) {
        return head;
    }
    // trimCut: refill the label from past the cut, skipping the dashes there
    const tail = trimmed.slice(maxLabelLength).replace(/^-+/, "");
    return head + tail.slice(0, maxLabelLength - head.length);
}

/** The A record Mesos-DNS v0.5.0 serves for the app's task (records/generator.go, RecordGenerator.taskRecords). */
export function mesosDnsName(groupId: string, appId: string, domain: string): string {
    return `${rfc1123Label(marathonTaskName(groupId, appId))}.${domain}`.toLowerCase();
}

/**
 * The task name with the domain appended and nothing mapped: the runbook's dotted form, which Mesos-DNS never serves.
 */
export function dottedTaskName(groupId: string, appId: string, domain: string): string {
    return `${marathonTaskName(groupId, appId)}.${domain}`.toLowerCase();
}

export type HostResolution =
    { kind: "resolves"; app: string } | { kind: "unserved"; app: string; served: string } | { kind: "unknown" };

/** What Mesos-DNS does with a URL's host, given the group's apps. */
export function resolveAppHost(
    host: string,
    groupId: string,
    appIds: readonly string[],
    domain: string,
): HostResolution {
    const name = host.toLowerCase().replace(/\.$/, "");
    const served = appIds.find((app) => mesosDnsName(groupId, app, domain) === name);
    if (served !== undefined) {
        return { kind: "resolves", app: served };
    }
    const meant = appIds.find((app) => dottedTaskName(groupId, app, domain) === name);
    if (meant !== undefined) {
        return { kind: "unserved", app: meant, served: mesosDnsName(groupId, meant, domain) };
    }
    return { kind: "unknown" };
}
