// @ts-check
"use strict";

// Marathon v2 stand-in (groups, apps read-only, deployments) for the sandbox cluster and the tests.
// Deployments finish on a timer; faults can be injected at run time through /_sandbox/faults.

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const { URL } = require("url");

const ROOT = "/";
const DEFAULT_DEPLOY_DELAY_MS = 300;
const MARATHON_VERSION = "0.14.2";
const ID_SEGMENT = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const ID_SEGMENT_ERROR =
    "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'";
const LOCKED_MESSAGE =
    "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.";
const LAUNCH_COMMAND_ERROR = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";
const INJECTED_FAILURE_MESSAGE = "Internal server error (injected)";
// Marathon computes these itself; ignoring them in a body keeps "PUT back what GET showed" from being a change.
const READ_ONLY_APP_FIELDS = [
    "version",
    "versionInfo",
    "tasksRunning",
    "tasksStaged",
    "tasksHealthy",
    "tasksUnhealthy",
    "deployments",
    "tasks",
    "lastTaskFailure",
];
const NON_NEGATIVE_APP_FIELDS = ["cpus", "mem", "disk", "instances"];

/** @typedef {Record<string, unknown>} JsonObject */
/** @typedef {JsonObject & {id: string, instances: number}} AppDefinition */
/** @typedef {AppDefinition & {version: string}} App */
/** @typedef {{id: string, dependencies: unknown[], version: string}} GroupRecord */
/** @typedef {{groups: GroupRecord[], apps: AppDefinition[]}} Subtree */
/** @typedef {{groups: GroupRecord[], apps: App[]}} StoredSubtree */
/** @typedef {{action: string, app: string}} Action */
/**
 * @typedef {{id: string, version: string, actions: Action[], rollback: {rootId: string} & StoredSubtree,
 *   timer: ReturnType<typeof setTimeout> | undefined}} Deployment
 */
/** @typedef {{status: number, count: number, method?: string, pathPrefix?: string}} FailNext */
/** @typedef {{deployDelayMs: number, hangDeployments: boolean, failNext: FailNext | null}} Faults */
/** @typedef {{path: string, errors: string[]}} Violation */
/** @typedef {{current: Marathon, version: string, malformed: Violation[], invalid: Violation[]}} ReadContext */
/** @typedef {{method: string, pathname: string, query: URLSearchParams, body: string}} Request */
/** @typedef {{status: number, json?: unknown, text?: string, headers?: Record<string, string>}} Reply */
/** @typedef {(marathon: Marathon, request: Request, param: string) => Reply} Handler */

// ---------------------------------------------------------------- ids

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

/**
 * @param {string} id
 * @param {string} rootId
 */
function isInSubtree(id, rootId) {
    return rootId === ROOT || id === rootId || id.startsWith(rootId + "/");
}

/** @param {string} rawId */
function hasValidSegments(rawId) {
    return segmentsOf(rawId).every((segment) => segment === "." || segment === ".." || ID_SEGMENT.test(segment));
}

// ---------------------------------------------------------------- JSON helpers

/**
 * @param {unknown} value
 * @returns {value is JsonObject}
 */
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** @param {unknown} value */
function isAbsent(value) {
    return value === undefined || value === null;
}

/**
 * @param {string} text
 * @returns {{ok: true, value: unknown} | {ok: false, error: string}}
 */
function parseJson(text) {
    try {
        return { ok: true, value: JSON.parse(text) };
    } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
}

/**
 * Key order does not make two definitions different.
 * @param {unknown} value
 * @returns {string}
 */
function canonicalJson(value) {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
    if (isObject(value)) {
        const entries = Object.keys(value)
            .sort()
            .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
        return `{${entries.join(',')}}`;
    }
    return JSON.stringify(value);
}

/**
 * @param {JsonObject} object
 * @param {string[]} keys
 */
function definedFieldsExcept(object, keys) {
    return Object.fromEntries(Object.entries(object).filter(([key, value]) => !keys.includes(key) && value !== null));
}

// ---------------------------------------------------------------- replies

/** @param {unknown} json */
function ok(json) {
    return { status: 200, json };
}

/**
 * @param {number} status
 * @param {string} message
 * @returns {Reply}
 */
function failure(status, message) {
    return { status, json: { message } };
}

/** @param {string} id */
function groupNotFound(id) {
    return failure(404, `Group '${id}' does not exist`);
}

/** @param {Deployment[]} deployments */
function locked(deployments) {
    return { status: 409, json: { message: LOCKED_MESSAGE, deployments: deployments.map(({ id }) => ({ id })) } };
}

