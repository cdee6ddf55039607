import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { providers } from "@calico-stars/providers";
import { verifyPolicyArgs } from "../../components/verifyPolicy";
import { starsParameters } from "../../components/starsTemplate";
import { declaredMatrixForStack, stackProfiles } from "../../components/connectivity";
import { declaredOf, stackConfig } from "../support/verifyFixtures";

const master = { address: "10.1.0.11", port: 22, user: "vagrant", sudo: false };
const args = verifyPolicyArgs(stackConfig(), master, {
    groupVersion: "2026-01-01T00:00:00.000Z",
    networkIds: ["a", "b", "c", "d"],
});
const inputs = args as unknown as Parameters<NonNullable<typeof providers.VerifyPolicy.create>>[0];
const outputs = { ...inputs, result: "match" as const, summary: "10 edges: 10 match, 0 mismatch, 0 unknown" };

describe("the VerifyPolicy resource", function () {
    describe("its inputs from the stack config", function () {
        it("hold the declared matrix of the group the program deploys, as plain data", function () {
            const config = stackConfig();
            const expected = declaredMatrixForStack(starsParameters(config, "0"), stackProfiles(config), {
                outsideAddress: "10.1.0.11",
            });
            assert.deepStrictEqual(args.declared, JSON.parse(JSON.stringify(expected)));
            assert.deepStrictEqual(
                inputs.declared.edges.map((edge) => edge.reach),
                declaredOf(config).edges.map((edge) => edge.reach),
            );
            assert.ok(!JSON.stringify(args.declared).includes("undefined"));
        });

        it("hold the collector's address and port, the master, a probe round of star's defaults and the configured timeout", function () {
            assert.deepStrictEqual(
                [args.host, args.collectorIp, args.collectorPort, args.roundSeconds, args.timeoutSeconds],
                [master, "192.168.255.254", 9001, 10, 180],
            );
        });
    });

    describe("its config keys", function () {
        it("leave the check off by default, with a 180 s timeout", function () {
            assert.deepStrictEqual([stackConfig().verifyPolicy, stackConfig().verifyTimeoutSeconds], [false, 180]);
        });

        it("name a bad value", function () {
            assert.throws(
                () => stackConfig({ verifyPolicy: "yes", verifyTimeoutSeconds: 0 }),
                (error: Error) =>
                    error.name === "ConfigError" &&
                    error.message ===
                        'invalid stack configuration:\n  calico-stars:verifyPolicy: is not valid JSON/YAML structure ("yes")\n  calico-stars:verifyTimeoutSeconds: Too small: expected number to be >0',
            );
        });
    });

    describe("check", function () {
        it("passes the program's inputs, and a deployment not known yet", async function () {
            assert.deepStrictEqual(
                (
                    await providers.VerifyPolicy.check!(inputs, {
                        ...inputs,
                        groupVersion: pulumi.runtime.unknownValue,
                        networkIds: [pulumi.runtime.unknownValue],
                    })
                ).failures,
                [],
            );
        });

        it("names an edge whose node the matrix does not have, and a bad collector address", async function () {
            const declared = {
                ...inputs.declared,
                edges: [...inputs.declared.edges, { ...inputs.declared.edges[0], target: "nobody" }],
            };
            assert.deepStrictEqual(
                (await providers.VerifyPolicy.check!(inputs, { ...inputs, declared, collectorIp: "192.168.255.300" }))
                    .failures,
                [
                    { property: "collectorIp", reason: "must be an IPv4 address" },
                    { property: "declared", reason: 'edges[10]: names node "nobody", which the matrix does not have' },
                ],
            );
        });
    });

    describe("diff", function () {
        it("sees no change when nothing it checks changed, so a no-op up runs nothing", async function () {
            assert.deepStrictEqual(await providers.VerifyPolicy.diff!("id", outputs, inputs), {
                changes: false,
                replaces: [],
            });
        });

        it("sees no change when only how long to wait changed", async function () {
            assert.strictEqual(
                (await providers.VerifyPolicy.diff!("id", outputs, { ...inputs, timeoutSeconds: 30, roundSeconds: 4 }))
                    .changes,
                false,
            );
        });

        it("checks again when the declared matrix, the group's version or a network changed", async function () {
            const changedPolicy = verifyPolicyArgs(
                stackConfig({
                    policy: { ...stackConfig().policy, backend: { inbound: ["allow"], outbound: ["allow"] } },
                }),
                master,
                { groupVersion: inputs.groupVersion, networkIds: inputs.networkIds },
            ) as unknown as typeof inputs;
            for (const news of [
                changedPolicy,
                { ...inputs, groupVersion: "later" },
                { ...inputs, networkIds: ["a", "b", "c", "e"] },
                { ...inputs, groupVersion: pulumi.runtime.unknownValue },
            ]) {
                assert.strictEqual((await providers.VerifyPolicy.diff!("id", outputs, news)).changes, true);
            }
        });

        it("checks again when the last check or refresh did not find a match", async function () {
            assert.strictEqual(
                (await providers.VerifyPolicy.diff!("id", { ...outputs, result: "mismatch" }, inputs)).changes,
                true,
            );
        });
    });

    describe("read", function () {
        it("needs the declared matrix to compare with, and says so", async function () {
            const { declared: _omitted, ...withoutDeclared } = outputs;
            await assert.rejects(
                providers.VerifyPolicy.read!("192.168.255.254:9001", withoutDeclared as typeof outputs),
                (error: Error) =>
                    error.name === "ConfigError" &&
                    error.message ===
                        "policy check 192.168.255.254:9001: cannot read it without declared in the resource's properties: the declared matrix is what the reading is compared with",
            );
        });
    });
});
