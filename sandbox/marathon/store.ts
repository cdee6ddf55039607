// The groups and apps Marathon keeps (the root group with its subtree), saved to a state file if given.
import * as fs from "fs";
import type { App, GroupRecord, StoredSubtree } from "./groupUpdate";
import { ancestorsOf, isInSubtree, parentOf, rootGroupId } from "./ids";
import { now } from "./json";

export class GroupStore {
    readonly groups = new Map<string, GroupRecord>();
    readonly apps = new Map<string, App>();

    constructor(private readonly stateFile: string | undefined) {
        this.load();
    }

    appsIn(groupId: string): App[] {
        return [...this.apps.values()].filter((app) => parentOf(app.id) === groupId);
    }

    childGroupsOf(groupId: string): GroupRecord[] {
        return [...this.groups.values()].filter((group) => group.id !== groupId && parentOf(group.id) === groupId);
    }

    subtree(rootId: string): StoredSubtree {
        return {
            groups: [...this.groups.values()].filter((group) => isInSubtree(group.id, rootId)),
            apps: [...this.apps.values()].filter((app) => isInSubtree(app.id, rootId)),
        };
    }

    descendantsOf(groupId: string): StoredSubtree {
        const { groups, apps } = this.subtree(groupId);
        return {
            groups: groups.filter((group) => group.id !== groupId),
            apps: apps.filter((app) => parentOf(app.id) !== groupId),
        };
    }

    replaceSubtree(rootId: string, replacement: StoredSubtree, version: string): void {
        const previous = this.subtree(rootId);
        previous.groups.forEach((group) => this.groups.delete(group.id));
        previous.apps.forEach((app) => this.apps.delete(app.id));
        replacement.groups.forEach((group) => this.groups.set(group.id, group));
        replacement.apps.forEach((app) => this.apps.set(app.id, app));
        for (const ancestor of ancestorsOf(rootId)) {
            this.groups.set(ancestor, {
                id: ancestor,
                dependencies: this.groups.get(ancestor)?.dependencies ?? [],
                version,
            });
        }
        this.save();
    }

    private load(): void {
        if (this.stateFile && fs.existsSync(this.stateFile)) {
            const saved = JSON.parse(fs.readFileSync(this.stateFile, "utf8")) as StoredSubtree;
            saved.groups.forEach((group) => this.groups.set(group.id, group));
            saved.apps.forEach((app) => this.apps.set(app.id, app));
        }
        if (!this.groups.has(rootGroupId))
            this.groups.set(rootGroupId, { id: rootGroupId, dependencies: [], version: now() });
    }

    private save(): void {
        if (!this.stateFile) return;
        // Written aside and renamed so that a kill mid-write never leaves a truncated file to load.
        const temporary = `${this.stateFile}.tmp`;
        fs.writeFileSync(temporary, JSON.stringify(this.subtree(rootGroupId)));
        fs.renameSync(temporary, this.stateFile);
    }
}
