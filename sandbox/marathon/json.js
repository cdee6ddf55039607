// @ts-check
"use strict";
// JSON helpers shared by the Marathon stand-in's modules.

/** @typedef {Record<string, unknown>} JsonObject */

/**
 * @param {unknown} value
 * @returns {value is JsonObject}
 */
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** @param {unknown} value */
function isAbsent(value) {
    return value === undefined || value === null;
}

/**
 * @param {string} text
 * @returns {{ok: true, value: unknown} | {ok: false, error: string}}
 */
function parseJson(text) {
    try {
        return { ok: true, value: JSON.parse(text) };
    } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
}

/**
 * Key order does not make two definitions different.
 * @param {unknown} value
 * @returns {string}
 */
function canonicalJson(value) {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (isObject(value)) {
        const entries = Object.keys(value)
            .sort()
            .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
        return `{${entries.join(",")}}`;
    }
    return JSON.stringify(value);
}

/**
 * @param {JsonObject} object
 * @param {string[]} keys
 */
function definedFieldsExcept(object, keys) {
    return Object.fromEntries(Object.entries(object).filter(([key, value]) => !keys.includes(key) && value !== null));
}

/**
 * @template {{id: string}} T
 * @param {T[]} items
 */
function sortById(items) {
    return [...items].sort((left, right) => left.id.localeCompare(right.id));
}

function now() {
    return new Date().toISOString();
}

module.exports = { isObject, isAbsent, parseJson, canonicalJson, definedFieldsExcept, sortById, now };
