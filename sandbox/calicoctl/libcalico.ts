// libcalico v0.14.0 (the release calicoctl v0.19.0 pins: calico-containers v0.19.0 Makefile and
// calicoctl/calico_ctl/__init__.py __libcalico_version__): the Rule and Rules datatypes and the validators
// calicoctl calls. Source: projectcalico/libcalico v0.14.0, calico_containers/pycalico/datastore_datatypes.py
// (Rule.ALLOWED_KEYS, Rule.__setitem__, Rule.to_json_dict, Rule.pprint, Rules.from_json, Rules.to_json) and
// calico_containers/pycalico/util.py (validate_characters, validate_ports, validate_icmp_type, validate_cidr,
// validate_cidr_versions).
import { IpNetwork, ipNetwork, networkText, sameNetwork } from "./netaddr";
import { PythonDict } from "./pythonDict";
import { intOf, PythonException, pythonJson, pythonJsonLoads, pythonStr, pythonTypeName } from "./python";

export const allowedKeys = [
    "protocol",
    "src_tag",
    "src_selector",
    "src_ports",
    "src_net",
    "dst_tag",
    "dst_selector",
    "dst_ports",
    "dst_net",
    "icmp_type",
    "icmp_code",
    "action",
];

/** An IPNetwork held in a Rule: str() is netaddr's text. */
class Network {
    readonly network: IpNetwork;

    constructor(addr: unknown) {
        this.network = addr instanceof Network ? addr.network : ipNetwork(addr);
    }

    toString(): string {
        return networkText(this.network);
    }
}

/** validate_characters: re.match("^[a-zA-Z0-9_\.\-]+$"), whose `$` also matches before a final newline. */
export function validCharacters(text: unknown) {
    if (typeof text !== "string") {
        throw new PythonException("TypeError", "expected string or buffer");
    }
    return /^[a-zA-Z0-9_.-]+\n?$/.test(text);
}

/** Iterating a json.loads value as `for port in port_list` does. */
function iterate(value: unknown): unknown[] {
    if (Array.isArray(value)) return value;
    if (typeof value === "string") return [...value];
    if (value instanceof PythonDict) return value.keys();
    throw new PythonException("TypeError", `'${pythonTypeName(value)}' object is not iterable`);
}

/**
 * validate_ports: ints 0..65535, or "a:b" with a < b. Python's int() errors other than ValueError escape, as does
 * the ValueError of a range side that is not a number.
 */
export function validatePorts(portList: unknown): boolean {
    for (const port of iterate(portList)) {
        let inRange;
        if (pythonStr(port).includes(":")) {
            if (typeof port !== "string") {
                throw new PythonException(
                    "AttributeError",
                    `'${pythonTypeName(port)}' object has no attribute 'split'`,
                );
            }
            const bounds = port.split(":");
            inRange = bounds.length === 2 && intOf(bounds[0]) < intOf(bounds[1]) && validatePorts(bounds);
        } else {
            inRange = catchValueError(() => {
                const n = intOf(port);
                return n >= 0 && n < 65536;
            });
        }
        if (!inRange) {
            return false;
        }
    }
    return true;
}

/** validate_icmp_type: 0 <= int(value) < 255 (255 is refused up to libcalico v0.15). */
export function validIcmp(value: unknown) {
    return catchValueError(() => {
        const n = intOf(value);
        return n >= 0 && n < 255;
    });
}

/** `try: ... except ValueError: False` */
function catchValueError(check: () => boolean) {
    try {
        return check();
    } catch (error) {
        if (error instanceof PythonException && error.type === "ValueError") {
            return false;
        }
        throw error;
    }
}

/** validate_cidr: IPNetwork(cidr) parses (AddrFormatError and ValueError mean no). */
export function validCidr(cidr: string) {
    try {
        ipNetwork(cidr);
        return true;
    } catch (error) {
        if (error instanceof PythonException && ["AddrFormatError", "ValueError"].includes(error.type)) {
            return false;
        }
        throw error;
    }
}

