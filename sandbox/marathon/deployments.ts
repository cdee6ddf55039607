// Running deployments, after mesosphere/marathon v0.14.2 upgrade/:
//   DeploymentActor      the plan's steps one after the other, each step's actions side by side;
//   AppStartActor        StartApplication: the new app with `scaleTo` instances (0 in a plan);
//   ScaleApplication     kill the newest tasks beyond `scaleTo` (ScalingProposition), then TaskStartActor;
//   TaskStartActor       queue the missing tasks and wait until that many of this version report TASK_RUNNING;
//                        a new task that fails is queued again (StartingBehavior), and every 5 s the count is synced;
//   TaskReplaceActor     RestartApplication, following the app's upgradeStrategy: kill right away all old tasks
//                        beyond ceil(instances * minimumHealthCapacity), start new tasks up to
//                        instances * (1 + maximumOverCapacity) in all (one more when nothing could move otherwise),
//                        kill an old task for each new one that runs; a new task that fails is queued again;
//   AppStopActor         StopApplication: kill every task and wait for each to end; then SchedulerActions.stopApp
//                        (DeploymentActor.stopApp) kills what the tracker still has of the app, a task the launch
//                        queue started meanwhile, and purges the app's queue.
// A deployment is listed from its first step on (DeploymentsResource lists DeploymentStepInfo), so a plan without
// steps is never listed, and one is not listed yet when its write is answered: MarathonSchedulerActor.deploy
// answers at once while deploymentRepository.store runs, and only then sends DeploymentManager PerformDeployment,
// whose DeploymentActor reports its first step (the fault switch deploymentStartDelayMs stretches that time).
// Cancelling one (force, or DELETE /v2/deployments) stops its actors where they stand and purges its apps' launch
// queues (MarathonSchedulerActor.deploymentFailed).
import * as crypto from "crypto";
import type { TaskState } from "../mesos/protocol";
import type { Faults } from "./faults";
import type { App, StoredSubtree } from "./groupUpdate";
import { Action, affectedAppIds, renderAction, renderSteps, Step } from "./plan";
import type { StatusUpdate, Tasks } from "./tasks";
import type { Log } from "../lib/log";

/** What a deployment's rollback (DELETE /v2/deployments/<id>) restores: the subtree as it was before. */
export type Rollback = { rootId: string } & StoredSubtree;

/** A plan to deploy: its version, its steps and what rolling it back restores. */
export interface Plan {
    version: string;
    steps: Step[];
    rollback: Rollback;
}

const syncIntervalMs = 5000;
const startErrorStates = new Set<TaskState>(["TASK_ERROR", "TASK_FAILED", "TASK_KILLED", "TASK_LOST"]);
const killCompleteStates = new Set<TaskState>([
    "TASK_ERROR",
    "TASK_FAILED",
    "TASK_FINISHED",
    "TASK_LOST",
    "TASK_KILLED",
]);

class DeploymentCancelled extends Error {}

/** An action in progress: it listens to status updates until it settles, and stops when cancelled. */
export interface RunningAction {
    promise: Promise<void>;
    cancel(): void;
}

type StatusHandler = (update: StatusUpdate) => void;

/** An actor's body: it calls `finish` once done, and may listen to status updates and tick every `ms`. */
type ActorBody = (
    finish: () => void,
    onStatus: (handler: StatusHandler) => void,
    every: (ms: number, tick: () => void) => void,
) => void;

/** Wires an actor's status handler and timers to the deployment's life, and settles its promise once. */
function actor(tasks: Tasks, body: ActorBody): RunningAction {
    const handlers: StatusHandler[] = [];
    const timers: NodeJS.Timeout[] = [];
    let settle: (error?: Error) => void = () => undefined;
    const promise = new Promise<void>((resolve, reject) => {
        settle = (error) => {
            handlers.forEach((handler) => tasks.off("status", handler));
            timers.forEach(clearInterval);
            settle = () => undefined;
            if (error) reject(error);
            else resolve();
        };
    });
    body(
        () => settle(),
        (handler) => {
            handlers.push(handler);
            tasks.on("status", handler);
        },
        (ms, tick) => {
            timers.push(setInterval(tick, ms));
        },
    );
    return { promise, cancel: () => settle(new DeploymentCancelled("The operation has been cancelled")) };
}

function startTasks(tasks: Tasks, app: App, scaleTo: number): RunningAction {
    return actor(tasks, (finish, onStatus, every) => {
        const nrToStart = scaleTo - tasks.totalTaskCount(app.id);
        const started = new Set<string>();
        const checkFinished = () => {
            if (started.size >= nrToStart) finish();
        };
        onStatus((update) => {
            if (update.appId !== app.id || update.version !== app.version) return;
            if (update.state === "TASK_RUNNING" && !started.has(update.taskId)) {
                started.add(update.taskId);
                checkFinished();
            } else if (startErrorStates.has(update.state)) {
                started.delete(update.taskId);
                tasks.add(app);
            }
        });
        every(syncIntervalMs, () => {
            const missing = scaleTo - tasks.totalTaskCount(app.id);
            if (missing > 0) tasks.add(app, missing);
        });
        if (nrToStart > 0) tasks.add(app, nrToStart);
        checkFinished();
    });
}

