// URNs as the Pulumi engine builds them: the parent's qualified type chain, minus the root stack.
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
