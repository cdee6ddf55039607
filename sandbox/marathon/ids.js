// @ts-check
"use strict";
// Marathon's path ids (mesosphere/marathon v0.14.2 state/PathId.scala) and task ids (tasks/TaskIDUtil.scala).

const crypto = require("crypto");

const ROOT = "/";
const ID_SEGMENT = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const ID_SEGMENT_ERROR =
    "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'";
/** TaskIDUtil.TaskIdRegex: the app's safe path, then `.` or `_`, then a UUID. */
const TASK_ID = /^(.+)[._]([^_.]+)$/;

/** @param {string} id */
function segmentsOf(id) {
    return id.split("/").filter((segment) => segment !== "");
}

/**
 * Resolves `id` against `base` the way Marathon does: relative unless it starts with `/`, `.` and `..` allowed.
 * @param {string} id
 * @param {string} base absolute group id
 */
function absoluteId(id, base) {
    const start = id.startsWith("/") ? [] : segmentsOf(base);
    /** @type {string[]} */
    const resolved = [];
    for (const segment of [...start, ...segmentsOf(id)]) {
        if (segment === "..") resolved.pop();
        else if (segment !== ".") resolved.push(segment);
    }
    return "/" + resolved.join("/");
}

/** @param {string} id */
function parentOf(id) {
    return "/" + segmentsOf(id).slice(0, -1).join("/");
}

/** @param {string} id e.g. `/a/b` gives `/` and `/a` */
function ancestorsOf(id) {
    const segments = segmentsOf(id);
    return segments.map((_, index) => "/" + segments.slice(0, index).join("/"));
}

/** @param {string} id @param {string} rootId */
function isInSubtree(id, rootId) {
    return rootId === ROOT || id === rootId || id.startsWith(rootId + "/");
}

/** @param {string} rawId */
function hasValidSegments(rawId) {
    return segmentsOf(rawId).every((segment) => segment === "." || segment === ".." || ID_SEGMENT.test(segment));
}

/** PathId.toHostname: the task's name, `/calico-stars/frontend` runs as `frontend.calico-stars`. @param {string} appId */
function taskName(appId) {
    return segmentsOf(appId).reverse().join(".");
}

/** TaskIDUtil.newTaskId: `calico-stars_frontend.<uuid>`. @param {string} appId */
function newTaskId(appId) {
    return `${segmentsOf(appId).join("_")}.${crypto.randomUUID()}`;
}

/**
 * TaskIDUtil.appId: PathId.fromSafePath splits the safe path on `_`.
 * @param {string} taskId
 * @returns {string | undefined}
 */
function appIdOfTask(taskId) {
    const match = TASK_ID.exec(taskId);
    return match ? "/" + match[1].split("_").join("/") : undefined;
}

module.exports = {
    ROOT, ID_SEGMENT_ERROR, segmentsOf, absoluteId, parentOf, ancestorsOf, isInSubtree, hasValidSegments, taskName, newTaskId,
    appIdOfTask,
};
