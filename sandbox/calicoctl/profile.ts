// The profile command of calicoctl v0.19.0. Source: calico-containers v0.19.0 calicoctl/calico_ctl/profile.py
// (validate_arguments, profile, profile_add, profile_remove, profile_show, profile_tag_show/add/remove,
// profile_rule_show, profile_rule_update, profile_rule_add_remove, parse_ports). All its messages go to stdout.
import * as fs from "node:fs";
import type { Datastore, Docker } from "./datastore";
import type { ProfileRequest, RuleWords } from "./docopt";
import {
    allowedKeys,
    Rule,
    Rules,
    validatePorts,
    validCharacters,
    validCidr,
    validCidrVersions,
    validIcmp,
} from "./libcalico";
import { NetworkMappedProfile } from "./networkMappedProfile";
import { CommandExit, intOf, paragraph, PythonException, pythonInt, pythonStr } from "./python";
import { PythonDict } from "./pythonDict";

/**
 * profile_rule_add_remove's parameters in its co_varnames order. The rule is built from
 * `{k: v for (k, v) in locals().iteritems() if k in Rule.ALLOWED_KEYS and v is not None}`, and locals() is a
 * fresh dict into which CPython 2.7's PyFrame_FastToLocals (Objects/frameobject.c map_to_dict) inserts the
 * variables last to first: that fixes the order in which the rule's keys are first set.
 */
const addRemoveParameters = [
    "operation",
    "name",
    "position",
    "action",
    "direction",
    "protocol",
    "icmp_type",
    "icmp_code",
    "src_net",
    "src_tag",
    "src_ports",
    "dst_net",
    "dst_tag",
    "dst_ports",
];
const localsOrder = PythonDict.fromEntries([...addRemoveParameters].reverse().map((key) => [key, true])).keys();

function failure(message: string): CommandExit {
    return new CommandExit(`${message}\n`, 1);
}

function profileNotFound(name: string): CommandExit {
    return failure(`Profile ${name} not found.`);
}

/**
 * validate_arguments: every check runs (in this order), then every failed one prints its message and the command
 * exits 1. v0.19.0 passes the ports word itself to libcalico's validate_ports, which walks it a character at a
 * time: a comma or dash fails, and the colon of a range makes int('') raise.
 */
function validateArguments({ profile, words = {} }: ProfileRequest): void {
    const profileOk = profile === undefined || validCharacters(profile);
    const tagsOk = [words.src_tag, words.dst_tag].every((tag) => tag === undefined || validCharacters(tag));
    const cidrs = [words.src_net, words.dst_net].filter((cidr) => cidr !== undefined);
    const cidrOk = cidrs.every(validCidr);
    const icmpOk = [words.icmp_code, words.icmp_type].every((value) => value === undefined || validIcmp(value));
    const portsOk = [words.src_ports, words.dst_ports].every((ports) => ports === undefined || validatePorts(ports));
    const version = words.protocol === "icmp" ? 4 : words.protocol === "icmpv6" ? 6 : undefined;
    const versionsOk = cidrs.length === 0 || validCidrVersions(cidrs, version);
    const messages = [
        profileOk
            ? ""
            : paragraph(
                  "Profile names must be < 40 character long and can only contain numbers, letters, dots, dashes and underscores.",
              ),
        tagsOk ? "" : paragraph("Tags names can only contain numbers, letters, dots, dashes and underscores."),
        cidrOk ? "" : "Invalid CIDR specified.\n",
        icmpOk ? "" : "Invalid ICMP type or ICMP code specified.\n",
        portsOk ? "" : "Invalid SRCPORTS or DSTPORTS specified.\n",
        versionsOk ? "" : "Invalid or unmatching IP versions for SRCCIDR/DSTCIDR.\n",
    ].join("");
    if (messages !== "") {
        throw new CommandExit(messages, 1);
    }
}

/**
 * parse_ports: single ports as ints, ranges as "a:b". Its out-of-range message names `min`, a local variable
 * not yet assigned when no range came first, so Python raises UnboundLocalError instead.
 */
function parsePorts(text: string | undefined): (number | string)[] | undefined {
    if (text === undefined) {
        return undefined;
    }
    if (!/^(\d+([:-]\d+)?)(,\d+([:-]\d+)?)*$/.test(text)) {
        throw new CommandExit(
            paragraph(`Ports: '${text}' are invalid; expecting a comma-separated list of ports and port ranges.`),
            1,
        );
    }
    let lastMin: number | undefined;
    return text.split(",").map((item) => {
        const range = /^(\d+)[:-](\d+)$/.exec(item);
        if (range) {
            const [min, max] = [Number(range[1]), Number(range[2])];
            lastMin = min;
            if (min > max) throw failure(`Port range minimum (${min}) > maximum (${max}).`);
            if (min > 65535) throw failure(`Port minimum (${min}) out-of-range.`);
            if (max > 65535) throw failure(`Port maximum (${max}) out-of-range.`);
            return `${min}:${max}`;
        }
        const port = Number(item);
        if (port > 65535) {
            if (lastMin === undefined) {
                throw new PythonException("UnboundLocalError", "local variable 'min' referenced before assignment");
            }
            throw failure(`Port (${lastMin}) out-of-range.`);
        }
        return port;
    });
}

