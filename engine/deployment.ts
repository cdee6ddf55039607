// One `pulumi up` or `pulumi preview`: registrations turned into steps one at a time (Check, Diff and the dependents'
// Diffs run in the step generator, serially), each registration's steps run as one chain on the executor's workers,
// then what the program no longer declares is deleted in dependency levels.
// Follows pulumi/pulumi v3.248.0, pkg/resource/deploy/deployment_executor.go and step_generator.go.
import {
    configureArgs,
    defaultProviderInputs,
    defaultProviderName,
    isDefaultDynamicProvider,
    packageOf,
} from "./defaultProviders";
import { applyReplaceOnChanges, dependentReplacements, diffResource } from "./diffing";
import { ResourceDriver } from "./resourceDrivers";
import { Step, StepExecutor } from "./executor";
import { scheduleDeletes } from "./graph";
import { Registration, RegistrationReply } from "./programMessages";
import { ResourceRef } from "./providerHost";
import { changedKeys } from "./propertyValues";
import { applyIgnoreChanges } from "./resourceOptions";
import {
    createStep,
    deleteStep,
    removePendingReplaceStep,
    sameStep,
    StepContext,
    stepFailure,
    updateStep,
} from "./steps";
import { PropertyMap, StateResource } from "./types";
import { isProviderType, makeUrn, rootStackType } from "./urns";

interface DeploymentContext extends StepContext {
    project: string;
    stack: string;
    executor: StepExecutor;
    config: Record<string, string>;
    secretKeys: Set<string>;
    /** Configure of the dynamic provider host (what the registry does when it loads the pulumi-nodejs provider). */
    configureDynamicProvider(args: PropertyMap): Promise<void>;
}

export class Deployment {
    /** olds: the last checkpoint's resources by URN, those pending deletion aside. */
    private readonly olds = new Map<string, StateResource>();
    /** URNs registered in this run (sg.urns), and those given a step (the step generator's operation maps). */
    private readonly registeredUrns = new Set<string>();
    private readonly operated = new Set<string>();
    /** Resources a delete-before-replace deleted in this run (sg.pendingDeletes), and the keys that replace them. */
    private readonly pendingDeletes = new Set<StateResource>();
    private readonly dependentReplaceKeys = new Map<string, string[]>();
    private readonly registered = new Map<string, StateResource>();
    private readonly defaultProviders = new Map<string, Promise<string>>();
    /** The step generator handles one event at a time. */
    private generating: Promise<unknown> = Promise.resolve();
    private dynamicProviderConfigured = false;
    stackOutputs: PropertyMap = {};

    constructor(private readonly ctx: DeploymentContext) {
        for (const resource of ctx.checkpoint.base) {
            if (!resource.delete) {
                this.olds.set(resource.urn, resource);
            }
        }
    }

    get failure(): Error | undefined {
        return this.ctx.executor.failure;
    }

    async register(registration: Registration): Promise<RegistrationReply> {
        const notProcessed = () =>
            new Error(
                `${registration.name} (${registration.type}) was not processed: the deployment stopped after an earlier failure`,
            );
        if (this.ctx.executor.cancelled) {
            throw notProcessed();
        }
        let provider = registration.provider;
        if (registration.custom && provider === "" && !isProviderType(registration.type)) {
            provider = await this.defaultProvider(packageOf(registration.type), registration.version);
        }
        let reply: RegistrationReply | undefined;
        let ownFailure: unknown;
        const { done } = await this.generate(
            { ...registration, provider },
            (resource) => {
                reply = { urn: resource.urn, id: resource.id ?? "", object: resource.outputs };
            },
            (error) => {
                ownFailure = error;
            },
        );
        await done;
        if (reply === undefined) {
            throw ownFailure ?? notProcessed();
        }
        return reply;
    }

    registerOutputs(urn: string, outputs: PropertyMap): void {
        const resource = this.registered.get(urn);
        if (resource === undefined) {
            throw new Error(`registerResourceOutputs for unknown resource ${urn}`);
        }
        resource.outputs = outputs;
        if (resource.type === rootStackType) {
            this.stackOutputs = outputs;
        }
    }

    /** GenerateDeletes and ScheduleDeletes: deletes (in preview: only shows) what the program no longer declares. */
    async deleteLeftovers(): Promise<void> {
        const steps = new Map<StateResource, Step>();
        for (const resource of this.ctx.checkpoint.base) {
            if (this.ctx.checkpoint.isDone(resource)) {
                continue;
            }
            if (resource.delete) {
                if (!this.pendingDeletes.has(resource)) {
                    this.ctx.deletes.add(resource.urn);
                    steps.set(resource, deleteStep(this.ctx, resource, { pendingReplacement: false, logical: false }));
                }
            } else if (!this.operated.has(resource.urn)) {
                this.ctx.deletes.add(resource.urn);
                steps.set(
                    resource,
                    resource.pendingReplacement
                        ? removePendingReplaceStep(this.ctx, resource)
                        : deleteStep(this.ctx, resource, { pendingReplacement: false, logical: true }),
                );
            }
        }
        if ([...steps.keys()].some((resource) => resource.custom && packageOf(resource.type) === "pulumi-nodejs")) {
            await this.configureFromCheckpoint();
        }
        for (const level of scheduleDeletes(this.ctx.checkpoint.base, [...steps.keys()])) {
            await this.ctx.executor.executeParallel(level.map((resource) => steps.get(resource)!));
        }
    }

