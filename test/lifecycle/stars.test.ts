// The program's whole lifecycle on the sandbox cluster: up, no-op up, a policy change previewed then applied,
// refresh after a hand edit, destroy. Run by the test engine (through the real dynamic provider host), and by the
// Pulumi CLI through the Automation API where one is installed: the same assertions for both.
import type { MarathonGroup } from "@calico-stars/providers/marathon";
import type { DeployedResource } from "@calico-stars/providers/verify";
import * as assert from "assert";
import { runbookPolicy } from "../../components/config";
import { managedResources, StackRun } from "../../engine";
import { oneRuleChange, profiles, SandboxStack, sshHostOf } from "../../scripts/sandboxStack";
import { driverTitle, lifecycleDrivers, startStackOrSkip } from "../support/sandboxStack";
import { waitFor } from "../support/workload";
import { configuredMatrix, connectivityOf } from "../../components/connectivity";
import { stackConfig } from "../support/verifyFixtures";

/**
 * The runbook's `rule show` after step 1 (libnetwork's defaults), and after step 5 with `ports` for its `port` slip.
 */
const runbookDefaults = (profile: string) =>
    `Inbound rules:\n   1 allow from tag ${profile}\nOutbound rules:\n   1 allow\n`;
const runbookSteps: { command: string[]; profile: string; ruleShow: string }[] = [
    {
        command: ["management-ui", "rule", "remove", "inbound", "allow", "from", "tag", "management-ui"],
        profile: "management-ui",
        ruleShow: "Inbound rules:\nOutbound rules:\n   1 allow\n",
    },
    {
        command: ["management-ui", "rule", "add", "inbound", "allow", "tcp", "to", "ports", "9001"],
        profile: "management-ui",
        ruleShow: "Inbound rules:\n   1 allow tcp to ports 9001\nOutbound rules:\n   1 allow\n",
    },
    {
        command: [
            "client",
            "rule",
            "add",
            "inbound",
            "allow",
            "tcp",
            "from",
            "tag",
            "management-ui",
            "to",
            "ports",
            "9000",
        ],
        profile: "client",
        ruleShow:
            "Inbound rules:\n   1 allow from tag client\n   2 allow tcp from tag management-ui to ports 9000\nOutbound rules:\n   1 allow\n",
    },
    {
        command: [
            "backend",
            "rule",
            "add",
            "inbound",
            "allow",
            "tcp",
            "from",
            "tag",
            "management-ui",
            "to",
            "ports",
            "9000",
        ],
        profile: "backend",
        ruleShow:
            "Inbound rules:\n   1 allow from tag backend\n   2 allow tcp from tag management-ui to ports 9000\nOutbound rules:\n   1 allow\n",
    },
    {
        command: [
            "frontend",
            "rule",
            "add",
            "inbound",
            "allow",
            "tcp",
            "from",
            "tag",
            "management-ui",
            "to",
            "ports",
            "9000",
        ],
        profile: "frontend",
        ruleShow:
            "Inbound rules:\n   1 allow from tag frontend\n   2 allow tcp from tag management-ui to ports 9000\nOutbound rules:\n   1 allow\n",
    },
    {
        command: ["frontend", "rule", "add", "inbound", "allow", "tcp", "from", "tag", "client", "to", "ports", "9000"],
        profile: "frontend",
        ruleShow:
            "Inbound rules:\n   1 allow from tag frontend\n   2 allow tcp from tag management-ui to ports 9000\n   3 allow tcp from tag client to ports 9000\nOutbound rules:\n   1 allow\n",
    },
    {
        command: [
            "backend",
            "rule",
            "add",
            "inbound",
            "allow",
            "tcp",
            "from",
            "tag",
            "frontend",
            "to",
            "ports",
            "9000",
        ],
        profile: "backend",
        ruleShow:
            "Inbound rules:\n   1 allow from tag backend\n   2 allow tcp from tag management-ui to ports 9000\n   3 allow tcp from tag frontend to ports 9000\nOutbound rules:\n   1 allow\n",
    },
];
for (const kind of lifecycleDrivers)
    describe(`the program's lifecycle on the sandbox cluster, run by ${driverTitle(kind)}`, function () {
        this.timeout(180000);
        let stack: SandboxStack;
        const auditCounts: Record<string, number> = {};
        const runbookEndState: Record<string, string> = {};
        let emptyCluster: Record<string, string>;

        const counting = async (label: string, run: () => Promise<StackRun>): Promise<StackRun> => {
            const before = stack.auditLines();
            const result = await run();
            auditCounts[label] = stack.auditLines() - before;
            return result;
        };
        const on = (...args: Parameters<SandboxStack["on"]>) => stack.on(...args);
        const ruleShow = (profile: string) => stack.ruleShow(profile);
        /**
         * What the cluster holds that the program manages: networks, profiles in etcd, DNAT rules, the group, resources
         * files.
         */
        const snapshot = async (): Promise<Record<string, string>> => ({
            networks: (await stack.networks()).join("\n"),
            profiles: await on(stack.master, ["calicoctl", "profile", "show"]),
            nat: (await stack.natRules()).join("\n"),
            group: String((await stack.marathon("GET", "/v2/groups/calico-stars")).status),
            resourcesFiles: await on(stack.agent, [
                "sh",
                "-c",
                "ls /var/tmp/calico-stars/calico-stars 2>/dev/null || true",
            ]),
        });

        before(async function () {
            stack = await startStackOrSkip(this, kind);
        });

        after(async function () {
            await stack?.close();
        });

        it("the sandbox follows the runbook step by step, each rule show as the runbook prints it", async function () {
            emptyCluster = await snapshot();
            for (const profile of profiles) {
                await on(stack.agent, [
                    "docker",
                    "network",
                    "create",
                    "--driver",
                    "calico",
                    "--ipam-driver",
                    "calico",
                    ...(profile === "management-ui" ? ["--subnet=192.168.0.0/16"] : []),
                    profile,
                ]);
                assert.strictEqual(await ruleShow(profile), runbookDefaults(profile));
            }
            for (const step of runbookSteps) {
                await on(stack.agent, ["calicoctl", "profile", ...step.command]);
                assert.strictEqual(
                    await ruleShow(step.profile),
                    step.ruleShow,
                    `after calicoctl profile ${step.command.join(" ")}`,
                );
            }
            // every profile is read before any network goes: a tag naming a removed network shows as its ID
            for (const profile of profiles) {
                runbookEndState[profile] = await ruleShow(profile);
            }
            for (const profile of profiles) {
                await on(stack.agent, ["docker", "network", "rm", profile]);
            }
            assert.deepStrictEqual(await snapshot(), emptyCluster);
        });

        it("up from empty builds what the runbook builds", async function () {
            const result = await counting("up", () => stack.driver.up());
            assert.ok(
                result.steps.every((s) => s.op === "create"),
                JSON.stringify(result.steps.filter((s) => s.op !== "create")),
            );
            assert.deepStrictEqual(await stack.networks(), [...profiles].sort());
            for (const profile of profiles) {
                assert.strictEqual(await ruleShow(profile), runbookEndState[profile], `rule show ${profile}`);
            }
            const owner =
                result.outputs.profiles && (await stack.natRules()).join("\n").match(/calico-stars:([0-9a-f]{8})/)?.[1];
            assert.ok(owner, "the DNAT rules carry the ownership comment");
            assert.deepStrictEqual(await stack.natRules(), [
                `-A OUTPUT -o lo -p tcp -m tcp --dport 9001 -m comment --comment "calico-stars:${owner}" -j DNAT --to-destination 192.168.255.254:9001`,
                `-A POSTROUTING -d 192.168.255.254/32 -p tcp -m tcp --dport 9001 -m conntrack --ctstate DNAT -m comment --comment "calico-stars:${owner}" -j MASQUERADE`,
                `-A PREROUTING -i eth1 -p tcp -m tcp --dport 9001 -m comment --comment "calico-stars:${owner}" -j DNAT --to-destination 192.168.255.254:9001`,
            ]);
            const group = JSON.parse((await stack.marathon("GET", "/v2/groups/calico-stars")).body) as MarathonGroup;
            assert.deepStrictEqual(group.apps.map((a) => a.id).sort(), [
                "/calico-stars/backend",
                "/calico-stars/client",
                "/calico-stars/frontend",
                "/calico-stars/management-ui",
            ]);
            assert.deepStrictEqual(
                JSON.parse(
                    await on(stack.agent, ["cat", "/var/tmp/calico-stars/calico-stars/calico-stars-resources.json"]),
                ).map((r: DeployedResource) => r.id),
                ["C", "F", "B"],
            );
            assert.strictEqual(result.outputs.uiUrl, `http://${stack.cluster.master.address}:9001`);
            assert.deepStrictEqual(result.outputs.profiles["frontend"].inbound, runbookPolicy.frontend.inbound);
            assert.deepStrictEqual(result.outputs.connectivity, connectivityOf(configuredMatrix(stackConfig())));
            await stack.assertConverged();
        });

        it("a second up with no change does nothing: no write, and no remote command at all", async function () {
            const result = await counting("no-op up", () => stack.driver.up());
            assert.deepStrictEqual(
                result.steps.filter((s) => s.op !== "same"),
                [],
            );
            assert.strictEqual(auditCounts["no-op up"], 0);
        });

        it("the runbook stack's exported state stays under 100 KB, each dynamic resource's provider one line", async function () {
            const state = await stack.driver.exportStack();
            // indented as `pulumi stack export` prints it
            const bytes = Buffer.byteLength(JSON.stringify(state, null, 4), "utf8");
            assert.ok(bytes < 100_000, `the exported state is ${bytes} bytes`);
            const providerTexts = state.deployment.resources
                .flatMap((r) => [r.inputs?.__provider, r.outputs?.__provider])
                .filter((text) => text !== undefined);
            assert.ok(providerTexts.length >= 2 * 8, `only ${providerTexts.length} stored providers`);
            for (const text of providerTexts) {
                assert.match(
                    String(text),
                    /^exports\.handler = \(\) => require\("@calico-stars\/providers"\)\.providers\.\w+;\n$/,
                );
            }
        });

        it("previews a policy change as exactly the changed profile and rules, writing nothing", async function () {
            await stack.driver.setConfig("calico-stars:policy", JSON.stringify(oneRuleChange));
            const before = await ruleShow("backend");
            const result = await counting("preview", () => stack.driver.preview());
            // the new rule names the client network instead of frontend: its ID joins the inputs in frontend's place
            assert.deepStrictEqual(
                result.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name, s.diffKeys]),
                [["update", "profile-backend", ["inbound", "tagNetworkIds"]]],
            );
            assert.strictEqual(auditCounts["preview"], 0);
            assert.strictEqual(await ruleShow("backend"), before);
        });

        it("applies the policy change on up", async function () {
            const result = await counting("policy up", () => stack.driver.up());
            assert.deepStrictEqual(
                result.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name]),
                [["update", "profile-backend"]],
            );
            assert.strictEqual(
                await ruleShow("backend"),
                "Inbound rules:\n   1 allow from tag backend\n   2 allow tcp from tag management-ui to ports 9000\n   3 allow tcp from tag client to ports 9000\nOutbound rules:\n   1 allow\n",
            );
        });

        it("a new Mesos-DNS domain rewrites the resources file on every agent and the group's probe URLs, and restarts the collector, which lists the new URLs", async function () {
            /**
             * The collector's /resources through the master's DNAT (the OUTPUT rule), as demo.test.ts looks at the UI.
             */
            const collectorUrls = async () =>
                JSON.parse(
                    await on(stack.master, [
                        "busybox",
                        "timeout",
                        "3",
                        "busybox",
                        "wget",
                        "-q",
                        "-O",
                        "-",
                        `http://${stack.cluster.master.address}:9001/resources`,
                    ]),
                ).resources.map((r: DeployedResource) => r.url);
            const urls = (domain: string) =>
                ["client", "frontend", "backend"].map((app) => `http://${app}-calico-stars.${domain}:9000/status`);
            assert.deepStrictEqual(await collectorUrls(), urls("marathon.mesos"));
            await stack.driver.setConfig("calico-stars:mesosDnsDomain", "mesos.example");
            await stack.driver.up();
            for (const agent of stack.cluster.agents) {
                const file = await stack.on(sshHostOf(agent), [
                    "cat",
                    "/var/tmp/calico-stars/calico-stars/calico-stars-resources.json",
                ]);
                assert.deepStrictEqual(
                    JSON.parse(file).map((r: DeployedResource) => r.url),
                    urls("mesos.example"),
                );
            }
            const group = JSON.parse((await stack.marathon("GET", "/v2/groups/calico-stars")).body) as MarathonGroup;
            assert.match(
                group.apps.find((a) => a.id === "/calico-stars/client")!.cmd,
                /--urls=http:\/\/frontend-calico-stars\.mesos\.example:9000\/status,/,
            );
            // star-collect reads the file once, at start: the new URLs show only if Marathon restarted it (its task is
            // running once the up returns; its HTTP server a moment later)
            assert.deepStrictEqual(
                await waitFor(
                    "the collector's /resources",
                    async () => collectorUrls().catch(() => undefined),
                    10000,
                    500,
                ),
                urls("mesos.example"),
            );
        });

        it("refresh reports a DNAT rule deleted by hand, and up repairs it", async function () {
            const prerouting = (await stack.natRules()).find((r) => r.startsWith("-A PREROUTING"))!;
            await on(stack.master, [
                "sh",
                "-c",
                `iptables -t nat ${prerouting.replace("-A PREROUTING", "-D PREROUTING")}`,
            ]);
            const refreshed = await stack.driver.refresh();
            assert.deepStrictEqual(
                refreshed.steps.filter((s) => s.op === "update").map((s) => s.name),
                ["dnat-10.197.0.11"],
            );
            const repaired = await stack.driver.up();
            assert.deepStrictEqual(
                repaired.steps.filter((s) => s.op !== "same").map((s) => [s.op, s.name]),
                [["update", "dnat-10.197.0.11"]],
            );
            assert.ok((await stack.natRules()).some((r) => r === prerouting));
        });

        it("destroy leaves the sandbox as it was before up", async function () {
            await counting("destroy", () => stack.driver.destroy());
            assert.deepStrictEqual(managedResources(await stack.driver.exportStack()), []);
            assert.deepStrictEqual(await snapshot(), emptyCluster);
            console.log(`      remote commands (audit log): ${JSON.stringify(auditCounts)}`);
        });
    });
