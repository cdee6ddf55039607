// calicoctl 0.x's profile-rule grammar: the text after `rule add inbound|outbound`, the JSON `rule json` prints and
// `rule update` reads, and Rule.pprint(). What passes here may reach a shell or etcd, so anything outside the grammar
// is an error. It is what calicoctl v0.17.0-v0.23.0 (libcalico v0.12-v0.18) accept through `rule update`
// (calico-containers calicoctl/calico_ctl/profile.py, libcalico pycalico/datastore_datatypes.py Rule and util.py);
// test/unit/calicoRuleVectors.json holds each case with calicoctl v0.19.0's own answer.
import { canonicalCidr, cidrVersion, Fail, quote } from "./cidr";
import { RuleSyntaxError } from "../errors";

type RuleAction = "allow" | "deny";
type RuleProtocol = "tcp" | "udp" | "icmp" | "icmpv6";

/** One rule as calicoctl's `rule json` stores it (keys exactly as in calicoctl's JSON). */
export interface CalicoRule {
    action: RuleAction;
    protocol?: RuleProtocol;
    icmp_type?: number;
    icmp_code?: number;
    src_ports?: number[];
    src_tag?: string;
    src_net?: string;
    dst_ports?: number[];
    dst_tag?: string;
    dst_net?: string;
}

type RuleKey = keyof CalicoRule;
type RuleFields = Required<CalicoRule>;
type Side = "src" | "dst";

const ACTIONS: readonly RuleAction[] = ["allow", "deny"];
const PROTOCOLS: readonly RuleProtocol[] = ["tcp", "udp", "icmp", "icmpv6"];
const PORT_PROTOCOLS: readonly RuleProtocol[] = ["tcp", "udp"];
const ICMP_PROTOCOLS: readonly RuleProtocol[] = ["icmp", "icmpv6"];

/**
 * The order in which the program writes a rule's keys (pprint's order). calicoctl itself writes them in
 * CPython 2.7's dict order, which depends on the path a rule took, so read-backs are compared parsed.
 */
const JSON_KEY_ORDER: readonly RuleKey[] = [
    "action",
    "protocol",
    "icmp_type",
    "icmp_code",
    "src_ports",
    "src_tag",
    "src_net",
    "dst_ports",
    "dst_tag",
    "dst_net",
];
const OPTIONAL_KEYS = JSON_KEY_ORDER.filter((key) => key !== "action");
const SELECTOR_KEYS: readonly string[] = ["src_selector", "dst_selector"];
/** libcalico's Rule.ALLOWED_KEYS (v0.13 on), in the order a stored rule outside the grammar is shown. */
const STORED_KEY_ORDER: readonly string[] = [
    "action",
    "protocol",
    "icmp_type",
    "icmp_code",
    "src_ports",
    "src_tag",
    "src_selector",
    "src_net",
    "dst_ports",
    "dst_tag",
    "dst_selector",
    "dst_net",
];
/** How refresh marks a stored rule the grammar cannot express; no rule text starts with it. */
export const outsideGrammar = "[outside the grammar]";

const ENDPOINT_KEYS = {
    src: { keyword: "from", ports: "src_ports", tag: "src_tag", net: "src_net" },
    dst: { keyword: "to", ports: "dst_ports", tag: "dst_tag", net: "dst_net" },
} as const;

const GRAMMAR_SUMMARY =
    "allow|deny [tcp|udp|icmp|icmpv6] [type N [code N]] " +
    "[from [ports P] [tag T] [cidr C]] [to [ports P] [tag T] [cidr C]]";
const SINGULAR_PORT_HINT = `the keyword is "ports", plural, not "port"`;
const KEYWORDS = new Set([...ACTIONS, ...PROTOCOLS, "type", "code", "from", "to", "ports", "tag", "cidr"]);

const TAG_PATTERN = /^[a-zA-Z0-9_.][a-zA-Z0-9_.-]*$/;
const DIGITS = /^[0-9]+$/;
const MAX_PORT = 65535;
/** libcalico v0.12-v0.15's validate_icmp_type is `0 <= int(x) < 255` (calicoctl v0.17-v0.20); v0.16 on allows 255. */
const MAX_ICMP_VALUE = 254;
/** A range written out as its ports in a refusal's suggestion, up to this many ports. */
const MAX_SUGGESTED_PORTS = 16;

