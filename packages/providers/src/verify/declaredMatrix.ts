// The declared matrix: for every probe and for the collector, which targets it
// should reach, given the group and resources file as deployed and the policy
// as Felix evaluates it.
//
// An edge follows the stars UI (mesosphere/star v0.5.0 assets/index.html,
// createGraph/findTarget): probe n has an edge to probe m when one of n's target
// URLs equals m's resource URL exactly. The URL must then resolve (Mesos-DNS),
// something must listen on its port, and the policy must let the connection
// through. The collector fetches every resource URL; the UI's own connection
// comes from outside Calico to the collector's port (the DNAT target).
import type { MarathonGroup } from "../marathon/group";
import { describeOutcome, evaluateFlow, FlowEnd, FlowVerdict } from "./felixEvaluator";
import { DeployedApp, deployedApps, parseResourcesFile } from "./starApps";
import { DeclaredCause, DeclaredEdge, DeclaredMatrix, MatrixNode, Reach } from "./matrix";
import { resolveAppHost } from "./mesosDns";
import { PolicyProfiles } from "./policyProfiles";
import { VerifyInputError } from "../errors";

export interface DeclaredMatrixInput {
    /** The Marathon group exactly as deployed (renderStarsGroup's output). */
    group: MarathonGroup;
    /** The collector's resources file exactly as placed on the agents (renderResourcesFile's output). */
    resourcesFile: string;
    /** Mesos-DNS's `<framework>.<domain>` as the URLs use it, e.g. "marathon.mesos". */
    mesosDnsDomain: string;
    /** The collector port the UI's connection reaches (the DNAT rules' target port). */
    collectorPort: number;
    /** Every profile, as profilesFromPolicy builds them. */
    profiles: PolicyProfiles;
    /** The address the UI (and verify's own fetch) comes from, when known. */
    outsideAddress?: string;
    /** Task addresses learned from the cluster, app id -> IPv4; a fixed `ip` parameter is read from the group. */
    addresses?: Readonly<Record<string, string>>;
}

export const outsideNodeId = "outside";

const httpDefaultPort = 80;

export function declaredMatrix(input: DeclaredMatrixInput): DeclaredMatrix {
    const apps = deployedApps(input.group);
    const collectors = apps.filter((app) => app.role === "collector");
    if (collectors.length !== 1) {
        throw new VerifyInputError(`the group must run exactly one star-collect app, but runs ${collectors.length}`);
    }
    const collector = collectors[0];
    const probes = apps.filter((app) => app.role === "probe");
    const resources = parseResourcesFile(input.resourcesFile);
    const context = new EdgeContext(input, apps);
    const notes: string[] = [];

    const resourceOf = new Map<string, string>();
    for (const resource of resources) {
        const app = context.appNamedBy(resource.url);
        if (app === undefined || app.role !== "probe") {
            notes.push(`the resources file lists ${resource.id} (${resource.url}), which names no probe of the group`);
        } else if (!resourceOf.has(app.id)) {
            resourceOf.set(app.id, resource.url);
        }
    }
    const ordered = [...probes].sort((a, b) => rank(resourceOf, resources, a) - rank(resourceOf, resources, b));
    const nodes: MatrixNode[] = [
        { id: outsideNodeId, kind: "outside", label: outsideNodeId, address: input.outsideAddress },
        context.node(collector, "collector", collector.id),
        ...ordered.map((probe) =>
            context.node(
                probe,
                "probe",
                resources.find((r) => r.url === resourceOf.get(probe.id))?.id ?? probe.id,
                resourceOf.get(probe.id),
            ),
        ),
    ];

    const edges: DeclaredEdge[] = [context.uiEdge(collector)];
    for (const probe of ordered) {
        const url = resourceOf.get(probe.id);
        edges.push(
            url === undefined
                ? notProbed(collector.id, probe.id, `the resources file lists no URL of ${probe.id}`)
                : context.urlEdge(collector, probe, url),
        );
    }
    for (const source of ordered) {
        for (const target of ordered.filter((other) => other !== source)) {
            const resourceUrl = resourceOf.get(target.id);
            const url = source.urls.find((candidate) => candidate === resourceUrl);
            edges.push(
                url === undefined
                    ? notProbed(
                          source.id,
                          target.id,
                          `${source.id}'s --urls hold no URL equal to ${target.id}'s resource URL`,
                      )
                    : context.urlEdge(source, target, url),
            );
        }
        for (const url of source.urls.filter((candidate) => ![...resourceOf.values()].includes(candidate))) {
            notes.push(
                `${source.id} probes ${url}, which is no resource of the collector: the UI draws no edge for it`,
            );
        }
    }
    return { nodes, edges, notes };
}

function rank(resourceOf: Map<string, string>, resources: { url: string }[], app: DeployedApp): number {
    const index = resources.findIndex((resource) => resource.url === resourceOf.get(app.id));
    return index === -1 ? resources.length : index;
}

function notProbed(source: string, target: string, reason: string): DeclaredEdge {
    return { source, target, reach: "blocked", drawn: false, cause: { kind: "not-probed" }, reason };
}

/** Turns apps and URLs into flows and evaluates them. */
class EdgeContext {
    private readonly input: DeclaredMatrixInput;
    private readonly apps: DeployedApp[];

    constructor(input: DeclaredMatrixInput, apps: DeployedApp[]) {
        this.input = input;
        this.apps = apps;
    }

