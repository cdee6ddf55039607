// @ts-check
"use strict";
// The groups and apps Marathon keeps (the root group with its subtree), saved to a state file if given.

const fs = require("fs");
const { ROOT, ancestorsOf, isInSubtree, parentOf } = require("./ids");
const { now } = require("./json");

/** @typedef {import("./groupUpdate").GroupRecord} GroupRecord */
/** @typedef {import("./groupUpdate").App} App */
/** @typedef {import("./groupUpdate").StoredSubtree} StoredSubtree */

class GroupStore {
    /** @param {string | undefined} stateFile */
    constructor(stateFile) {
        this.stateFile = stateFile;
        /** @type {Map<string, GroupRecord>} */
        this.groups = new Map();
        /** @type {Map<string, App>} */
        this.apps = new Map();
        this.load();
    }

    /** @param {string} groupId */
    appsIn(groupId) {
        return [...this.apps.values()].filter((app) => parentOf(app.id) === groupId);
    }

    /** @param {string} groupId */
    childGroupsOf(groupId) {
        return [...this.groups.values()].filter((group) => group.id !== groupId && parentOf(group.id) === groupId);
    }

    /** @param {string} rootId @returns {StoredSubtree} */
    subtree(rootId) {
        return {
            groups: [...this.groups.values()].filter((group) => isInSubtree(group.id, rootId)),
            apps: [...this.apps.values()].filter((app) => isInSubtree(app.id, rootId)),
        };
    }

    /** @param {string} groupId @returns {StoredSubtree} */
    descendantsOf(groupId) {
        const { groups, apps } = this.subtree(groupId);
        return {
            groups: groups.filter((group) => group.id !== groupId),
            apps: apps.filter((app) => parentOf(app.id) !== groupId),
        };
    }

    /**
     * @param {string} rootId
     * @param {StoredSubtree} replacement
     * @param {string} version
     */
    replaceSubtree(rootId, replacement, version) {
        const previous = this.subtree(rootId);
        previous.groups.forEach((group) => this.groups.delete(group.id));
        previous.apps.forEach((app) => this.apps.delete(app.id));
        replacement.groups.forEach((group) => this.groups.set(group.id, group));
        replacement.apps.forEach((app) => this.apps.set(app.id, app));
        for (const ancestor of ancestorsOf(rootId)) {
            this.groups.set(ancestor, { id: ancestor, dependencies: this.groups.get(ancestor)?.dependencies ?? [], version });
        }
        this.save();
    }

    load() {
        if (this.stateFile && fs.existsSync(this.stateFile)) {
            /** @type {StoredSubtree} */
            const saved = JSON.parse(fs.readFileSync(this.stateFile, "utf8"));
            saved.groups.forEach((group) => this.groups.set(group.id, group));
            saved.apps.forEach((app) => this.apps.set(app.id, app));
        }
        if (!this.groups.has(ROOT)) this.groups.set(ROOT, { id: ROOT, dependencies: [], version: now() });
    }

    save() {
        if (!this.stateFile) return;
        // Written aside and renamed so that a kill mid-write never leaves a truncated file to load.
        const temporary = `${this.stateFile}.tmp`;
        fs.writeFileSync(temporary, JSON.stringify(this.subtree(ROOT)));
        fs.renameSync(temporary, this.stateFile);
    }
}

module.exports = { GroupStore };
