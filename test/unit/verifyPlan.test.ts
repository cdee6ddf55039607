// verify --plan's diff: the stack's declared edges against those the cluster's rules give, without a cluster (the
// rules as `rule json` gives them back are given here).
import * as assert from "assert";
import { runbookPolicy } from "../../components/config";
import { ClusterRules, formatPlan, planJson, planOf, StoredProfile } from "../../scripts/verify/plan";
import { stackConfig } from "../support/verifyFixtures";

type Policy = Record<string, StoredProfile>;

const clusterOf = (policy: Policy): ClusterRules => new Map(Object.entries(policy));
const runbookCluster = clusterOf(runbookPolicy);
const withBackend = (inbound: string[]): Policy => ({ ...runbookPolicy, backend: { inbound, outbound: ["allow"] } });
/** The one-rule change: backend's third rule admits client instead of frontend. */
const oneRuleChange = withBackend([
    ...runbookPolicy.backend.inbound.slice(0, 2),
    "allow tcp from tag client to ports 9000",
]);
const changes = (plan: ReturnType<typeof planOf>) =>
    plan.edges.filter((edge) => edge.change !== "none").map((edge) => [edge.change, edge.edge]);

describe("verify --plan", function () {
    it("changes nothing, exit 0, when the cluster holds the stack's rules", function () {
        const plan = planOf(stackConfig(), runbookCluster);
        assert.deepStrictEqual([plan.result, plan.exitCode, changes(plan), plan.notes], ["unchanged", 0, [], []]);
        assert.strictEqual(plan.summary, "10 edges: 0 opens, 0 closes, 0 unknown, 0 rules only, 10 unchanged");
        assert.ok(plan.edges.every((edge) => edge.now.effect === edge.afterUp.effect));
    });

    it("names the edges a one-rule change opens and closes and the rules behind each side, exit 1", function () {
        const plan = planOf(stackConfig({ policy: oneRuleChange }), runbookCluster);
        assert.deepStrictEqual(
            [plan.result, plan.exitCode, changes(plan)],
            [
                "changes",
                1,
                [
                    ["opens", "client -> backend:9000"],
                    ["closes", "frontend -> backend:9000"],
                ],
            ],
        );
        const opened = plan.edges.find((edge) => edge.edge === "client -> backend:9000")!;
        assert.deepStrictEqual(opened.now, {
            reach: "blocked",
            effect: "blocked by backend inbound: no rule matched (default drop)",
            rules: [],
        });
        assert.deepStrictEqual(opened.afterUp.rules, [
            { profile: "client", direction: "outbound", position: 1, text: "allow" },
            { profile: "backend", direction: "inbound", position: 3, text: "allow tcp from tag client to ports 9000" },
        ]);
        const closed = plan.edges.find((edge) => edge.edge === "frontend -> backend:9000")!;
        assert.deepStrictEqual(
            [closed.now.reach, closed.now.rules[1], closed.afterUp.reach],
            [
                "reachable",
                {
                    profile: "backend",
                    direction: "inbound",
                    position: 3,
                    text: "allow tcp from tag frontend to ports 9000",
                },
                "blocked",
            ],
        );
    });

    it("prints every edge now and after up, then each change with both sides' rules", function () {
        assert.strictEqual(
            formatPlan(planOf(stackConfig({ policy: oneRuleChange }), runbookCluster), { color: false }),
            [
                "verify --plan: up would open or close edges: 10 edges: 1 opens, 1 closes, 0 unknown, 0 rules only, 8 unchanged",
                "",
                "edge                            now  after up",
                "outside -> management-ui:9001   ✔    ✔",
                "management-ui -> client:9000    ✔    ✔",
                "management-ui -> frontend:9000  ✔    ✔",
                "management-ui -> backend:9000   ✔    ✔",
                "client -> frontend:9000         ✔    ✔",
                "client -> backend:9000          ✘    ✔         opens",
                "frontend -> client:9000         ✘    ✘",
                "frontend -> backend:9000        ✔    ✘         closes",
                "backend -> client:9000          ✘    ✘",
                "backend -> frontend:9000        ✘    ✘",
                "",
                "✔ allowed   ✘ blocked   ? unknown",
                "",
                "opens client -> backend:9000",
                "    now:      blocked by backend inbound: no rule matched (default drop)",
                '    after up: allowed by client outbound rule 1 "allow" and backend inbound rule 3 "allow tcp from tag client to ports 9000"',
                "",
                "closes frontend -> backend:9000",
                '    now:      allowed by frontend outbound rule 1 "allow" and backend inbound rule 3 "allow tcp from tag frontend to ports 9000"',
                "    after up: blocked by backend inbound: no rule matched (default drop)",
                "",
            ].join("\n"),
        );
    });

    it("shows a rule removed by hand on the cluster as the edge up would restore, naming the rule", function () {
        const plan = planOf(stackConfig(), clusterOf(withBackend(runbookPolicy.backend.inbound.slice(0, 2))));
        assert.deepStrictEqual([plan.exitCode, changes(plan)], [1, [["opens", "frontend -> backend:9000"]]]);
        const restored = plan.edges.find((edge) => edge.change === "opens")!;
        assert.strictEqual(
            restored.afterUp.effect,
            'allowed by frontend outbound rule 1 "allow" and backend inbound rule 3 "allow tcp from tag frontend to ports 9000"',
        );
    });

    it("opens every edge to and from a profile the cluster does not have yet, and says so", function () {
        const cluster = new Map(runbookCluster);
        cluster.delete("client");
        const plan = planOf(stackConfig(), cluster);
        assert.deepStrictEqual(changes(plan), [
            ["opens", "management-ui -> client:9000"],
            ["opens", "client -> frontend:9000"],
            ["rules-only", "client -> backend:9000"],
            ["rules-only", "frontend -> client:9000"],
            ["rules-only", "backend -> client:9000"],
        ]);
        assert.strictEqual(
            plan.edges.find((edge) => edge.edge === "client -> frontend:9000")!.now.effect,
            "blocked by profile client does not exist: Felix drops everything on its outbound chain",
        );
        assert.deepStrictEqual(plan.notes, [
            "profile client does not exist on the cluster: Felix drops everything to and from it",
        ]);
    });

    it("cannot tell an edge that reaches a rule outside the grammar, naming the rule, exit 2; an earlier rule still decides", function () {
        const stored = '[outside the grammar] {"action":"allow","protocol":null}';
        const plan = planOf(
            stackConfig(),
            clusterOf(withBackend([...runbookPolicy.backend.inbound.slice(0, 2), stored])),
        );
        assert.deepStrictEqual(
            [plan.result, plan.exitCode, changes(plan)],
            [
                "incomplete",
                2,
                [
                    ["unknown", "client -> backend:9000"],
                    ["unknown", "frontend -> backend:9000"],
                ],
            ],
        );
        assert.deepStrictEqual(plan.edges.find((edge) => edge.edge === "frontend -> backend:9000")!.now, {
            reach: "unknown",
            effect: `unknown: depends on backend inbound rule 3 "${stored}"`,
            rules: [{ profile: "backend", direction: "inbound", position: 3, text: stored }],
        });
        assert.deepStrictEqual(plan.notes, [
            `backend inbound rule 3 "${stored}" is outside the grammar verify evaluates`,
        ]);
    });

    it("changes nothing, exit 0, where a rule verify cannot decide (a cidr) is the same on both sides", function () {
        const policy = withBackend(["allow from cidr 10.0.0.0/8"]);
        const plan = planOf(stackConfig({ policy }), clusterOf(policy));
        assert.deepStrictEqual([plan.exitCode, changes(plan)], [0, []]);
        assert.strictEqual(plan.edges.find((edge) => edge.edge === "client -> backend:9000")!.now.reach, "unknown");
    });

    it("lists edges whose reach stays under other rules, without calling that a change (exit 0)", function () {
        const swapped = runbookPolicy.frontend.inbound;
        const cluster = clusterOf({
            ...runbookPolicy,
            frontend: { inbound: [swapped[0], swapped[2], swapped[1]], outbound: ["allow"] },
        });
        const plan = planOf(stackConfig(), cluster);
        assert.deepStrictEqual(
            [plan.result, changes(plan)],
            [
                "unchanged",
                [
                    ["rules-only", "management-ui -> frontend:9000"],
                    ["rules-only", "client -> frontend:9000"],
                ],
            ],
        );
    });

    it("prints as JSON, plain data that survives a round trip", function () {
        const plan = planOf(stackConfig({ policy: oneRuleChange }), runbookCluster);
        assert.deepStrictEqual(JSON.parse(planJson(plan)), plan);
        assert.deepStrictEqual(
            plan.nodes.map((node) => node.id),
            ["outside", "management-ui", "client", "frontend", "backend"],
        );
    });

    it("colours the changes only when asked", function () {
        const plan = planOf(stackConfig({ policy: oneRuleChange }), runbookCluster);
        assert.ok(!formatPlan(plan, { color: false }).includes("\u001b["));
        assert.ok(formatPlan(plan, { color: true }).includes("\u001b[32mopens\u001b[0m client -> backend:9000"));
    });
});