/** @param {ReadContext} context */
function problemReply(context) {
    if (context.malformed.length > 0) return { status: 400, json: { message: "Invalid JSON", details: context.malformed } };
    if (context.invalid.length > 0) return { status: 422, json: { message: "Object is not valid", details: context.invalid } };
    return undefined;
}

/** @param {string} error */
function invalidJson(error) {
    return { status: 400, json: { message: "Invalid JSON", details: [{ path: "/", errors: [error] }] } };
}

/**
 * @param {URLSearchParams} query
 * @param {string} name
 */
function isFlagSet(query, name) {
    return (query.get(name) ?? "").toLowerCase() === "true";
}

function now() {
    return new Date().toISOString();
}

// ---------------------------------------------------------------- reading a group update

/** @param {Marathon} current @param {string} version @returns {ReadContext} */
function newReadContext(current, version) {
    return { current, version, malformed: [], invalid: [] };
}

/**
 * @param {Violation[]} list
 * @param {string} path
 * @param {string} error
 * @returns {undefined} so that a reader can report and give up in one statement
 */
function report(list, path, error) {
    list.push({ path: path === "" ? "/" : path, errors: [error] });
    return undefined;
}

/**
 * The groups and apps `groupId` and its descendants should have after the update; parts the update
 * leaves out (`apps`, `groups`, `dependencies`) stay as they are, as in Marathon.
 * @param {string} groupId
 * @param {unknown} update
 * @param {string} jsonPath
 * @param {ReadContext} context
 * @returns {Subtree}
 */
function desiredSubtree(groupId, update, jsonPath, context) {
    if (!isObject(update)) {
        report(context.malformed, jsonPath, "error.expected.jsobject");
        return { groups: [], apps: [] };
    }
    const group = {
        id: groupId,
        dependencies: readDependencies(update.dependencies, `${jsonPath}/dependencies`, context) ??
            context.current.groups.get(groupId)?.dependencies ?? [],
        version: context.version,
    };
    const apps = isAbsent(update.apps)
        ? context.current.appsIn(groupId)
        : readApps(groupId, update.apps, `${jsonPath}/apps`, context);
    const descendants = isAbsent(update.groups)
        ? [context.current.descendantsOf(groupId)]
        : readSubgroups(groupId, update.groups, `${jsonPath}/groups`, context);
    return {
        groups: [group, ...descendants.flatMap((subtree) => subtree.groups)],
        apps: [...apps, ...descendants.flatMap((subtree) => subtree.apps)],
    };
}

/**
 * @param {unknown} dependencies
 * @param {string} jsonPath
 * @param {ReadContext} context
 */
function readDependencies(dependencies, jsonPath, context) {
    if (isAbsent(dependencies)) return undefined;
    if (Array.isArray(dependencies) && dependencies.every((dependency) => typeof dependency === "string")) return dependencies;
    report(context.malformed, jsonPath, "error.expected.jsarray");
    return undefined;
}

/**
 * @param {string} parentId
 * @param {unknown} groups
 * @param {string} jsonPath
 * @param {ReadContext} context
 * @returns {Subtree[]}
 */
function readSubgroups(parentId, groups, jsonPath, context) {
    if (!Array.isArray(groups)) {
        report(context.malformed, jsonPath, "error.expected.jsarray");
        return [];
    }
    const subtrees = groups.flatMap((group, index) => {
        const path = `${jsonPath}(${index})`;
        const id = readChildId(parentId, group, path, context);
        return id === undefined ? [] : [desiredSubtree(id, group, path, context)];
    });
    reportDuplicates(subtrees.map((subtree) => subtree.groups[0].id), jsonPath, "group", context);
    return subtrees;
}

/**
 * @param {string} groupId
 * @param {unknown} apps
 * @param {string} jsonPath
 * @param {ReadContext} context
 * @returns {AppDefinition[]}
 */
function readApps(groupId, apps, jsonPath, context) {
    if (!Array.isArray(apps)) {
        report(context.malformed, jsonPath, "error.expected.jsarray");
        return [];
    }
    const definitions = apps.flatMap((app, index) => {
        const definition = readApp(groupId, app, `${jsonPath}(${index})`, context);
        return definition === undefined ? [] : [definition];
    });
    reportDuplicates(definitions.map((definition) => definition.id), jsonPath, "app", context);
    return definitions;
}

/**
 * @param {string} groupId
 * @param {unknown} app
 * @param {string} jsonPath
 * @param {ReadContext} context
 * @returns {AppDefinition | undefined}
 */
