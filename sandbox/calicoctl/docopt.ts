// The profile command's command line as docopt 0.6.2 reads it against calico_ctl/profile.py's docstring
// (calico-containers v0.19.0). Sources: that docstring (verbatim below) and docopt/docopt 0.6.2 docopt.py (parse_argv:
// options anywhere, from "--" on every word an argument; parse_long: unique prefixes and its error messages; extras:
// -h/--help print the whole docstring and exit 0; DocoptExit: the usage on stderr, exit 1).
import { CommandExit } from "./python";

export const profileDoc = `Usage:
  calicoctl profile show [--detailed]
  calicoctl profile add <PROFILE>
  calicoctl profile remove <PROFILE> [--no-check]
  calicoctl profile <PROFILE> tag show
  calicoctl profile <PROFILE> tag (add|remove) <TAG>
  calicoctl profile <PROFILE> rule add (inbound|outbound) [--at=<POSITION>]
    (allow|deny) [(
      (tcp|udp) [(from [(ports <SRCPORTS>)] [(tag <SRCTAG>)] [(cidr <SRCCIDR>)])]
                [(to   [(ports <DSTPORTS>)] [(tag <DSTTAG>)] [(cidr <DSTCIDR>)])] |
      icmp [(type <ICMPTYPE> [(code <ICMPCODE>)])]
           [(from [(tag <SRCTAG>)] [(cidr <SRCCIDR>)])]
           [(to   [(tag <DSTTAG>)] [(cidr <DSTCIDR>)])] |
      icmpv6 [(type <ICMPTYPE> [(code <ICMPCODE>)])]
             [(from [(tag <SRCTAG>)] [(cidr <SRCCIDR>)])]
             [(to   [(tag <DSTTAG>)] [(cidr <DSTCIDR>)])] |
      [(from [(tag <SRCTAG>)] [(cidr <SRCCIDR>)])]
      [(to   [(tag <DSTTAG>)] [(cidr <DSTCIDR>)])]
    )]
  calicoctl profile <PROFILE> rule remove (inbound|outbound) (--at=<POSITION>|
    (allow|deny) [(
      (tcp|udp) [(from [(ports <SRCPORTS>)] [(tag <SRCTAG>)] [(cidr <SRCCIDR>)])]
                [(to   [(ports <DSTPORTS>)] [(tag <DSTTAG>)] [(cidr <DSTCIDR>)])] |
      icmp [(type <ICMPTYPE> [(code <ICMPCODE>)])]
           [(from [(tag <SRCTAG>)] [(cidr <SRCCIDR>)])]
           [(to   [(tag <DSTTAG>)] [(cidr <DSTCIDR>)])] |
      icmpv6 [(type <ICMPTYPE> [(code <ICMPCODE>)])]
             [(from [(tag <SRCTAG>)] [(cidr <SRCCIDR>)])]
             [(to   [(tag <DSTTAG>)] [(cidr <DSTCIDR>)])] |
      [(from [(tag <SRCTAG>)] [(cidr <SRCCIDR>)])]
      [(to   [(tag <DSTTAG>)] [(cidr <DSTCIDR>)])]
    )])
  calicoctl profile <PROFILE> rule show
  calicoctl profile <PROFILE> rule json
  calicoctl profile <PROFILE> rule update

Description:
  Modify available profiles and configure rules or tags.

Options:
  --detailed        Show additional information.
  --no-check        Remove a profile without checking if there are endpoints
                    associated with the profile.
  --at=<POSITION>   Specify the position in the chain where the rule should
                    be placed. Default: append at end.

Examples:
  Add and set up a rule to prevent all inbound traffic except pings from the 192.168/16 subnet
  $ calicoctl profile add only-local-pings
  $ calicoctl profile only-local-pings rule add inbound deny icmp
  $ calicoctl profile only-local-pings rule add inbound --at=0 allow from 192.168.0.0/16`;

/** printable_usage: from "Usage:" to the first blank line. */
const profileUsage = profileDoc.split("\n\n")[0];

/** The options section's long options, and whether each takes a value. */
const longOptions = new Map([
    ["--detailed", false],
    ["--no-check", false],
    ["--at", true],
]);

const protocols = ["tcp", "udp", "icmp", "icmpv6"];

export interface CommandLine {
    positionals: string[];
    options: Map<string, string | true>;
    help: boolean;
}

/** A rule's words by libcalico's key (`src_tag`, `dst_ports`, ...), as the command line gave them. */
export interface RuleWords {
    [key: string]: string | undefined;
}

export interface ProfileRequest {
    command: string;
    profile?: string;
    detailed?: boolean;
    noCheck?: boolean;
    tag?: string;
    direction?: string;
    at?: string;
    words?: RuleWords;
}

/** DocoptExit: its message (if any), then the usage, on stderr; exit 1. */
function usageError(message?: string) {
    return new CommandExit("", 1, `${message ? `${message}\n` : ""}${profileUsage}\n`);
}

