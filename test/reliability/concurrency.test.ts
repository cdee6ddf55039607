// One up rewrites every profile (the provider host runs the four updates at once) while another writer
// edits the same profiles by hand with calicoctl, whose edits are unguarded read-modify-writes of one
// etcd key. Nothing may be lost: the up ends only once every profile read back exactly the declared rules;
// a hand edit still in flight then (its read before the up's write, its write after the up's read-back) can
// land later, and shows as drift on the next refresh, which the next up repairs. Needs root and the sandbox;
// skips, saying so, without.
import * as assert from "assert";
import { runbookPolicy } from "../../components/config";
import { runCommand } from "@calico-stars/providers/ssh";
import { profiles, ruleShowOf, SandboxStack } from "../../scripts/sandboxStack";
import { startStackOrSkip } from "../support/sandboxStack";

const stopFile = "/tmp/calico-stars-writer.stop";
/** The hand writer's rule: outside the declared policy, so that any leftover shows. */
const handRule = ["inbound", "allow", "from", "cidr", "10.99.0.0/16"];

/** A shell loop on the agent: add then remove the hand rule on every profile until told to stop; prints its rounds. */
function writerScript(): string {
    const rule = handRule.join(" ");
    const edits = profiles
        .map(
            (p) =>
                `calicoctl profile ${p} rule add ${rule} >/dev/null 2>&1; calicoctl profile ${p} rule remove ${rule} >/dev/null 2>&1`,
        )
        .join("; ");
    return `rm -f ${stopFile}; rounds=0; while [ ! -e ${stopFile} ]; do ${edits}; rounds=$((rounds + 1)); done; echo $rounds`;
}

describe("concurrent writers on the sandbox: nothing lost", function () {
    this.timeout(420000);
    let stack: SandboxStack;
    /** Two policies an up alternates between, each changing every profile. */
    const policies = [7000, 7001].map((port) =>
        Object.fromEntries(
            profiles.map((p) => [
                p,
                {
                    inbound: [...runbookPolicy[p].inbound, `allow tcp from tag ${p} to ports ${port}`],
                    outbound: runbookPolicy[p].outbound,
                },
            ]),
        ),
    );
    const policy = policies[1];
    const rounds = 3;

    before(async function () {
        stack = await startStackOrSkip(this);
        await stack.engine.up();
    });

    after(async function () {
        await stack?.close();
    });

    it(`applies all four profiles in each of ${rounds} ups while a hand writer edits them: each reads back as declared, and a hand edit landing later shows on refresh and is repaired by the next up`, async function () {
        for (let round = 0; round < rounds; round++) {
            const declared = policies[round % 2 === 0 ? 1 : 0];
            const writer = runCommand(stack.agent, { script: writerScript() }, { timeoutMs: 170000 });
            stack.engine.setConfig("calico-stars:policy", JSON.stringify(declared));
            let result;
            try {
                result = await stack.engine.up();
            } finally {
                await stack.on(stack.agent, ["touch", stopFile]);
            }
            // the writer has stopped and every edit it started has finished before the cluster is looked at
            const writerRounds = Number((await writer).stdout.trim());
            const rewrites = result.diagnostics.filter((line) => line.includes("writing again")).length;
            assert.ok(writerRounds > 0, "the writer ran during the up");
            assert.deepStrictEqual(
                result.steps
                    .filter((s) => s.op !== "same")
                    .map((s) => [s.op, s.name])
                    .sort(),
                profiles.map((p) => ["update", `profile-${p}`]).sort(),
            );
            // what each profile read back after the up's last write: exactly the declared rules
            assert.deepStrictEqual(result.outputs.profiles, declared);
            const late: string[] = [];
            for (const profile of profiles) {
                if ((await stack.ruleShow(profile)) !== ruleShowOf(declared[profile])) {
                    late.push(profile);
                }
            }
            console.log(
                `      up ${round + 1}: the hand writer made ${writerRounds * profiles.length * 2} calicoctl edits during it; the provider rewrote ${rewrites} times; ${late.length} hand edit(s) landed after its read-back`,
            );
            const refreshed = await stack.engine.refresh();
            assert.deepStrictEqual(
                refreshed.steps
                    .filter((s) => s.op !== "same")
                    .map((s) => [s.op, s.name])
                    .sort(),
                late.map((p) => ["update", `profile-${p}`]).sort(),
                "refresh shows exactly the profiles a late hand edit changed",
            );
            const repaired = await stack.engine.up();
            assert.deepStrictEqual(
                repaired.steps
                    .filter((s) => s.op !== "same")
                    .map((s) => [s.op, s.name])
                    .sort(),
                late.map((p) => ["update", `profile-${p}`]).sort(),
            );
            await stack.assertConverged(declared);
        }
    });

    it("shows hand edits made after the up as drift on refresh, and the next up removes them", async function () {
        const edited = ["client", "backend"];
        for (const profile of edited) {
            await stack.on(stack.agent, ["calicoctl", "profile", profile, "rule", "add", ...handRule]);
        }
        const refreshed = await stack.engine.refresh();
        assert.deepStrictEqual(
            refreshed.steps
                .filter((s) => s.op !== "same")
                .map((s) => [s.op, s.name])
                .sort(),
            edited.map((p) => ["update", `profile-${p}`]).sort(),
        );
        const refreshedClient = stack.engine
            .state()
            .deployment.resources.find((r) => r.urn.endsWith("::profile-client"))!;
        assert.deepStrictEqual(refreshedClient.outputs.inbound, [
            ...policy.client.inbound,
            "allow from cidr 10.99.0.0/16",
        ]);
        const repaired = await stack.engine.up();
        assert.deepStrictEqual(
            repaired.steps
                .filter((s) => s.op !== "same")
                .map((s) => [s.op, s.name])
                .sort(),
            edited.map((p) => ["update", `profile-${p}`]).sort(),
        );
        await stack.assertConverged(policy);
    });
});