/** StoppingBehavior: done once each of `taskIds` has ended. */
function killTasks(tasks: Tasks, appId: string, taskIds: string[]): RunningAction {
    return actor(tasks, (finish, onStatus, every) => {
        const idsToKill = new Set(taskIds);
        const checkFinished = () => {
            if (idsToKill.size === 0) finish();
        };
        onStatus((update) => {
            if (idsToKill.has(update.taskId) && killCompleteStates.has(update.state)) {
                idsToKill.delete(update.taskId);
                checkFinished();
            }
        });
        every(syncIntervalMs, () => {
            const tracked = new Set(tasks.tasksOf(appId).map((task) => task.id));
            [...idsToKill].filter((id) => !tracked.has(id)).forEach((id) => idsToKill.delete(id));
            checkFinished();
        });
        tasks
            .tasksOf(appId)
            .filter((task) => idsToKill.has(task.id))
            .forEach((task) => tasks.kill(task));
        checkFinished();
    });
}

function replaceTasks(tasks: Tasks, app: App): RunningAction {
    return actor(tasks, (finish, onStatus) => {
        const strategy = app.upgradeStrategy as { minimumHealthCapacity: number; maximumOverCapacity: number };
        const oldTasks = tasks.tasksOf(app.id);
        const toKill = oldTasks.map((task) => task.id);
        const oldTaskIds = new Set(toKill);
        const healthy = new Set<string>();
        let newTasksStarted = 0;
        let maxCapacity = Math.trunc(app.instances * (1 + strategy.maximumOverCapacity));
        const minHealthy = Math.ceil(app.instances * strategy.minimumHealthCapacity);
        const nrToKillImmediately = Math.max(0, toKill.length - minHealthy);
        if (nrToKillImmediately === 0 && maxCapacity === app.instances) maxCapacity += 1;
        const killNextOldTask = () => {
            const next = toKill.shift();
            const task = next === undefined ? undefined : oldTasks.find((candidate) => candidate.id === next);
            if (task !== undefined) tasks.kill(task);
        };
        const reconcileNewTasks = () => {
            const leftCapacity = Math.max(0, maxCapacity - oldTaskIds.size - newTasksStarted);
            const tasksToStartNow = Math.min(Math.max(0, app.instances - newTasksStarted), leftCapacity);
            if (tasksToStartNow > 0) {
                tasks.add(app, tasksToStartNow);
                newTasksStarted += tasksToStartNow;
            }
        };
        const checkFinished = () => {
            if (healthy.size === app.instances && oldTaskIds.size === 0) finish();
        };
        onStatus((update) => {
            if (update.appId !== app.id) return;
            if (update.state === "TASK_RUNNING" && update.version === app.version && !healthy.has(update.taskId)) {
                healthy.add(update.taskId);
                killNextOldTask();
                checkFinished();
            } else if (
                startErrorStates.has(update.state) &&
                update.version === app.version &&
                !oldTaskIds.has(update.taskId)
            ) {
                healthy.delete(update.taskId);
                tasks.add(app);
            } else if (killCompleteStates.has(update.state) && oldTaskIds.has(update.taskId)) {
                oldTaskIds.delete(update.taskId);
                reconcileNewTasks();
                checkFinished();
            }
        });
        for (let index = 0; index < nrToKillImmediately; index++) killNextOldTask();
        reconcileNewTasks();
        tasks.resetDelay(app);
        checkFinished();
    });
}

export class Deployment {
    readonly id = crypto.randomUUID();
    readonly version: string;
    readonly steps: Step[];
    readonly rollback: Rollback;
    readonly affectedApps: string[];
    readonly startedAt = Date.now();
    /** 1-based; 0 before the first step. */
    currentStep = 0;
    running: RunningAction[] = [];
    cancelled = false;

    constructor(plan: Plan) {
        this.version = plan.version;
        this.steps = plan.steps;
        this.rollback = plan.rollback;
        this.affectedApps = affectedAppIds(plan.steps);
    }

    /** Listed in /v2/deployments and in its apps' `deployments`: its first step has begun. */
    get listed(): boolean {
        return this.currentStep > 0;
    }

    /** DeploymentsResource's JSON of a deployment. */
    render(): Record<string, unknown> {
        return {
            id: this.id,
            version: this.version,
            affectedApps: this.affectedApps,
            steps: renderSteps(this.steps),
            currentActions: (this.steps[this.currentStep - 1] ?? []).map(renderAction),
            currentStep: this.currentStep,
            totalSteps: this.steps.length,
        };
    }
}

