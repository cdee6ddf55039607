// Program bugs that Pulumi's real step order shows, each as the test that fails until the program is fixed (the
// lead lands these with the fix; see the report of issue 10). Run by the test engine, and by the Pulumi CLI where
// one is installed; needs root and the sandbox, and skips, saying so, without.
//
// 1. A renamed network that `docker network rm` cannot remove (a container still on it): the old network's rules
//    are deleted with it (ProfileRules' deletedWith, components/starsDemo.ts), so their Delete is skipped, since
//    Pulumi counts the network among the run's deletes before any runs. The network's delete then fails, and its
//    profile keeps rules the stack no longer declares, while the checkpoint no longer holds those rules at all.
import * as assert from "assert";
import { StackRunError, managedResources } from "./stackDriver";
import { driverTitle, libnetworkDefaults, lifecycleDrivers, SandboxStack, withExtraNetwork } from "../support/sandboxStack";

for (const kind of lifecycleDrivers) describe(`program bugs under Pulumi's real step order, run by ${driverTitle(kind)}`, function () {
    this.timeout(300000);
    let stack: SandboxStack;
    let container: string | undefined;

    before(async function () {
        stack = await SandboxStack.startOrSkip(this, kind);
    });

    after(async function () {
        if (stack !== undefined) {
            if (container !== undefined) {
                await stack.on(stack.agent, ["docker", "rm", "-f", container]);
            }
            await stack.close();
        }
    });

    it("a renamed network that cannot be removed leaves its profile with libnetwork's defaults, not rules nobody declares any more", async function () {
        const db = withExtraNetwork("db");
        await stack.driver.setConfig("calico-stars:networks", JSON.stringify(db.networks));
        await stack.driver.setConfig("calico-stars:policy", JSON.stringify(db.policy));
        await stack.driver.up();
        await stack.assertConverged(db.policy, db.networks.map((n) => n.name));
        container = (await stack.on(stack.agent, ["docker", "run", "-d", "--net", "db", stack.cluster.docker.image, "sleep", "600"])).trim();

        const store = withExtraNetwork("store");
        await stack.driver.setConfig("calico-stars:networks", JSON.stringify(store.networks));
        await stack.driver.setConfig("calico-stars:policy", JSON.stringify(store.policy));
        await assert.rejects(stack.driver.up(), (error: Error) => error instanceof StackRunError && /network-db.*network db id [0-9a-f]+ has active endpoints/s.test(error.message));
        assert.deepStrictEqual(managedResources(await stack.driver.exportStack()).filter((name) => name.endsWith("-db")), ["network-db"]);
        // today: "Inbound rules:\n   1 allow tcp from tag backend to ports 5432\n..." (db's last declared rules)
        assert.strictEqual(await stack.ruleShow("db"), libnetworkDefaults("db"));
    });
});
