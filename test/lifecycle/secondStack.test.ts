// A second stack on the sandbox with the first one's resourcesDir and groupId (and another probe port, so that its
// resources file would differ): its up is refused at the group's claim before anything reaches an agent, and its
// destroy leaves the first stack's resources file alone, so the first stack's collector still reads its own file at
// its next start. Run by the test engine; needs root and the sandbox, and skips, saying so, without.
import * as assert from "assert";
import * as path from "path";
import { emulators, RunError, TestEngine } from "../../engine";
import { SandboxStack, sandboxStackConfig, sshHostOf } from "../../scripts/sandboxStack";
import { startStackOrSkip } from "../support/sandboxStack";

const projectDir = path.resolve(__dirname, "../..");
const resourcesFile = "/var/tmp/calico-stars/calico-stars/calico-stars-resources.json";

describe("a second stack with the first one's resources directory and group id, run by the test engine", function () {
    this.timeout(300000);
    let stack: SandboxStack;
    let second: TestEngine | undefined;

    /** Each agent's resources file, its mark and its inode: what the second stack must leave as it was. */
    const resourcesFiles = () =>
        Promise.all(
            stack.cluster.agents.map((agent) =>
                stack.on(sshHostOf(agent), [
                    "sh",
                    "-c",
                    'cat -- "$0" "$0.owner" && stat -c %i -- "$0" "$0.owner"',
                    resourcesFile,
                ]),
            ),
        );
    /** Audit lines of commands that named the resources file, by the hosts' audit logs. */
    const resourcesFileCommands = () =>
        stack.auditEntries().filter((line) => line.includes("calico-stars-resources.json"));

    before(async function () {
        stack = await startStackOrSkip(this);
        await stack.engine.up();
    });

    after(async function () {
        await second?.close();
        await stack?.close();
    });

    it("is refused at the group's claim or at a network the first stack made, before its prep reaches an agent, and its destroy leaves the first stack's file", async function () {
        const owner = stack.engine
            .state()
            .deployment.resources.find((r) => r.type === "random:index/randomId:RandomId")!.outputs.hex;
        const before = await resourcesFiles();
        assert.ok(
            before.every((text) => text.includes(`${owner}\n`)),
            `the first stack marked its file: ${before.join("\n")}`,
        );
        const commandsBefore = resourcesFileCommands().length;
        second = new TestEngine({
            projectDir,
            project: "calico-stars",
            stack: "second",
            config: { ...sandboxStackConfig(stack.cluster), "calico-stars:probePort": "9100" },
            emulators,
        });
        await assert.rejects(second.up(), (error: Error) => {
            assert.ok(error instanceof RunError, String(error));
            // the claim and the networks have no order between them: the run stops at whichever refuses first
            assert.match(
                error.message,
                new RegExp(
                    `marathon-group-claim.*Marathon group /calico-stars holds what this stack \\(owner [0-9a-f]{8}\\) did not make: app /calico-stars/\\S+ \\(calico-stars\\.owner=${owner}\\)` +
                        `|network-\\S+ .*already exists on \\S+ and was not made by this stack \\(its calico-stars\\.owner is ${owner}, not [0-9a-f]{8}\\); refusing to take it over`,
                    "s",
                ),
            );
            assert.deepStrictEqual(
                error.result.steps.filter((step) => step.name.startsWith("agent-prep-")),
                [],
                "no agent prep step",
            );
            return true;
        });
        await second.destroy();
        // counted before the look below, which names the file itself
        assert.strictEqual(resourcesFileCommands().length, commandsBefore, "no command named the resources file");
        assert.deepStrictEqual(await resourcesFiles(), before);
        await stack.assertConverged();
    });

    it("the first stack's destroy removes its file and its mark", async function () {
        await stack.engine.destroy();
        const left = await stack.on(stack.agent, [
            "sh",
            "-c",
            'ls -A -- "$0" 2>/dev/null || true',
            path.dirname(resourcesFile),
        ]);
        assert.strictEqual(left, "");
    });
});