/** validate_cidr_versions: all parse, all of one version (the given one, when given). */
export function validCidrVersions(cidrs: string[], version: number | undefined) {
    let expected = version;
    for (const cidr of cidrs) {
        if (!validCidr(cidr)) {
            return false;
        }
        const actual = ipNetwork(cidr).version;
        if (expected !== undefined && expected !== actual) {
            return false;
        }
        expected = actual;
    }
    return true;
}

/** Rule.__setitem__'s ValueError. */
function notAllowed(value: unknown, key: string) {
    return new PythonException("ValueError", `'${pythonStr(value)}' is not allowed for key '${key}'`);
}

/** libcalico's Rule: a dict whose keys are checked as they are set, in CPython 2.7's slot order. */
export class Rule {
    private readonly dict = new PythonDict<unknown>();

    /** Rule(**kwargs): the kwargs dict is filled from `source`'s iteration order, then each key is set in its order. */
    static fromKwargs(source: PythonDict<unknown>): Rule {
        const rule = new Rule();
        for (const [key, value] of PythonDict.fromEntries(source.entries()).entries()) {
            rule.set(key, value);
        }
        return rule;
    }

    /** Rules.from_json's Rule(**rule): a mapping is required. */
    static fromJsonValue(value: unknown): Rule {
        if (!(value instanceof PythonDict)) {
            throw new PythonException(
                "TypeError",
                `type object argument after ** must be a mapping, not ${pythonTypeName(value)}`,
            );
        }
        return Rule.fromKwargs(value);
    }

    /**
     * copy.copy(rule): a new Rule, set key by key in this one's iteration order
     * (NetworkMappedProfile._translate_profile).
     */
    copy(): Rule {
        const rule = new Rule();
        for (const [key, value] of this.dict.entries()) {
            rule.set(key, value);
        }
        return rule;
    }

    set(key: string, value: unknown): void {
        if (!allowedKeys.includes(key)) {
            throw new PythonException("KeyError", `u'Key ${key} is not allowed on Rule.'`);
        }
        const stored = key === "src_net" || key === "dst_net" ? new Network(value) : value;
        if (key === "action" && value !== "allow" && value !== "deny") {
            throw notAllowed(value, key);
        }
        if (key === "protocol" && !["tcp", "udp", "icmp", "icmpv6", null].includes(value as string | null)) {
            throw notAllowed(value, key);
        }
        if ((key === "src_tag" || key === "dst_tag") && !validCharacters(value)) {
            throw notAllowed(value, key);
        }
        if ((key === "src_ports" || key === "dst_ports") && !validatePorts(value)) {
            throw notAllowed(value, key);
        }
        if ((key === "icmp_type" || key === "icmp_code") && !validIcmp(value)) {
            throw notAllowed(value, key);
        }
        this.dict.set(key, stored);
    }

    has(key: string): boolean {
        return this.dict.has(key);
    }

    get(key: string): unknown {
        return this.dict.get(key);
    }

    /** to_json_dict: a dict.copy() with nets as strings and every port through int() (so a range raises). */
    toJsonDict(): PythonDict<unknown> {
        const json = this.dict.copy();
        for (const key of ["dst_net", "src_net"].filter((k) => json.has(k))) {
            json.set(key, String(json.get(key)));
        }
        for (const key of ["dst_ports", "src_ports"].filter((k) => json.has(k))) {
            json.set(key, iterate(json.get(key)).map(intOf));
        }
        return json;
    }