function readApp(groupId, app, jsonPath, context) {
    const id = readChildId(groupId, app, jsonPath, context);
    if (id === undefined || !isObject(app)) return undefined;
    checkAppFieldTypes(app, jsonPath, context);
    checkLaunchCommand(app, jsonPath, context);
    checkNonNegative(app, jsonPath, context);
    return { id, ...appDefaults(), ...definedFieldsExcept(app, ["id", ...READ_ONLY_APP_FIELDS]) };
}

function appDefaults() {
    return {
        cmd: null,
        args: null,
        container: null,
        instances: 1,
        cpus: 1,
        mem: 128,
        disk: 0,
        env: {},
        labels: {},
        uris: [],
        ports: [0],
        constraints: [],
    };
}

/**
 * Reads the `id` of an app or subgroup, which must name a direct child of `parentId`.
 * @param {string} parentId
 * @param {unknown} node
 * @param {string} jsonPath
 * @param {ReadContext} context
 */
function readChildId(parentId, node, jsonPath, context) {
    if (!isObject(node)) return report(context.malformed, jsonPath, "error.expected.jsobject");
    if (isAbsent(node.id)) return report(context.malformed, `${jsonPath}/id`, "error.path.missing");
    if (typeof node.id !== "string") return report(context.malformed, `${jsonPath}/id`, "error.expected.jsstring");
    if (!hasValidSegments(node.id)) return report(context.invalid, `${jsonPath}/id`, ID_SEGMENT_ERROR);
    const id = absoluteId(node.id, parentId);
    if (id === parentId || parentOf(id) !== parentId) {
        return report(context.invalid, `${jsonPath}/id`, `identifier ${id} is not child of ${parentId}. Hint: use relative paths.`);
    }
    return id;
}

/** @type {Record<string, [(value: unknown) => boolean, string]>} */
const APP_FIELD_TYPES = {
    cmd: [(value) => typeof value === "string", "error.expected.jsstring"],
    args: [Array.isArray, "error.expected.jsarray"],
    container: [isObject, "error.expected.jsobject"],
    cpus: [(value) => typeof value === "number", "error.expected.jsnumber"],
    mem: [(value) => typeof value === "number", "error.expected.jsnumber"],
    disk: [(value) => typeof value === "number", "error.expected.jsnumber"],
    instances: [Number.isInteger, "error.expected.int"],
    env: [isObject, "error.expected.jsobject"],
    labels: [isObject, "error.expected.jsobject"],
    uris: [Array.isArray, "error.expected.jsarray"],
    ports: [Array.isArray, "error.expected.jsarray"],
    constraints: [Array.isArray, "error.expected.jsarray"],
};

/** @param {JsonObject} app @param {string} jsonPath @param {ReadContext} context */
function checkAppFieldTypes(app, jsonPath, context) {
    for (const [field, [hasExpectedType, error]] of Object.entries(APP_FIELD_TYPES)) {
        if (!isAbsent(app[field]) && !hasExpectedType(app[field])) report(context.malformed, `${jsonPath}/${field}`, error);
    }
}

/** @param {JsonObject} app @param {string} jsonPath @param {ReadContext} context */
function checkLaunchCommand(app, jsonPath, context) {
    const hasCmd = !isAbsent(app.cmd);
    const hasArgs = !isAbsent(app.args);
    if ((hasCmd && hasArgs) || (!hasCmd && !hasArgs && isAbsent(app.container))) {
        report(context.invalid, jsonPath, LAUNCH_COMMAND_ERROR);
    }
}

/** @param {JsonObject} app @param {string} jsonPath @param {ReadContext} context */
function checkNonNegative(app, jsonPath, context) {
    for (const field of NON_NEGATIVE_APP_FIELDS) {
        const value = app[field];
        if (typeof value === "number" && value < 0) {
            report(context.invalid, `${jsonPath}/${field}`, `got ${value}, expected 0 or more`);
        }
    }
}

/**
 * @param {string[]} ids
 * @param {string} jsonPath
 * @param {string} kind
 * @param {ReadContext} context
 */
function reportDuplicates(ids, jsonPath, kind, context) {
    const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);
    for (const id of new Set(repeated)) report(context.invalid, jsonPath, `${kind} id ${id} is defined more than once`);
}

// ---------------------------------------------------------------- planning

/**
 * Gives each desired app its version (kept when unchanged) and lists what the deployment does.
 * @param {App[]} runningApps
 * @param {AppDefinition[]} desiredApps
 * @param {string} version
 */
