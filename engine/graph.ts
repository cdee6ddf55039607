// The dependency graph of a checkpoint, read from a resource list in topological order: the edges are a resource's
// dependencies, property dependencies, deletedWith and provider, plus its parent.
// Follows pulumi/pulumi v3.248.0, pkg/resource/graph/dependency_graph.go.
import { StateResource } from "./types";

/** A provider reference is "<provider URN>::<provider ID>" (sdk/go/common/resource/providers/reference.go). */
export function providerUrnOf(reference: string): string {
    return reference.slice(0, reference.lastIndexOf("::"));
}

/** resource.State.GetAllDependencies, parent aside: what a resource needs to exist before it. */
function dependencyUrns(resource: StateResource): Set<string> {
    const urns = new Set<string>([
        ...(resource.dependencies ?? []),
        ...Object.values(resource.propertyDependencies ?? {}).flat(),
        ...(resource.deletedWith !== undefined ? [resource.deletedWith] : []),
        ...(resource.provider !== undefined ? [providerUrnOf(resource.provider)] : []),
    ]);
    urns.delete("");
    return urns;
}

/**
 * DependencyGraph.DependenciesOf: the resources before `resource` in `resources` that it depends on, its parent,
 * and, for a component it depends on, that component's children listed before it.
 */
function dependenciesOf(resources: StateResource[], resource: StateResource): Set<StateResource> {
    const index = resources.indexOf(resource);
    const urns = dependencyUrns(resource);
    const found = new Set<StateResource>();
    for (let i = index - 1; i >= 0; i--) {
        const candidate = resources[i];
        if (urns.has(candidate.urn)) {
            found.add(candidate);
            if (!candidate.custom) {
                resources
                    .slice(0, index)
                    .filter((r) => r.parent === candidate.urn)
                    .forEach((child) => found.add(child));
            }
        }
        if (candidate.urn === resource.parent) {
            found.add(candidate);
        }
    }
    return found;
}

/**
 * DependencyGraph.DependingOn(res, ignore, includeChildren=false): every resource after `root` that depends on it
 * directly or through others, by dependencies, property dependencies, deletedWith or provider (not parenthood), in
 * list order; resources whose URN is in `ignore` are passed over.
 */
export function dependingOn(resources: StateResource[], root: StateResource, ignore: Set<string>): StateResource[] {
    const reached = new Set([root.urn]);
    const dependents: StateResource[] = [];
    for (const candidate of resources.slice(resources.indexOf(root) + 1)) {
        if (ignore.has(candidate.urn)) {
            continue;
        }
        if ([...dependencyUrns(candidate)].some((urn) => reached.has(urn))) {
            dependents.push(candidate);
            reached.add(candidate.urn);
        }
    }
    return dependents;
}

/**
 * stepGenerator.ScheduleDeletes (pkg/resource/deploy/step_generator.go): the condemned resources in antichains, each
 * of which may be deleted in parallel, every antichain only after the one before it. Built from the roots up (what
 * has no condemned dependency left), then reversed, so a resource goes in the level after everything depending on it.
 */
export function scheduleDeletes(resources: StateResource[], condemned: StateResource[]): StateResource[][] {
    const remaining = new Set(condemned);
    const levels: StateResource[][] = [];
    while (remaining.size > 0) {
        const level = [...remaining].filter(
            (resource) => ![...dependenciesOf(resources, resource)].some((dependency) => remaining.has(dependency)),
        );
        // the list is a topological order, so a level is never empty; this guards against a cycle in a hand-made one
        const next = level.length > 0 ? level : [...remaining];
        next.forEach((resource) => remaining.delete(resource));
        levels.push(next);
    }
    return levels.reverse();
}

/**
 * deploymentExecutor.rebuildBaseState and undangleParentResources (pkg/resource/deploy/deployment_executor.go), after
 * a refresh: references to resources that are gone are dropped (dependencies, property dependencies, deletedWith,
 * parent). The code looks the parent's parent up among the resources kept only, so a gone parent leaves none.
 */
export function withoutDanglingReferences(resources: StateResource[]): StateResource[] {
    const referenceable = new Set<string>();
    return resources.map((resource) => {
        const kept = { ...resource };
        if (kept.dependencies !== undefined && kept.dependencies.length > 0) {
            kept.dependencies = kept.dependencies.filter((urn) => referenceable.has(urn));
        }
        if (kept.propertyDependencies !== undefined && Object.keys(kept.propertyDependencies).length > 0) {
            kept.propertyDependencies = Object.fromEntries(
                Object.entries(kept.propertyDependencies)
                    .map(([key, urns]): [string, string[]] => [key, urns.filter((urn) => referenceable.has(urn))])
                    .filter(([, urns]) => urns.length > 0),
            );
        }
        if (kept.deletedWith !== undefined && !referenceable.has(kept.deletedWith)) {
            delete kept.deletedWith;
        }
        if (kept.parent !== undefined && !referenceable.has(kept.parent)) {
            delete kept.parent;
        }
        referenceable.add(kept.urn);
        return kept;
    });
}
