// The CLI driver's reading of the engine events the Automation API streams (the only part of that driver a machine
// without the Pulumi CLI can check): the steps a user would see, as the test engine reports them.
import * as assert from "assert";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { stepRecords } from "../../engine/automationDriver";

const urn = (type: string, name: string) => `urn:pulumi:sandbox::calico-stars::${type}::${name}`;
const profile = urn("calico-stars:index:StarsDemo$pulumi-nodejs:dynamic/calico-stars:ProfileRules", "profile-backend");
const network = urn("calico-stars:index:StarsDemo$pulumi-nodejs:dynamic/calico-stars:DockerNetwork", "network-client");
const provider = urn("pulumi:providers:pulumi-nodejs", "default");

function event(
    kind: "resourcePreEvent" | "resOutputsEvent" | "resOpFailedEvent",
    metadata: Record<string, unknown>,
): EngineEvent {
    return { sequence: 0, timestamp: 0, [kind]: { metadata: { provider: "", ...metadata } } } as unknown as EngineEvent;
}

describe("the Pulumi CLI driver's steps", function () {
    it("keeps the logical steps a run announced, with the inputs that changed, and hides default providers and replacement halves", function () {
        const events = [
            event("resourcePreEvent", { op: "same", urn: provider, type: "pulumi:providers:pulumi-nodejs" }),
            event("resourcePreEvent", {
                op: "update",
                urn: profile,
                type: "pulumi-nodejs:dynamic/calico-stars:ProfileRules",
                logical: true,
                old: { inputs: { inbound: ["a"], tagNetworkIds: { frontend: "1" }, host: "h" } },
                new: { inputs: { inbound: ["b"], tagNetworkIds: { client: "2" }, host: "h" } },
            }),
            event("resourcePreEvent", {
                op: "create-replacement",
                urn: network,
                type: "pulumi-nodejs:dynamic/calico-stars:DockerNetwork",
                logical: false,
            }),
            event("resourcePreEvent", {
                op: "replace",
                urn: network,
                type: "pulumi-nodejs:dynamic/calico-stars:DockerNetwork",
                logical: true,
                keys: ["subnet"],
                old: { inputs: { subnet: "10.0.0.0/16" } },
                new: { inputs: { subnet: "10.1.0.0/16" } },
            }),
        ];
        assert.deepStrictEqual(
            stepRecords(events, false).map((s) => [s.op, s.name, s.diffKeys, s.replaceKeys]),
            [
                ["update", "profile-backend", ["inbound", "tagNetworkIds"], undefined],
                ["replace", "network-client", ["subnet"], ["subnet"]],
            ],
        );
    });

    it("leaves out a step that failed", function () {
        const events = [
            event("resourcePreEvent", { op: "delete", urn: network, type: "t", logical: true }),
            event("resOpFailedEvent", { op: "delete", urn: network, type: "t" }),
        ];
        assert.deepStrictEqual(stepRecords(events, false), []);
    });

    it("reads a refresh from the result of each refresh step, with the outputs that changed", function () {
        const events = [
            event("resourcePreEvent", { op: "refresh", urn: profile, type: "t" }),
            event("resOutputsEvent", {
                op: "update",
                urn: profile,
                type: "t",
                old: { outputs: { inbound: ["a"] } },
                new: { outputs: { inbound: ["a", "b"] } },
            }),
            event("resOutputsEvent", { op: "delete", urn: network, type: "t" }),
        ];
        assert.deepStrictEqual(
            stepRecords(events, true).map((s) => [s.op, s.name, s.diffKeys]),
            [
                ["update", "profile-backend", ["inbound"]],
                ["delete", "network-client", undefined],
            ],
        );
    });
});