function reconcile(runningApps, desiredApps, version) {
    const running = new Map(runningApps.map((app) => [app.id, app]));
    const desiredIds = new Set(desiredApps.map((app) => app.id));
    /** @type {Action[]} */
    const actions = [];
    const apps = desiredApps.map((app) => {
        const previous = running.get(app.id);
        if (previous && sameDefinition(previous, app)) return previous;
        actions.push({ action: previous ? "RestartApplication" : "StartApplication", app: app.id });
        return { ...app, version };
    });
    const stopped = runningApps.filter((app) => !desiredIds.has(app.id));
    actions.push(...stopped.map((app) => ({ action: "StopApplication", app: app.id })));
    return { apps, actions };
}

/** @param {AppDefinition} left @param {AppDefinition} right */
function sameDefinition(left, right) {
    return canonicalJson(definedFieldsExcept(left, ["version"])) === canonicalJson(definedFieldsExcept(right, ["version"]));
}

/** @param {Action[]} actions */
function stepsOf(actions) {
    return actions.length === 0 ? [] : [actions];
}

// ---------------------------------------------------------------- faults

/** @param {number} deployDelayMs @returns {Faults} */
function initialFaults(deployDelayMs) {
    return { deployDelayMs, hangDeployments: false, failNext: null };
}

/**
 * @param {unknown} body
 * @returns {{changes: Partial<Faults>, errors: Violation[]}}
 */
function readFaultChanges(body) {
    /** @type {Violation[]} */
    const errors = [];
    /** @type {Partial<Faults>} */
    const changes = {};
    if (!isObject(body)) return { changes, errors: [{ path: "/", errors: ["error.expected.jsobject"] }] };
    if (body.deployDelayMs !== undefined) {
        if (typeof body.deployDelayMs === "number" && body.deployDelayMs >= 0) changes.deployDelayMs = body.deployDelayMs;
        else report(errors, "/deployDelayMs", "expected a number >= 0");
    }
    if (body.hangDeployments !== undefined) {
        if (typeof body.hangDeployments === "boolean") changes.hangDeployments = body.hangDeployments;
        else report(errors, "/hangDeployments", "expected a boolean");
    }
    if (body.failNext !== undefined) changes.failNext = readFailNext(body.failNext, errors);
    return { changes, errors };
}

/**
 * @param {unknown} value
 * @param {Violation[]} errors
 * @returns {FailNext | null}
 */
function readFailNext(value, errors) {
    if (value === null) return null;
    if (!isObject(value)) {
        report(errors, "/failNext", "expected an object or null");
        return null;
    }
    const status = value.status ?? 500;
    const count = value.count ?? 1;
    if (!Number.isInteger(status) || Number(status) < 100 || Number(status) > 599) {
        report(errors, "/failNext/status", "expected an HTTP status code");
    }
    if (!Number.isInteger(count) || Number(count) < 1) report(errors, "/failNext/count", "expected an integer >= 1");
    for (const field of ["method", "pathPrefix"]) {
        if (value[field] !== undefined && typeof value[field] !== "string") report(errors, `/failNext/${field}`, "expected a string");
    }
    return {
        status: Number(status),
        count: Number(count),
        method: typeof value.method === "string" ? value.method.toUpperCase() : undefined,
        pathPrefix: typeof value.pathPrefix === "string" ? value.pathPrefix : undefined,
    };
}

/** @param {FailNext} failNext @param {Request} request */
function failNextMatches(failNext, request) {
    return (
        (failNext.method === undefined || failNext.method === request.method) &&
        (failNext.pathPrefix === undefined || request.pathname.startsWith(failNext.pathPrefix))
    );
}

// ---------------------------------------------------------------- the emulated Marathon

class Marathon {
    /** @param {{deployDelayMs: number, stateFile?: string}} options */
    constructor(options) {
        this.initialDeployDelayMs = options.deployDelayMs;
        this.stateFile = options.stateFile;
        /** @type {Map<string, GroupRecord>} */
        this.groups = new Map();
        /** @type {Map<string, App>} */
        this.apps = new Map();
        /** @type {Map<string, Deployment>} */
        this.deployments = new Map();
        this.faults = initialFaults(options.deployDelayMs);
        this.loadState();
    }

    /** @param {Request} request @returns {Reply} */
    handle(request) {
        try {
            return this.takeInjectedFailure(request) ?? route(this, request);
        } catch (error) {
            return failure(500, error instanceof Error ? error.message : String(error));
        }
    }

    stop() {
        for (const deployment of this.deployments.values()) clearTimeout(deployment.timer);
    }

    // ---- state

    /** @param {string} groupId */
    appsIn(groupId) {
        return [...this.apps.values()].filter((app) => parentOf(app.id) === groupId);
    }

