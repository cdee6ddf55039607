import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { acceptedHostKey } from "@calico-stars/providers/ssh";
import { clusterHosts, ConfigError, parseStackConfig, runbookPolicy, StarsConfig } from "../../components/config";

// @pulumi/command verifies the agents only against a full public key
const agentHostKeys = {
    "172.24.197.102": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHiG"],
    "172.24.197.103": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHiG"],
};

const minimal: Record<string, string> = {
    "calico-stars:master": JSON.stringify({ address: "172.24.197.101" }),
    "calico-stars:agents": JSON.stringify([{ address: "172.24.197.102" }, { address: "172.24.197.103" }]),
    "calico-stars:hostKeys": JSON.stringify(agentHostKeys),
};

function parse(overrides: Record<string, string | undefined> = {}, present: string[] = []): StarsConfig {
    const values = { ...minimal, ...overrides };
    return parseStackConfig((key) => values[key], present);
}

function problemWith(overrides: Record<string, string | undefined>, present: string[] = []): string {
    try {
        parse(overrides, present);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        return (err as Error).message;
    }
    assert.fail(`accepted ${JSON.stringify(overrides)}`);
}

describe("stack config", function () {
    it("fills the runbook's defaults", function () {
        const config = parse();
        assert.deepStrictEqual(
            config.networks.map((n) => n.name),
            ["management-ui", "client", "frontend", "backend"],
        );
        assert.strictEqual(config.networks[0].subnet, "192.168.0.0/16");
        assert.deepStrictEqual(config.policy, runbookPolicy);
        assert.strictEqual(config.image, "djosborne/star:v0.5.0");
        assert.strictEqual(config.sshUser, "vagrant");
        assert.strictEqual(config.master.port, 22);
        assert.strictEqual(config.publicInterface, "eth1");
        assert.strictEqual(config.collectorIp, "192.168.255.254");
        assert.strictEqual(config.mesosDnsStyle, "hyphen");
        assert.strictEqual(config.insecureSkipHostKeyVerification, false);
    });

    it("reads numbers and booleans given as text, as the CLI passes them", function () {
        const config = parse({ "calico-stars:uiPort": "9101", "calico-stars:sudo": "true" });
        assert.strictEqual(config.uiPort, 9101);
        assert.strictEqual(config.sudo, true);
    });

    it("names a missing required key", function () {
        assert.match(problemWith({ "calico-stars:master": undefined }), /calico-stars:master: /);
    });

    it("names an unknown key", function () {
        assert.match(problemWith({}, ["calico-stars:polcy"]), /calico-stars:polcy: unknown configuration key/);
    });

    it("ignores other namespaces' keys", function () {
        assert.doesNotThrow(() => parse({}, ["aws:region"]));
    });

    it("reports every problem at once", function () {
        const message = problemWith({ "calico-stars:uiPort": "70000", "calico-stars:image": "Bad Image" });
        assert.match(message, /calico-stars:uiPort: must be 1-65535/);
        assert.match(message, /calico-stars:image: must be a Docker image reference/);
    });

    it("rejects malformed structured values by key", function () {
        assert.match(problemWith({ "calico-stars:agents": "[{" }), /calico-stars:agents: is not valid JSON/);
    });

    it("rejects a rule outside calicoctl's grammar, naming profile, direction and index", function () {
        const policy = {
            ...runbookPolicy,
            frontend: { inbound: ["allow tcp from tag client to port 9001"], outbound: [] },
        };
        assert.match(
            problemWith({ "calico-stars:policy": JSON.stringify(policy) }),
            /calico-stars:policy\.frontend\.inbound\[0\]: .*ports/,
        );
    });

    it("rejects a tag that names no managed network", function () {
        const policy = { ...runbookPolicy, backend: { inbound: ["allow from tag databases"], outbound: ["allow"] } };
        assert.match(
            problemWith({ "calico-stars:policy": JSON.stringify(policy) }),
            /policy\.backend\.inbound\[0\]: tag "databases" names no managed network/,
        );
    });

    it("rejects a profile for a network that is not managed", function () {
        const policy = { ...runbookPolicy, databases: { inbound: [], outbound: ["allow"] } };
        assert.match(
            problemWith({ "calico-stars:policy": JSON.stringify(policy) }),
            /calico-stars:policy\.databases: names no managed network/,
        );
    });

    it("rejects an empty policy", function () {
        assert.match(problemWith({ "calico-stars:policy": "{}" }), /calico-stars:policy: is empty/);
    });

    it("rejects a duplicate network", function () {
        const networks = [
            { name: "management-ui", subnet: "192.168.0.0/16" },
            { name: "client" },
            { name: "client" },
            { name: "frontend" },
            { name: "backend" },
        ];
        assert.match(
            problemWith({ "calico-stars:networks": JSON.stringify(networks) }),
            /network "client" is listed more than once/,
        );
    });

    it("rejects a collector IP outside the collector network's subnet", function () {
        assert.match(
            problemWith({ "calico-stars:collectorIp": "10.0.0.5" }),
            /calico-stars:collectorIp: 10\.0\.0\.5 is outside/,
        );
    });

    it("rejects a DNAT host that is not in the cluster", function () {
        assert.match(
            problemWith({ "calico-stars:dnatHosts": JSON.stringify(["10.9.9.9"]) }),
            /calico-stars:dnatHosts\[0\]: 10\.9\.9\.9 is neither/,
        );
    });

    it("rejects an unknown field inside a host", function () {
        assert.match(
            problemWith({ "calico-stars:master": JSON.stringify({ address: "10.0.0.1", passwd: "x" }) }),
            /calico-stars:master: .*passwd/i,
        );
    });

    it("rejects a stars template whose command could run something else", function () {
        const template = JSON.parse(fs.readFileSync(`${__dirname}/../../components/stars.json`, "utf8"));
        template.probeCmd = "star-probe --urls={{urls}}; curl evil";
        assert.match(
            problemWith({ "calico-stars:starsTemplate": JSON.stringify(template) }),
            /calico-stars:starsTemplate\.probeCmd: may hold only words/,
        );
    });

    it("adopts no network and forces no deployment by default", function () {
        const config = parse();
        assert.deepStrictEqual([config.adoptNetworks, config.forceDeployments], [[], false]);
    });

    it("accepts a managed network in adoptNetworks and refuses any other name", function () {
        assert.deepStrictEqual(parse({ "calico-stars:adoptNetworks": JSON.stringify(["client"]) }).adoptNetworks, [
            "client",
        ]);
        assert.match(
            problemWith({ "calico-stars:adoptNetworks": JSON.stringify(["databases"]) }),
            /calico-stars:adoptNetworks\[0\]: "databases" names no managed network/,
        );
    });

    for (const groupId of ["apps", "versions", "team/apps", "team/versions/x"]) {
        it(`refuses the group id ${groupId}, which Marathon routes to another listing`, function () {
            assert.match(
                problemWith({ "calico-stars:groupId": groupId }),
                /calico-stars:groupId: must not contain a segment "apps" or "versions"/,
            );
        });
    }

    it("accepts a group id that only contains apps or versions inside a segment", function () {
        assert.strictEqual(parse({ "calico-stars:groupId": "team/my-apps" }).groupId, "team/my-apps");
    });

    it("refuses an agent whose only known_hosts key is @revoked, since @pulumi/command would be handed it", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-config-"));
        try {
            const knownHosts = path.join(dir, "known_hosts");
            const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHiG";
            fs.writeFileSync(knownHosts, `172.24.197.102,172.24.197.103 ${key}\n@revoked 172.24.197.103 ${key}\n`);
            const message = problemWith({
                "calico-stars:hostKeys": undefined,
                "calico-stars:knownHostsPath": knownHosts,
            });
            assert.match(
                message,
                /calico-stars:hostKeys: every key listed for 172\.24\.197\.103 \(.*known_hosts\) is marked @revoked/,
            );
            assert.ok(!message.includes("172.24.197.102"), "the other agent's key is fine");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    describe("with insecureSkipHostKeyVerification, the key @pulumi/command checks each agent against", function () {
        const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHiG";
        let dir: string;
        const insecureWith = (knownHosts: string) => {
            const file = path.join(dir, `known_hosts_${Math.random().toString(16).slice(2)}`);
            fs.writeFileSync(file, knownHosts);
            return {
                "calico-stars:hostKeys": undefined,
                "calico-stars:knownHostsPath": file,
                "calico-stars:insecureSkipHostKeyVerification": "true",
            };
        };
        const commandKeys = (config: StarsConfig) =>
            clusterHosts(config).agents.map((agent) => acceptedHostKey(config, agent));

        before(function () {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-insecure-"));
        });

        after(function () {
            fs.rmSync(dir, { recursive: true, force: true });
        });

        it("refuses, before any resource exists, an agent whose only key known_hosts revokes", function () {
            assert.match(
                problemWith(insecureWith(`172.24.197.102 ${key}\n@revoked * ${key}\n172.24.197.103 ${key}\n`)),
                /calico-stars:hostKeys: every key listed for 172\.24\.197\.102 \(.*\) is marked @revoked/,
            );
        });

        it("refuses an agent known_hosts names only in a @revoked line, since no key would be checked", function () {
            assert.match(
                problemWith(insecureWith(`@revoked 172.24.197.10? ${key}\n`)),
                /calico-stars:hostKeys: \S+ marks a key @revoked for 172\.24\.197\.102 \(line 1\), which a client given no key to check would accept/,
            );
        });

        it("still hands over the key known_hosts lists, and no key only for an agent nothing names", function () {
            const config = parse(insecureWith(`172.24.197.102 ${key}\n`));
            assert.deepStrictEqual(commandKeys(config), [{ key }, { key: undefined }]);
        });
    });

    it("takes [address]:port as a host-key key, and refuses address:port, naming the spelling to use", function () {
        const fingerprint = "SHA256:" + "A".repeat(43);
        assert.deepStrictEqual(
            parse({ "calico-stars:hostKeyFingerprints": JSON.stringify({ "[172.24.197.101]:2222": [fingerprint] }) })
                .hostKeyFingerprints,
            { "[172.24.197.101]:2222": [fingerprint] },
        );
        assert.match(
            problemWith({
                "calico-stars:hostKeyFingerprints": JSON.stringify({ "172.24.197.101:2222": [fingerprint] }),
            }),
            /calico-stars:hostKeyFingerprints\.172\.24\.197\.101:2222: write \[172\.24\.197\.101\]:2222 for a host on port 2222, as known_hosts does/,
        );
    });

    it("accepts a host key line and rejects a fingerprint in its place", function () {
        assert.doesNotThrow(() =>
            parse({
                "calico-stars:hostKeys": JSON.stringify({
                    ...agentHostKeys,
                    "172.24.197.101": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHiG"],
                }),
            }),
        );
        assert.match(
            problemWith({
                "calico-stars:hostKeys": JSON.stringify({ ...agentHostKeys, "172.24.197.101": ["SHA256:abc"] }),
            }),
            /hostKeys\.172\.24\.197\.101\[0\]: must be a public key line/,
        );
    });
});