/** Calico tag/profile names: letters, digits, `_`, `.`, `-`, not starting with `-`. */
export function isValidTag(s: unknown): s is string {
    return typeof s === "string" && TAG_PATTERN.test(s);
}

// ---------------------------------------------------------------- rule text

export function parseRule(text: string): CalicoRule {
    return new RuleTextParser(text).parse();
}

/** calicoctl's Rule.pprint(). */
export function formatRule(rule: CalicoRule): string {
    const valid = checkedRule(rule, "rule");
    return [valid.action, ...protocolWords(valid), ...endpointWords(valid, "src"), ...endpointWords(valid, "dst")].join(
        " ",
    );
}

export function canonicalRule(text: string): string {
    return formatRule(parseRule(text));
}

function protocolWords(rule: CalicoRule): string[] {
    const words: string[] = rule.protocol === undefined ? [] : [rule.protocol];
    if (rule.icmp_type !== undefined) words.push("type", String(rule.icmp_type));
    if (rule.icmp_code !== undefined) words.push("code", String(rule.icmp_code));
    return words;
}

function endpointWords(rule: CalicoRule, side: Side): string[] {
    const keys = ENDPOINT_KEYS[side];
    const words: string[] = [];
    const ports = rule[keys.ports];
    if (ports !== undefined) words.push("ports", ports.join(","));
    if (rule[keys.tag] !== undefined) words.push("tag", String(rule[keys.tag]));
    if (rule[keys.net] !== undefined) words.push("cidr", String(rule[keys.net]));
    return words.length === 0 ? [] : [keys.keyword, ...words];
}

/** Recursive descent over the docopt grammar; every sub-clause is optional, in a fixed order. */
class RuleTextParser {
    private readonly tokens: string[];
    private position = 0;
    private readonly fail: Fail;

    constructor(text: string) {
        // Only spaces and tabs separate tokens: a newline or any other character
        // stays inside a token, where the keyword and value checks reject it.
        this.tokens = text.split(/[ \t]+/).filter((token) => token !== "");
        this.fail = (problem) => {
            throw new RuleSyntaxError(`Invalid calicoctl rule ${quote(text)}: ${problem}`);
        };
    }

    parse(): CalicoRule {
        const rule: CalicoRule = { action: this.parseAction() };
        this.parseProtocol(rule);
        if (isIcmpProtocol(rule.protocol)) this.parseIcmpTypeAndCode(rule);
        this.parseEndpointClause(rule, "src");
        this.parseEndpointClause(rule, "dst");
        this.expectEnd(rule);
        checkRuleConsistency(rule, this.fail);
        return rule;
    }

    private parseAction(): RuleAction {
        const token = this.peek();
        if (token === undefined) this.fail(`the rule is empty; expected "allow" or "deny"`);
        if (!isOneOf(token, ACTIONS)) this.fail(`expected "allow" or "deny" but found ${quote(token)}`);
        this.position++;
        return token;
    }

    private parseProtocol(rule: CalicoRule): void {
        const token = this.peek();
        if (token !== undefined && isOneOf(token, PROTOCOLS)) {
            rule.protocol = token;
            this.position++;
        }
    }

    private parseIcmpTypeAndCode(rule: CalicoRule): void {
        if (this.peek() === "code") this.fail(`"code" is only valid after "type <ICMPTYPE>"`);
        if (!this.accept("type")) return;
        rule.icmp_type = parseIcmpValue(this.takeValue("type"), "type", this.fail);
        if (this.accept("code")) rule.icmp_code = parseIcmpValue(this.takeValue("code"), "code", this.fail);
    }

    /**
     * A "from" or "to" with nothing after it is calicoctl's grammar too: in profile.py's docopt usage
     * (calico-containers v0.17.0-v0.23.0) `[(from [(ports <SRCPORTS>)] [(tag <SRCTAG>)] [(cidr <SRCCIDR>)])]`
     * every sub-clause is optional. It adds nothing to the rule, so the canonical text drops it.
     */
    private parseEndpointClause(rule: CalicoRule, side: Side): void {
        const keys = ENDPOINT_KEYS[side];
        if (!this.accept(keys.keyword)) return;
        if (this.peek() === "ports") {
            failIfPortsNotAllowed(rule.protocol, this.fail);
            this.position++;
            rule[keys.ports] = parsePortList(this.takeValue("ports"), this.fail);
        }
        if (this.accept("tag")) rule[keys.tag] = parseTag(this.takeValue("tag"), this.fail);
        if (this.accept("cidr")) rule[keys.net] = canonicalCidr(this.takeValue("cidr"), this.fail);
    }

