// Marathon's path ids (mesosphere/marathon v0.14.2 state/PathId.scala) and task ids (tasks/TaskIDUtil.scala).
import * as crypto from "crypto";

export const rootGroupId = "/";
const idSegment = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
export const idSegmentError =
    "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'";
/** TaskIDUtil.TaskIdRegex: the app's safe path, then `.` or `_`, then a UUID. */
const taskIdPattern = /^(.+)[._]([^_.]+)$/;

function segmentsOf(id: string) {
    return id.split("/").filter((segment) => segment !== "");
}

/**
 * Resolves `id` against `base` the way Marathon does: relative unless it starts with `/`, `.` and `..` allowed.
 * @param base absolute group id
 */
export function absoluteId(id: string, base: string) {
    const start = id.startsWith("/") ? [] : segmentsOf(base);
    const resolved: string[] = [];
    for (const segment of [...start, ...segmentsOf(id)]) {
        if (segment === "..") resolved.pop();
        else if (segment !== ".") resolved.push(segment);
    }
    return "/" + resolved.join("/");
}

export function parentOf(id: string) {
    return "/" + segmentsOf(id).slice(0, -1).join("/");
}

/** @param id e.g. `/a/b` gives `/` and `/a` */
export function ancestorsOf(id: string) {
    const segments = segmentsOf(id);
    return segments.map((_, index) => "/" + segments.slice(0, index).join("/"));
}

export function isInSubtree(id: string, rootId: string) {
    return rootId === rootGroupId || id === rootId || id.startsWith(rootId + "/");
}

export function hasValidSegments(rawId: string) {
    return segmentsOf(rawId).every((segment) => segment === "." || segment === ".." || idSegment.test(segment));
}

/** PathId.toHostname: the task's name, `/calico-stars/frontend` runs as `frontend.calico-stars`. */
export function taskName(appId: string) {
    return segmentsOf(appId).reverse().join(".");
}

/** TaskIDUtil.newTaskId: `calico-stars_frontend.<uuid>`. */
export function newTaskId(appId: string) {
    return `${segmentsOf(appId).join("_")}.${crypto.randomUUID()}`;
}

/** TaskIDUtil.appId: PathId.fromSafePath splits the safe path on `_`. */
export function appIdOfTask(taskId: string): string | undefined {
    const match = taskIdPattern.exec(taskId);
    return match ? "/" + match[1].split("_").join("/") : undefined;
}
