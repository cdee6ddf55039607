// @ts-check
"use strict";
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
//   AppStopActor         StopApplication: kill every task and wait for each to end; then the app's queue is purged.
// A deployment is listed from its first step on (DeploymentsResource lists DeploymentStepInfo), so a plan without
// steps is never listed. Cancelling one (force, or DELETE /v2/deployments) stops its actors where they stand and
// purges its apps' launch queues (MarathonSchedulerActor.deploymentFailed).

const crypto = require("crypto");
const { affectedAppIds, renderAction, renderSteps } = require("./plan");

/** @typedef {import("./plan").Step} Step */
/** @typedef {import("./plan").Action} Action */
/** @typedef {import("./groupUpdate").App} App */
/** @typedef {import("./groupUpdate").StoredSubtree} StoredSubtree */
/** @typedef {import("./tasks").Tasks} Tasks */
/** @typedef {import("./tasks").StatusUpdate} StatusUpdate */
/** @typedef {import("./faults").Faults} Faults */
/** @typedef {{rootId: string} & StoredSubtree} Rollback */

const SYNC_INTERVAL_MS = 5000;
const START_ERROR_STATES = new Set(["TASK_ERROR", "TASK_FAILED", "TASK_KILLED", "TASK_LOST"]);
const KILL_COMPLETE_STATES = new Set(["TASK_ERROR", "TASK_FAILED", "TASK_FINISHED", "TASK_LOST", "TASK_KILLED"]);

class DeploymentCancelled extends Error {}

/**
 * An action in progress: it listens to status updates until it settles, and stops when cancelled.
 * @typedef {{promise: Promise<void>, cancel(): void}} RunningAction
 */

/**
 * Wires an actor's status handler and timers to the deployment's life, and settles its promise once.
 * @param {Tasks} tasks
 * @param {(finish: () => void, onStatus: (handler: (update: StatusUpdate) => void) => void, every: (ms: number, tick: () => void) => void) => void} body
 * @returns {RunningAction}
 */
function actor(tasks, body) {
    /** @type {((update: StatusUpdate) => void)[]} */
    const handlers = [];
    /** @type {ReturnType<typeof setInterval>[]} */
    const timers = [];
    /** @type {(error?: Error) => void} */
    let settle = () => undefined;
    const promise = new Promise((resolve, reject) => {
        settle = (error) => {
            handlers.forEach((handler) => tasks.off("status", handler));
            timers.forEach(clearInterval);
            settle = () => undefined;
            if (error) reject(error);
            else resolve(undefined);
        };
    });
    body(() => settle(), (handler) => { handlers.push(handler); tasks.on("status", handler); }, (ms, tick) => { timers.push(setInterval(tick, ms)); });
    return { promise, cancel: () => settle(new DeploymentCancelled("The operation has been cancelled")) };
}

/** @param {Tasks} tasks @param {App} app @param {number} scaleTo @returns {RunningAction} */
function startTasks(tasks, app, scaleTo) {
    return actor(tasks, (finish, onStatus, every) => {
        const nrToStart = scaleTo - tasks.totalTaskCount(app.id);
        /** @type {Set<string>} */
        const started = new Set();
        const checkFinished = () => { if (started.size >= nrToStart) finish(); };
        onStatus((update) => {
            if (update.appId !== app.id || update.version !== app.version) return;
            if (update.state === "TASK_RUNNING" && !started.has(update.taskId)) {
                started.add(update.taskId);
                checkFinished();
            } else if (START_ERROR_STATES.has(update.state)) {
                started.delete(update.taskId);
                tasks.add(app);
            }
        });
        every(SYNC_INTERVAL_MS, () => {
            const missing = scaleTo - tasks.totalTaskCount(app.id);
            if (missing > 0) tasks.add(app, missing);
        });
        if (nrToStart > 0) tasks.add(app, nrToStart);
        checkFinished();
    });
}

/** StoppingBehavior: done once each of `taskIds` has ended. @param {Tasks} tasks @param {string} appId @param {string[]} taskIds */
function killTasks(tasks, appId, taskIds) {
    return actor(tasks, (finish, onStatus, every) => {
        const idsToKill = new Set(taskIds);
        const checkFinished = () => { if (idsToKill.size === 0) finish(); };
        onStatus((update) => {
            if (idsToKill.has(update.taskId) && KILL_COMPLETE_STATES.has(update.state)) {
                idsToKill.delete(update.taskId);
                checkFinished();
            }
        });
        every(SYNC_INTERVAL_MS, () => {
            const tracked = new Set(tasks.tasksOf(appId).map((task) => task.id));
            [...idsToKill].filter((id) => !tracked.has(id)).forEach((id) => idsToKill.delete(id));
            checkFinished();
        });
        tasks.tasksOf(appId).filter((task) => idsToKill.has(task.id)).forEach((task) => tasks.kill(task));
        checkFinished();
    });
}