/** The Rule profile_rule_add_remove builds: Rule(**rule_dict), rule_dict filled in locals() order. */
function ruleFromWords(words: RuleWords): Rule {
    const values: { [key: string]: unknown } = {
        ...words,
        icmp_type: words.icmp_type === undefined ? undefined : intOf(words.icmp_type),
        icmp_code: words.icmp_code === undefined ? undefined : intOf(words.icmp_code),
        src_ports: parsePorts(words.src_ports),
        dst_ports: parsePorts(words.dst_ports),
    };
    const ruleDict = PythonDict.fromEntries(
        localsOrder
            .filter((key) => allowedKeys.includes(key) && values[key] !== undefined)
            .map((key) => [key, values[key]]),
    );
    const protocol = words.protocol;
    if (
        protocol !== "tcp" &&
        protocol !== "udp" &&
        (values.src_ports !== undefined || values.dst_ports !== undefined)
    ) {
        throw failure(`Ports are not valid with protocol ${protocol === undefined ? "None" : `'${protocol}'`}`);
    }
    return Rule.fromKwargs(ruleDict);
}

export class ProfileCommands {
    /** What the command has printed so far: Python prints as it goes, so an exception comes after it. */
    printed = "";

    constructor(
        private readonly datastore: Datastore,
        private readonly docker: Docker,
        private readonly readStdin: () => string,
    ) {}

    print(text: string) {
        this.printed += text;
    }

    /** NetworkMappedProfile(name), where a KeyError means "Profile <P> not found." and exit 1. */
    async load(name: string) {
        try {
            return await NetworkMappedProfile.load(this.datastore, this.docker, name);
        } catch (error) {
            if (error instanceof PythonException && error.type === "KeyError") {
                throw profileNotFound(name);
            }
            throw error;
        }
    }

    run(request: ProfileRequest): Promise<void> {
        validateArguments(request);
        const name = request.profile as string;
        switch (request.command) {
            case "show":
                return this.show(Boolean(request.detailed));
            case "add":
                return this.add(name);
            case "remove":
                return this.remove(name, Boolean(request.noCheck));
            case "tag show":
                return this.tagShow(name);
            case "tag add":
                return this.tagAdd(name, request.tag as string);
            case "tag remove":
                return this.tagRemove(name, request.tag as string);
            case "rule show":
                return this.ruleShow(name);
            case "rule json":
                return this.ruleJson(name);
            case "rule update":
                return this.ruleUpdate(name);
            default:
                return this.ruleAddRemove(request);
        }
    }

    async add(name: string) {
        if (await this.datastore.profileExists(name)) {
            this.print(`Profile ${name} already exists.\n`);
            return;
        }
        await this.datastore.createProfile(name);
        this.print(`Created profile ${name}\n`);
    }

    /**
     * Only the name as given: profile_remove does not map network names. It prints, and exits 0, when the profile
     * is missing or in use.
     */
    async remove(name: string, noCheck: boolean) {
        if (!(await this.datastore.profileExists(name))) {
            this.print(`Profile ${name} not found.\n`);
        } else if (!noCheck && (await this.datastore.members(name)).length > 0) {
            this.print(
                "Cannot remove profile - profile in use by endpoint(s).\nUse the '--no-check' flag to remove the profile anyway.\n",
            );
        } else {
            await this.datastore.removeProfile(name);
            this.print(`Deleted profile ${name}\n`);
        }
    }

    /** PrettyTable(...).get_string(sortby="Name"), prettytable 0.7.2's defaults. */
    async show(detailed: boolean) {
        const names = await this.datastore.profileNames();
        if (!detailed) {
            this.print(
                prettyTable(
                    ["Name"],
                    names.map((name) => [name]),
                ) + "\n",
            );
            return;
        }
        const endpoints = await this.datastore.endpoints();
        const rows = names.flatMap((name) => {
            const members = endpoints.filter((endpoint) => endpoint.profileIds.includes(name));
            return members.length === 0
                ? [[name, "None", "None", "None", "None", "None"]]
                : members.map((m) => [name, m.hostname, m.orchestratorId, m.workloadId, m.endpointId, m.state]);
        });
        this.print(
            prettyTable(["Name", "Host", "Orchestrator ID", "Workload ID", "Endpoint ID", "State"], rows) + "\n",
        );
    }

    async tagShow(name: string) {
        const { profile } = await this.load(name);
        this.print(
            profile.tags
                .keys()
                .map((tag) => `${tag}\n`)
                .join(""),
        );
    }