    /** EnsureProvider for a delete: the saved default provider, when this run registered none. */
    private async configureFromCheckpoint(): Promise<void> {
        const saved = this.ctx.checkpoint.base.find(isDefaultDynamicProvider);
        if (!this.dynamicProviderConfigured && saved !== undefined) {
            this.dynamicProviderConfigured = true;
            await this.ctx.configureDynamicProvider(configureArgs(saved.inputs));
        }
    }

    private defaultProvider(pkg: string, version: string): Promise<string> {
        const key = `${pkg}@${version}`;
        let ref = this.defaultProviders.get(key);
        if (ref === undefined) {
            ref = this.register({
                type: `pulumi:providers:${pkg}`,
                name: defaultProviderName(version),
                parent: "",
                custom: true,
                object: defaultProviderInputs(pkg, version, this.ctx.config, this.ctx.secretKeys),
                dependencies: [],
                propertyDependencies: {},
                provider: "",
                version: "",
                ignoreChanges: [],
                replaceOnChanges: [],
                additionalSecretOutputs: [],
                deletedWith: "",
                unmodeledOptions: [],
            }).then((reply) => `${reply.urn}::${reply.id}`);
            this.defaultProviders.set(key, ref);
        }
        return ref;
    }

    /**
     * The step generator's turn for one registration: its steps go to the executor as one chain, and the next
     * registration waits until a worker took it. Resolves to the chain's completion, once the chain is taken.
     */
    private generate(
        registration: Registration,
        reply: (resource: StateResource) => void,
        failed: (error: unknown) => void,
    ): Promise<{ done: Promise<void> }> {
        const submitted = this.generating.then(async () => {
            if (this.ctx.executor.cancelled) {
                throw new Error(
                    `${registration.name} (${registration.type}) was not processed: the deployment stopped after an earlier failure`,
                );
            }
            const steps = await this.generateSteps(registration, reply);
            const chain = this.ctx.executor.executeSerial(
                steps.map(
                    (step) => () =>
                        step().catch((error: unknown) => {
                            failed(error);
                            throw error;
                        }),
                ),
            );
            await chain.accepted;
            return { done: chain.done };
        });
        this.generating = submitted.catch((error: Error) => this.ctx.executor.fail(error));
        return submitted;
    }

    private async generateSteps(registration: Registration, reply: (resource: StateResource) => void): Promise<Step[]> {
        const urn = makeUrn(
            this.ctx.stack,
            this.ctx.project,
            registration.type,
            registration.name,
            registration.parent,
        );
        if (this.registeredUrns.has(urn)) {
            throw new Error(`duplicate resource URN ${urn}`);
        }
        this.registeredUrns.add(urn);
        if (registration.unmodeledOptions.length > 0) {
            throw new Error(
                `${registration.name} (${registration.type}): the test engine does not model the resource option ` +
                    `${registration.unmodeledOptions.join(", ")}; it refuses what it would otherwise ignore`,
            );
        }
        const resource = newState(urn, registration);
        this.registered.set(urn, resource);
        const done = () => {
            if (resource.type === "pulumi:providers:pulumi-nodejs") {
                this.dynamicProviderConfigured = true;
            }
            reply(resource);
        };
        if (!registration.custom) {
            return this.componentSteps(resource, done);
        }
        const steps = await this.customSteps(registration, resource, done);
        if (resource.type !== "pulumi:providers:pulumi-nodejs") {
            return steps;
        }
        // the registry loads and configures the plugin as the provider's step runs (Registry.Create/Update/Same)
        return [
            ...steps.slice(0, -1),
            async () => {
                await this.ctx.configureDynamicProvider(configureArgs(resource.inputs));
                await steps[steps.length - 1]();
            },
        ];
    }

    /** A component has no provider: same when its inputs did not change, else an update; its outputs carry over. */
    private componentSteps(resource: StateResource, done: () => void): Step[] {
        const old = this.olds.get(resource.urn);
        this.operated.add(resource.urn);
        resource.outputs = old?.outputs ?? {};
        if (old === undefined) {
            return [createStep(this.ctx, resource, { entry: { op: "create" } }, done)];
        }
        const diffKeys = changedKeys(old.inputs, resource.inputs);
        return diffKeys.length === 0
            ? [sameStep(this.ctx, resource, old, done)]
            : [updateStep(this.ctx, resource, old, { op: "update", diffKeys }, done)];
    }