    /** @param {string} rootId @returns {StoredSubtree} */
    subtree(rootId) {
        return {
            groups: [...this.groups.values()].filter((group) => isInSubtree(group.id, rootId)),
            apps: [...this.apps.values()].filter((app) => isInSubtree(app.id, rootId)),
        };
    }

    /** @param {string} groupId @returns {StoredSubtree} */
    descendantsOf(groupId) {
        const { groups, apps } = this.subtree(groupId);
        return {
            groups: groups.filter((group) => group.id !== groupId),
            apps: apps.filter((app) => parentOf(app.id) !== groupId),
        };
    }

    /**
     * @param {string} rootId
     * @param {StoredSubtree} replacement
     * @param {string} version
     */
    replaceSubtree(rootId, replacement, version) {
        const previous = this.subtree(rootId);
        previous.groups.forEach((group) => this.groups.delete(group.id));
        previous.apps.forEach((app) => this.apps.delete(app.id));
        replacement.groups.forEach((group) => this.groups.set(group.id, group));
        replacement.apps.forEach((app) => this.apps.set(app.id, app));
        for (const ancestor of ancestorsOf(rootId)) {
            this.groups.set(ancestor, { id: ancestor, dependencies: this.groups.get(ancestor)?.dependencies ?? [], version });
        }
        this.saveState();
    }

    loadState() {
        if (this.stateFile && fs.existsSync(this.stateFile)) {
            /** @type {StoredSubtree} */
            const saved = JSON.parse(fs.readFileSync(this.stateFile, "utf8"));
            saved.groups.forEach((group) => this.groups.set(group.id, group));
            saved.apps.forEach((app) => this.apps.set(app.id, app));
        }
        if (!this.groups.has(ROOT)) this.groups.set(ROOT, { id: ROOT, dependencies: [], version: now() });
    }

    saveState() {
        if (!this.stateFile) return;
        // Written aside and renamed so that a kill mid-write never leaves a truncated file to load.
        const temporary = `${this.stateFile}.tmp`;
        fs.writeFileSync(temporary, JSON.stringify(this.subtree(ROOT)));
        fs.renameSync(temporary, this.stateFile);
    }

    // ---- deployments

    /** @param {string} rootId @param {Subtree} desired */
    lockingDeployments(rootId, desired) {
        const appIds = new Set([...this.subtree(rootId).apps, ...desired.apps].map((app) => app.id));
        return [...this.deployments.values()].filter((deployment) =>
            deployment.actions.some((action) => appIds.has(action.app)),
        );
    }

    /**
     * Replaces the subtree, cancelling the deployments it conflicts with, and starts its deployment.
     * @param {string} rootId
     * @param {Subtree} desired
     * @param {string} version
     */
    applyChange(rootId, desired, version) {
        this.lockingDeployments(rootId, desired).forEach((deployment) => this.cancel(deployment));
        const before = this.subtree(rootId);
        const { apps, actions } = reconcile(before.apps, desired.apps, version);
        this.replaceSubtree(rootId, { groups: desired.groups, apps }, version);
        return this.startDeployment(version, actions, { rootId, ...before });
    }

    /**
     * @param {string} rootId
     * @param {Subtree} desired
     * @param {string} version
     * @param {boolean} force
     * @returns {Reply}
     */
    changeUnlessLocked(rootId, desired, version, force) {
        const locks = this.lockingDeployments(rootId, desired);
        if (locks.length > 0 && !force) return locked(locks);
        const deployment = this.applyChange(rootId, desired, version);
        return ok({ version, deploymentId: deployment.id });
    }

    /**
     * @param {string} version
     * @param {Action[]} actions
     * @param {Deployment['rollback']} rollback
     */
    startDeployment(version, actions, rollback) {
        /** @type {Deployment} */
        const deployment = { id: crypto.randomUUID(), version, actions, rollback, timer: undefined };
        this.deployments.set(deployment.id, deployment);
        if (!this.faults.hangDeployments) this.scheduleFinish(deployment);
        return deployment;
    }

    /** @param {Deployment} deployment */
    scheduleFinish(deployment) {
        deployment.timer = setTimeout(() => this.deployments.delete(deployment.id), this.faults.deployDelayMs);
    }

    /** @param {Deployment} deployment */
    cancel(deployment) {
        clearTimeout(deployment.timer);
        this.deployments.delete(deployment.id);
    }

    resumeHungDeployments() {
        for (const deployment of this.deployments.values()) {
            if (deployment.timer === undefined) this.scheduleFinish(deployment);
        }
    }

    /** @param {string} appId */
    deploymentsAffecting(appId) {
        return [...this.deployments.values()].filter((deployment) =>
            deployment.actions.some((action) => action.app === appId),
        );
    }

