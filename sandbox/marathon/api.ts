// Marathon's REST API v2 over the group store, the deployments and the tasks (mesosphere/marathon v0.14.2
// api/v2/GroupsResource.scala, AppsResource.scala, AppTasksResource.scala, TasksResource.scala,
// DeploymentsResource.scala). A change is planned (plan.ts), refused with 409 while a running deployment touches the
// same apps (MarathonSchedulerActor.deploy: withLockFor the plan's affected apps, the 409 naming those deployments
// DeploymentManager lists; `force` cancels them), stored at once, then deployed.
import { Deployments } from "./deployments";
import { Faults } from "./faults";
import {
    App,
    checkBodyId,
    checkPathId,
    desiredSubtree,
    GroupRecord,
    newReadContext,
    problemReply,
    readChildId,
    Subtree,
} from "./groupUpdate";
import { absoluteId, rootGroupId } from "./ids";
import { isObject, now, parseJson, sortById } from "./json";
import { affectedAppIds, deploymentPlan, renderSteps } from "./plan";
import { failure, groupNotFound, invalidJson, locked, ok, Reply } from "./replies";
import { GroupStore } from "./store";
import { Task, Tasks, TasksOptions } from "./tasks";

/** An HTTP request as the routes see it. */
export interface Request {
    method: string;
    pathname: string;
    query: URLSearchParams;
    body: string;
}

const marathonVersion = "0.14.2";
/** GroupsResource's ListApps and ListVersionsRE: these tails are other listings, not groups. */
const groupApps = /^(.*)\/apps$/;
const groupVersions = /^(.*)\/versions$/;
const appTasks = /^(.+)\/tasks$/;

function isFlagSet(query: URLSearchParams, name: string) {
    return (query.get(name) ?? "").toLowerCase() === "true";
}

export type MarathonSettings = Pick<
    TasksOptions,
    "agents" | "frameworkId" | "offerIntervalMs" | "pollIntervalMs" | "log"
> & {
    deployDelayMs: number;
    stateFile?: string;
};

export class Marathon {
    readonly store: GroupStore;
    readonly faults: Faults;
    readonly tasks: Tasks;
    readonly deployments: Deployments;
    /** Settles once the first poll of the agents has reconciled the tasks and scaled every app. */
    readonly ready: Promise<void>;

    constructor(options: MarathonSettings) {
        this.store = new GroupStore(options.stateFile);
        this.faults = new Faults(options.deployDelayMs);
        this.tasks = new Tasks({
            agents: options.agents,
            frameworkId: options.frameworkId,
            offerIntervalMs: options.offerIntervalMs,
            pollIntervalMs: options.pollIntervalMs,
            log: options.log,
            appById: (appId) => this.store.apps.get(appId),
            isLocked: (appId) => this.deployments.isLocked(appId),
        });
        this.deployments = new Deployments(this.tasks, this.faults, options.log);
        this.tasks.start();
        // On taking the lead Marathon reconciles its tasks and scales every app (MarathonSchedulerActor ScaleApps).
        this.ready = this.tasks.poll().then(() => {
            for (const app of this.store.apps.values()) {
                if (!this.deployments.isLocked(app.id)) this.tasks.scale(app);
            }
        });
    }

    stop(): void {
        this.deployments.stop();
        this.tasks.stop();
    }

    // ---- changes

    change(rootId: string, desired: Subtree, version: string, force: boolean): Reply {
        const before = this.store.subtree(rootId);
        const plan = deploymentPlan(before.apps, desired.apps, version);
        const affected = affectedAppIds(plan.steps);
        if (affected.length > 0 && this.faults.appsLocked()) return locked([]);
        const conflicts = this.deployments.conflicting(affected);
        if (conflicts.length > 0 && !force) return locked(this.deployments.listedOn(affected));
        conflicts.forEach((deployment) => this.deployments.cancel(deployment));
        this.store.replaceSubtree(rootId, { groups: desired.groups, apps: plan.apps }, version);
        const deployment = this.deployments.start({ version, steps: plan.steps, rollback: { rootId, ...before } });
        return ok({ version, deploymentId: deployment.id });
    }

    // ---- rendering

    renderGroup(group: GroupRecord): Record<string, unknown> {
        return {
            id: group.id,
            apps: sortById(this.store.appsIn(group.id)).map((app) => this.renderApp(app)),
            groups: sortById(this.store.childGroupsOf(group.id)).map((child) => this.renderGroup(child)),
            dependencies: group.dependencies,
            version: group.version,
        };
    }

    /**
     * The app with its counts and the deployments listed on it (AppInfo with embed counts, deployments:
     * AppInfoBaseData lists what DeploymentManager lists), and with `withTasks` its tasks (embed tasks).
     */
    renderApp(app: App, withTasks = false): Record<string, unknown> {
        return {
            ...app,
            ...this.tasks.counts(app.id),
            tasksHealthy: 0,
            tasksUnhealthy: 0,
            deployments: this.deployments.listedOn([app.id]).map((id) => ({ id })),
            ...(withTasks && { tasks: this.tasks.tasksOf(app.id).map((task) => this.renderTask(task)) }),
        };
    }

    /** MarathonTaskWrites plus appId (EnrichedTaskWrites). */
    renderTask(task: Task) {
        return {
            id: task.id,
            host: task.host,
            ipAddresses: task.ipAddresses.map((ipAddress) => ({ ipAddress, protocol: "IPv4" })),
            ports: task.ports,
            startedAt: task.startedAt,
            stagedAt: task.stagedAt,
            version: task.version,
            slaveId: task.slaveId,
            appId: task.appId,
        };
    }