/** @param {Tasks} tasks @param {App} app @returns {RunningAction} */
function replaceTasks(tasks, app) {
    return actor(tasks, (finish, onStatus) => {
        const strategy = /** @type {{minimumHealthCapacity: number, maximumOverCapacity: number}} */ (app.upgradeStrategy);
        const oldTasks = tasks.tasksOf(app.id);
        const toKill = oldTasks.map((task) => task.id);
        const oldTaskIds = new Set(toKill);
        /** @type {Set<string>} */
        const healthy = new Set();
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
        const checkFinished = () => { if (healthy.size === app.instances && oldTaskIds.size === 0) finish(); };
        onStatus((update) => {
            if (update.appId !== app.id) return;
            if (update.state === "TASK_RUNNING" && update.version === app.version && !healthy.has(update.taskId)) {
                healthy.add(update.taskId);
                killNextOldTask();
                checkFinished();
            } else if (START_ERROR_STATES.has(update.state) && update.version === app.version && !oldTaskIds.has(update.taskId)) {
                healthy.delete(update.taskId);
                tasks.add(app);
            } else if (KILL_COMPLETE_STATES.has(update.state) && oldTaskIds.has(update.taskId)) {
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

class Deployment {
    /**
     * @param {{version: string, steps: Step[], rollback: Rollback}} plan
     */
    constructor(plan) {
        this.id = crypto.randomUUID();
        this.version = plan.version;
        this.steps = plan.steps;
        this.rollback = plan.rollback;
        this.affectedApps = affectedAppIds(plan.steps);
        this.startedAt = Date.now();
        this.currentStep = 0;
        /** @type {RunningAction[]} */
        this.running = [];
        this.cancelled = false;
    }

    render() {
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

class Deployments {
    /**
     * @param {Tasks} tasks
     * @param {Faults} faults
     * @param {(line: string) => void} log
     */
    constructor(tasks, faults, log) {
        this.tasks = tasks;
        this.faults = faults;
        this.log = log;
        /** @type {Map<string, Deployment>} */
        this.running = new Map();
        /** @type {(() => void)[]} wakes deployments waiting on hangDeployments or deployDelayMs */
        this.waiters = [];
        this.ticker = setInterval(() => this.wake(), 50);
    }

    stop() {
        clearInterval(this.ticker);
        [...this.running.values()].forEach((deployment) => this.cancel(deployment));
    }

    /**
     * Starts the plan; a plan without steps finishes at once and is never listed.
     * @param {{version: string, steps: Step[], rollback: Rollback}} plan
     */
    start(plan) {
        const deployment = new Deployment(plan);
        if (deployment.steps.length > 0) {
            this.running.set(deployment.id, deployment);
            this.run(deployment).catch((error) => {
                if (!(error instanceof DeploymentCancelled)) this.log(`deployment ${deployment.id} failed: ${error.message}`);
            });
        }
        return deployment;
    }

    /** @param {Deployment} deployment */
    async run(deployment) {
        for (const [index, step] of deployment.steps.entries()) {
            deployment.currentStep = index + 1;
            await this.until(deployment, () => !this.faults.hangDeployments);
            deployment.running = step.map((planned) => this.perform(planned));
            await Promise.all(deployment.running.map((action) => action.promise));
            step.filter((planned) => planned.action === "StopApplication").forEach((planned) => this.tasks.purge(planned.app.id));
        }
        await this.until(deployment, () => Date.now() - deployment.startedAt >= this.faults.deployDelayMs && !this.faults.hangDeployments);
        this.running.delete(deployment.id);
        this.log(`deployment ${deployment.id} finished`);
    }

    /** @param {Action} planned @returns {RunningAction} */
    perform(planned) {
        const { app } = planned;
        switch (planned.action) {
            case "StartApplication":
                return startTasks(this.tasks, app, planned.scaleTo);
            case "ScaleApplication":
                return this.scale(app, planned.scaleTo);
            case "RestartApplication":
                return app.instances === 0 ? startTasks(this.tasks, app, 0) : replaceTasks(this.tasks, app);
            case "StopApplication":
                return killTasks(this.tasks, app.id, this.tasks.tasksOf(app.id).map((task) => task.id));
        }
    }

    /** DeploymentActor.scaleApp: the newest tasks beyond scaleTo go first. @param {App} app @param {number} scaleTo @returns {RunningAction} */
    scale(app, scaleTo) {
        const newestFirst = this.tasks.tasksOf(app.id).sort((left, right) => (right.startedAt ?? "").localeCompare(left.startedAt ?? ""));
        const killing = killTasks(this.tasks, app.id, newestFirst.slice(0, Math.max(0, newestFirst.length - scaleTo)).map((task) => task.id));
        /** @type {RunningAction | undefined} */
        let starting;
        let cancelled = false;
        const promise = killing.promise.then(() => {
            if (cancelled) throw new DeploymentCancelled("The operation has been cancelled");
            starting = startTasks(this.tasks, app, scaleTo);
            return starting.promise;
        });
        return { promise, cancel: () => { cancelled = true; killing.cancel(); starting?.cancel(); } };
    }

    /**
     * Resolves once `condition` holds; rejects when the deployment is cancelled meanwhile.
     * @param {Deployment} deployment @param {() => boolean} condition
     */
    async until(deployment, condition) {
        while (!condition()) {
            await new Promise((resolve) => this.waiters.push(() => resolve(undefined)));
            if (deployment.cancelled) throw new DeploymentCancelled("The operation has been cancelled");
        }
        if (deployment.cancelled) throw new DeploymentCancelled("The operation has been cancelled");
    }

    wake() {
        const waiters = this.waiters;
        this.waiters = [];
        waiters.forEach((wake) => wake());
    }

    /** @param {Deployment} deployment */
    cancel(deployment) {
        deployment.cancelled = true;
        deployment.running.forEach((action) => action.cancel());
        this.running.delete(deployment.id);
        deployment.affectedApps.forEach((appId) => this.tasks.purge(appId));
        this.wake();
    }

    /** Deployments whose plan touches any of `appIds` (DeploymentPlan.isAffectedBy). @param {string[]} appIds */
    conflicting(appIds) {
        return [...this.running.values()].filter((deployment) => deployment.affectedApps.some((appId) => appIds.includes(appId)));
    }

    /** @param {string} appId */
    isLocked(appId) {
        return this.conflicting([appId]).length > 0;
    }

    list() {
        return [...this.running.values()].map((deployment) => deployment.render());
    }

    /** @param {string} id */
    get(id) {
        return this.running.get(id);
    }
}

module.exports = { Deployments };
