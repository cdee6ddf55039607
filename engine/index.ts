// A test engine that stands in for the Pulumi CLI with a file:// backend, for the lifecycle tests and the bench.
// Follows pulumi/pulumi v3.248.0 (the SDK version this project pins); each module names the file it follows.
//
// It runs the program under the SDK's mocks in a child process, drives the REAL dynamic provider host over gRPC for
// every dynamic resource, and keeps a checkpoint shaped like `pulumi stack export`. What it models:
// - `up` as `pulumi up --yes` runs it (testEngine.ts): the stack locked, a preview, then the update, each running the
//   program; up({ skipPreview }) is `--skip-preview`, what the Automation API passes;
// - step generation one registration at a time (deployment.ts, diffing.ts, resourceOptions.ts): Check with the old
//   inputs, Diff with the old outputs (DIFF_UNKNOWN: the engine compares inputs), same / create / update / replace; a
//   replacement is Checked again without olds; deleteBeforeReplace from the provider unless the option says true or
//   false; ignoreChanges and replaceOnChanges on top-level names and "*" (replaceOnChanges only turns changed keys into
//   replace keys, and a dynamic provider's Diff names none); init errors (an update even without changes);
// - delete-before-replace pulling in dependents (diffing.ts): each dependent whose Diff, with the inputs taken from a
//   replaced resource unknown, says replace is deleted first (deletedWith does not spare it), the replaced resource is
//   kept pending replacement, and the dependents are created again when they register;
// - default providers in the checkpoint (defaultProviders.ts), the dynamic one with the whole stack config, configured
//   when its step runs on up and preview, and from the checkpoint on destroy and refresh;
// - steps on a worker pool of `--parallel` workers, a registration's steps as one chain, and after the first failure
//   nothing new starts (executor.ts);
// - deletes in dependency levels (graph.ts, destroy.ts) of what the program no longer declares, replaced resources,
//   pending deletes (retried at the end of the next up) and destroy, deletedWith sparing a Delete when its target goes
//   in the same run;
// - the checkpoint as the snapshot manager writes it (checkpoint.ts): pending operations while a step runs, a run
//   killed by close() leaving them and its lock, the next up, refresh or destroy refused until cancel(), pending
//   CREATEs kept until refresh({clearPendingCreates}), other pending operations dropped by the next run, the warning an
//   up prints about them (testEngine.ts);
// - refresh (refresh.ts): Read on every custom resource in parallel, errors not stopping the others, a Diff deciding
//   same or update, gone resources dropped with every reference to them;
// - unknowns in preview (Create and Update return the checked inputs, as for a provider without preview support; an
//   updated resource keeps its ID), secrets (plain to providers, re-marked on outputs, encrypted in the export),
//   additionalSecretOutputs, partial state on failure, "created but failed to initialise" (steps.ts,
//   propertyValues.ts);
// - customTimeouts (programRunner.ts, goDuration.ts): kept in the checkpoint and sent with Create, Update and Delete,
//   which the dynamic provider host ignores and @pulumi/command's emulator honours as its plugin does.
//
// What it does NOT model:
// - real provider plugins (docker, command, random...): a test supplies emulators (emulators.ts says what those
//   model); explicit provider resources just record their inputs, and a resource whose provider reference changed is
//   not replaced for it;
// - invokes (functions), Resource.get/read, targets, --continue-on-error; and the resource options imports, remote
//   components, aliases, protect, retainOnDelete, replaceWith, replacement triggers, transforms, hooks, hideDiffs,
//   pluginDownloadURL, envVarMappings and package references, which the run refuses, naming them (programRunner.ts);
// - ignoreChanges/replaceOnChanges on nested property paths (they fail the run);
// - CheckConfig/DiffConfig of plugins (the dynamic provider host implements neither);
// - `pulumi cancel` of a run that is still going (cancel() only removes the lock), an interactive refresh's prompt per
//   pending create, and import of a pending create;
// - the language host: the program runs under the SDK's mocks (programRunner.ts), so pulumi.log goes to the
//   diagnostics and no engine connection exists.
//
// Around it: StackDriver (stackDriver.ts), what a lifecycle test does to a stack, run by this engine (engineDriver.ts:
// its up previews first, as `pulumi up` does) or by the real CLI through the Automation API (automationDriver.ts: its
// up is Stack.up, which passes --skip-preview, so no preview).
export { TestEngine } from "./testEngine";
export { RunError } from "./types";
export type { PlainProperties, ResourceEmulator, RunResult, StateFile } from "./types";
export { emulators } from "./emulators";
export { managedResources, StackRunError } from "./stackDriver";
export type { StackDriver, StackRun } from "./stackDriver";
export { EngineDriver } from "./engineDriver";
export { AutomationDriver, cliUnavailable } from "./automationDriver";