    // ---- routes

    ping(): Reply {
        return { status: 200, text: "pong" };
    }

    info() {
        return ok({ version: marathonVersion, name: "marathon" });
    }

    /** @param path the part after /v2/groups */
    getGroup(path: string) {
        const apps = groupApps.exec(path);
        if (apps) {
            const groupId = absoluteId(apps[1], rootGroupId);
            if (!this.store.groups.has(groupId)) return groupNotFound(groupId);
            return ok(sortById(this.store.subtree(groupId).apps));
        }
        const versions = groupVersions.exec(path);
        if (versions) {
            const group = this.store.groups.get(absoluteId(versions[1], rootGroupId));
            return group ? ok([group.version]) : groupNotFound(absoluteId(versions[1], rootGroupId));
        }
        const groupId = absoluteId(path, rootGroupId);
        const group = this.store.groups.get(groupId);
        return group ? ok(this.renderGroup(group)) : groupNotFound(groupId);
    }

    putGroup(request: Request, groupId: string) {
        const parsed = parseJson(request.body);
        if (!parsed.ok) return invalidJson(parsed.error);
        const context = newReadContext(this.store, now());
        checkPathId(groupId, context);
        checkBodyId(parsed.value, groupId, context);
        const desired = desiredSubtree(groupId, parsed.value, "", context);
        const problem = problemReply(context);
        if (problem) return problem;
        if (isFlagSet(request.query, "dryRun")) {
            return ok({
                steps: renderSteps(
                    deploymentPlan(this.store.subtree(groupId).apps, desired.apps, context.version).steps,
                ),
            });
        }
        return this.change(groupId, desired, context.version, isFlagSet(request.query, "force"));
    }

    postGroup(request: Request, parentId: string) {
        const parsed = parseJson(request.body);
        if (!parsed.ok) return invalidJson(parsed.error);
        const context = newReadContext(this.store, now());
        const groupId = readChildId(parentId, parsed.value, "", context);
        if (groupId === undefined) return problemReply(context) as Reply;
        if (this.store.groups.has(groupId))
            return failure(409, `Group ${groupId} is already created. Use PUT to change this group.`);
        const desired = desiredSubtree(groupId, parsed.value, "", context);
        const problem = problemReply(context);
        if (problem) return problem;
        const reply = this.change(groupId, desired, context.version, isFlagSet(request.query, "force"));
        return reply.status === 200 ? { ...reply, status: 201, headers: { Location: `/v2/groups${groupId}` } } : reply;
    }

    deleteGroup(request: Request, groupId: string) {
        if (!this.store.groups.has(groupId)) return groupNotFound(groupId);
        const version = now();
        const remaining = groupId === rootGroupId ? [{ id: rootGroupId, dependencies: [], version }] : [];
        return this.change(groupId, { groups: remaining, apps: [] }, version, isFlagSet(request.query, "force"));
    }

    listDeployments() {
        return ok(this.deployments.list());
    }

    /** Without force: a new deployment back to the group before the plan (DeploymentPlan.revert), forced. */
    deleteDeployment(request: Request, deploymentId: string) {
        const deployment = this.deployments.get(deploymentId);
        if (!deployment) return failure(404, `DeploymentPlan ${deploymentId} does not exist`);
        this.deployments.cancel(deployment);
        if (isFlagSet(request.query, "force")) return { status: 202, json: {} };
        const { rootId, groups, apps } = deployment.rollback;
        const reply = this.change(rootId, { groups, apps }, now(), true);
        return reply;
    }

    /**
     * @param path the part after /v2/apps; the list embeds the tasks when asked to (embed=apps.tasks, or tasks with
     * another prefix or none: AppInfoEmbedResolver), a single app always (AppsResource.show)
     */
    getApps(request: Request, path: string) {
        const tasks = appTasks.exec(path);
        if (tasks && this.store.apps.has(absoluteId(tasks[1], rootGroupId))) {
            return ok({
                tasks: this.tasks.tasksOf(absoluteId(tasks[1], rootGroupId)).map((task) => this.renderTask(task)),
            });
        }
        const appId = absoluteId(path, rootGroupId);
        if (appId === rootGroupId) {
            const withTasks = request.query.getAll("embed").some((embed) => /^(apps?\.)?tasks$/.test(embed));
            return ok({
                apps: sortById([...this.store.apps.values()]).map((app) => this.renderApp(app, withTasks)),
            });
        }
        const app = this.store.apps.get(appId);
        return app ? ok({ app: this.renderApp(app, true) }) : failure(404, `App '${appId}' does not exist`);
    }

    getTasks() {
        return ok({ tasks: this.tasks.all().map((task) => this.renderTask(task)) });
    }

    getFaults() {
        return ok(this.faults.show());
    }

    setFaults(request: Request) {
        const parsed = parseJson(request.body);
        if (!parsed.ok) return invalidJson(parsed.error);
        const errors = this.faults.change(parsed.value);
        if (errors.length > 0) return { status: 400, json: { message: "Invalid faults", details: errors } };
        if (isObject(parsed.value) && parsed.value.hangDeployments === false) this.deployments.wake();
        return ok(this.faults.show());
    }

    resetFaults() {
        this.faults.reset();
        this.deployments.wake();
        return ok(this.faults.show());
    }
}