    node(app: DeployedApp, kind: "collector" | "probe", label: string, resourceUrl?: string): MatrixNode {
        return { id: app.id, kind, label, resourceUrl, profile: app.network, address: this.addressOf(app) };
    }

    /** The app a URL's host names, whether or not Mesos-DNS serves that name. */
    appNamedBy(url: string): DeployedApp | undefined {
        const host = hostOf(url);
        if (host === undefined) {
            return undefined;
        }
        const byAddress = this.apps.find((app) => this.addressOf(app) === host);
        if (byAddress !== undefined) {
            return byAddress;
        }
        const resolution = resolveAppHost(
            host,
            this.input.group.id,
            this.apps.map((app) => app.id),
            this.input.mesosDnsDomain,
        );
        return resolution.kind === "unknown" ? undefined : this.apps.find((app) => app.id === resolution.app);
    }

    /** The UI's connection: from outside Calico, through the DNAT rules, to the collector's port. */
    uiEdge(collector: DeployedApp): DeclaredEdge {
        const port = this.input.collectorPort;
        const edge = { source: outsideNodeId, target: collector.id, port, drawn: true };
        if (collector.listenPort !== port) {
            return { ...edge, ...noListener(collector, port) };
        }
        const outside: FlowEnd = { kind: "outside", name: outsideNodeId, address: this.input.outsideAddress };
        return { ...edge, ...this.policyEdge(outside, this.endOf(collector), port) };
    }

    urlEdge(source: DeployedApp, target: DeployedApp, url: string): DeclaredEdge {
        const edge = { source: source.id, target: target.id, url, drawn: true };
        let parsed: URL;
        try {
            parsed = new URL(url);
        } catch {
            return { ...edge, ...blocked({ kind: "bad-url", problem: "not a URL" }, `${url} is not a URL`) };
        }
        if (parsed.protocol !== "http:") {
            return {
                ...edge,
                ...blocked(
                    { kind: "bad-url", problem: `scheme ${parsed.protocol}` },
                    `star fetches only http:// URLs, not ${url}`,
                ),
            };
        }
        const port = parsed.port === "" ? httpDefaultPort : Number(parsed.port);
        const host = parsed.hostname;
        const resolution = resolveAppHost(
            host,
            this.input.group.id,
            this.apps.map((app) => app.id),
            this.input.mesosDnsDomain,
        );
        const byAddress = this.apps.find((app) => this.addressOf(app) === host);
        if (byAddress === undefined && resolution.kind !== "resolves") {
            const served = resolution.kind === "unserved" ? resolution.served : undefined;
            return {
                ...edge,
                port,
                ...blocked(
                    { kind: "unresolved", host, served },
                    `"${host}" does not resolve${served === undefined ? "" : `: Mesos-DNS serves "${served}"`}`,
                ),
            };
        }
        const reached =
            byAddress ?? this.apps.find((app) => resolution.kind === "resolves" && app.id === resolution.app)!;
        if (reached.listenPort !== port) {
            return { ...edge, port, ...noListener(reached, port) };
        }
        const policy = this.policyEdge(this.endOf(source), this.endOf(reached), port);
        const elsewhere = reached === target ? "" : ` (the URL reaches ${reached.id}, not ${target.id})`;
        return { ...edge, port, ...policy, reason: policy.reason + elsewhere };
    }

    private policyEdge(
        source: FlowEnd,
        target: FlowEnd,
        port: number,
    ): { reach: Reach; cause: DeclaredCause; reason: string } {
        const verdict = evaluateFlow(this.input.profiles, {
            source,
            target,
            packet: { protocol: "tcp", dstPort: port },
        });
        return { reach: reachOf(verdict), cause: { kind: "policy", verdict }, reason: policyReason(verdict) };
    }

    private endOf(app: DeployedApp): FlowEnd {
        const address = this.addressOf(app);
        return app.network === undefined
            ? { kind: "outside", name: app.id, address }
            : { kind: "endpoint", name: app.id, profile: app.network, address };
    }

    private addressOf(app: DeployedApp): string | undefined {
        return app.fixedAddress ?? this.input.addresses?.[app.id];
    }
}

function hostOf(url: string): string | undefined {
    try {
        return new URL(url).hostname;
    } catch {
        return undefined;
    }
}

function blocked(cause: DeclaredCause, reason: string): { reach: Reach; cause: DeclaredCause; reason: string } {
    return { reach: "blocked", cause, reason };
}

function noListener(app: DeployedApp, port: number): { reach: Reach; cause: DeclaredCause; reason: string } {
    const listening = app.listenPort === undefined ? "listens on no valid port" : `listens on ${app.listenPort}`;
    return blocked(
        { kind: "no-listener", port, listenPort: app.listenPort },
        `nothing listens on ${app.id}:${port} (its ${app.role === "probe" ? "star-probe" : "star-collect"} ${listening})`,
    );
}

function reachOf(verdict: FlowVerdict): Reach {
    return verdict.allowed === undefined ? "unknown" : verdict.allowed ? "reachable" : "blocked";
}

function policyReason(verdict: FlowVerdict): string {
    if (verdict.allowed === undefined) {
        return `depends on ${describeOutcome(verdict.deciding)}`;
    }
    if (!verdict.allowed) {
        return `blocked by ${describeOutcome(verdict.deciding)}`;
    }
    const allowedBy = [verdict.outbound, verdict.inbound]
        .filter((outcome) => outcome.kind === "allowed")
        .map(describeOutcome);
    return `allowed by ${allowedBy.join(" and ")}`;
}