    // ---- rendering

    /** @param {GroupRecord} group @returns {JsonObject} */
    renderGroup(group) {
        const children = [...this.groups.values()].filter(
            (candidate) => candidate.id !== group.id && parentOf(candidate.id) === group.id,
        );
        return {
            id: group.id,
            apps: sortById(this.appsIn(group.id)).map((app) => this.renderApp(app)),
            groups: sortById(children).map((child) => this.renderGroup(child)),
            dependencies: group.dependencies,
            version: group.version,
        };
    }

    /** @param {App} app */
    renderApp(app) {
        const deployments = this.deploymentsAffecting(app.id);
        const deploying = deployments.length > 0;
        return {
            ...app,
            tasksRunning: deploying ? 0 : app.instances,
            tasksStaged: deploying ? app.instances : 0,
            deployments: deployments.map(({ id }) => ({ id })),
        };
    }

    /** @param {Deployment} deployment */
    renderDeployment(deployment) {
        const { id, version, actions } = deployment;
        const stepCount = stepsOf(actions).length;
        return {
            id,
            version,
            affectedApps: actions.map((action) => action.app),
            steps: stepsOf(actions),
            currentActions: actions,
            currentStep: stepCount,
            totalSteps: stepCount,
        };
    }

    // ---- routes

    ping() {
        return { status: 200, text: "pong" };
    }

    info() {
        return ok({ version: MARATHON_VERSION, name: "marathon" });
    }

    /** @param {string} groupId */
    getGroup(groupId) {
        const group = this.groups.get(groupId);
        return group ? ok(this.renderGroup(group)) : groupNotFound(groupId);
    }

    /** @param {Request} request @param {string} groupId */
    putGroup(request, groupId) {
        const parsed = parseJson(request.body);
        if (!parsed.ok) return invalidJson(parsed.error);
        const context = newReadContext(this, now());
        checkPathId(groupId, context);
        checkBodyId(parsed.value, groupId, context);
        const desired = desiredSubtree(groupId, parsed.value, "", context);
        const problem = problemReply(context);
        if (problem) return problem;
        if (isFlagSet(request.query, "dryRun")) {
            return ok({ steps: stepsOf(reconcile(this.subtree(groupId).apps, desired.apps, context.version).actions) });
        }
        return this.changeUnlessLocked(groupId, desired, context.version, isFlagSet(request.query, "force"));
    }

    /** @param {Request} request @param {string} parentId */
    postGroup(request, parentId) {
        const parsed = parseJson(request.body);
        if (!parsed.ok) return invalidJson(parsed.error);
        const context = newReadContext(this, now());
        const groupId = readChildId(parentId, parsed.value, "", context);
        if (groupId === undefined) return /** @type {Reply} */ (problemReply(context));
        if (this.groups.has(groupId)) return failure(409, `Group ${groupId} is already created. Use PUT to change this group.`);
        const desired = desiredSubtree(groupId, parsed.value, "", context);
        const problem = problemReply(context);
        if (problem) return problem;
        const reply = this.changeUnlessLocked(groupId, desired, context.version, isFlagSet(request.query, "force"));
        return reply.status === 200 ? { ...reply, status: 201, headers: { Location: `/v2/groups${groupId}` } } : reply;
    }

    /** @param {Request} request @param {string} groupId */
    deleteGroup(request, groupId) {
        if (!this.groups.has(groupId)) return groupNotFound(groupId);
        const version = now();
        const remaining = groupId === ROOT ? [{ id: ROOT, dependencies: [], version }] : [];
        return this.changeUnlessLocked(groupId, { groups: remaining, apps: [] }, version, isFlagSet(request.query, "force"));
    }

    listDeployments() {
        return ok([...this.deployments.values()].map((deployment) => this.renderDeployment(deployment)));
    }

    /** @param {Request} request @param {string} deploymentId */
    deleteDeployment(request, deploymentId) {
        const deployment = this.deployments.get(deploymentId);
        if (!deployment) return failure(404, `DeploymentPlan ${deploymentId} does not exist`);
        this.cancel(deployment);
        if (isFlagSet(request.query, "force")) return { status: 202, json: {} };
        const { rootId, groups, apps } = deployment.rollback;
        const version = now();
        const rollback = this.applyChange(rootId, { groups, apps }, version);
        return ok({ deploymentId: rollback.id, version });
    }

    /** @param {string} appPath */
    getApps(appPath) {
        const appId = absoluteId(appPath, ROOT);
        if (appId === ROOT) return ok({ apps: sortById([...this.apps.values()]).map((app) => this.renderApp(app)) });
        const app = this.apps.get(appId);
        return app ? ok({ app: this.renderApp(app) }) : failure(404, `App '${appId}' does not exist`);
    }

