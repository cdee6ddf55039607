// Default providers: a custom resource registered without a provider gets
// `pulumi:providers:<package>::default[_<version>]`, registered first, with the package's stack config as inputs, and
// kept in the checkpoint like any resource.
// Follows pulumi/pulumi v3.248.0, pkg/resource/deploy/default_providers.go.
import { makeSecret } from "./propertyValues";
import { PropertyMap, StateResource } from "./types";
import { isProviderType } from "./urns";

/** The package of a type token: "pulumi-nodejs" for dynamic resources, "random", "command"... */
export function packageOf(type: string): string {
    return type.split(":")[0];
}

/**
 * ProviderRequest.DefaultName (providers/provider.go): "default", then "_major_minor_patch" and each pre-release and
 * build part when the SDK named a version.
 */
export function defaultProviderName(version: string): string {
    const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(version);
    if (match === null) {
        return "default";
    }
    const [, major, minor, patch, pre, build] = match;
    const parts = [major, minor, patch, ...(pre?.split(".") ?? []), ...(build?.split(".") ?? [])];
    return `default_${parts.join("_")}`;
}

/**
 * Target.GetPackageConfig (pkg/resource/deploy/target.go): a dynamic provider (pulumi-nodejs) gets the whole stack
 * config with its namespaces; any other package its own namespace's keys without it. Secrets stay secrets.
 * newRegisterDefaultProviderEvent adds the version (SetProviderVersion: `version`, and an empty `__internal`).
 */
export function defaultProviderInputs(
    pkg: string,
    version: string,
    config: Record<string, string>,
    secretKeys: Set<string>,
): PropertyMap {
    const inputs: PropertyMap = {};
    for (const [key, value] of Object.entries(config)) {
        const [namespace, ...rest] = key.split(":");
        if (pkg !== "pulumi-nodejs" && namespace !== pkg) {
            continue;
        }
        inputs[pkg === "pulumi-nodejs" ? key : rest.join(":")] = secretKeys.has(key) ? makeSecret(value) : value;
    }
    if (version !== "") {
        inputs.__internal = {};
        inputs.version = version;
    }
    return inputs;
}

/** FilterProviderConfig (providers/registry.go): what Configure receives is the inputs without `__internal`. */
export function configureArgs(providerInputs: PropertyMap): PropertyMap {
    const { __internal: _internal, ...config } = providerInputs;
    return config;
}

/** providers.IsDefaultProvider: a provider resource named "default" or "default_...". */
export function isDefaultProvider(urn: string): boolean {
    const [type, name] = urn.split("::").slice(2);
    return isProviderType(type) && /^default(_|$)/.test(name);
}

/** The default provider of dynamic resources, as the checkpoint holds it. */
export function isDefaultDynamicProvider(resource: StateResource): boolean {
    return resource.type === "pulumi:providers:pulumi-nodejs" && isDefaultProvider(resource.urn) && !resource.delete;
}
