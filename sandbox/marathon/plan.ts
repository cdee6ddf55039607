// Deployment plans as Marathon v0.14.2 makes them (upgrade/DeploymentPlan.scala, DeploymentPlan.apply):
//   1. StopApplication for each app the target drops;
//   2. StartApplication (with 0 instances) for each new app;
//   3. then, in the target's dependency order, ScaleApplication for a new app or a change of `instances` only
//      (AppDefinition.isOnlyScaleChange), RestartApplication for any other change (needsRestart).
// Empty steps are dropped, so an unchanged group gives a plan without steps. App dependencies are not read:
// every app falls in one dependency class (see sandbox/README.md). Each changed app gets the change's version and
// its versionInfo (upgrade/GroupVersioningUtil.scala, updateVersionInfoForChangedApps): a new or reconfigured app
// has it as both times, a scale only as lastScalingAt; an unchanged app keeps its own.
import { canonicalJson, definedFieldsExcept } from "./json";
import type { AppDefinition, App } from "./groupUpdate";

type ActionName = "StartApplication" | "ScaleApplication" | "RestartApplication" | "StopApplication";

export interface Action {
    action: ActionName;
    app: App;
    scaleTo: number;
}

export type Step = Action[];

/** Gives each target app its version (kept when unchanged) and the steps that take `originalApps` there. */
export function deploymentPlan(
    originalApps: App[],
    targetDefinitions: AppDefinition[],
    version: string,
): { apps: App[]; steps: Step[] } {
    const original = new Map(originalApps.map((app) => [app.id, app]));
    const apps = targetDefinitions.map((definition): App => {
        const previous = original.get(definition.id);
        if (previous && sameDefinition(previous, definition)) return previous;
        const lastConfigChangeAt =
            previous && isOnlyScaleChange(previous, definition) ? previous.versionInfo.lastConfigChangeAt : version;
        return { ...definition, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt } };
    });
    const targetIds = new Set(apps.map((app) => app.id));
    const stops = originalApps.filter((app) => !targetIds.has(app.id)).map((app) => action("StopApplication", app, 0));
    const starts = apps.filter((app) => !original.has(app.id)).map((app) => action("StartApplication", app, 0));
    const changes = apps.flatMap((app) => {
        const previous = original.get(app.id);
        if (previous === undefined || isOnlyScaleChange(previous, app))
            return [action("ScaleApplication", app, app.instances)];
        return previous === app ? [] : [action("RestartApplication", app, app.instances)];
    });
    const steps = [stops, starts, changes].map(sortedByApp).filter((step) => step.length > 0);
    return { apps, steps };
}

function action(name: ActionName, app: App, scaleTo: number): Action {
    return { action: name, app, scaleTo };
}

/** Scala's Set has no order; sorting keeps the stand-in's answers stable. */
function sortedByApp(actions: Action[]) {
    return [...actions].sort((left, right) => left.app.id.localeCompare(right.app.id));
}

function sameDefinition(left: AppDefinition, right: AppDefinition) {
    const versionless = (app: AppDefinition) => canonicalJson(definedFieldsExcept(app, ["version", "versionInfo"]));
    return versionless(left) === versionless(right);
}

function isOnlyScaleChange(from: AppDefinition, to: AppDefinition) {
    return from.instances !== to.instances && sameDefinition({ ...from, instances: 0 }, { ...to, instances: 0 });
}

/** DeploymentsResource.actionToMap. */
export function renderAction(planned: Action) {
    return { action: planned.action, app: planned.app.id };
}

export function renderSteps(steps: Step[]) {
    return steps.map((step) => step.map(renderAction));
}

/** DeploymentPlan.affectedApplicationIds. */
export function affectedAppIds(steps: Step[]) {
    return [...new Set(steps.flat().map((planned) => planned.app.id))];
}
