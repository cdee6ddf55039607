// ignoreChanges and replaceOnChanges, for top-level property names and "*" only; replaceOnChanges also takes "name[*]"
// (what @pulumi/command sets for `triggers`), since any change under an array is a change of it.
// Follows pulumi/pulumi v3.248.0, pkg/resource/deploy/step_generator.go (processIgnoreChanges, applyReplaceOnChanges).
import { PropertyMap } from "./types";

function topLevelKeys(option: string, paths: string[], present: string[]): string[] {
    const keys = new Set<string>();
    for (const path of paths) {
        if (path === "*") {
            present.forEach((key) => keys.add(key));
        } else if (/^[^.[\]"]+$/.test(path)) {
            keys.add(path);
        } else {
            throw new Error(
                `${option} path "${path}" is not modeled by the test engine (top-level names and "*" only)`,
            );
        }
    }
    return [...keys];
}

/** The engine replaces ignored inputs by their old values before Check. */
export function applyIgnoreChanges(
    news: PropertyMap,
    olds: PropertyMap | undefined,
    ignoreChanges: string[],
): PropertyMap {
    if (olds === undefined || ignoreChanges.length === 0) {
        return news;
    }
    const result = { ...news };
    for (const key of topLevelKeys("ignoreChanges", ignoreChanges, [...Object.keys(olds), ...Object.keys(news)])) {
        if (key in olds) {
            result[key] = olds[key];
        } else {
            delete result[key];
        }
    }
    return result;
}

export function replaceOnChangesKeys(replaceOnChanges: string[], diffKeys: string[]): string[] {
    const wholeArrays = replaceOnChanges.map((path) => path.replace(/(\[\*\])+$/, ""));
    const keys = topLevelKeys("replaceOnChanges", wholeArrays, diffKeys);
    return diffKeys.filter((key) => keys.includes(key));
}