/** parse_argv: options anywhere; after "--" every word is an argument. */
export function splitOptions(argv: string[]): CommandLine {
    const positionals: string[] = [];
    const options = new Map<string, string | true>();
    let help = false;
    let repeated = false;
    for (let i = 0; i < argv.length; i++) {
        const word = argv[i];
        if (word === "--") {
            // the "--" itself is kept as an argument too: the profile usage has no [--], so it matches nothing
            positionals.push(...argv.slice(i));
            break;
        }
        if (!word.startsWith("-") || word === "-") {
            positionals.push(word);
            continue;
        }
        if (!word.startsWith("--")) {
            // parse_shorts: the profile doc declares no short options, so each letter is an unknown option
            help ||= word.slice(1).includes("h");
            repeated = true;
            continue;
        }
        const [given, value] = splitOnce(word, "=");
        const name =
            [...longOptions.keys()].find((option) => option === given) ??
            [...longOptions.keys()].find((option) => option.startsWith(given));
        if (name === undefined) {
            help ||= given === "--help";
            repeated = true;
            continue;
        }
        if (!longOptions.get(name)) {
            if (value !== undefined) {
                throw usageError(`${name} must not have an argument`);
            }
            repeated ||= options.has(name);
            options.set(name, true);
            continue;
        }
        const optionValue = value ?? argv[++i];
        if (optionValue === undefined) {
            throw usageError(`${name} requires argument`);
        }
        repeated ||= options.has(name);
        options.set(name, optionValue);
    }
    // an unknown or repeated option matches no usage pattern
    if (repeated && !help) {
        throw usageError();
    }
    return { positionals, options, help };
}

function splitOnce(word: string, separator: string): [string, string | undefined] {
    const at = word.indexOf(separator);
    return at < 0 ? [word, undefined] : [word.slice(0, at), word.slice(at + 1)];
}

class Words {
    next: number;
    words: string[];
    constructor(words: string[]) {
        this.words = words;
        this.next = 0;
    }

    /** Consumes the next word when it is one of the keywords (a docopt command). */
    take(...keywords: string[]) {
        const word = this.words[this.next];
        if (word !== undefined && keywords.includes(word)) {
            this.next++;
            return word;
        }
        return undefined;
    }

    /** Consumes the next word, whatever it is, as docopt's <ARGUMENT> does. */
    value() {
        const word = this.words[this.next++];
        if (word === undefined) {
            throw usageError();
        }
        return word;
    }

    get done() {
        return this.next >= this.words.length;
    }
}

/**
 * The rule words after the direction, keyed as libcalico names them. Ports exist only in the tcp|udp branch and
 * type/code only in the icmp ones, so anything else is a usage error.
 */
function parseRuleWords(words: string[]): RuleWords {
    const cursor = new Words(words);
    const action = cursor.take("allow", "deny");
    if (action === undefined) {
        throw usageError();
    }
    const rule: RuleWords = { action };
    const protocol = cursor.take(...protocols);
    if (protocol !== undefined) {
        rule.protocol = protocol;
    }
    if ((protocol === "icmp" || protocol === "icmpv6") && cursor.take("type")) {
        rule.icmp_type = cursor.value();
        if (cursor.take("code")) {
            rule.icmp_code = cursor.value();
        }
    }
    const subClauses = protocol === "tcp" || protocol === "udp" ? ["ports", "tag", "cidr"] : ["tag", "cidr"];
    for (const [keyword, side] of [
        ["from", "src"],
        ["to", "dst"],
    ]) {
        if (cursor.take(keyword)) {
            for (const word of subClauses) {
                if (cursor.take(word)) {
                    rule[`${side}_${word === "cidr" ? "net" : word}`] = cursor.value();
                }
            }
        }
    }
    if (!cursor.done) {
        throw usageError();
    }
    return rule;
}

/**
 * The parsed command, or a usage error. A word like "add" is taken as a profile name when only that reading
 * matches, as docopt does.
 */
export function parseProfileCommand({ positionals, options }: CommandLine): ProfileRequest {
    const [first, second, third, fourth, ...rest] = positionals;
    const onlyOptions = (...allowed: string[]) => {
        if ([...options.keys()].some((option) => !allowed.includes(option))) {
            throw usageError();
        }
    };
    if (first === "show" && positionals.length === 1) {
        onlyOptions("--detailed");
        return { command: "show", detailed: options.has("--detailed") };
    }
    if (first === "add" && positionals.length === 2) {
        onlyOptions();
        return { command: "add", profile: second };
    }
    if (first === "remove" && positionals.length === 2) {
        onlyOptions("--no-check");
        return { command: "remove", profile: second, noCheck: options.has("--no-check") };
    }
    if (second === "tag" && third === "show" && positionals.length === 3) {
        onlyOptions();
        return { command: "tag show", profile: first };
    }
    if (second === "tag" && (third === "add" || third === "remove") && positionals.length === 4) {
        onlyOptions();
        return { command: `tag ${third}`, profile: first, tag: fourth };
    }
    if (second === "rule" && ["show", "json", "update"].includes(third) && positionals.length === 3) {
        onlyOptions();
        return { command: `rule ${third}`, profile: first };
    }
    if (
        second === "rule" &&
        (third === "add" || third === "remove") &&
        (fourth === "inbound" || fourth === "outbound")
    ) {
        onlyOptions("--at");
        const at = options.get("--at") as string | undefined;
        const ruleGiven = rest.length > 0;
        if (third === "add" ? !ruleGiven : (at === undefined) === !ruleGiven) {
            throw usageError();
        }
        const words = ruleGiven ? parseRuleWords(rest) : undefined;
        return { command: `rule ${third}`, profile: first, direction: fourth, at, words };
    }
    throw usageError();
}
