// URNs as the Pulumi engine builds them (the parent's qualified type chain, minus the root stack), and type tokens.
// Follows pulumi/pulumi v3.248.0, sdk/go/common/resource/urn.go.
export const rootStackType = "pulumi:pulumi:Stack";

export function makeUrn(stack: string, project: string, type: string, name: string, parentUrn: string): string {
    const parentType = parentUrn === "" ? "" : qualifiedType(parentUrn);
    const chain = parentType === "" || parentType === rootStackType ? type : `${parentType}$${type}`;
    return `urn:pulumi:${stack}::${project}::${chain}::${name}`;
}

function qualifiedType(urn: string): string {
    return urn.split("::")[2];
}

export function nameOf(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

/** A provider resource's type: `pulumi:providers:<package>`. */
export function isProviderType(type: string): boolean {
    return type.startsWith("pulumi:providers:");
}

/** A dynamic resource's type: `pulumi-nodejs:dynamic:Resource`, or `pulumi-nodejs:dynamic/<module>:<name>`. */
export function isDynamicType(type: string): boolean {
    return type.startsWith("pulumi-nodejs:dynamic");
}
