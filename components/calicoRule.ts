// calicoctl 0.x profile-rule grammar: the text after `rule add inbound|outbound`,
// the JSON that `rule json` prints and `rule update` reads, and Rule.pprint().
// Everything that passes through here may end up on a shell command line or in
// etcd, so anything outside the grammar is an error, never "best effort".
import { isIPv4, isIPv6 } from "net";

export type RuleAction = "allow" | "deny";
export type RuleProtocol = "tcp" | "udp" | "icmp" | "icmpv6";
export type PortSpec = number | string; // 9000, or a range "1000:2000" (as calicoctl stores it)

/** One rule as calicoctl's `rule json` stores it (keys exactly as in calicoctl's JSON). */
export interface CalicoRule {
  action: RuleAction;
  protocol?: RuleProtocol;
  icmp_type?: number;
  icmp_code?: number;
  src_ports?: PortSpec[];
  src_tag?: string;
  src_net?: string;
  dst_ports?: PortSpec[];
  dst_tag?: string;
  dst_net?: string;
}

/** Message and name set by hand for the provider host: see SshError in ssh.ts. */
export class RuleSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "RuleSyntaxError";
  }
}

type RuleKey = keyof CalicoRule;
type RuleFields = Required<CalicoRule>;
type Fail = (problem: string) => never;
type Side = "src" | "dst";

const ACTIONS: readonly RuleAction[] = ["allow", "deny"];
const PROTOCOLS: readonly RuleProtocol[] = ["tcp", "udp", "icmp", "icmpv6"];
const PORT_PROTOCOLS: readonly RuleProtocol[] = ["tcp", "udp"];
const ICMP_PROTOCOLS: readonly RuleProtocol[] = ["icmp", "icmpv6"];

/** The order in which calicoctl writes a rule's keys. */
const JSON_KEY_ORDER: readonly RuleKey[] = [
  "action", "protocol", "icmp_type", "icmp_code",
  "src_tag", "src_net", "src_ports",
  "dst_tag", "dst_net", "dst_ports",
];
const OPTIONAL_KEYS = JSON_KEY_ORDER.filter((key) => key !== "action");
const SELECTOR_KEYS: readonly string[] = ["src_selector", "dst_selector"];

const ENDPOINT_KEYS = {
  src: { keyword: "from", ports: "src_ports", tag: "src_tag", net: "src_net" },
  dst: { keyword: "to", ports: "dst_ports", tag: "dst_tag", net: "dst_net" },
} as const;

const GRAMMAR_SUMMARY =
  "allow|deny [tcp|udp|icmp|icmpv6] [type N [code N]] " +
  "[from [ports P] [tag T] [cidr C]] [to [ports P] [tag T] [cidr C]]";
const SINGULAR_PORT_HINT = `the keyword is "ports", plural, not "port"`;
const KEYWORDS = new Set([...ACTIONS, ...PROTOCOLS, "type", "code", "from", "to", "ports", "tag", "cidr"]);

const TAG_PATTERN = /^[a-zA-Z0-9_.][a-zA-Z0-9_.\-]*$/;
const CANONICAL_INTEGER = /^(0|[1-9][0-9]*)$/;
const MAX_PORT = 65535;
const MAX_ICMP_VALUE = 255;

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
  return [
    valid.action,
    ...protocolWords(valid),
    ...endpointWords(valid, "src"),
    ...endpointWords(valid, "dst"),
  ].join(" ");
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

  private parseEndpointClause(rule: CalicoRule, side: Side): void {
    const keys = ENDPOINT_KEYS[side];
    if (!this.accept(keys.keyword)) return;
    const start = this.position;
    if (this.peek() === "ports") {
      failIfPortsNotAllowed(rule.protocol, this.fail);
      this.position++;
      rule[keys.ports] = parsePortList(this.takeValue("ports"), this.fail);
    }
    if (this.accept("tag")) rule[keys.tag] = parseTag(this.takeValue("tag"), this.fail);
    if (this.accept("cidr")) rule[keys.net] = parseCidr(this.takeValue("cidr"), this.fail);
    if (this.position === start) this.failEmptyClause(keys.keyword, rule.protocol);
  }

  private failEmptyClause(keyword: string, protocol: RuleProtocol | undefined): never {
    const subClauses = isPortProtocol(protocol) ? `"ports", "tag" or "cidr"` : `"tag" or "cidr"`;
    const found = this.peek();
    const after = found === undefined ? "nothing" : quote(found);
    const hint = found === "port" ? ` (${SINGULAR_PORT_HINT})` : "";
    return this.fail(`"${keyword}" must be followed by ${subClauses}, but is followed by ${after}${hint}`);
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

/** calicoctl's dict equality: same keys and values, port lists compared in order. */
export function rulesEqual(a: CalicoRule, b: CalicoRule): boolean {
  const fieldsA = presentFields(a);
  const fieldsB = presentFields(b);
  const keys = new Set([...Object.keys(fieldsA), ...Object.keys(fieldsB)]);
  return [...keys].every((key) => valuesEqual(fieldsA[key], fieldsB[key]));
}

/** The tags a rule names (src_tag, then dst_tag), without repeats. */
export function ruleTags(rule: CalicoRule): string[] {
  const tags = [rule.src_tag, rule.dst_tag].filter((tag): tag is string => tag !== undefined);
  return [...new Set(tags)];
}

function presentFields(rule: CalicoRule): Record<string, unknown> {
  return Object.fromEntries(Object.entries(rule).filter(([, value]) => value !== undefined));
}

function valuesEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => item === b[index]);
  }
  return a === b;
}

