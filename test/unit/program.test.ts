import * as assert from "assert";
import type { MarathonGroup } from "@calico-stars/providers/marathon";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../../components/config";
import { configuredMatrix, connectivityOf } from "../../components/connectivity";
import { StarsDemo } from "../../components/starsDemo";
import { providerModuleText } from "../../components/packagedResource";
import { renderResourcesFile, renderStarsGroup, starsParameters } from "../../components/starsTemplate";
import { dynamicType, ProgramMocks, recordDependencies, settled, valueOf } from "../support/programMocks";

const stackConfig: Record<string, string> = {
    "calico-stars:master": JSON.stringify({ address: "10.1.0.11", port: 22, user: "vagrant" }),
    "calico-stars:agents": JSON.stringify([{ address: "10.1.0.12" }, { address: "10.1.0.13" }]),
    "calico-stars:insecureSkipHostKeyVerification": "true",
    "calico-stars:sshPrivateKey":
        "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----",
    "calico-stars:sshPrivateKeyPassphrase": "not-a-real-passphrase",
};

describe("the calico-stars program", function () {
    const mocks = new ProgramMocks();
    let program: typeof import("../../index");

    before(async function () {
        pulumi.runtime.setAllConfig(stackConfig, [
            "calico-stars:sshPrivateKey",
            "calico-stars:sshPrivateKeyPassphrase",
        ]);
        recordDependencies(mocks);
        await pulumi.runtime.setMocks(mocks, "calico-stars", "unit", false);
        program = await import("../../index");
        await valueOf(program.profiles);
        await settled(mocks);
    });

    const inputsOf = (name: string) => mocks.named(name).inputs;
    const groupApps = () => (inputsOf("marathon-group").group as MarathonGroup).apps;

    it("creates one Docker network per runbook network, on the calico driver's resource", function () {
        assert.deepStrictEqual(
            mocks
                .ofType(dynamicType("DockerNetwork"))
                .map((r) => [r.inputs.networkName, r.inputs.subnet])
                .sort(),
            [
                ["backend", undefined],
                ["client", undefined],
                ["frontend", undefined],
                ["management-ui", "192.168.0.0/16"],
            ],
        );
    });

    it("records the stack's owner id on every network and adopts none unless adoptNetworks names it", function () {
        assert.deepStrictEqual(
            mocks.ofType(dynamicType("DockerNetwork")).map((r) => [r.inputs.ownerId, r.inputs.adopt]),
            [
                ["0a1b2c3d", false],
                ["0a1b2c3d", false],
                ["0a1b2c3d", false],
                ["0a1b2c3d", false],
            ],
        );
    });

    it("gives the collector Marathon's kill-first upgrade strategy, so its fixed IP is free for the new task, and the probes the default", function () {
        assert.deepStrictEqual(
            groupApps().map((a) => [a.id, a.upgradeStrategy]),
            [
                ["management-ui", { minimumHealthCapacity: 0, maximumOverCapacity: 0 }],
                ["client", undefined],
                ["frontend", undefined],
                ["backend", undefined],
            ],
        );
    });

    it("sends Marathon writes without ?force=true unless forceDeployments says so", function () {
        assert.strictEqual(inputsOf("marathon-group").forceDeployments, false);
    });

    it("gives each profile the runbook's end state, with the probes' port 9000", function () {
        const rules = Object.fromEntries(
            mocks
                .ofType(dynamicType("ProfileRules"))
                .map((r) => [r.inputs.profile, { inbound: r.inputs.inbound, outbound: r.inputs.outbound }]),
        );
        assert.deepStrictEqual(rules, {
            "management-ui": { inbound: ["allow tcp to ports 9001"], outbound: ["allow"] },
            client: {
                inbound: ["allow from tag client", "allow tcp from tag management-ui to ports 9000"],
                outbound: ["allow"],
            },
            frontend: {
                inbound: [
                    "allow from tag frontend",
                    "allow tcp from tag management-ui to ports 9000",
                    "allow tcp from tag client to ports 9000",
                ],
                outbound: ["allow"],
            },
            backend: {
                inbound: [
                    "allow from tag backend",
                    "allow tcp from tag management-ui to ports 9000",
                    "allow tcp from tag frontend to ports 9000",
                ],
                outbound: ["allow"],
            },
        });
    });

    it("feeds each profile its own network's ID, so a replaced network replaces its rules", function () {
        assert.strictEqual(inputsOf("profile-frontend").networkId, "id-frontend");
    });

    it("feeds each profile the IDs of the networks its tags name, so a replaced network rewrites rules naming it", function () {
        assert.deepStrictEqual(inputsOf("profile-frontend").tagNetworkIds, {
            client: "id-client",
            frontend: "id-frontend",
            "management-ui": "id-management-ui",
        });
    });

    it("makes every profile wait for every network, since calicoctl resolves tags to network IDs", function () {
        const networkUrns = mocks.ofType(dynamicType("DockerNetwork")).map((r) => r.name);
        const deps = mocks.registrations.filter((r) => r.name === "profile-client" && r.dependencies.length > 0)[0]
            .dependencies;
        assert.deepStrictEqual(
            networkUrns.filter((name) => deps.some((urn) => urn.endsWith(`::${name}`))),
            networkUrns,
        );
    });

    it("deletes each profile's rules with its network, whose removal drops the profile anyway", function () {
        for (const profile of ["management-ui", "client", "frontend", "backend"]) {
            const deletedWith = mocks.registrations.filter(
                (r) => r.name === `profile-${profile}` && r.dependencies.length > 0,
            )[0].deletedWith;
            assert.ok(
                deletedWith.endsWith(`::network-${profile}`),
                `profile-${profile} is deleted with ${deletedWith || "nothing"}`,
            );
        }
    });

    it("launches the Marathon group only after rules, pre-pulls and resources files", function () {
        const deps = mocks.registrations
            .filter((r) => r.name === "marathon-group" && r.dependencies.length > 0)[0]
            .dependencies.map((urn) => urn.split("::").pop());
        for (const name of [
            "profile-management-ui",
            "profile-backend",
            "agent-prep-10.1.0.12",
            "agent-prep-10.1.0.13",
            "network-client",
        ]) {
            assert.ok(deps.includes(name), `stars should depend on ${name}; has ${deps.join(", ")}`);
        }
    });

    it("claims the group's path through the master, for this stack, before the agents' prep touches any agent", function () {
        assert.deepStrictEqual(
            [inputsOf("marathon-group-claim").host.address, inputsOf("marathon-group-claim").groupId],
            ["10.1.0.11", "/calico-stars"],
        );
        assert.strictEqual(inputsOf("marathon-group-claim").ownerId, "0a1b2c3d");
        for (const prep of ["agent-prep-10.1.0.12", "agent-prep-10.1.0.13"]) {
            const deps = mocks.registrations.filter((r) => r.name === prep && r.dependencies.length > 0)[0]
                .dependencies;
            assert.ok(
                deps.some((urn) => urn.endsWith("::marathon-group-claim")),
                `${prep} depends on ${deps.join(", ")}`,
            );
        }
    });

    it("puts the group on Marathon through the master with four apps on their networks", function () {
        const inputs = inputsOf("marathon-group");
        assert.strictEqual(inputs.host.address, "10.1.0.11");
        assert.deepStrictEqual(
            (inputs.group as MarathonGroup).apps.map((a) => [a.id, a.container.docker.parameters]),
            [
                [
                    "management-ui",
                    [
                        { key: "net", value: "management-ui" },
                        { key: "ip", value: "192.168.255.254" },
                    ],
                ],
                ["client", [{ key: "net", value: "client" }]],
                ["frontend", [{ key: "net", value: "frontend" }]],
                ["backend", [{ key: "net", value: "backend" }]],
            ],
        );
    });

    it("gives the group the IDs of the networks its apps join, so a replaced network takes the group down first", function () {
        assert.deepStrictEqual(inputsOf("marathon-group").networkIds, {
            backend: "id-backend",
            client: "id-client",
            frontend: "id-frontend",
            "management-ui": "id-management-ui",
        });
        const deps = mocks.registrations.filter((r) => r.name === "marathon-group" && r.dependencies.length > 0)[0]
            .dependencies;
        assert.ok(
            ["network-management-ui", "network-client"].every((name) => deps.some((urn) => urn.endsWith(`::${name}`))),
            deps.join(", "),
        );
    });

    it("labels every app with the stack's ownership id", function () {
        assert.ok(groupApps().every((a) => a.labels["calico-stars.owner"] === "0a1b2c3d"));
    });

    it("labels the collector, and only it, with a short SHA-256 of the resources file placed on the agents", function () {
        const sha256 = createHash("sha256").update(inputsOf("agent-prep-10.1.0.12").stdin).digest("hex");
        assert.deepStrictEqual(
            groupApps().map((a) => [a.id, a.labels["calico-stars.resources-sha256"]]),
            [
                ["management-ui", sha256.slice(0, 16)],
                ["client", undefined],
                ["frontend", undefined],
                ["backend", undefined],
            ],
        );
    });

    it("changes the collector's label, so Marathon restarts it, when the resources file changes (a new Mesos-DNS domain)", function () {
        const collectorOf = (domain: string) => {
            const parameters = starsParameters(
                parseStackConfig((key) => (key === "calico-stars:mesosDnsDomain" ? domain : stackConfig[key])),
                "0a1b2c3d",
            );
            const collector = renderStarsGroup(parameters).apps.find((app) => app.id === "management-ui")!;
            return { label: collector.labels["calico-stars.resources-sha256"], file: renderResourcesFile(parameters) };
        };
        const [before, after] = [collectorOf("marathon.mesos"), collectorOf("mesos.example")];
        assert.notStrictEqual(after.file, before.file);
        assert.notStrictEqual(after.label, before.label);
        assert.strictEqual(after.label, createHash("sha256").update(after.file).digest("hex").slice(0, 16));
    });

    it("gives the probes hyphenated Mesos-DNS names and the collector a resources file with the very same URLs", function () {
        const client = groupApps().find((a) => a.id === "client")!;
        assert.strictEqual(
            client.cmd,
            "/star/target/debug/star-probe --http-port=9000 --urls=http://frontend-calico-stars.marathon.mesos:9000/status,http://backend-calico-stars.marathon.mesos:9000/status",
        );
        assert.deepStrictEqual(JSON.parse(inputsOf("agent-prep-10.1.0.12").stdin), [
            { id: "C", url: "http://client-calico-stars.marathon.mesos:9000/status" },
            { id: "F", url: "http://frontend-calico-stars.marathon.mesos:9000/status" },
            { id: "B", url: "http://backend-calico-stars.marathon.mesos:9000/status" },
        ]);
    });

    it("points the collector's uris at the file placed on the agents", function () {
        const collector = groupApps().find((a) => a.id === "management-ui")!;
        assert.deepStrictEqual(collector.uris, [
            "file:///var/tmp/calico-stars/calico-stars/calico-stars-resources.json",
        ]);
        assert.match(
            inputsOf("agent-prep-10.1.0.13").create,
            / calico-stars-resources \/var\/tmp\/calico-stars calico-stars calico-stars-resources\.json 0a1b2c3d$/,
        );
    });

    it("pre-pulls the image on each agent only when it is missing, then writes the resources file, in one command", function () {
        const prePull =
            "docker inspect --type=image djosborne/star:v0.5.0 >/dev/null 2>&1 || docker pull djosborne/star:v0.5.0";
        const removal =
            / calico-stars-resources \/var\/tmp\/calico-stars\/calico-stars calico-stars-resources\.json 0a1b2c3d$/;
        assert.deepStrictEqual(
            mocks
                .ofType("command:remote:Command")
                .map((r) => [
                    r.name,
                    r.inputs.create.startsWith(`${prePull} && sh -c 'set -e\n`),
                    r.inputs.delete.startsWith("sh -c '") && removal.test(r.inputs.delete),
                ]),
            [
                ["agent-prep-10.1.0.12", true, true],
                ["agent-prep-10.1.0.13", true, true],
            ],
        );
    });

    it("bounds each agent's prep with customTimeouts: the command's timeout plus every connection attempt", function () {
        const timeouts = mocks.registrations.filter(
            (r) => r.name === "agent-prep-10.1.0.12" && r.customTimeouts !== undefined,
        )[0].customTimeouts;
        assert.deepStrictEqual(timeouts, { create: "105s", update: "105s", delete: "105s" });
    });

    it("forwards the UI port on the master only, to the collector", function () {
        assert.deepStrictEqual(
            mocks
                .ofType(dynamicType("IptablesDnat"))
                .map((r) => [
                    r.inputs.host.address,
                    r.inputs.publicInterface,
                    r.inputs.publicPort,
                    r.inputs.targetIp,
                    r.inputs.targetPort,
                    r.inputs.ownerId,
                ]),
            [["10.1.0.11", "eth1", 9001, "192.168.255.254", 9001, "0a1b2c3d"]],
        );
    });

    it("keeps the SSH key out of every dynamic resource's inputs", function () {
        for (const r of mocks.registrations.filter(
            (reg) => reg.type.startsWith("pulumi-nodejs:dynamic") && reg.inputs,
        )) {
            assert.ok(!JSON.stringify(r.inputs).includes("not-a-real-key"), `${r.name} carries the key`);
        }
    });

    it("gives the key and its passphrase to @pulumi/command only inside a secret", function () {
        const connection = inputsOf("agent-prep-10.1.0.12").connection;
        assert.strictEqual(connection["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
        assert.strictEqual(connection.value.privateKey, stackConfig["calico-stars:sshPrivateKey"]);
        assert.strictEqual(connection.value.privateKeyPassword, stackConfig["calico-stars:sshPrivateKeyPassphrase"]);
    });

    it("keeps the passphrase out of every dynamic resource's inputs", function () {
        for (const r of mocks.registrations.filter(
            (reg) => reg.type.startsWith("pulumi-nodejs:dynamic") && reg.inputs,
        )) {
            assert.ok(!JSON.stringify(r.inputs).includes("not-a-real-passphrase"), `${r.name} carries the passphrase`);
        }
    });

    it("stores each dynamic resource's provider as one line that requires @calico-stars/providers by name, which test/unit/providers.test.ts revives", function () {
        for (const type of ["DockerNetwork", "ProfileRules", "IptablesDnat", "MarathonGroup"] as const) {
            assert.deepStrictEqual(
                [...new Set(mocks.ofType(dynamicType(type)).map((r) => r.inputs.__provider))],
                [`exports.handler = () => require("@calico-stars/providers").providers.${type};\n`],
                type,
            );
            assert.strictEqual(providerModuleText(type), mocks.ofType(dynamicType(type))[0].inputs.__provider);
        }
    });

    it("registers exactly the expected resources", function () {
        const counts: Record<string, number> = {};
        for (const r of mocks.registrations.filter((reg) => reg.inputs !== undefined)) {
            counts[r.type] = (counts[r.type] ?? 0) + 1;
        }
        assert.deepStrictEqual(counts, {
            "calico-stars:index:StarsDemo": 1,
            "random:index/randomId:RandomId": 1,
            [dynamicType("DockerNetwork")]: 4,
            [dynamicType("ProfileRules")]: 4,
            "command:remote:Command": 2,
            [dynamicType("MarathonGroupClaim")]: 1,
            [dynamicType("MarathonGroup")]: 1,
            [dynamicType("IptablesDnat")]: 1,
        });
    });

    it("exports the UI URL, network IDs and each profile's rules", async function () {
        assert.strictEqual(await valueOf(program.uiUrl), "http://10.1.0.11:9001");
        assert.deepStrictEqual(await valueOf(program.networkIds), {
            "management-ui": "id-management-ui",
            client: "id-client",
            frontend: "id-frontend",
            backend: "id-backend",
        });
        assert.deepStrictEqual((await valueOf(program.profiles))["management-ui"], {
            inbound: ["allow tcp to ports 9001"],
            outbound: ["allow"],
        });
    });

    it("exports every edge of the demo as connectivity, computed from the config alone", async function () {
        const connectivity = await valueOf(program.connectivity);
        assert.deepStrictEqual(
            connectivity,
            connectivityOf(configuredMatrix(parseStackConfig((key) => stackConfig[key]))),
        );
        assert.strictEqual(
            connectivity["client -> frontend:9000"],
            'allowed by client outbound rule 1 "allow" and frontend inbound rule 3 "allow tcp from tag client to ports 9000"',
        );
    });

    describe("with verifyPolicy on", function () {
        const config = parseStackConfig((key) => (key === "calico-stars:verifyPolicy" ? "true" : stackConfig[key]));
        let demo: StarsDemo;

        before(async function () {
            demo = new StarsDemo("stars-checked", { config });
            await valueOf(demo.profiles);
            await settled(mocks);
        });

        it("exports the same connectivity, which is the matrix the check holds the collector to", async function () {
            const connectivity = await valueOf(demo.connectivity);
            assert.deepStrictEqual(connectivity, await valueOf(program.connectivity));
            const check = mocks.ofType(dynamicType("VerifyPolicy"));
            assert.strictEqual(check.length, 1);
            assert.deepStrictEqual(connectivityOf(check[0].inputs.declared), connectivity);
        });
    });
});
