// The lifecycle test engine deletes as pulumi/pulumi v3.248.0 does: in dependency levels (ScheduleDeletes), each
// level in parallel up to the run's parallelism, and after the first failure nothing new starts.
import * as assert from "assert";
import { StepExecutor } from "../../engine/executor";
import { scheduleDeletes, withoutDanglingReferences } from "../../engine/graph";
import { StateResource } from "../../engine/types";

const resource = (name: string, links: Partial<StateResource> = {}): StateResource => ({
    urn: name,
    type: "test:index:Thing",
    custom: true,
    inputs: {},
    outputs: {},
    ...links,
});

const names = (levels: StateResource[][]) => levels.map((level) => level.map((r) => r.urn).sort());

/** Deletes that each take `ms`, recording when each started and ended. */
function timedDeletes(ms: number, failing: string[] = []) {
    const events: string[] = [];
    const remove = (r: StateResource) => async () => {
        events.push(`start ${r.urn}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        events.push(`end ${r.urn}`);
        if (failing.includes(r.urn)) {
            throw new Error(`cannot delete ${r.urn}`);
        }
    };
    return { events, remove };
}

async function runLevels(
    levels: StateResource[][],
    executor: StepExecutor,
    remove: (r: StateResource) => () => Promise<void>,
): Promise<void> {
    for (const level of levels) {
        await executor.executeParallel(level.map(remove));
    }
}

describe("lifecycle engine deletes", function () {
    // the stack's shape: a component, a random id, a network, rules that depend on the network, a group on all
    const stack = resource("stack", { custom: false });
    const provider = resource("provider");
    const demo = resource("demo", { custom: false, parent: "stack" });
    const owner = resource("owner", { parent: "demo", provider: "provider::id-1" });
    const network = resource("network", { parent: "demo", provider: "provider::id-1" });
    const rules = resource("rules", {
        parent: "demo",
        dependencies: ["network"],
        deletedWith: "network",
        provider: "provider::id-1",
    });
    const group = resource("group", {
        parent: "demo",
        dependencies: ["network", "rules"],
        propertyDependencies: { ownerId: ["owner"] },
        provider: "provider::id-1",
    });
    const checkpoint = [stack, provider, demo, owner, network, rules, group];

    it("puts each resource in the level after everything that depends on it, by depth from the roots", function () {
        assert.deepStrictEqual(names(scheduleDeletes(checkpoint, checkpoint)), [
            ["group"],
            ["rules"],
            ["network", "owner"],
            ["demo"],
            ["provider", "stack"],
        ]);
    });

    it("runs a level in parallel and starts the next only once the whole level is done", async function () {
        const { events, remove } = timedDeletes(10);
        await runLevels(scheduleDeletes(checkpoint, [owner, network, rules]), new StepExecutor(8), remove);
        assert.deepStrictEqual(events.slice(0, 2), ["start rules", "end rules"], events.join(", "));
        assert.deepStrictEqual(events.slice(2, 4).sort(), ["start network", "start owner"], events.join(", "));
    });

    it("never runs more deletes at once than the parallelism", async function () {
        const many = Array.from({ length: 9 }, (_, i) => resource(`r${i}`));
        let running = 0;
        let most = 0;
        const executor = new StepExecutor(4);
        await executor.executeParallel(
            many.map(() => async () => {
                most = Math.max(most, ++running);
                await new Promise((resolve) => setTimeout(resolve, 5));
                running--;
            }),
        );
        assert.strictEqual(most, 4);
    });

    it("after a failure starts nothing new, lets what runs finish, and keeps the first error", async function () {
        const { events, remove } = timedDeletes(10, ["a"]);
        const level = ["a", "b", "c"].map((name) => resource(name));
        const executor = new StepExecutor(2);
        await runLevels([level, [resource("next")]], executor, remove);
        assert.deepStrictEqual(events, ["start a", "start b", "end a", "end b"], events.join(", "));
        assert.match(String(executor.failure), /cannot delete a/);
    });

    it("ignoring errors (a refresh's executor) runs every step and still reports the first failure", async function () {
        const { events, remove } = timedDeletes(5, ["a"]);
        const executor = new StepExecutor(1, true);
        await executor.executeParallel(["a", "b"].map((name) => remove(resource(name))));
        assert.deepStrictEqual(events, ["start a", "end a", "start b", "end b"]);
        assert.match(String(executor.failure), /cannot delete a/);
    });

    it("hands a chain to a worker only once one is free, which is what the step generator waits for", async function () {
        const executor = new StepExecutor(1);
        let secondTaken = false;
        let takenWhileFirstRan: boolean | undefined;
        const first = executor.executeSerial([
            async () => {
                await new Promise((resolve) => setTimeout(resolve, 10));
                takenWhileFirstRan = secondTaken;
            },
        ]);
        const second = executor.executeSerial([async () => undefined]);
        void second.accepted.then(() => {
            secondTaken = true;
        });
        await Promise.all([first.done, second.done]);
        assert.deepStrictEqual([takenWhileFirstRan, secondTaken], [false, true]);
    });

    it("after a refresh drops references to resources that are gone", function () {
        const kept = withoutDanglingReferences([stack, demo, owner, rules, group]);
        const { deletedWith: _gone, ...rulesWithoutNetwork } = rules;
        assert.deepStrictEqual(
            kept.find((r) => r.urn === "rules"),
            { ...rulesWithoutNetwork, dependencies: [] },
        );
        assert.deepStrictEqual(kept.find((r) => r.urn === "group")?.dependencies, ["rules"]);
        assert.deepStrictEqual(kept.find((r) => r.urn === "group")?.propertyDependencies, { ownerId: ["owner"] });
    });
});