const FIELD_READERS: { [K in RuleKey]: (raw: unknown, fail: Fail) => RuleFields[K] } = {
  action: (raw, fail) => readOneOf(raw, ACTIONS, "action", fail),
  protocol: (raw, fail) => readOneOf(raw, PROTOCOLS, "protocol", fail),
  icmp_type: (raw, fail) => readIcmpValue(raw, "icmp_type", fail),
  icmp_code: (raw, fail) => readIcmpValue(raw, "icmp_code", fail),
  src_tag: (raw, fail) => parseTag(readString(raw, "src_tag", fail), fail),
  src_net: (raw, fail) => parseCidr(readString(raw, "src_net", fail), fail),
  src_ports: (raw, fail) => readPortList(raw, "src_ports", fail),
  dst_tag: (raw, fail) => parseTag(readString(raw, "dst_tag", fail), fail),
  dst_net: (raw, fail) => parseCidr(readString(raw, "dst_net", fail), fail),
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

function readPortList(raw: unknown, key: string, fail: Fail): PortSpec[] {
  if (!Array.isArray(raw) || raw.length === 0) fail(`"${key}" must be a non-empty list of ports`);
  return raw.map((item: unknown) => readPortItem(item, key, fail));
}

function readPortItem(item: unknown, key: string, fail: Fail): PortSpec {
  const range = typeof item === "string" ? PORT_RANGE_IN_JSON.exec(item) : null;
  if (range !== null) return parsePortRange(range, String(item), fail);
  if (!isIntegerInRange(item, MAX_PORT)) {
    fail(`"${key}" items must be integers 0..${MAX_PORT} or "A:B" range strings, not ${describeValue(item)}`);
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

/** The command line accepts `A:B` and `A-B`; the JSON only the stored `A:B`. */
const PORT_RANGE_IN_TEXT = /^([0-9]+)[:-]([0-9]+)$/;
const PORT_RANGE_IN_JSON = /^([0-9]+):([0-9]+)$/;

function parsePortList(text: string, fail: Fail): PortSpec[] {
  return text.split(",").map((item) => {
    if (item === "") fail(`empty item in port list ${quote(text)}`);
    return parsePortItem(item, fail);
  });
}

function parsePortItem(item: string, fail: Fail): PortSpec {
  const range = PORT_RANGE_IN_TEXT.exec(item);
  if (range !== null) return parsePortRange(range, item, fail);
  if (!/^[0-9]+$/.test(item)) fail(`${quote(item)} is not a port number or a port range`);
  return parsePortNumber(item, item, fail);
}

function parsePortRange(range: RegExpExecArray, item: string, fail: Fail): string {
  const first = parsePortNumber(range[1], item, fail);
  const last = parsePortNumber(range[2], item, fail);
  if (first >= last) fail(`port range ${quote(item)} must go from a lower to a higher port`);
  return `${first}:${last}`;
}

function parsePortNumber(digits: string, item: string, fail: Fail): number {
  if (!CANONICAL_INTEGER.test(digits)) fail(`port ${quote(item)} has a leading zero`);
  const port = Number(digits);
  if (port > MAX_PORT) fail(`port ${quote(item)} is out of range 0..${MAX_PORT}`);
  return port;
}

function parseIcmpValue(text: string, keyword: string, fail: Fail): number {
  const value = Number(text);
  if (!CANONICAL_INTEGER.test(text) || value > MAX_ICMP_VALUE) {
    fail(`icmp ${keyword} ${quote(text)} must be an integer 0..${MAX_ICMP_VALUE}`);
  }
  return value;
}

function parseTag(text: string, fail: Fail): string {
  if (!isValidTag(text)) {
    fail(`tag ${quote(text)} is not a valid calico tag (letters, digits, "_", ".", "-"; not starting with "-")`);
  }
  return text;
}

/** Returns the CIDR as calicoctl stores it: as written, a bare address with its full-length prefix. */
function parseCidr(text: string, fail: Fail): string {
  const parts = text.split("/");
  if (parts.length > 2) fail(`cidr ${quote(text)} has more than one "/"`);
  const [address, prefix] = parts;
  const version = ipVersion(address);
  if (version === undefined) fail(`cidr ${quote(text)} is not an IPv4 or IPv6 address or network`);
  const maxPrefix = version === 4 ? 32 : 128;
  if (prefix !== undefined && !(CANONICAL_INTEGER.test(prefix) && Number(prefix) <= maxPrefix)) {
    fail(`cidr ${quote(text)} has a prefix length outside 0..${maxPrefix}`);
  }
  const normalizedAddress = version === 6 ? address.toLowerCase() : address;
  return `${normalizedAddress}/${prefix ?? maxPrefix}`;
}

function ipVersion(address: string): 4 | 6 | undefined {
  if (isIPv4(address)) return 4;
  // Node accepts zone ids (`fe80::1%eth0`); a network address has none.
  if (isIPv6(address) && !address.includes("%")) return 6;
  return undefined;
}

function cidrVersion(cidr: string): 4 | 6 {
  return cidr.includes(":") ? 6 : 4;
}

// ---------------------------------------------------------------- messages

/** JSON quoting makes newlines, quotes and control characters visible in messages. */
function quote(text: string): string {
  return JSON.stringify(text);
}

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