    private expectEnd(rule: CalicoRule): void {
        const token = this.peek();
        if (token !== undefined) this.fail(unexpectedTokenProblem(token, rule.protocol));
    }

    private peek(): string | undefined {
        return this.tokens[this.position];
    }

    private accept(keyword: string): boolean {
        if (this.peek() !== keyword) return false;
        this.position++;
        return true;
    }

    private takeValue(keyword: string): string {
        const value = this.peek();
        if (value === undefined) this.fail(`"${keyword}" needs a value`);
        this.position++;
        return value;
    }
}

function unexpectedTokenProblem(token: string, protocol: RuleProtocol | undefined): string {
    if (token === "port") return `unexpected "port": ${SINGULAR_PORT_HINT}`;
    if (token === "ports" && !isPortProtocol(protocol)) return portsNotValidProblem(protocol);
    if ((token === "type" || token === "code") && !isIcmpProtocol(protocol)) {
        return `"${token}" is only valid with protocol icmp or icmpv6`;
    }
    const what = KEYWORDS.has(token) ? "out of order or repeated" : "not part of the grammar";
    return `unexpected ${quote(token)} (${what}); the rule grammar is: ${GRAMMAR_SUMMARY}`;
}

// ---------------------------------------------------------------- rule JSON

/** Validates one element of inbound_rules/outbound_rules from `rule json`. */
export function ruleFromJson(value: unknown): CalicoRule {
    return checkedRule(value, "rule JSON");
}

export function ruleToJson(rule: CalicoRule): Record<string, unknown> {
    const valid = checkedRule(rule, "rule");
    const json: Record<string, unknown> = {};
    for (const key of JSON_KEY_ORDER) {
        const value = valid[key];
        if (value !== undefined) json[key] = Array.isArray(value) ? [...value] : value;
    }
    return json;
}

/**
 * A rule `rule json` printed, as refresh shows it: its canonical text when the grammar can express it, else the
 * stored JSON (keys in a fixed order), marked with outsideGrammar. Another writer may store what calicoctl
 * itself accepts but the grammar cannot say (a null protocol, an ICMP type as a string, an empty port list,
 * selectors, a next-tier action, mixed address families): that is drift to show, not an error.
 */
export function storedRuleText(value: unknown): string {
    try {
        return formatRule(ruleFromJson(value));
    } catch (error) {
        if (!(error instanceof RuleSyntaxError)) throw error;
        return `${outsideGrammar} ${JSON.stringify(inStoredKeyOrder(value))}`;
    }
}

function inStoredKeyOrder(value: unknown): unknown {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
    const rank = (key: string) =>
        STORED_KEY_ORDER.includes(key) ? STORED_KEY_ORDER.indexOf(key) : STORED_KEY_ORDER.length;
    const keys = Object.keys(value).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(keys.map((key) => [key, (value as Record<string, unknown>)[key]]));
}

/** The tags a rule names (src_tag, then dst_tag), without repeats. */
export function ruleTags(rule: CalicoRule): string[] {
    const tags = [rule.src_tag, rule.dst_tag].filter((tag): tag is string => tag !== undefined);
    return [...new Set(tags)];
}

const FIELD_READERS: { [K in RuleKey]: (raw: unknown, fail: Fail) => RuleFields[K] } = {
    action: (raw, fail) => readOneOf(raw, ACTIONS, "action", fail),
    protocol: (raw, fail) => readOneOf(raw, PROTOCOLS, "protocol", fail),
    icmp_type: (raw, fail) => readIcmpValue(raw, "icmp_type", fail),
    icmp_code: (raw, fail) => readIcmpValue(raw, "icmp_code", fail),
    src_tag: (raw, fail) => parseTag(readString(raw, "src_tag", fail), fail),
    src_net: (raw, fail) => canonicalCidr(readString(raw, "src_net", fail), fail),
    src_ports: (raw, fail) => readPortList(raw, "src_ports", fail),
    dst_tag: (raw, fail) => parseTag(readString(raw, "dst_tag", fail), fail),
    dst_net: (raw, fail) => canonicalCidr(readString(raw, "dst_net", fail), fail),
    dst_ports: (raw, fail) => readPortList(raw, "dst_ports", fail),
};

