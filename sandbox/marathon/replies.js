// @ts-check
"use strict";
// The stand-in's answers, in the shapes Marathon v0.14.2 gives them (api/MarathonExceptionMapper.scala,
// api/LeaderProxyFilter.scala).

/** @typedef {{path: string, errors: string[]}} Violation */
/** @typedef {{status: number, json?: unknown, text?: string, contentType?: string, headers?: Record<string, string>}} Reply */

const LOCKED_MESSAGE =
    "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.";
const NO_LEADER_MESSAGE = "Could not determine the current leader";

/** @param {unknown} json @returns {Reply} */
function ok(json) {
    return { status: 200, json };
}

/** @param {number} status @param {string} message @returns {Reply} */
function failure(status, message) {
    return { status, json: { message } };
}

/** @param {string} id */
function groupNotFound(id) {
    return failure(404, `Group '${id}' does not exist`);
}

/**
 * AppLockedException(deploymentIds): the ids are those of the running deployments that touch the same apps, and
 * empty when a scale or a task kill (no deployment) holds the lock (MarathonSchedulerActor.withLockFor).
 * @param {string[]} deploymentIds
 * @returns {Reply}
 */
function locked(deploymentIds) {
    return { status: 409, json: { message: LOCKED_MESSAGE, deployments: deploymentIds.map((id) => ({ id })) } };
}

/** @param {string} error @returns {Reply} */
function invalidJson(error) {
    return { status: 400, json: { message: "Invalid JSON", details: [{ path: "/", errors: [error] }] } };
}

/**
 * LeaderProxyFilter answers with `response.sendError(503, ...)`, which Jetty renders as its HTML error page, not
 * JSON; the page's markup follows Jetty 9's ErrorHandler (not read here: written from its usual output).
 * @param {string} pathname
 * @returns {Reply}
 */
function noLeader(pathname) {
    const text = [
        "<html>",
        "<head>",
        '<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>',
        `<title>Error 503 ${NO_LEADER_MESSAGE}</title>`,
        "</head>",
        "<body><h2>HTTP ERROR 503</h2>",
        `<p>Problem accessing ${pathname}. Reason:`,
        `<pre>    ${NO_LEADER_MESSAGE}</pre></p><hr><i><small>Powered by Jetty://</small></i><hr/>`,
        "</body>",
        "</html>",
        "",
    ].join("\n");
    return { status: 503, text, contentType: "text/html;charset=ISO-8859-1" };
}

module.exports = { LOCKED_MESSAGE, NO_LEADER_MESSAGE, ok, failure, groupNotFound, locked, invalidJson, noLeader };
