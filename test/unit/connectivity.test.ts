// The stack output `connectivity`: every edge of the demo, from the config alone, as plain data whose keys change
// only where a change opens or closes an edge.
import * as assert from "assert";
import { configuredMatrix, connectivityOf } from "../../components/connectivity";
import { runbookPolicy } from "../../components/config";
import { stackConfig } from "../support/verifyFixtures";

const connectivityFor = (extra: Record<string, unknown> = {}) => connectivityOf(configuredMatrix(stackConfig(extra)));

/** The keys whose values differ between two outputs, with both values. */
function changed(before: Record<string, string>, after: Record<string, string>): [string, string, string][] {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])]
        .filter((key) => before[key] !== after[key])
        .map((key) => [key, before[key], after[key]]);
}

describe("the connectivity output", function () {
    it("names every edge of the runbook's demo by app name and port, allowed by its rules or blocked by what stops it", function () {
        assert.deepStrictEqual(connectivityFor(), {
            "backend -> client:9000": "blocked by client inbound: no rule matched (default drop)",
            "backend -> frontend:9000": "blocked by frontend inbound: no rule matched (default drop)",
            "client -> backend:9000": "blocked by backend inbound: no rule matched (default drop)",
            "client -> frontend:9000":
                'allowed by client outbound rule 1 "allow" and frontend inbound rule 3 "allow tcp from tag client to ports 9000"',
            "frontend -> backend:9000":
                'allowed by frontend outbound rule 1 "allow" and backend inbound rule 3 "allow tcp from tag frontend to ports 9000"',
            "frontend -> client:9000": "blocked by client inbound: no rule matched (default drop)",
            "management-ui -> backend:9000":
                'allowed by management-ui outbound rule 1 "allow" and backend inbound rule 2 "allow tcp from tag management-ui to ports 9000"',
            "management-ui -> client:9000":
                'allowed by management-ui outbound rule 1 "allow" and client inbound rule 2 "allow tcp from tag management-ui to ports 9000"',
            "management-ui -> frontend:9000":
                'allowed by management-ui outbound rule 1 "allow" and frontend inbound rule 2 "allow tcp from tag management-ui to ports 9000"',
            "outside -> management-ui:9001": 'allowed by management-ui inbound rule 1 "allow tcp to ports 9001"',
        });
    });

    it("is plain, stable data: sorted keys, strings only, the same after a JSON round trip", function () {
        const connectivity = connectivityFor();
        const keys = Object.keys(connectivity);
        assert.deepStrictEqual(keys, [...keys].sort());
        assert.ok(Object.values(connectivity).every((value) => typeof value === "string"));
        assert.deepStrictEqual(JSON.parse(JSON.stringify(connectivity)), connectivity);
        assert.deepStrictEqual(connectivityFor(), connectivity);
    });

    it("changes in exactly the edges a one-rule change opens and closes", function () {
        const backend = {
            inbound: [...runbookPolicy.backend.inbound.slice(0, 2), "allow tcp from tag client to ports 9000"],
            outbound: ["allow"],
        };
        assert.deepStrictEqual(changed(connectivityFor(), connectivityFor({ policy: { ...runbookPolicy, backend } })), [
            [
                "client -> backend:9000",
                "blocked by backend inbound: no rule matched (default drop)",
                'allowed by client outbound rule 1 "allow" and backend inbound rule 3 "allow tcp from tag client to ports 9000"',
            ],
            [
                "frontend -> backend:9000",
                'allowed by frontend outbound rule 1 "allow" and backend inbound rule 3 "allow tcp from tag frontend to ports 9000"',
                "blocked by backend inbound: no rule matched (default drop)",
            ],
        ]);
    });

    it("does not change with a connection setting, which no edge depends on", function () {
        assert.deepStrictEqual(connectivityFor({ sudo: true, sshUser: "core" }), connectivityFor());
    });

    it("says what blocks an edge when it is the deployment, not the policy: names Mesos-DNS does not serve", function () {
        const connectivity = connectivityFor({ mesosDnsStyle: "dot" });
        assert.strictEqual(
            connectivity["client -> frontend:9000"],
            'blocked: "frontend.calico-stars.marathon.mesos" does not resolve: Mesos-DNS serves "frontend-calico-stars.marathon.mesos"',
        );
    });

    it("says an edge is unknown, and why, when its rule needs an address the config does not give", function () {
        const backend = { inbound: ["allow from cidr 10.0.0.0/8"], outbound: ["allow"] };
        assert.strictEqual(
            connectivityFor({ policy: { ...runbookPolicy, backend } })["client -> backend:9000"],
            'unknown: depends on backend inbound rule 1 "allow from cidr 10.0.0.0/8", whose src_net verify cannot decide',
        );
    });

    it("follows the probe port in its keys", function () {
        assert.deepStrictEqual(
            Object.keys(connectivityFor({ probePort: 8000 })).filter((key) => key.startsWith("client -> ")),
            ["client -> backend:8000", "client -> frontend:8000"],
        );
    });
});