    async tagAdd(name: string, tag: string) {
        const mapped = await this.load(name);
        mapped.profile.tags.set(tag, true);
        await mapped.updateTags();
        this.print(`Tag ${tag} added to profile ${name}\n`);
    }

    async tagRemove(name: string, tag: string) {
        const mapped = await this.load(name);
        if (!mapped.profile.tags.has(tag)) {
            throw failure(`Tag ${tag} is not on profile ${name}`);
        }
        mapped.profile.tags = PythonDict.fromEntries(mapped.profile.tags.entries().filter(([key]) => key !== tag));
        await mapped.updateTags();
        this.print(`Tag ${tag} removed from profile ${name}\n`);
    }

    /** Each line is `" %3d %s" % (i, rule.pprint())`; a rule pprint cannot print ends the command there. */
    async ruleShow(name: string) {
        const { profile } = await this.load(name);
        const section = (title: string, rules: Rule[]) => {
            this.print(`${title}\n`);
            rules.forEach((rule, i) => this.print(` ${String(i + 1).padStart(3)} ${rule.pprint()}\n`));
        };
        section("Inbound rules:", profile.rules.inbound);
        section("Outbound rules:", profile.rules.outbound);
    }

    /** `print rules.to_json(indent=2)` then `print ""`. */
    async ruleJson(name: string) {
        const { profile } = await this.load(name);
        this.print(`${profile.rules.toJson(2)}\n\n`);
    }

    /** The id must equal the name as typed (v0.17-v0.20); it is checked before any mapping to a network ID. */
    async ruleUpdate(name: string) {
        const mapped = await this.load(name);
        const rules = Rules.fromJson(this.readStdin());
        if (rules.id !== name) {
            throw failure(`Rules JSON "id"=${pythonStr(rules.id)} doesn't match profile name ${name}.`);
        }
        mapped.profile.rules = rules;
        await mapped.updateRules();
        this.print(`Successfully updated rules on profile ${name}\n`);
    }

    /**
     * profile_rule_add_remove. Positions are 1-based; an out-of-range --at still inserts, with Python's
     * list.insert(position - 1) semantics (so past the end appends).
     */
    async ruleAddRemove({ command, profile: name, direction, at, words }: ProfileRequest) {
        const position = at === undefined ? undefined : pythonInt(at);
        if (at !== undefined && position === undefined) {
            throw new CommandExit("", 1);
        }
        const rule = words === undefined ? undefined : ruleFromWords(words);
        const mapped = await this.load(name as string);
        const rules = direction === "inbound" ? mapped.profile.rules.inbound : mapped.profile.rules.outbound;
        if (command === "rule add") {
            const target = position ?? rules.length + 1;
            if (!(target > 0 && target <= rules.length + 1)) {
                this.print(`Position ${target} is out-of-range.\n`);
            }
            if (rules.some((existing) => existing.equals(rule as Rule))) {
                this.print("Rule already present, skipping.\n");
                return;
            }
            rules.splice(pythonInsertIndex(target - 1, rules.length), 0, rule as Rule);
        } else if (position !== undefined) {
            if (!(position > 0 && position <= rules.length)) {
                this.print("Rule position out-of-range.\n");
            } else {
                rules.splice(position - 1, 1);
            }
        } else {
            const index = rules.findIndex((existing) => existing.equals(rule as Rule));
            if (index < 0) {
                throw failure("Rule not found.");
            }
            rules.splice(index, 1);
        }
        await mapped.updateRules();
    }
}

function pythonInsertIndex(index: number, length: number) {
    return index < 0 ? Math.max(index + length, 0) : Math.min(index, length);
}

function prettyTable(headers: string[], rows: string[][]) {
    const sorted = [...rows].sort(compareRows);
    const widths = headers.map((header, i) => Math.max(header.length, ...sorted.map((row) => row[i].length)));
    const rule = "+" + widths.map((width) => "-".repeat(width + 2)).join("+") + "+";
    const line = (cells: string[]) => "|" + cells.map((cell, i) => ` ${centre(cell, widths[i])} `).join("|") + "|";
    return [rule, line(headers), rule, ...sorted.map(line), rule].join("\n");
}

function compareRows(a: string[], b: string[]) {
    for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
}

/** prettytable's centring, which matches str.center(). */
function centre(text: string, width: number) {
    const excess = width - text.length;
    const half = Math.floor(excess / 2);
    if (excess % 2 === 0) {
        return " ".repeat(half) + text + " ".repeat(half);
    }
    return text.length % 2 === 1
        ? " ".repeat(half) + text + " ".repeat(half + 1)
        : " ".repeat(half + 1) + text + " ".repeat(half);
}

/** The rules JSON `rule update` reads: all of stdin. */
export function readStdin() {
    return fs.readFileSync(0, "utf8");
}
