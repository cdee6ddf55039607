// A custom resource served by one of @calico-stars/providers' dynamic providers, chosen by name.
//
// The dynamic provider host revives a resource's provider from its `__provider` property alone: the text of a
// CommonJS module whose handler() returns the provider (pulumi/pulumi v3.248.0, sdk/nodejs/cmd/dynamic-provider/
// index.ts, getProvider). Here that text is one line requiring the package by name, so state holds no provider
// code and every run uses the package installed (docs/design.md says why not pulumi.dynamic.Resource).
import * as pulumi from "@pulumi/pulumi";
import type { ProviderName, providers } from "@calico-stars/providers";

type ProviderOf<Name extends ProviderName> = (typeof providers)[Name];
/** A provider's resolved inputs, as its Check returns them. */
type InputsOf<Name extends ProviderName> =
    ProviderOf<Name> extends pulumi.dynamic.ResourceProvider<infer Inputs, infer _> ? Inputs : never;
/** A provider's outputs: its inputs and what it adds. */
type OutputsOf<Name extends ProviderName> =
    ProviderOf<Name> extends pulumi.dynamic.ResourceProvider<infer _, infer Outputs> ? Outputs : never;

/** A resolved value with each level of it a pulumi.Input, as a component passes it. */
type InputOf<T> = pulumi.Input<
    T extends (infer Item)[] ? InputOf<Item>[] : T extends object ? { [K in keyof T]: InputOf<T[K]> } : T
>;

/** A resource's args: the provider's inputs, field by field, each a pulumi.Input. */
export type ResourceArgs<Name extends ProviderName> = { [K in keyof InputsOf<Name>]: InputOf<InputsOf<Name>[K]> };

/** A resource's outputs: one pulumi.Output per field of the provider's outputs. */
type ResourceOutputs<Name extends ProviderName> = {
    readonly [K in keyof OutputsOf<Name>]-?: pulumi.Output<OutputsOf<Name>[K]>;
};

/** `__provider` for a resource of this type: the module text the provider host revives its provider from. */
export function providerModuleText(type: ProviderName): string {
    return `exports.handler = () => require("@calico-stars/providers").providers.${type};\n`;
}

/**
 * The class of the resources `type`'s provider serves. `outputOnly` names the outputs that are not inputs, so
 * that the engine gives each a property, as pulumi.dynamic.Resource seeds its outputs.
 */
export function packagedResource<Name extends ProviderName>(
    type: Name,
    outputOnly: Record<Exclude<keyof OutputsOf<Name>, keyof InputsOf<Name>>, undefined>,
) {
    class PackagedResource extends pulumi.CustomResource {
        constructor(name: string, args: ResourceArgs<Name>, opts?: pulumi.CustomResourceOptions) {
            super(
                `pulumi-nodejs:dynamic/calico-stars:${type}`,
                name,
                { ...outputOnly, ...args, __provider: providerModuleText(type) },
                opts,
            );
        }
    }
    // the engine adds the output properties at run time, from the props
    return PackagedResource as unknown as new (
        name: string,
        args: ResourceArgs<Name>,
        opts?: pulumi.CustomResourceOptions,
    ) => PackagedResource & ResourceOutputs<Name>;
}
