// @ts-check
"use strict";
// Deployment plans as Marathon v0.14.2 makes them (upgrade/DeploymentPlan.scala, DeploymentPlan.apply):
//   1. StopApplication for each app the target drops;
//   2. StartApplication (with 0 instances) for each new app;
//   3. then, in the target's dependency order, ScaleApplication for a new app or a change of `instances` only
//      (AppDefinition.isOnlyScaleChange), RestartApplication for any other change (needsRestart).
// Empty steps are dropped, so an unchanged group gives a plan without steps. App dependencies are not read:
// every app falls in one dependency class (see sandbox/README.md).

const { canonicalJson, definedFieldsExcept } = require("./json");

/** @typedef {import("./groupUpdate").AppDefinition} AppDefinition */
/** @typedef {import("./groupUpdate").App} App */
/** @typedef {"StartApplication" | "ScaleApplication" | "RestartApplication" | "StopApplication"} ActionName */
/** @typedef {{action: ActionName, app: App, scaleTo: number}} Action */
/** @typedef {Action[]} Step */

/**
 * Gives each target app its version (kept when unchanged) and the steps that take `originalApps` there.
 * @param {App[]} originalApps
 * @param {AppDefinition[]} targetDefinitions
 * @param {string} version
 * @returns {{apps: App[], steps: Step[]}}
 */
function deploymentPlan(originalApps, targetDefinitions, version) {
    const original = new Map(originalApps.map((app) => [app.id, app]));
    const apps = targetDefinitions.map((definition) => {
        const previous = original.get(definition.id);
        return previous && sameDefinition(previous, definition) ? previous : { ...definition, version };
    });
    const targetIds = new Set(apps.map((app) => app.id));
    const stops = originalApps.filter((app) => !targetIds.has(app.id))
        .map((app) => action("StopApplication", app, 0));
    const starts = apps.filter((app) => !original.has(app.id)).map((app) => action("StartApplication", app, 0));
    const changes = apps.flatMap((app) => {
        const previous = original.get(app.id);
        if (previous === undefined || isOnlyScaleChange(previous, app)) return [action("ScaleApplication", app, app.instances)];
        return previous === app ? [] : [action("RestartApplication", app, app.instances)];
    });
    const steps = [stops, starts, changes].map(sortedByApp).filter((step) => step.length > 0);
    return { apps, steps };
}

/** @param {ActionName} name @param {App} app @param {number} scaleTo @returns {Action} */
function action(name, app, scaleTo) {
    return { action: name, app, scaleTo };
}

/** Scala's Set has no order; sorting keeps the stand-in's answers stable. @param {Action[]} actions */
function sortedByApp(actions) {
    return [...actions].sort((left, right) => left.app.id.localeCompare(right.app.id));
}

/** @param {AppDefinition} left @param {AppDefinition} right */
function sameDefinition(left, right) {
    return canonicalJson(definedFieldsExcept(left, ["version"])) === canonicalJson(definedFieldsExcept(right, ["version"]));
}

/** @param {AppDefinition} from @param {AppDefinition} to */
function isOnlyScaleChange(from, to) {
    return from.instances !== to.instances && sameDefinition({ ...from, instances: 0 }, { ...to, instances: 0 });
}

/** DeploymentsResource.actionToMap. @param {Action} planned */
function renderAction(planned) {
    return { action: planned.action, app: planned.app.id };
}

/** @param {Step[]} steps */
function renderSteps(steps) {
    return steps.map((step) => step.map(renderAction));
}

/** DeploymentPlan.affectedApplicationIds. @param {Step[]} steps */
function affectedAppIds(steps) {
    return [...new Set(steps.flat().map((planned) => planned.app.id))];
}

module.exports = { deploymentPlan, renderAction, renderSteps, affectedAppIds };