/** Validates a rule object (JSON or in-code) the way the text parser would, normalising nets. */
function checkedRule(value: unknown, subject: string): CalicoRule {
    const fail: Fail = (problem) => {
        throw new RuleSyntaxError(`Invalid calicoctl ${subject} ${describeValue(value)}: ${problem}`);
    };
    const fields = readPlainObject(value, fail);
    failOnUnsupportedKeys(fields, fail);
    if (fields.action === undefined) fail(`"action" is missing`);
    const rule: CalicoRule = { action: FIELD_READERS.action(fields.action, fail) };
    for (const key of OPTIONAL_KEYS) {
        if (fields[key] !== undefined) copyField(rule, key, fields[key], fail);
    }
    checkRuleConsistency(rule, fail);
    return rule;
}

type RuleUnderConstruction = { [K in RuleKey]?: RuleFields[K] };

function copyField<K extends RuleKey>(rule: RuleUnderConstruction, key: K, raw: unknown, fail: Fail): void {
    rule[key] = FIELD_READERS[key](raw, fail);
}

function readPlainObject(value: unknown, fail: Fail): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        fail("a rule must be a JSON object");
    }
    return value as Record<string, unknown>;
}

function failOnUnsupportedKeys(fields: Record<string, unknown>, fail: Fail): void {
    for (const key of Object.keys(fields)) {
        if (SELECTOR_KEYS.includes(key)) {
            fail(`${quote(key)} is a selector, which calicoctl 0.x's rule grammar cannot express`);
        }
        if (!(JSON_KEY_ORDER as readonly string[]).includes(key)) {
            fail(`unknown key ${quote(key)}; allowed keys are ${JSON_KEY_ORDER.join(", ")}`);
        }
    }
}

function readString(raw: unknown, key: string, fail: Fail): string {
    if (typeof raw !== "string") fail(`"${key}" must be a string, not ${describeValue(raw)}`);
    return raw;
}

function readOneOf<T extends string>(raw: unknown, allowed: readonly T[], key: string, fail: Fail): T {
    const value = readString(raw, key, fail);
    if (!isOneOf(value, allowed)) fail(`"${key}" must be one of ${allowed.join(", ")}, not ${quote(value)}`);
    return value;
}

function readIcmpValue(raw: unknown, key: string, fail: Fail): number {
    if (!isIntegerInRange(raw, MAX_ICMP_VALUE)) {
        fail(`"${key}" must be an integer 0..${MAX_ICMP_VALUE}, not ${describeValue(raw)}`);
    }
    return raw;
}

function readPortList(raw: unknown, key: string, fail: Fail): number[] {
    if (!Array.isArray(raw) || raw.length === 0) fail(`"${key}" must be a non-empty list of ports`);
    return raw.map((item: unknown) => readPortItem(item, key, fail));
}

function readPortItem(item: unknown, key: string, fail: Fail): number {
    if (!isIntegerInRange(item, MAX_PORT)) {
        fail(
            `"${key}" items must be integers 0..${MAX_PORT} (calicoctl 0.x has no port ranges), not ${describeValue(item)}`,
        );
    }
    return item;
}

function isIntegerInRange(value: unknown, max: number): value is number {
    return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max;
}

// ---------------------------------------------------------------- shared checks

function checkRuleConsistency(rule: CalicoRule, fail: Fail): void {
    if ((rule.src_ports !== undefined || rule.dst_ports !== undefined) && !isPortProtocol(rule.protocol)) {
        fail(portsNotValidProblem(rule.protocol));
    }
    checkIcmpFields(rule, fail);
    checkNetVersions(rule, fail);
}

function checkIcmpFields(rule: CalicoRule, fail: Fail): void {
    const hasIcmpField = rule.icmp_type !== undefined || rule.icmp_code !== undefined;
    if (hasIcmpField && !isIcmpProtocol(rule.protocol)) {
        fail(`icmp type/code are only valid with protocol icmp or icmpv6`);
    }
    if (rule.icmp_code !== undefined && rule.icmp_type === undefined) fail(`icmp code is only valid with an icmp type`);
}

