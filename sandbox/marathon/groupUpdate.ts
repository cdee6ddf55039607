// Reading a group update (PUT/POST /v2/groups) into the groups and apps it asks for, with Marathon v0.14.2's
// validation: api/v2/json/Formats.scala (V2GroupUpdate, V2AppDefinition reads), api/v2/ModelValidation.scala.
import { absoluteId, hasValidSegments, parentOf, idSegmentError, rootGroupId } from "./ids";
import { isAbsent, isObject } from "./json";
import type { JsonObject } from "./json";
import type { Violation, Reply } from "./replies";

export type AppDefinition = JsonObject & { id: string; instances: number; cpus: number; mem: number };

/**
 * AppDefinition.VersionInfo (state/AppDefinition.scala): when the app last changed in number (a scale) and in
 * configuration (a change that restarts its tasks); `version` is the later of the two.
 */
interface VersionInfo {
    lastScalingAt: string;
    lastConfigChangeAt: string;
}

export type App = AppDefinition & { version: string; versionInfo: VersionInfo };
export interface GroupRecord {
    id: string;
    dependencies: unknown[];
    version: string;
}

export interface Subtree {
    groups: GroupRecord[];
    apps: AppDefinition[];
}

export interface StoredSubtree {
    groups: GroupRecord[];
    apps: App[];
}

/** What the update is read against: the stored groups and apps that a part it leaves out keeps. */
export interface CurrentGroups {
    groups: Map<string, GroupRecord>;
    appsIn(groupId: string): App[];
    descendantsOf(groupId: string): StoredSubtree;
}

export interface ReadContext {
    current: CurrentGroups;
    version: string;
    malformed: Violation[];
    invalid: Violation[];
}

const launchCommandError = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";
const nonNegativeAppFields = ["cpus", "mem", "disk", "instances"];
const defaultUpgradeStrategy = { minimumHealthCapacity: 1, maximumOverCapacity: 1 };

/** AppDefinition's defaults as V2AppDefinitionWrites shows them (state/AppDefinition.scala). */
function appDefaults() {
    return {
        cmd: null,
        args: null,
        user: null,
        env: {},
        instances: 1,
        cpus: 1,
        mem: 128,
        disk: 0,
        executor: "",
        constraints: [],
        uris: [],
        storeUrls: [],
        ports: [0],
        requirePorts: false,
        backoffSeconds: 1,
        backoffFactor: 1.15,
        maxLaunchDelaySeconds: 3600,
        container: null,
        healthChecks: [],
        dependencies: [],
        upgradeStrategy: defaultUpgradeStrategy,
        labels: {},
        acceptedResourceRoles: null,
        ipAddress: null,
    };
}

/** The fields Marathon reads; anything else in an app is dropped silently. */
const knownAppFields = Object.keys(appDefaults());

const isNumber = (value: unknown) => typeof value === "number";
const appFieldTypes: Record<string, [(value: unknown) => boolean, string]> = {
    cmd: [(value) => typeof value === "string", "error.expected.jsstring"],
    args: [Array.isArray, "error.expected.jsarray"],
    user: [(value) => typeof value === "string", "error.expected.jsstring"],
    container: [isObject, "error.expected.jsobject"],
    cpus: [isNumber, "error.expected.jsnumber"],
    mem: [isNumber, "error.expected.jsnumber"],
    disk: [isNumber, "error.expected.jsnumber"],
    instances: [Number.isInteger, "error.expected.int"],
    env: [isObject, "error.expected.jsobject"],
    labels: [isObject, "error.expected.jsobject"],
    uris: [Array.isArray, "error.expected.jsarray"],
    ports: [Array.isArray, "error.expected.jsarray"],
    constraints: [Array.isArray, "error.expected.jsarray"],
    backoffSeconds: [isNumber, "error.expected.jsnumber"],
    backoffFactor: [isNumber, "error.expected.jsnumber"],
    maxLaunchDelaySeconds: [isNumber, "error.expected.jsnumber"],
    upgradeStrategy: [isObject, "error.expected.jsobject"],
};

export function newReadContext(current: CurrentGroups, version: string): ReadContext {
    return { current, version, malformed: [], invalid: [] };
}

/** @returns so that a reader can report and give up in one statement */
export function report(list: Violation[], path: string, error: string): undefined {
    list.push({ path: path === "" ? "/" : path, errors: [error] });
    return undefined;
}

export function problemReply(context: ReadContext): Reply | undefined {
    if (context.malformed.length > 0)
        return { status: 400, json: { message: "Invalid JSON", details: context.malformed } };
    if (context.invalid.length > 0)
        return { status: 422, json: { message: "Object is not valid", details: context.invalid } };
    return undefined;
}

/**
 * The groups and apps `groupId` and its descendants should have after the update; parts the update
 * leaves out (`apps`, `groups`, `dependencies`) stay as they are, as in Marathon.
 */