    /** Rule.pprint, which joins str() of the values (a None protocol makes the join raise). */
    pprint(): string {
        if (!this.has("action")) {
            throw new PythonException("KeyError", "'action'");
        }
        const out: unknown[] = [this.get("action")];
        if (this.has("protocol")) out.push(this.get("protocol"));
        if (this.has("icmp_type")) out.push("type", pythonStr(this.get("icmp_type")));
        if (this.has("icmp_code")) out.push("code", pythonStr(this.get("icmp_code")));
        for (const [keyword, side] of [
            ["from", "src"],
            ["to", "dst"],
        ]) {
            if ([`${side}_tag`, `${side}_ports`, `${side}_net`].some((key) => this.has(key))) out.push(keyword);
            if (this.has(`${side}_ports`))
                out.push(
                    "ports",
                    iterate(this.get(`${side}_ports`))
                        .map(pythonStr)
                        .join(","),
                );
            if (this.has(`${side}_tag`)) out.push("tag", this.get(`${side}_tag`));
            if (this.has(`${side}_net`)) out.push("cidr", String(this.get(`${side}_net`)));
        }
        const notText = out.findIndex((word) => typeof word !== "string");
        if (notText >= 0) {
            throw new PythonException(
                "TypeError",
                `sequence item ${notText}: expected string or Unicode, ${pythonTypeName(out[notText])} found`,
            );
        }
        return out.join(" ");
    }

    keys(): string[] {
        return this.dict.keys();
    }

    /** Python dict equality (`rule in rules`, `rules.remove(rule)`): nets compare as IPNetwork.key(). */
    equals(other: Rule): boolean {
        const keys = this.dict.keys();
        return (
            keys.length === other.keys().length &&
            keys.every((key) => other.has(key) && pythonEquals(this.get(key), other.get(key)))
        );
    }
}

/** Python == on json.loads values (True == 1, u'a' == 'a', lists element-wise). */
function pythonEquals(a: unknown, b: unknown): boolean {
    if (a instanceof Network && b instanceof Network) {
        return sameNetwork(a.network, b.network);
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        return a.length === b.length && a.every((item, i) => pythonEquals(item, b[i]));
    }
    if (a instanceof PythonDict && b instanceof PythonDict) {
        return (
            a.keys().length === b.keys().length &&
            a.keys().every((key) => b.has(key) && pythonEquals(a.get(key), b.get(key)))
        );
    }
    const numeric = (v: unknown) => (typeof v === "boolean" ? Number(v) : v);
    return numeric(a) === numeric(b);
}

/** A profile's rules: the Rules namedtuple. */
export class Rules {
    constructor(
        public id: unknown,
        public inbound: Rule[],
        public outbound: Rule[],
    ) {}

    /** Rules.from_json: the KeyError or TypeError Python raises on a malformed document. */
    static fromJson(text: string): Rules {
        const document = pythonJsonLoads(text);
        if (!(document instanceof PythonDict)) {
            throw new PythonException("TypeError", notSubscriptableByString(document));
        }
        const ruleList = (key: string) => {
            if (!document.has(key)) {
                throw new PythonException("KeyError", `'${key}'`);
            }
            return iterate(document.get(key)).map(Rule.fromJsonValue);
        };
        const inbound = ruleList("inbound_rules");
        const outbound = ruleList("outbound_rules");
        if (!document.has("id")) {
            throw new PythonException("KeyError", "'id'");
        }
        return new Rules(document.get("id"), inbound, outbound);
    }

    /** Rules.to_json: namedtuple._asdict() is an OrderedDict, so id, inbound_rules, outbound_rules. */
    toJson(indent?: number): string {
        return pythonJson(
            new Map([
                ["id", this.id],
                ["inbound_rules", this.inbound.map((rule) => rule.toJsonDict())],
                ["outbound_rules", this.outbound.map((rule) => rule.toJsonDict())],
            ]),
            indent,
        );
    }
}

/** Python 2's message for value["key"] on a decoded JSON value that is not an object. */
function notSubscriptableByString(value: unknown): string {
    if (Array.isArray(value)) {
        return "list indices must be integers, not str";
    }
    return typeof value === "string"
        ? "string indices must be integers"
        : `'${pythonTypeName(value)}' object has no attribute '__getitem__'`;
}