function checkNetVersions(rule: CalicoRule, fail: Fail): void {
    const nets = [rule.src_net, rule.dst_net].filter((net): net is string => net !== undefined);
    const versions = new Set(nets.map(cidrVersion));
    if (versions.size > 1) {
        fail(`source cidr ${quote(nets[0])} and destination cidr ${quote(nets[1])} are of different IP versions`);
    }
    const requiredVersion = rule.protocol === "icmp" ? 4 : rule.protocol === "icmpv6" ? 6 : undefined;
    const mismatch = nets.find((net) => requiredVersion !== undefined && cidrVersion(net) !== requiredVersion);
    if (mismatch !== undefined) {
        fail(`cidr ${quote(mismatch)} is not IPv${requiredVersion}, as protocol ${rule.protocol} requires`);
    }
}

function portsNotValidProblem(protocol: RuleProtocol | undefined): string {
    // calicoctl prints `"Ports are not valid with protocol %r" % protocol`.
    const shownProtocol = protocol === undefined ? "None" : `'${protocol}'`;
    return `Ports are not valid with protocol ${shownProtocol} ("ports" needs tcp or udp)`;
}

function failIfPortsNotAllowed(protocol: RuleProtocol | undefined, fail: Fail): void {
    if (!isPortProtocol(protocol)) fail(portsNotValidProblem(protocol));
}

function isPortProtocol(protocol: RuleProtocol | undefined): boolean {
    return protocol !== undefined && PORT_PROTOCOLS.includes(protocol);
}

function isIcmpProtocol(protocol: RuleProtocol | undefined): boolean {
    return protocol !== undefined && ICMP_PROTOCOLS.includes(protocol);
}

function isOneOf<T extends string>(value: string, options: readonly T[]): value is T {
    return (options as readonly string[]).includes(value);
}

// ---------------------------------------------------------------- values

/** A port range in either spelling calicoctl's usage text shows (`1000:2000`, `1000-2000`). */
const PORT_RANGE = /^([0-9]+)[:-]([0-9]+)$/;

/**
 * A comma list of ports. Leading zeros are read as calicoctl's int() reads them (080 is 80: profile.py
 * parse_ports, libcalico util.py validate_ports). Ranges are refused: on every 0.x release libcalico's
 * pycalico/datastore_datatypes.py Rule.to_json_dict runs int() on each port (v0.12.0-v0.18.0), so a range
 * fails the write, and calicoctl v0.17-v0.19's command-line check walks the ports word a character at a time.
 */
function parsePortList(text: string, fail: Fail): number[] {
    const items = text.split(",");
    return items.map((item) => {
        if (item === "") fail(`empty item in port list ${quote(text)}`);
        if (PORT_RANGE.test(item)) fail(portRangeProblem(item, items));
        if (!DIGITS.test(item)) fail(`${quote(item)} is not a port number`);
        const port = Number(item);
        if (port > MAX_PORT) fail(`port ${quote(item)} is out of range 0..${MAX_PORT}`);
        return port;
    });
}

function portRangeProblem(range: string, items: string[]): string {
    const listed = items.flatMap((item) => {
        const bounds = PORT_RANGE.exec(item);
        if (bounds === null) return [item];
        const [first, last] = [Number(bounds[1]), Number(bounds[2])];
        return Array.from({ length: Math.max(last - first + 1, 0) }, (_, i) => String(first + i));
    });
    const example =
        listed.length > 0 && listed.length <= MAX_SUGGESTED_PORTS && listed.every((port) => Number(port) <= MAX_PORT)
            ? `"ports ${listed.join(",")}"`
            : `"ports 1000,1001,1002"`;
    return (
        `port range ${quote(range)}: calicoctl 0.x has no port ranges (every release fails to write one); ` +
        `list the ports instead, e.g. ${example}`
    );
}

/** An ICMP type or code in decimal digits (leading zeros allowed, as int() reads them), 0..254 (MAX_ICMP_VALUE). */
function parseIcmpValue(text: string, keyword: string, fail: Fail): number {
    if (!DIGITS.test(text))
        fail(`icmp ${keyword} ${quote(text)} must be a number 0..${MAX_ICMP_VALUE} written in digits`);
    const value = Number(text);
    if (value > MAX_ICMP_VALUE) {
        fail(`icmp ${keyword} ${quote(text)} is out of range 0..${MAX_ICMP_VALUE}: calicoctl v0.17-v0.20 refuse 255`);
    }
    return value;
}

function parseTag(text: string, fail: Fail): string {
    if (!isValidTag(text)) {
        fail(`tag ${quote(text)} is not a valid calico tag (letters, digits, "_", ".", "-"; not starting with "-")`);
    }
    return text;
}

// ---------------------------------------------------------------- messages

function describeValue(value: unknown): string {
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}
