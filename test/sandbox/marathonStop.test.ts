// The Marathon stand-in's stop of an app, in process: its tracker, launch queue and deployments driven by hand,
// with an agent that holds a kill until the test lets it end.
import * as assert from "assert";
import { setTimeout as sleep } from "timers/promises";
import { SimulatedAgent } from "../../sandbox/marathon/agents";
import { Deployments } from "../../sandbox/marathon/deployments";
import { Faults } from "../../sandbox/marathon/faults";
import type { App } from "../../sandbox/marathon/groupUpdate";
import { Tasks } from "../../sandbox/marathon/tasks";

/** SimulatedAgent whose kill of a held task does nothing until `release` is called for it. */
class HoldingAgent extends SimulatedAgent {
    private readonly held = new Set<string>();

    async kill(taskId: string) {
        if (!this.held.has(taskId)) await super.kill(taskId);
    }

    hold(taskId: string) {
        this.held.add(taskId);
    }

    release(taskId: string) {
        this.held.delete(taskId);
        void this.kill(taskId);
    }
}

function app(id: string): App {
    const version = "2026-01-01T00:00:00.000Z";
    return {
        id,
        instances: 1,
        cpus: 0.1,
        mem: 32,
        disk: 0,
        cmd: "sleep 600",
        ports: [],
        backoffSeconds: 1,
        backoffFactor: 1.15,
        maxLaunchDelaySeconds: 3600,
        upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
        version,
        versionInfo: { lastScalingAt: version, lastConfigChangeAt: version },
    };
}

describe("sandbox Marathon stand-in: stopping an app", function () {
    it("kills a task its launch queue started while another app of the same step was still stopping, and leaves none queued", async function () {
        const agent = new HoldingAgent(0);
        const apps = new Map([app("/g/client"), app("/g/frontend")].map((a) => [a.id, a]));
        const faults = new Faults(0);
        const tasks: Tasks = new Tasks({
            agents: [agent],
            frameworkId: "framework",
            offerIntervalMs: 60000,
            pollIntervalMs: 60000,
            appById: (id) => apps.get(id),
            isLocked: (id): boolean => deployments.isLocked(id),
            log: () => undefined,
        });
        const deployments: Deployments = new Deployments(tasks, faults, () => undefined);
        try {
            // frontend runs; client's task is gone (its container removed by hand) and its relaunch waits in the queue
            await tasks.poll();
            tasks.add(apps.get("/g/frontend")!);
            tasks.offerCycle();
            await tasks.poll();
            const [frontendTask] = tasks.tasksOf("/g/frontend");
            assert.strictEqual(frontendTask?.state, "TASK_RUNNING");
            agent.hold(frontendTask.id);
            tasks.add(apps.get("/g/client")!);

            // the group is deleted: one step stops both apps, and frontend's kill takes its time
            const stopped = [...apps.values()];
            apps.clear();
            const deployment = deployments.start({
                version: "2026-01-02T00:00:00.000Z",
                steps: [stopped.map((a) => ({ action: "StopApplication" as const, app: a, scaleTo: 0 }))],
                rollback: { rootId: "/g", groups: [], apps: [] },
            });
            await sleep(100);
            tasks.offerCycle();
            await tasks.poll();

            agent.release(frontendTask.id);
            for (let polls = 0; deployments.get(deployment.id) !== undefined && polls < 50; polls++) {
                await tasks.poll();
                await sleep(50);
            }
            assert.strictEqual(deployments.get(deployment.id), undefined, "the deployment finished");
            await tasks.poll();
            assert.deepStrictEqual(
                tasks.all().map((task) => `${task.appId} ${task.state}`),
                [],
                "left running after the stop",
            );
            assert.strictEqual(tasks.totalTaskCount("/g/client"), 0, "nothing of client left in the queue");
        } finally {
            deployments.stop();
            tasks.stop();
        }
    });
});