    getFaults() {
        return ok(this.faults);
    }

    /** @param {Request} request */
    setFaults(request) {
        const parsed = parseJson(request.body);
        if (!parsed.ok) return invalidJson(parsed.error);
        const { changes, errors } = readFaultChanges(parsed.value);
        if (errors.length > 0) return { status: 400, json: { message: "Invalid faults", details: errors } };
        this.faults = { ...this.faults, ...changes };
        if (!this.faults.hangDeployments) this.resumeHungDeployments();
        return ok(this.faults);
    }

    resetFaults() {
        this.faults = initialFaults(this.initialDeployDelayMs);
        this.resumeHungDeployments();
        return ok(this.faults);
    }

    /** @param {Request} request @returns {Reply | undefined} */
    takeInjectedFailure(request) {
        const failNext = this.faults.failNext;
        if (!failNext || request.pathname.startsWith("/_sandbox/") || !failNextMatches(failNext, request)) return undefined;
        const remaining = failNext.count - 1;
        this.faults = { ...this.faults, failNext: remaining > 0 ? { ...failNext, count: remaining } : null };
        return failure(failNext.status, INJECTED_FAILURE_MESSAGE);
    }
}

/**
 * @template {{id: string}} T
 * @param {T[]} items
 */
function sortById(items) {
    return [...items].sort((left, right) => left.id.localeCompare(right.id));
}

/** @param {string} groupId @param {ReadContext} context */
function checkPathId(groupId, context) {
    if (!hasValidSegments(groupId)) report(context.invalid, "/id", ID_SEGMENT_ERROR);
}

/**
 * @param {unknown} body
 * @param {string} groupId
 * @param {ReadContext} context
 */
function checkBodyId(body, groupId, context) {
    if (!isObject(body) || isAbsent(body.id)) return;
    if (typeof body.id !== "string") return report(context.malformed, "/id", "error.expected.jsstring");
    const bodyId = absoluteId(body.id, ROOT);
    if (bodyId !== groupId) report(context.invalid, "/id", `group id ${bodyId} does not match the path ${groupId}`);
}

// ---------------------------------------------------------------- routing

/** @type {{pattern: RegExp, methods: Record<string, Handler>}[]} */
const ROUTES = [
    { pattern: /^\/ping$/, methods: { GET: (marathon) => marathon.ping() } },
    { pattern: /^\/v2\/info$/, methods: { GET: (marathon) => marathon.info() } },
    {
        pattern: /^\/v2\/groups(\/.*)?$/,
        methods: {
            GET: (marathon, _request, id) => marathon.getGroup(absoluteId(id, ROOT)),
            PUT: (marathon, request, id) => marathon.putGroup(request, absoluteId(id, ROOT)),
            POST: (marathon, request, id) => marathon.postGroup(request, absoluteId(id, ROOT)),
            DELETE: (marathon, request, id) => marathon.deleteGroup(request, absoluteId(id, ROOT)),
        },
    },
    { pattern: /^\/v2\/deployments\/?$/, methods: { GET: (marathon) => marathon.listDeployments() } },
    {
        pattern: /^\/v2\/deployments\/([^/]+)$/,
        methods: { DELETE: (marathon, request, id) => marathon.deleteDeployment(request, id) },
    },
    { pattern: /^\/v2\/apps(\/.*)?$/, methods: { GET: (marathon, _request, id) => marathon.getApps(id) } },
    {
        pattern: /^\/_sandbox\/faults$/,
        methods: {
            GET: (marathon) => marathon.getFaults(),
            POST: (marathon, request) => marathon.setFaults(request),
            DELETE: (marathon) => marathon.resetFaults(),
        },
    },
];

/** @param {Marathon} marathon @param {Request} request @returns {Reply} */
function route(marathon, request) {
    for (const { pattern, methods } of ROUTES) {
        const match = pattern.exec(request.pathname);
        if (!match) continue;
        const handler = methods[request.method];
        if (!handler) {
            return { ...failure(405, "HTTP 405 Method Not Allowed"), headers: { Allow: Object.keys(methods).join(", ") } };
        }
        return handler(marathon, request, match[1] ?? "");
    }
    return failure(404, `No route for ${request.method} ${request.pathname}`);
}

// ---------------------------------------------------------------- HTTP server

/**
 * @param {string} listen `host:port`, IPv6 hosts in brackets
 * @returns {{host: string, port: number}}
 */
