// CPython 2.7's dict, enough of it to know the order in which Python 2 iterates (and so json.dumps prints) the
// keys of libcalico's Rule dicts. The order is not insertion order: it is the order of the hash table's slots,
// which depends on each key's hash, the table's size and, where two keys probe the same slot, on which came
// first. Source: CPython v2.7.18, Objects/dictobject.c (PyDict_MINSIZE 8, PERTURB_SHIFT 5, lookdict's probe
// sequence, PyDict_SetItem's resize at 2/3 full to 4 * used, dictresize, PyDict_Merge's presize for
// dict.copy()) and Objects/stringobject.c string_hash (hash randomization is off by default in 2.7; a unicode
// key of ASCII characters hashes as the same str does, Objects/unicodeobject.c unicode_hash).

const minSize = 8;
const mask64 = (1n << 64n) - 1n;

/** string_hash on a 64-bit build, for keys of code points below 256. */
function pythonHash(key: string): bigint {
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

interface Entry<V> {
    key: string;
    hash: bigint;
    value: V;
}

/**
 * A dict of string keys in CPython 2.7's slot order. Entries are never deleted here (libcalico's rule code
 * deletes none), so the table has no dummy slots.
 */
export class PythonDict<V> {
    private table: (Entry<V> | undefined)[] = new Array<Entry<V> | undefined>(minSize).fill(undefined);
    private used = 0;

    /** dict(**kwargs) and friends: a new dict filled by inserting `entries` in their order. */
    static fromEntries<V>(entries: Iterable<[string, V]>): PythonDict<V> {
        const dict = new PythonDict<V>();
        for (const [key, value] of entries) {
            dict.set(key, value);
        }
        return dict;
    }

    /** lookdict's probe sequence: the slot holding `key`, or the first empty one on its path. */
    private slotFor(key: string, hash: bigint): number {
        const mask = BigInt(this.table.length - 1);
        let i = BigInt.asUintN(64, hash);
        let perturb = i;
        for (;;) {
            const entry = this.table[Number(i & mask)];
            if (entry === undefined || (entry.hash === hash && entry.key === key)) {
                return Number(i & mask);
            }
            i = ((i << 2n) + i + perturb + 1n) & mask64;
            perturb >>= 5n;
        }
    }

    /** PyDict_SetItem: insert or replace, then grow when two thirds full. */
    set(key: string, value: V): void {
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

    has(key: string): boolean {
        return this.table[this.slotFor(key, pythonHash(key))] !== undefined;
    }

    get(key: string): V | undefined {
        return this.table[this.slotFor(key, pythonHash(key))]?.value;
    }

    /** dictresize: the smallest power of two above `minUsed`, the entries re-inserted in slot order. */
    private resize(minUsed: number): void {
        let size = minSize;
        while (size <= minUsed) {
            size <<= 1;
        }
        const entries = this.table.filter((entry) => entry !== undefined);
        this.table = new Array<Entry<V> | undefined>(size).fill(undefined);
        for (const entry of entries) {
            this.table[this.slotFor(entry.key, entry.hash)] = entry;
        }
    }

    /** dict.copy(): PyDict_Merge into a new dict, sized up front for the entries it receives. */
    copy(): PythonDict<V> {
        const copy = new PythonDict<V>();
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

    /** Iteration order (keys(), iteritems(), json.dumps). */
    entries(): [string, V][] {
        return this.table.filter((entry) => entry !== undefined).map((entry) => [entry.key, entry.value]);
    }

    keys(): string[] {
        return this.entries().map(([key]) => key);
    }
}
