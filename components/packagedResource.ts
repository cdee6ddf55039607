// A dynamic resource whose provider is one of @calico-stars/providers', by name.
//
// The dynamic provider host revives a resource's provider from its `__provider` property alone: the text of a
// CommonJS module whose `handler()` returns the provider (sdk/nodejs/cmd/dynamic-provider/index.ts, getProvider:
// requireFromString(text).handler()). pulumi.dynamic.Resource fills it with the closure serializer's text of the
// provider object, which is stored in state twice per resource (inputs and outputs). Given an object from this
// package, the serializer writes it out by value with every function it reaches (66 KB for the Docker network's):
// it keeps as a require() only modules whose path runs through node_modules (@pulumi/pulumi 3.248,
// runtime/closure/createClosure.js: findNormalizedModuleNameAsync reads require.cache's paths, captureModuleAsync
// tests them for a node_modules segment), and Node keys an npm workspace package's modules by their real path,
// packages/providers/dist/..., not by the node_modules/@calico-stars/providers link. A stub object forwarding each
// method to the package still serializes to over 2 KB. So the text is written here, one line that requires the
// package by name where the host runs: the host starts in the project directory and resolves it there, as it
// resolves @pulumi/pulumi. The rest is what pulumi.dynamic.Resource does: the type `pulumi-nodejs:dynamic/<module>:
// <type>`, served by the same host. State no longer pins provider code: every run, destroy and refresh included,
// runs the package that is installed.
import * as pulumi from "@pulumi/pulumi";
import type { ProviderName } from "@calico-stars/providers";

/** `__provider` for a resource of this type: the module text the provider host revives its provider from. */
export function providerModuleText(type: ProviderName): string {
    return `exports.handler = () => require("@calico-stars/providers").providers.${type};\n`;
}

export abstract class PackagedResource extends pulumi.CustomResource {
    /** `props` are the resource's inputs with its outputs seeded as `undefined`, as for pulumi.dynamic.Resource. */
    protected constructor(type: ProviderName, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        super(`pulumi-nodejs:dynamic/calico-stars:${type}`, name, { ...props, __provider: providerModuleText(type) }, opts);
    }
}