export function desiredSubtree(groupId: string, update: unknown, jsonPath: string, context: ReadContext): Subtree {
    if (!isObject(update)) {
        report(context.malformed, jsonPath, "error.expected.jsobject");
        return { groups: [], apps: [] };
    }
    const group = {
        id: groupId,
        dependencies:
            readDependencies(update.dependencies, `${jsonPath}/dependencies`, context) ??
            context.current.groups.get(groupId)?.dependencies ??
            [],
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

function readDependencies(dependencies: unknown, jsonPath: string, context: ReadContext) {
    if (isAbsent(dependencies)) return undefined;
    if (Array.isArray(dependencies) && dependencies.every((dependency) => typeof dependency === "string"))
        return dependencies;
    report(context.malformed, jsonPath, "error.expected.jsarray");
    return undefined;
}

function readSubgroups(parentId: string, groups: unknown, jsonPath: string, context: ReadContext): Subtree[] {
    if (!Array.isArray(groups)) {
        report(context.malformed, jsonPath, "error.expected.jsarray");
        return [];
    }
    const subtrees = groups.flatMap((group, index) => {
        const path = `${jsonPath}(${index})`;
        const id = readChildId(parentId, group, path, context);
        return id === undefined ? [] : [desiredSubtree(id, group, path, context)];
    });
    reportDuplicates(
        subtrees.map((subtree) => subtree.groups[0].id),
        jsonPath,
        "group",
        context,
    );
    return subtrees;
}

function readApps(groupId: string, apps: unknown, jsonPath: string, context: ReadContext): AppDefinition[] {
    if (!Array.isArray(apps)) {
        report(context.malformed, jsonPath, "error.expected.jsarray");
        return [];
    }
    const definitions = apps.flatMap((app, index) => {
        const definition = readApp(groupId, app, `${jsonPath}(${index})`, context);
        return definition === undefined ? [] : [definition];
    });
    reportDuplicates(
        definitions.map((definition) => definition.id),
        jsonPath,
        "app",
        context,
    );
    return definitions;
}

function readApp(groupId: string, app: unknown, jsonPath: string, context: ReadContext): AppDefinition | undefined {
    const id = readChildId(groupId, app, jsonPath, context);
    if (id === undefined || !isObject(app)) return undefined;
    checkAppFieldTypes(app, jsonPath, context);
    checkLaunchCommand(app, jsonPath, context);
    checkNonNegative(app, jsonPath, context);
    const given = Object.fromEntries(
        knownAppFields.filter((field) => !isAbsent(app[field])).map((field) => [field, app[field]]),
    );
    const upgradeStrategy = readUpgradeStrategy(app.upgradeStrategy, `${jsonPath}/upgradeStrategy`, context);
    return { id, ...appDefaults(), ...given, upgradeStrategy } as AppDefinition;
}

/** UpgradeStrategyReads fills each missing field with the default's; ModelValidation keeps both within [0, 1]. */
function readUpgradeStrategy(value: unknown, jsonPath: string, context: ReadContext) {
    const given = isObject(value) ? value : {};
    const strategy = { ...defaultUpgradeStrategy };
    for (const field of ["minimumHealthCapacity", "maximumOverCapacity"] as const) {
        const number = given[field];
        if (isAbsent(number)) continue;
        if (typeof number !== "number") {
            report(context.malformed, `${jsonPath}/${field}`, "error.expected.jsnumber");
        } else if (number < 0 || number > 1) {
            report(context.invalid, `${jsonPath}.${field}`, number < 0 ? "is less than 0" : "is greater than 1");
        } else {
            strategy[field] = number;
        }
    }
    return strategy;
}

/** Reads the `id` of an app or subgroup, which must name a direct child of `parentId`. */
export function readChildId(parentId: string, node: unknown, jsonPath: string, context: ReadContext) {
    if (!isObject(node)) return report(context.malformed, jsonPath, "error.expected.jsobject");
    if (isAbsent(node.id)) return report(context.malformed, `${jsonPath}/id`, "error.path.missing");
    if (typeof node.id !== "string") return report(context.malformed, `${jsonPath}/id`, "error.expected.jsstring");
    if (!hasValidSegments(node.id)) return report(context.invalid, `${jsonPath}/id`, idSegmentError);
    const id = absoluteId(node.id, parentId);
    if (id === parentId || parentOf(id) !== parentId) {
        return report(
            context.invalid,
            `${jsonPath}/id`,
            `identifier ${id} is not child of ${parentId}. Hint: use relative paths.`,
        );
    }
    return id;
}

function checkAppFieldTypes(app: JsonObject, jsonPath: string, context: ReadContext) {
    for (const [field, [hasExpectedType, error]] of Object.entries(appFieldTypes)) {
        if (!isAbsent(app[field]) && !hasExpectedType(app[field]))
            report(context.malformed, `${jsonPath}/${field}`, error);
    }
}

function checkLaunchCommand(app: JsonObject, jsonPath: string, context: ReadContext) {
    const hasCmd = !isAbsent(app.cmd);
    const hasArgs = !isAbsent(app.args);
    if ((hasCmd && hasArgs) || (!hasCmd && !hasArgs && isAbsent(app.container))) {
        report(context.invalid, jsonPath, launchCommandError);
    }
}

function checkNonNegative(app: JsonObject, jsonPath: string, context: ReadContext) {
    for (const field of nonNegativeAppFields) {
        const value = app[field];
        if (typeof value === "number" && value < 0) {
            report(context.invalid, `${jsonPath}/${field}`, `got ${value}, expected 0 or more`);
        }
    }
}

function reportDuplicates(ids: string[], jsonPath: string, kind: string, context: ReadContext) {
    const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);
    for (const id of new Set(repeated)) report(context.invalid, jsonPath, `${kind} id ${id} is defined more than once`);
}

export function checkPathId(groupId: string, context: ReadContext) {
    if (!hasValidSegments(groupId)) report(context.invalid, "/id", idSegmentError);
}

/** When the body's id and the path differ, the body must name the same group. */
export function checkBodyId(body: unknown, groupId: string, context: ReadContext) {
    if (!isObject(body) || isAbsent(body.id)) return;
    if (typeof body.id !== "string") return report(context.malformed, "/id", "error.expected.jsstring");
    const bodyId = absoluteId(body.id, rootGroupId);
    if (bodyId !== groupId) report(context.invalid, "/id", `group id ${bodyId} does not match the path ${groupId}`);
}
