// @ts-check
// CPython 2.7's dict, enough of it to know the order in which Python 2 iterates (and so json.dumps prints) the
// keys of libcalico's Rule dicts. The order is not insertion order: it is the order of the hash table's slots,
// which depends on each key's hash, the table's size and, where two keys probe the same slot, on which came
// first. Source: CPython v2.7.18, Objects/dictobject.c (PyDict_MINSIZE 8, PERTURB_SHIFT 5, lookdict's probe
// sequence, PyDict_SetItem's resize at 2/3 full to 4 * used, dictresize, PyDict_Merge's presize for
// dict.copy()) and Objects/stringobject.c string_hash (hash randomization is off by default in 2.7; a unicode
// key of ASCII characters hashes as the same str does, Objects/unicodeobject.c unicode_hash).
"use strict";

const MIN_SIZE = 8;
const MASK64 = (1n << 64n) - 1n;

/** string_hash on a 64-bit build, for keys of code points below 256. @param {string} key @returns {bigint} */
function pythonHash(key) {
    if (key.length === 0) {
        return 0n;
    }
    let x = BigInt(key.charCodeAt(0)) << 7n;
    for (let i = 0; i < key.length; i++) {
        x = BigInt.asIntN(64, 1000003n * x) ^ BigInt(key.charCodeAt(i));
    }
    x = BigInt.asIntN(64, x ^ BigInt(key.length));
    return x === -1n ? -2n : x;
}

/**
 * A dict of string keys in CPython 2.7's slot order. Entries are never deleted here (libcalico's rule code
 * deletes none), so the table has no dummy slots.
 * @template V
 */
class PythonDict {
    constructor() {
        /** @type {({ key: string, hash: bigint, value: V } | undefined)[]} */
        this.table = new Array(MIN_SIZE).fill(undefined);
        this.used = 0;
    }

    /** dict(**kwargs) and friends: a new dict filled by inserting `entries` in their order. @template V @param {Iterable<[string, V]>} entries */
    static fromEntries(entries) {
        /** @type {PythonDict<V>} */
        const dict = new PythonDict();
        for (const [key, value] of entries) {
            dict.set(key, value);
        }
        return dict;
    }

    /** lookdict's probe sequence: the slot holding `key`, or the first empty one on its path. @param {string} key @param {bigint} hash */
    slotFor(key, hash) {
        const mask = BigInt(this.table.length - 1);
        let i = BigInt.asUintN(64, hash);
        let perturb = i;
        for (;;) {
            const entry = this.table[Number(i & mask)];
            if (entry === undefined || (entry.hash === hash && entry.key === key)) {
                return Number(i & mask);
            }
            i = ((i << 2n) + i + perturb + 1n) & MASK64;
            perturb >>= 5n;
        }
    }

    /** PyDict_SetItem: insert or replace, then grow when two thirds full. @param {string} key @param {V} value */
    set(key, value) {
        const hash = pythonHash(key);
        const slot = this.slotFor(key, hash);
        const existing = this.table[slot];
        if (existing !== undefined) {
            existing.value = value;
            return;
        }
        this.table[slot] = { key, hash, value };
        this.used++;
        if (this.used * 3 >= this.table.length * 2) {
            this.resize(4 * this.used);
        }
    }

    /** @param {string} key */
    has(key) {
        return this.table[this.slotFor(key, pythonHash(key))] !== undefined;
    }

    /** @param {string} key @returns {V | undefined} */
    get(key) {
        return this.table[this.slotFor(key, pythonHash(key))]?.value;
    }

    /** dictresize: the smallest power of two above `minUsed`, the entries re-inserted in slot order. @param {number} minUsed */
    resize(minUsed) {
        let size = MIN_SIZE;
        while (size <= minUsed) {
            size <<= 1;
        }
        const entries = this.table.filter((entry) => entry !== undefined);
        this.table = new Array(size).fill(undefined);
        for (const entry of entries) {
            this.table[this.slotFor(entry.key, entry.hash)] = entry;
        }
    }

    /** dict.copy(): PyDict_Merge into a new dict, sized up front for the entries it receives. @returns {PythonDict<V>} */
    copy() {
        /** @type {PythonDict<V>} */
        const copy = new PythonDict();
        if (this.used * 3 >= copy.table.length * 2) {
            copy.resize(this.used * 2);
        }
        for (const entry of this.table) {
            if (entry !== undefined) {
                copy.table[copy.slotFor(entry.key, entry.hash)] = { ...entry };
                copy.used++;
            }
        }
        return copy;
    }

    /** Iteration order (keys(), iteritems(), json.dumps). @returns {[string, V][]} */
    entries() {
        return this.table.filter((entry) => entry !== undefined).map((entry) => [entry.key, entry.value]);
    }

    keys() {
        return this.entries().map(([key]) => key);
    }
}

module.exports = { PythonDict };
