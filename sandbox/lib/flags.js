// @ts-check
// The sandbox daemons' command lines, read by Node's own parser: unknown flags and flags without a value are refused.
const { parseArgs } = require("node:util");

/**
 * `argv` read against `options` (util.parseArgs, strict); any error, and a missing flag of `required`, comes with `usage`.
 * @template {NonNullable<import("node:util").ParseArgsConfig["options"]>} T
 * @param {string[]} argv
 * @param {T} options
 * @param {string} usage
 * @param {(keyof T & string)[]} [required]
 */
function readFlags(argv, options, usage, required = []) {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    } catch (error) {
        throw new Error(`${/** @type {Error} */ (error).message}\n${usage}`);
    }
    const given = /** @type {Record<string, unknown>} */ (parsed.values);
    for (const name of required) {
        if (given[name] === undefined) throw new Error(`--${name} is required\n${usage}`);
    }
    return parsed.values;
}

module.exports = { readFlags };
