// A test engine that stands in for the Pulumi CLI: it runs the program under the SDK's mocks in a child
// process, drives the REAL dynamic provider host over gRPC for every dynamic resource, and keeps a
// checkpoint shaped like `pulumi stack export`. What it models: Check (old inputs) then Diff (old
// outputs) per registration, create/update/replace (deleteBeforeReplace from the provider or the
// option, otherwise the old resource is deleted at the end), same, deletion of resources no longer
// declared, unknowns in preview (Create/Update return the checked inputs, as for a provider without
// preview support), secrets (plain to providers, re-marked on outputs, encrypted in the export),
// ignoreChanges/replaceOnChanges (top-level names and "*"), additionalSecretOutputs, refresh via
// Read, deletes in parallel as far as dependencies allow (destroy and leftovers), deletedWith (no Delete
// when its target goes in the same run), partial state on failure, and
// "created but failed to initialise".
//
// What it does NOT model:
// - real provider plugins (docker, command, random...): a test supplies emulators; provider
//   resources (`pulumi:providers:*`) just record their inputs; default provider resources are not in state;
// - invokes (functions), Resource.get/read, imports, remote components, aliases, protect,
//   retainOnDelete, replaceWith, transforms and hooks, custom timeouts;
// - ignoreChanges/replaceOnChanges on nested property paths (they fail the run);
// - the replacement of dependents that a deleteBeforeReplace forces;
// - CheckConfig/DiffConfig, and Check for emulated resources;
// - parallelism limits, cancellation and timeouts: a failed step stops new steps while in-flight ones
//   finish; a program that never finishes hangs its run until close();
// - pending deletions left by a failed run are retried at the end of the next up, not its start;
// - the language host: the program runs under the SDK's mocks (setMocks, registrations forwarded to
//   the engine), so pulumi.log goes to the diagnostics and no engine connection exists.
export { TestEngine } from "./engine";
export { RunError } from "./types";
export type { EngineOptions, ResourceEmulator, RpcCall, RunResult, StateFile, StateResource, StepOp, StepRecord } from "./types";