export class Deployments {
    private readonly running = new Map<string, Deployment>();
    /** wakes deployments waiting on hangDeployments or deployDelayMs */
    private waiters: (() => void)[] = [];
    private readonly ticker = setInterval(() => this.wake(), 50);

    constructor(
        private readonly tasks: Tasks,
        private readonly faults: Faults,
        private readonly log: Log,
    ) {}

    stop(): void {
        clearInterval(this.ticker);
        [...this.running.values()].forEach((deployment) => this.cancel(deployment));
    }

    /** Starts the plan; a plan without steps finishes at once and is never listed. */
    start(plan: Plan): Deployment {
        const deployment = new Deployment(plan);
        if (deployment.steps.length > 0) {
            this.running.set(deployment.id, deployment);
            this.run(deployment).catch((error: Error) => {
                if (!(error instanceof DeploymentCancelled))
                    this.log(`deployment ${deployment.id} failed: ${error.message}`);
            });
        }
        return deployment;
    }

    async run(deployment: Deployment) {
        await this.until(deployment, () => Date.now() - deployment.startedAt >= this.faults.deploymentStartDelayMs);
        for (const [index, step] of deployment.steps.entries()) {
            deployment.currentStep = index + 1;
            await this.until(deployment, () => !this.faults.hangDeployments);
            deployment.running = step.map((planned) => this.perform(planned));
            await Promise.all(deployment.running.map((action) => action.promise));
        }
        await this.until(
            deployment,
            () => Date.now() - deployment.startedAt >= this.faults.deployDelayMs && !this.faults.hangDeployments,
        );
        this.running.delete(deployment.id);
        this.log(`deployment ${deployment.id} finished`);
    }

    perform(planned: Action): RunningAction {
        const { app } = planned;
        switch (planned.action) {
            case "StartApplication":
                return startTasks(this.tasks, app, planned.scaleTo);
            case "ScaleApplication":
                return this.scale(app, planned.scaleTo);
            case "RestartApplication":
                return app.instances === 0 ? startTasks(this.tasks, app, 0) : replaceTasks(this.tasks, app);
            case "StopApplication": {
                const stopping = killTasks(
                    this.tasks,
                    app.id,
                    this.tasks.tasksOf(app.id).map((task) => task.id),
                );
                return { promise: stopping.promise.then(() => this.tasks.stopApp(app)), cancel: stopping.cancel };
            }
        }
    }

    /** DeploymentActor.scaleApp: the newest tasks beyond scaleTo go first. */
    scale(app: App, scaleTo: number): RunningAction {
        const newestFirst = this.tasks
            .tasksOf(app.id)
            .sort((left, right) => (right.startedAt ?? "").localeCompare(left.startedAt ?? ""));
        const killing = killTasks(
            this.tasks,
            app.id,
            newestFirst.slice(0, Math.max(0, newestFirst.length - scaleTo)).map((task) => task.id),
        );
        let starting: RunningAction | undefined;
        let cancelled = false;
        const promise = killing.promise.then(() => {
            if (cancelled) throw new DeploymentCancelled("The operation has been cancelled");
            starting = startTasks(this.tasks, app, scaleTo);
            return starting.promise;
        });
        return {
            promise,
            cancel: () => {
                cancelled = true;
                killing.cancel();
                starting?.cancel();
            },
        };
    }

    /** Resolves once `condition` holds; rejects when the deployment is cancelled meanwhile. */
    private async until(deployment: Deployment, condition: () => boolean): Promise<void> {
        while (!condition()) {
            await new Promise<void>((resolve) => this.waiters.push(resolve));
            if (deployment.cancelled) throw new DeploymentCancelled("The operation has been cancelled");
        }
        if (deployment.cancelled) throw new DeploymentCancelled("The operation has been cancelled");
    }

    wake() {
        const waiters = this.waiters;
        this.waiters = [];
        waiters.forEach((wake) => wake());
    }

    cancel(deployment: Deployment) {
        deployment.cancelled = true;
        deployment.running.forEach((action) => action.cancel());
        this.running.delete(deployment.id);
        deployment.affectedApps.forEach((appId) => this.tasks.purge(appId));
        this.wake();
    }

    /** Deployments whose plan touches any of `appIds` (DeploymentPlan.isAffectedBy). */
    conflicting(appIds: string[]): Deployment[] {
        return [...this.running.values()].filter((deployment) =>
            deployment.affectedApps.some((appId) => appIds.includes(appId)),
        );
    }

    /** The ids of the listed deployments whose plan touches any of `appIds`: what a 409 and an app name. */
    listedOn(appIds: string[]): string[] {
        return this.conflicting(appIds)
            .filter((deployment) => deployment.listed)
            .map((deployment) => deployment.id);
    }

    isLocked(appId: string) {
        return this.conflicting([appId]).length > 0;
    }

    list() {
        return [...this.running.values()]
            .filter((deployment) => deployment.listed)
            .map((deployment) => deployment.render());
    }

    get(id: string): Deployment | undefined {
        return this.running.get(id);
    }
}
