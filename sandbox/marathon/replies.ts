// The stand-in's answers, in the shapes Marathon v0.14.2 gives them (api/MarathonExceptionMapper.scala,
// api/LeaderProxyFilter.scala).

/** One path's errors in a 422's details (api/v2/Validation.scala). */
export interface Violation {
    path: string;
    errors: string[];
}

/** An answer: JSON, or text with its content type. */
export interface Reply {
    status: number;
    json?: unknown;
    text?: string;
    contentType?: string;
    headers?: Record<string, string>;
}

const lockedMessage =
    "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.";
const noLeaderMessage = "Could not determine the current leader";

export function ok(json: unknown): Reply {
    return { status: 200, json };
}

export function failure(status: number, message: string): Reply {
    return { status, json: { message } };
}

export function groupNotFound(id: string) {
    return failure(404, `Group '${id}' does not exist`);
}

/**
 * AppLockedException(deploymentIds): the ids are those of the running deployments that touch the same apps, and
 * empty when a scale or a task kill (no deployment) holds the lock (MarathonSchedulerActor.withLockFor).
 */
export function locked(deploymentIds: string[]): Reply {
    return { status: 409, json: { message: lockedMessage, deployments: deploymentIds.map((id) => ({ id })) } };
}

export function invalidJson(error: string): Reply {
    return { status: 400, json: { message: "Invalid JSON", details: [{ path: "/", errors: [error] }] } };
}

/**
 * LeaderProxyFilter answers with `response.sendError(503, ...)`, which Jetty renders as its HTML error page, not
 * JSON; the page's markup follows Jetty 9's ErrorHandler (not read here: written from its usual output).
 */
export function noLeader(pathname: string): Reply {
    const text = [
        "<html>",
        "<head>",
        '<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>',
        `<title>Error 503 ${noLeaderMessage}</title>`,
        "</head>",
        "<body><h2>HTTP ERROR 503</h2>",
        `<p>Problem accessing ${pathname}. Reason:`,
        `<pre>    ${noLeaderMessage}</pre></p><hr><i><small>Powered by Jetty://</small></i><hr/>`,
        "</body>",
        "</html>",
        "",
    ].join("\n");
    return { status: 503, text, contentType: "text/html;charset=ISO-8859-1" };
}