function parseListen(listen) {
    const separator = listen.lastIndexOf(":");
    const host = listen.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
    const port = Number(listen.slice(separator + 1));
    if (separator < 0 || host === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`--listen expects host:port, got '${listen}'`);
    }
    return { host, port };
}

/** @param {http.ServerResponse} response @param {Reply} reply */
function send(response, reply) {
    const isText = reply.text !== undefined;
    const body = isText ? reply.text : JSON.stringify(reply.json);
    response.writeHead(reply.status, {
        "Content-Type": isText ? "text/plain" : "application/json",
        ...reply.headers,
    });
    response.end(body);
}

/**
 * @param {string} logFile
 * @param {string} method
 * @param {URL} url
 * @param {number} status
 */
function appendLog(logFile, method, url, status) {
    const entry = { ts: now(), method, path: url.pathname, status, ...(url.search ? { query: url.search.slice(1) } : {}) };
    fs.appendFileSync(logFile, JSON.stringify(entry) + "\n");
}

/**
 * @param {Marathon} marathon
 * @param {string | undefined} logFile
 * @returns {http.RequestListener}
 */
function requestListener(marathon, logFile) {
    return (incoming, response) => {
        /** @type {Buffer[]} */
        const chunks = [];
        incoming.on("data", (chunk) => chunks.push(chunk));
        incoming.on("end", () => {
            const url = new URL(incoming.url ?? "/", "http://marathon");
            const method = incoming.method ?? "GET";
            const body = Buffer.concat(chunks).toString("utf8");
            const reply = marathon.handle({ method, pathname: url.pathname, query: url.searchParams, body });
            // Logged before answering so that whoever got the answer finds its line.
            if (logFile) appendLog(logFile, method, url, reply.status);
            send(response, reply);
        });
    };
}

/**
 * @param {{listen: string, deployDelayMs?: number, stateFile?: string, logFile?: string}} options
 * @returns {Promise<{port: number, close: () => Promise<void>}>}
 */
async function startMarathon({ listen, deployDelayMs = DEFAULT_DEPLOY_DELAY_MS, stateFile, logFile }) {
    const { host, port } = parseListen(listen);
    const marathon = new Marathon({ deployDelayMs, stateFile });
    const server = http.createServer(requestListener(marathon, logFile));
    await new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve(undefined));
    });
    const address = server.address();
    return {
        port: typeof address === "object" && address !== null ? address.port : port,
        close: () => closeServer(server, marathon),
    };
}

/** @param {http.Server} server @param {Marathon} marathon @returns {Promise<void>} */
function closeServer(server, marathon) {
    marathon.stop();
    return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive connections would otherwise hold close() open.
        server.closeAllConnections();
    });
}

// ---------------------------------------------------------------- command line

const USAGE =
    "usage: node sandbox/marathon.js --listen HOST:PORT [--deploy-delay-ms N] [--state-file PATH] [--log-file PATH]";

/** @param {string[]} argv */
function parseArguments(argv) {
    /** @type {Record<string, string>} */
    const values = {};
    for (let index = 0; index < argv.length; index += 2) {
        const flag = argv[index];
        const value = argv[index + 1];
        if (!["--listen", "--deploy-delay-ms", "--state-file", "--log-file"].includes(flag) || value === undefined) {
            throw new Error(`unexpected argument '${flag}'\n${USAGE}`);
        }
        values[flag] = value;
    }
    if (values["--listen"] === undefined) throw new Error(`--listen is required\n${USAGE}`);
    const deployDelayMs = Number(values["--deploy-delay-ms"] ?? DEFAULT_DEPLOY_DELAY_MS);
    if (!Number.isFinite(deployDelayMs) || deployDelayMs < 0) throw new Error("--deploy-delay-ms expects a number >= 0");
    return {
        listen: values["--listen"],
        deployDelayMs,
        stateFile: values["--state-file"],
        logFile: values["--log-file"],
    };
}

async function main() {
    const options = parseArguments(process.argv.slice(2));
    const starting = startMarathon(options);
    // Installed before listening, and idempotent, so that no signal finds Node's default handler (exit 143).
    /** @type {Promise<void> | undefined} */
    let stopping;
    const shutDown = () => {
        stopping ??= starting.then((server) => server.close()).then(() => process.exit(0));
    };
    process.on("SIGTERM", shutDown);
    process.on("SIGINT", shutDown);
    const server = await starting;
    console.log(`marathon listening on ${parseListen(options.listen).host}:${server.port}`);
}

if (require.main === module) {
    main().catch((error) => {
        console.error(`marathon: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(2);
    });
}

module.exports = { startMarathon };
