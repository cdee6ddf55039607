// A Marathon whose every answer a test writes, for the ways real Marathon
// behaves that the sandbox's stand-in does not show on demand (a 409 with no
// deployment listed, 503 before a leader is elected, a deployment that never
// ends, an unchanged PUT). Listens on 127.0.0.1; tests reach it through the
// loopback sshd's forwarded channel, as the program reaches Marathon. Answer
// shapes follow mesosphere/marathon v1.1.1 (docs/docs/rest-api.md, GroupsResource,
// AppsResource).
import * as http from "http";
import type { AddressInfo } from "net";

export interface MarathonRequest {
    method: string;
    /** The path without the query. */
    path: string;
    query: URLSearchParams;
    body: string;
}

export interface MarathonReply {
    status: number;
    json?: unknown;
}

export interface ScriptedMarathon {
    port: number;
    /** Every request, in order. */
    requests: MarathonRequest[];
    /** How many requests matched `method` and a path starting with `pathPrefix`. */
    count(method: string, pathPrefix: string): number;
    close(): Promise<void>;
}

export async function startScriptedMarathon(
    answer: (request: MarathonRequest) => MarathonReply,
    port = 0,
): Promise<ScriptedMarathon> {
    const requests: MarathonRequest[] = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://marathon");
            const request = {
                method: req.method ?? "GET",
                path: url.pathname,
                query: url.searchParams,
                body: Buffer.concat(chunks).toString("utf8"),
            };
            requests.push(request);
            let reply: MarathonReply;
            try {
                reply = answer(request);
            } catch (err) {
                reply = { status: 500, json: { message: `scripted Marathon: ${(err as Error).message}` } };
            }
            const text = reply.json === undefined ? "" : JSON.stringify(reply.json);
            res.writeHead(reply.status, {
                "Content-Type": "application/json",
                "Content-Length": Buffer.byteLength(text),
            });
            res.end(text);
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
    });
    return {
        port: (server.address() as AddressInfo).port,
        requests,
        count: (method, pathPrefix) =>
            requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/** The lock answer (GroupsResource via ConflictingChangeException), with the deployments it names. */
export function locked(deploymentIds: string[]): MarathonReply {
    return {
        status: 409,
        json: {
            message:
                "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
            deployments: deploymentIds.map((id) => ({ id })),
        },
    };
}

/** The version scripted answers give an app, its tasks and a write. */
export const scriptedVersion = "2026-01-01T00:00:00.000Z";

/** A task as GET /v2/apps?embed=apps.tasks shows it: started (running) or staged, of an app version. */
export function task(version: string, running: boolean): object {
    return { id: `task-${Math.random().toString(16).slice(2)}`, version, startedAt: running ? version : null };
}

/** An app as GET /v2/apps?embed=apps.tasks shows it, at `version`, with its tasks and the deployments listed on it. */
export function appStatus(
    id: string,
    instances: number,
    tasks: object[],
    deployments: string[] = [],
    version = scriptedVersion,
): object {
    return {
        id,
        instances,
        version,
        versionInfo: { lastScalingAt: version, lastConfigChangeAt: version },
        tasks,
        deployments: deployments.map((deploymentId) => ({ id: deploymentId })),
    };
}

/** GET /v2/apps?embed=apps.tasks for a group whose apps all run their instances, with no deployment left. */
export function allRunning(groupId: string, apps: { id: string; instances: number }[]): MarathonReply {
    return {
        status: 200,
        json: {
            apps: apps.map((app) =>
                appStatus(
                    `${groupId}/${app.id}`,
                    app.instances,
                    Array.from({ length: app.instances }, () => task(scriptedVersion, true)),
                ),
            ),
        },
    };
}

/** A deployment as GET /v2/deployments lists it. */
export function deployment(id: string, app: string, action = "StartApplication"): object {
    return {
        id,
        version: scriptedVersion,
        affectedApps: [app],
        steps: [[{ action, app }]],
        currentActions: [{ action, app }],
        currentStep: 1,
        totalSteps: 1,
    };
}
