// Small recording stand-ins for docker, calicoctl and iptables, for the provider tests over a real sshd. Run through
// links named after the tool (loopbackSshd.ts compiles this file for them); state is one JSON file in $FAKE_STATE.
// Only the calls the providers make are understood; anything else fails loudly.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

interface Network {
    Name: string;
    Id: string;
    Driver: string;
    IPAM: { Driver: string; Config: { Subnet: string }[] };
    Options: Record<string, string>;
    Containers: Record<string, unknown>;
}

/** A rule as calicoctl's `rule json` prints it. */
interface Rule {
    action: string;
    [key: string]: unknown;
}

interface ProfileRules {
    inbound_rules: Rule[];
    outbound_rules: Rule[];
}

export interface State {
    networks: Record<string, Network>;
    profiles: Record<string, ProfileRules>;
    /** The nat table's rules, as `iptables -t nat -A` took them. */
    nat: string[];
    /** How many more `rule update`s get a rule of another writer's added (a test sets it). */
    intruderRules?: number;
}

const stateFile = path.join(process.env.FAKE_STATE || ".", "cluster.json");
const tool = path.basename(process.argv[1]);
const args = process.argv.slice(2);

function load(): State {
    return fs.existsSync(stateFile)
        ? (JSON.parse(fs.readFileSync(stateFile, "utf8")) as State)
        : { networks: {}, profiles: {}, nat: [] };
}

function save(state: State): void {
    fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
}

function exit(code: number, out = "", err = ""): never {
    if (out) process.stdout.write(out);
    if (err) process.stderr.write(err);
    process.exit(code);
}

function findNetwork(state: State, ref: string): Network | undefined {
    return Object.values(state.networks).find((n) => n.Name === ref || n.Id === ref);
}

function docker(): never {
    const state = load();
    const [group, verb, ...rest] = args;
    if (group !== "network") exit(2, "", `fake docker: unsupported ${args.join(" ")}\n`);
    if (verb === "inspect") {
        const network = findNetwork(state, rest[0]);
        if (!network) exit(1, "[]\n", `Error: No such network: ${rest[0]}\n`);
        exit(0, `${JSON.stringify([network], null, 4)}\n`);
    }
    if (verb === "create") {
        const name = rest[rest.length - 1];
        const subnet = (rest.find((a) => a.startsWith("--subnet=")) || "").slice("--subnet=".length);
        const driver = rest[rest.indexOf("--driver") + 1];
        const ipam = rest[rest.indexOf("--ipam-driver") + 1];
        // -o key=value: driver options, which Docker keeps with the network and inspect shows as "Options"
        const options = Object.fromEntries(
            rest.flatMap((a, i) => (a === "-o" || a === "--opt" ? [rest[i + 1].split(/=(.*)/s).slice(0, 2)] : [])),
        );
        if (findNetwork(state, name))
            exit(1, "", `Error response from daemon: network with name ${name} already exists\n`);
        const id = crypto.randomBytes(32).toString("hex");
        state.networks[id] = {
            Name: name,
            Id: id,
            Driver: driver,
            IPAM: { Driver: ipam, Config: subnet ? [{ Subnet: subnet }] : [{ Subnet: "10.65.0.0/24" }] },
            Options: options,
            Containers: {},
        };
        state.profiles[name] = {
            inbound_rules: [{ action: "allow", src_tag: name }],
            outbound_rules: [{ action: "allow" }],
        };
        save(state);
        exit(0, `${id}\n`);
    }
    if (verb === "rm") {
        const network = findNetwork(state, rest[0]);
        if (!network) exit(1, "", `Error: No such network: ${rest[0]}\n`);
        if (Object.keys(network.Containers || {}).length > 0)
            exit(1, "", `Error response from daemon: network ${network.Name} id ${network.Id} has active endpoints\n`);
        delete state.networks[network.Id];
        delete state.profiles[network.Name];
        save(state);
        exit(0, `${rest[0]}\n`);
    }
    exit(2, "", `fake docker: unsupported ${args.join(" ")}\n`);
}

function calicoctl(): never {
    const state = load();
    const [group, profile, noun, verb] = args;
    if (group !== "profile" || noun !== "rule") exit(1, "Usage: calicoctl profile <PROFILE> rule (json|update)\n");
    const rules = state.profiles[profile];
    if (!rules) exit(1, `Profile ${profile} not found.\n`);
    if (verb === "json") {
        exit(0, `${JSON.stringify({ id: profile, ...rules }, null, 2)}\n\n`);
    }
    if (verb === "update") {
        const input = JSON.parse(fs.readFileSync(0, "utf8")) as ProfileRules & { id: string };
        if (input.id !== profile) exit(1, `Rules JSON "id"=${input.id} doesn't match profile name ${profile}.\n`);
        const intruder = (state.intruderRules ?? 0) > 0 ? [{ action: "deny", src_net: "10.66.0.0/16" }] : [];
        if (intruder.length > 0) state.intruderRules = (state.intruderRules ?? 0) - 1;
        state.profiles[profile] = {
            inbound_rules: [...input.inbound_rules, ...intruder],
            outbound_rules: input.outbound_rules,
        };
        save(state);
        exit(0, `Successfully updated rules on profile ${profile}\n`);
    }
    exit(1, "Usage: calicoctl profile <PROFILE> rule (json|update)\n");
}

function iptables(): never {
    const state = load();
    if (args[0] !== "-t" || args[1] !== "nat") exit(2, "", `fake iptables: unsupported ${args.join(" ")}\n`);
    const [operation, ...rule] = args.slice(2);
    const text = rule.join(" ");
    const index = state.nat.indexOf(text);
    if (operation === "-C")
        exit(
            index >= 0 ? 0 : 1,
            "",
            index >= 0 ? "" : "iptables: Bad rule (does a matching rule exist in that chain?).\n",
        );
    if (operation === "-A") {
        state.nat.push(text);
        save(state);
        exit(0);
    }
    if (operation === "-D") {
        if (index < 0) exit(1, "", "iptables: Bad rule (does a matching rule exist in that chain?).\n");
        state.nat.splice(index, 1);
        save(state);
        exit(0);
    }
    exit(2, "", `fake iptables: unsupported ${args.join(" ")}\n`);
}

const tools: Record<string, () => never> = { docker, calicoctl, iptables };
(tools[tool] ?? (() => exit(127, "", `fake-cluster: no stand-in named ${tool}\n`)))();
