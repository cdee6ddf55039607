// The lifecycle test engine deletes as Pulumi does: in parallel, a resource only after its dependents.
import * as assert from "assert";
import { deleteInDependencyOrder } from "../lifecycle/engine/checkpoint";
import { StateResource } from "../lifecycle/engine/types";

const resource = (name: string, links: { parent?: string; dependencies?: string[] } = {}): StateResource => ({
    urn: name, type: "test:index:Thing", custom: true, inputs: {}, outputs: {}, ...links,
});

/** Deletes that each take `ms`, recording when each started and ended. */
function timedRemove(ms: number, failing: string[] = []) {
    const events: string[] = [];
    const remove = async (r: StateResource) => {
        events.push(`start ${r.urn}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        events.push(`end ${r.urn}`);
        if (failing.includes(r.urn)) {
            throw new Error(`cannot delete ${r.urn}`);
        }
    };
    return { events, remove };
}

describe("lifecycle engine deletes", function () {
    it("starts independent deletes together", async function () {
        const { events, remove } = timedRemove(20);
        await deleteInDependencyOrder([resource("a"), resource("b"), resource("c")], remove);
        assert.deepStrictEqual(events.slice(0, 3).sort(), ["start a", "start b", "start c"]);
    });

    it("deletes a resource only once its dependents and children are gone", async function () {
        const { events, remove } = timedRemove(5);
        const resources = [resource("net"), resource("rules", { dependencies: ["net"] }), resource("group", { parent: "net" })];
        await deleteInDependencyOrder(resources, remove);
        const at = (event: string) => events.indexOf(event);
        assert.ok(at("start net") > at("end rules") && at("start net") > at("end group"), events.join(", "));
    });

    it("after a failure keeps what depends on the failed resource, and throws its error", async function () {
        const { events, remove } = timedRemove(5, ["rules"]);
        const resources = [resource("net"), resource("rules", { dependencies: ["net"] }), resource("other")];
        await assert.rejects(deleteInDependencyOrder(resources, remove), /cannot delete rules/);
        assert.ok(!events.includes("start net"), events.join(", "));
        assert.ok(events.includes("end other"), events.join(", "));
    });
});