    private async customSteps(registration: Registration, resource: StateResource, done: () => void): Promise<Step[]> {
        const ref: ResourceRef = { urn: resource.urn, type: resource.type, name: registration.name };
        const driver = this.ctx.drivers.for(ref);
        const old = this.olds.get(resource.urn);
        const recreating = this.ctx.deletes.has(resource.urn);
        const check = (olds: PropertyMap, news: PropertyMap) =>
            driver.check(ref, olds, news).catch((error: unknown) => {
                throw stepFailure("Check", ref, error);
            });
        // A resource deleted earlier in this run (a dependent of a delete-before-replace) has no olds to check against.
        resource.inputs =
            recreating || old === undefined
                ? await check({}, registration.object)
                : await check(
                      old.inputs,
                      applyIgnoreChanges(registration.object, old.inputs, registration.ignoreChanges),
                  );
        if (recreating && old !== undefined) {
            this.ctx.deletes.delete(resource.urn);
            this.operated.add(resource.urn);
            const entry = {
                op: "replace" as const,
                diffKeys: changedKeys(old.inputs, resource.inputs),
                replaceKeys: this.dependentReplaceKeys.get(resource.urn) ?? [],
            };
            return [createStep(this.ctx, resource, { old, entry }, done)];
        }
        this.operated.add(resource.urn);
        if (old === undefined) {
            return [createStep(this.ctx, resource, { entry: { op: "create" } }, done)];
        }
        const diff = applyReplaceOnChanges(
            await diffResource(
                driver,
                ref,
                old.id ?? "",
                old.inputs,
                old.outputs,
                resource.inputs,
                registration.ignoreChanges,
            ),
            registration.replaceOnChanges,
            old.initErrors !== undefined,
        );
        const diffKeys = changedKeys(old.inputs, resource.inputs);
        if (diff.changes === "some" || old.pendingReplacement) {
            if (diff.replaceKeys.length > 0 || old.pendingReplacement) {
                // a replacement's defaults are computed afresh: Check again, without olds
                resource.inputs = await check({}, registration.object);
                const entry = { op: "replace" as const, diffKeys, replaceKeys: diff.replaceKeys };
                return (registration.deleteBeforeReplace ?? diff.deleteBeforeReplace)
                    ? this.deleteBeforeReplaceSteps(old, resource, entry, done)
                    : [createStep(this.ctx, resource, { old, pendingDelete: true, entry }, done)];
            }
            return [updateStep(this.ctx, resource, old, { op: "update", diffKeys }, done)];
        }
        if (old.initErrors !== undefined) {
            return [updateStep(this.ctx, resource, old, { op: "update", diffKeys }, done)];
        }
        return [sameStep(this.ctx, resource, old, done)];
    }

    /**
     * Delete-before-replace: the dependents that would be replaced are deleted first (last dependent first; their
     * deletedWith does not spare them, since the old resource is not among this run's deletes), then the old
     * resource, then the replacement is created. The dependents are created again when they register.
     */
    private async deleteBeforeReplaceSteps(
        old: StateResource,
        resource: StateResource,
        entry: { op: "replace"; diffKeys: string[]; replaceKeys: string[] },
        done: () => void,
    ): Promise<Step[]> {
        const registered = new Set([...this.operated, ...this.ctx.deletes]);
        const dependents = await dependentReplacements(
            this.ctx.checkpoint.base,
            old,
            registered,
            (ref): ResourceDriver => this.ctx.drivers.for(ref),
        );
        const steps: Step[] = [];
        for (const { resource: dependent, keys } of [...dependents].reverse()) {
            if (this.pendingDeletes.has(dependent)) {
                continue;
            }
            this.dependentReplaceKeys.set(dependent.urn, keys);
            steps.push(deleteStep(this.ctx, dependent, { pendingReplacement: !dependent.delete, logical: false }));
            this.ctx.deletes.add(dependent.urn);
            this.pendingDeletes.add(dependent);
        }
        if (!old.pendingReplacement) {
            steps.push(deleteStep(this.ctx, old, { pendingReplacement: true, logical: false }));
        }
        steps.push(createStep(this.ctx, resource, { old, entry }, done));
        return steps;
    }
}

function newState(urn: string, registration: Registration): StateResource {
    return {
        urn,
        type: registration.type,
        custom: registration.custom,
        inputs: registration.object,
        outputs: {},
        ...(registration.parent !== "" && { parent: registration.parent }),
        ...(registration.dependencies.length > 0 && { dependencies: registration.dependencies }),
        ...(Object.keys(registration.propertyDependencies).length > 0 && {
            propertyDependencies: registration.propertyDependencies,
        }),
        ...(registration.provider !== "" && { provider: registration.provider }),
        ...(registration.additionalSecretOutputs.length > 0 && {
            additionalSecretOutputs: registration.additionalSecretOutputs,
        }),
        ...(registration.deletedWith !== "" && { deletedWith: registration.deletedWith }),
        ...(registration.ignoreChanges.length > 0 && { ignoreChanges: registration.ignoreChanges }),
        ...(registration.replaceOnChanges.length > 0 && { replaceOnChanges: registration.replaceOnChanges }),
        ...(registration.customTimeouts !== undefined && { customTimeouts: registration.customTimeouts }),
    };
}
