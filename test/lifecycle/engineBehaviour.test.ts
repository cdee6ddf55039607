// The test engine against the fixture program, one describe per behaviour of pulumi/pulumi v3.248.0 (and of the
// plugins it stands in for) that decides what happens on a real cluster: the order of the provider calls is the
// real engine's. The sources are cited in engine/ (see engine/index.ts).
import { waitUntil } from "../../sandbox/lib/wait";
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import * as net from "net";
import { emulators, ResourceEmulator, TestEngine } from "../../engine";
import { LoopbackSshd, sshdUnavailable, startLoopbackSshd } from "../support/loopbackSshd";
import { SshAgent, sshAgentUnavailable, startSshAgent } from "../support/sshAgent";
import {
    calls,
    callsTo,
    customNames,
    fixtureEngine,
    opsByName,
    plaintext,
    runError,
    signedNote,
    stateOf,
} from "./engine/fixture/harness";

describe("lifecycle test engine, as Pulumi 3.248 runs the fixture", function () {
    this.timeout(90_000);
    let dir: string;
    const engines: TestEngine[] = [];
    const file = (name: string) => path.join(dir, name);
    const engineWith = (config: Record<string, string>, emulators?: Record<string, ResourceEmulator>) => {
        const engine = fixtureEngine(dir, emulators, config);
        engines.push(engine);
        return engine;
    };
    const stampFiles = () => fs.readdirSync(dir).filter((name) => name.startsWith("stamp-"));

    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-behaviour-"));
    });

    afterEach(async function () {
        await Promise.all(engines.splice(0).map((engine) => engine.close()));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    describe("1. a delete-before-replace pulls in the dependents it would replace", function () {
        it("deletes the stamp (deletedWith the note, all the same), then the note, creates the note, then the stamp again", async function () {
            const engine = engineWith({ withStamp: "true", stampGoesWithNote: "true" });
            await engine.up();
            const [oldStamp] = stampFiles();
            engine.setConfig("engine-fixture:noteName", "renamed.txt");
            const result = await engine.up();
            const order = calls(result, ["note", "link", "stamp"]);
            // the note's Diff says replace, delete first; the dependents are Diffed with the note's outputs unknown:
            // the link (no diff of its own: the engine compares inputs) only changes, the stamp is replaced
            assert.deepEqual(order.slice(0, 3), ["Check note", "Diff note", "Check note"]);
            assert.deepEqual(order.slice(3, 5).sort(), ["Diff link", "Diff stamp"]);
            assert.deepEqual(order.slice(5, 8), ["Delete stamp", "Delete note", "Create note"]);
            // the stamp registers again: checked without olds, created without a Diff
            assert.deepEqual(
                order.slice(8).filter((call) => call.endsWith(" stamp")),
                ["Check stamp", "Create stamp"],
            );
            assert.deepEqual(
                order.slice(8).filter((call) => call.endsWith(" link")),
                ["Check link", "Diff link", "Update link"],
            );
            assert.deepEqual(
                [opsByName(result).note, opsByName(result).stamp, opsByName(result).link],
                ["replace", "replace", "update"],
            );
            const [newStamp] = stampFiles();
            assert.ok(
                newStamp !== oldStamp && !fs.existsSync(file(oldStamp)),
                "the old stamp was deleted, not dropped",
            );
            assert.equal(fs.readFileSync(file(newStamp), "utf8"), `stamped ${file("renamed.txt")}\n`);
        });

        it("a dependent that only depends on the note (dependsOn, not an input) is not pulled in", async function () {
            const engine = engineWith(
                { withWidget: "true", widgetGoesWithNote: "true" },
                { "fixture:index:Widget": widgetEmulator([]) },
            );
            await engine.up();
            engine.setConfig("engine-fixture:noteName", "renamed.txt");
            const result = await engine.up();
            assert.deepEqual(callsTo(result, "widget"), ["Check", "Diff"]);
            assert.equal(opsByName(result).widget, "same");
        });
    });

    describe("2. destroy and refresh configure providers from the config saved at the last up", function () {
        it("keeps the default providers in the checkpoint, the dynamic one with the whole stack config, secrets encrypted", async function () {
            const engine = engineWith({});
            await engine.up();
            const provider = stateOf(engine.state(), "default");
            assert.equal(provider?.urn, "urn:pulumi:selftest::engine-fixture::pulumi:providers:pulumi-nodejs::default");
            assert.equal(provider?.inputs["engine-fixture:dir"], dir);
            assert.match(JSON.stringify(provider?.inputs["engine-fixture:signingKey"]), /"ciphertext":"v1:/);
            assert.equal(stateOf(engine.state(), "note")?.provider, `${provider?.urn}::${provider?.id}`);
        });

        it("refreshes and destroys with the signing key of the last up while the config names another, and with the new one once an up saved it", async function () {
            const engine = engineWith({});
            await engine.up();
            engine.setConfig("engine-fixture:signingKey", "rotated-key-91b0", { secret: true });
            // the note verifies its signature on Read and Delete: the key saved at the last up is the one used
            assert.equal(opsByName(await engine.refresh()).note, "same");
            await engine.up();
            assert.equal(
                plaintext(stateOf(engine.state({ showSecrets: true }), "default")?.inputs["engine-fixture:signingKey"]),
                "rotated-key-91b0",
            );
            // that up changed no note, so the note is still signed with the first key, which no longer verifies
            const refused = await runError(engine.refresh());
            assert.match(
                refused.message,
                /Read of note \(.*\) failed: .*note\.txt is not signed with the configured key/,
            );
            fs.writeFileSync(file("note.txt"), signedNote("hello", "rotated-key-91b0"));
            await engine.destroy();
            assert.deepEqual(fs.readdirSync(dir), []);
        });
    });

    describe("3. an up killed mid-run: the lock and the pending create stay until the user clears them", function () {
        it("refuses the next run until `pulumi cancel`, keeps the pending create through an up and a refresh, and drops it on refresh --clear-pending-creates", async function () {
            const engine = engineWith({ content: "hang-after-write" });
            const running = engine.up();
            running.catch(() => undefined);
            await waitUntil("the program to write note.txt", async () => fs.existsSync(file("note.txt")), {
                timeoutMs: 30_000,
                pauseMs: 50,
            });
            await engine.close();
            assert.match((await runError(running)).message, /the update was killed before it finished/);
            const pending = engine.state().deployment.pending_operations ?? [];
            assert.deepEqual(
                pending.map((op) => [op.type, op.resource.urn.split("::").pop()]),
                [["creating", "note"]],
            );
            assert.ok(!customNames(engine.state()).includes("note"));

            const locked =
                /the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\.\n {2}file:\/\/.*: created by .* \(pid \d+\) at /;
            engine.setConfig("engine-fixture:content", "hello");
            assert.match((await runError(engine.up())).message, locked);
            assert.match((await runError(engine.refresh({ clearPendingCreates: true }))).message, locked);
            // a preview takes no lock (diy backend.go: Preview does not call Lock), so it leaves the one it found
            await engine.preview();
            assert.ok(engine.locked);
            engine.cancel();

            const up = await engine.up();
            assert.ok(
                up.diagnostics.some((line) =>
                    line.includes(
                        "warning: Attempting to deploy or update resources with 1 pending operations from previous deployment.",
                    ),
                ),
            );
            assert.equal(opsByName(up).note, "create");
            assert.equal(fs.readFileSync(file("note.txt"), "utf8"), signedNote("hello"));
            // only a refresh told to (or answering an interactive prompt) clears a pending create
            assert.equal(engine.state().deployment.pending_operations?.length, 1);
            await engine.refresh();
            assert.equal(engine.state().deployment.pending_operations?.length, 1);
            await engine.refresh({ clearPendingCreates: true });
            assert.equal(engine.state().deployment.pending_operations, undefined);
            assert.ok(!engine.locked);
        });
    });

    describe("4. refresh Reads every custom resource and lets Diff decide, then drops references to what is gone", function () {
        it("reads the emulated widget too, keeps its read outputs as a same, and cleans the references to a note removed by hand", async function () {
            const engine = engineWith(
                { withWidget: "true", widgetGoesWithNote: "true", withStamp: "true" },
                {
                    "fixture:index:Widget": {
                        ...widgetEmulator([]),
                        read: async (id, outputs) => ({ id, outputs: { ...outputs, serial: "W-read" } }),
                    },
                },
            );
            await engine.up();
            fs.rmSync(file("note.txt"));
            const result = await engine.refresh();
            assert.deepEqual(callsTo(result, "widget"), ["Read", "Diff"]);
            // the widget's Diff compares inputs only: a changed output alone is no update
            assert.deepEqual([opsByName(result).widget, opsByName(result).note], ["same", "delete"]);
            const state = engine.state();
            assert.equal(stateOf(state, "widget")?.outputs.serial, "W-read");
            assert.equal(stateOf(state, "widget")?.deletedWith, undefined);
            assert.deepEqual(stateOf(state, "stamp")?.propertyDependencies, {});
            assert.deepEqual(stateOf(state, "link")?.dependencies, []);
        });
    });

    describe("5. deletes run in dependency levels, and after the first failure nothing new starts", function () {
        it("deletes the widget (nothing depends on it) only in the level after the note, which is after the link and the stamp", async function () {
            const engine = engineWith(
                { withWidget: "true", withStamp: "true" },
                { "fixture:index:Widget": widgetEmulator([]) },
            );
            await engine.up();
            const deletes = calls(await engine.destroy()).filter((call) => call.startsWith("Delete"));
            assert.deepEqual(deletes.slice(0, 2).sort(), ["Delete link", "Delete stamp"]);
            assert.deepEqual(deletes.slice(2), ["Delete note", "Delete widget"]);
        });

        it("keeps what the failed level's next levels hold, and retries a replaced resource's failed delete at the end of the next up", async function () {
            const failures: string[] = ["widget-1"];
            const engine = engineWith({ withWidget: "true" }, { "fixture:index:Widget": widgetEmulator(failures) });
            await engine.up();
            engine.setConfig("engine-fixture:widgetSize", "4");
            assert.match(
                (await runError(engine.up())).message,
                /Delete of widget \(fixture:index:Widget\) failed: widget-1 is stuck/,
            );
            const pendingDelete = engine.state().deployment.resources.filter((r) => r.urn.endsWith("::widget"));
            assert.deepEqual(
                pendingDelete.map((r) => [r.id, r.delete ?? false]),
                [
                    ["widget-2", false],
                    ["widget-1", true],
                ],
            );
            failures.splice(0);
            const retried = await engine.up();
            assert.deepEqual(calls(retried).slice(-1), ["Delete widget"]);
            assert.deepEqual(
                engine
                    .state()
                    .deployment.resources.filter((r) => r.urn.endsWith("::widget"))
                    .map((r) => r.id),
                ["widget-2"],
            );

            failures.push("widget-2");
            await runError(engine.destroy());
            // the widget's level failed: the stack and the providers of the next level were never deleted
            assert.deepEqual(
                engine
                    .state()
                    .deployment.resources.map((r) => r.urn.split("::").slice(2).join("::"))
                    .sort(),
                [
                    "fixture:index:Widget::widget",
                    "pulumi:providers:fixture::default",
                    "pulumi:providers:pulumi-nodejs::default",
                    "pulumi:pulumi:Stack::engine-fixture-selftest",
                ],
            );
        });
    });

    describe("6. @pulumi/random: keepers replace", function () {
        it("replaces the RandomId when a keeper changes, and keeps it otherwise", async function () {
            const engine = engineWith({ withRandom: "true" }, emulators);
            const first = await engine.up();
            assert.equal(opsByName(await engine.up()).salt, "same");
            engine.setConfig("engine-fixture:content", "changed");
            const replaced = await engine.up();
            const salt = replaced.steps.find((s) => s.name === "salt");
            assert.deepEqual([salt?.op, salt?.replaceKeys], ["replace", ["keepers"]]);
            assert.notEqual(replaced.outputs.saltHex, first.outputs.saltHex);
        });
    });

    describe("6. @pulumi/command v1.2.1 on a loopback sshd: its connection as the plugin makes it", function () {
        let sshd: LoopbackSshd | undefined;
        let agent: SshAgent | undefined;
        let wrongKey: string;
        const commandEngine = (connection: object, key: string | undefined) =>
            engineWith(
                {
                    remoteConnection: JSON.stringify({ host: "127.0.0.1", port: sshd!.port, ...connection }),
                    ...(key !== undefined && { remoteKey: key }),
                },
                emulators,
            );
        const key = () => fs.readFileSync(sshd!.privateKeyPath, "utf8");

        before(async function () {
            const missing = sshdUnavailable() ?? sshAgentUnavailable();
            if (missing !== undefined) {
                console.log(`      skipped: ${missing}`);
                this.skip();
            }
            sshd = await startLoopbackSshd();
            agent = await startSshAgent([sshd.privateKeyPath]);
            wrongKey = path.join(sshd.dir, "stranger");
            execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrongKey]);
        });

        after(async function () {
            await agent?.stop();
            await sshd?.stop();
        });

        it("Check fills the connection's defaults (user root, 10 dial errors, 15 s per dial) and keeps the connection secret", async function () {
            const engine = commandEngine({}, key());
            const result = await engine.up();
            assert.equal(result.outputs.remoteStdout, "created");
            const connection = plaintext<Record<string, unknown>>(
                stateOf(engine.state({ showSecrets: true }), "remote")?.inputs.connection,
            );
            assert.deepEqual(
                { ...connection, privateKey: "(key)" },
                {
                    host: "127.0.0.1",
                    port: sshd!.port,
                    user: "root",
                    dialErrorLimit: 10,
                    perDialTimeout: 15,
                    privateKey: "(key)",
                },
            );
            assert.match(JSON.stringify(stateOf(engine.state(), "remote")?.inputs.connection), /"ciphertext":"v1:/);
            assert.match(String(stateOf(engine.state(), "remote")?.id), /^remote[0-9a-f]{8}$/);
        });

        it("retries every dial error up to dialErrorLimit with a growing pause, then names the attempts and Go's error", async function () {
            const closed = await freePort();
            const engine = engineWith(
                {
                    remoteConnection: JSON.stringify({ host: "127.0.0.1", port: closed, dialErrorLimit: 2 }),
                    remoteKey: key(),
                },
                emulators,
            );
            const started = Date.now();
            const error = await runError(engine.up());
            assert.match(
                error.message,
                new RegExp(
                    `Create of remote \\(command:remote:Command\\) failed: after 2 failed attempts: dial tcp 127\\.0\\.0\\.1:${closed}: connect: connection refused`,
                ),
            );
            assert.deepEqual(
                error.result.diagnostics.filter((line) => line.includes("Dial ")).map((line) => line.split("] ")[1]),
                ["Dial 1/2 failed: retrying", "Dial 2/2 failed: retrying"],
            );
            assert.ok(Date.now() - started >= 250, "100 ms, then 150 ms between the dials");
        });

        it("retries an authentication failure too, and never offers the agent's keys after the configured one", async function () {
            const engine = commandEngine(
                { dialErrorLimit: 1, agentSocketPath: agent!.socket },
                fs.readFileSync(wrongKey, "utf8"),
            );
            const ran = sshd!.commands().length;
            const error = await runError(engine.up());
            assert.match(
                error.message,
                /failed: after 1 failed attempts: ssh: handshake failed: ssh: unable to authenticate, attempted methods \[none publickey\], no supported methods remain$/,
            );
            assert.deepEqual(
                error.result.diagnostics.filter((line) => line.includes("Dial ")).map((line) => line.split("] ")[1]),
                ["Dial 1/1 failed: retrying"],
            );
            assert.equal(sshd!.commands().length, ran, "nothing ran");
        });

        it("logs in with the agent's key when no key is given", async function () {
            const result = await commandEngine({ agentSocketPath: agent!.socket }, undefined).up();
            assert.equal(result.outputs.remoteStdout, "created");
        });

        it("dials the agent socket even when a key is given: a socket that is gone fails the run before any dial", async function () {
            const error = await runError(
                commandEngine({ agentSocketPath: path.join(sshd!.dir, "gone.sock") }, key()).up(),
            );
            assert.match(error.message, /failed: dial unix .*gone\.sock: connect: no such file or directory$/);
        });

        it("checks no host key when none is given, and refuses any other than the one given", async function () {
            assert.equal((await commandEngine({}, key()).up()).outputs.remoteStdout, "created");
            const stranger = fs.readFileSync(`${wrongKey}.pub`, "utf8").trim();
            const error = await runError(commandEngine({ hostKey: stranger, dialErrorLimit: 0 }, key()).up());
            assert.match(
                error.message,
                /failed: after 0 failed attempts: ssh: handshake failed: ssh: host key mismatch$/,
            );
            assert.equal(
                (await commandEngine({ hostKey: sshd!.hostPublicKey }, key()).up()).outputs.remoteStdout,
                "created",
            );
        });
    });

    describe("7. resource options as the step generator applies them", function () {
        it("deleteBeforeReplace: false overrides the provider's delete-before-replace: the new note first, the old one deleted at the end", async function () {
            const engine = engineWith({ noteDeleteBeforeReplace: "false" });
            await engine.up();
            fs.writeFileSync(file("checks.log"), "");
            engine.setConfig("engine-fixture:noteName", "renamed.txt");
            const result = await engine.up();
            assert.deepEqual(calls(result, ["note", "link"]), [
                "Check note",
                "Diff note",
                "Check note",
                "Create note",
                "Check link",
                "Diff link",
                "Update link",
                "Delete note",
            ]);
            // the replacement was checked a second time, without olds: in the preview the up runs first, then in the
            // update
            assert.equal(fs.readFileSync(file("checks.log"), "utf8"), "with olds\nwithout olds\n".repeat(2));
            assert.ok(!fs.existsSync(file("note.txt")) && fs.existsSync(file("renamed.txt")));
        });

        it("replaceOnChanges does nothing for a dynamic Diff that names no keys, and replaces when the engine compared the inputs", async function () {
            const engine = engineWith({
                noteReplaceOnChanges: JSON.stringify(["content"]),
                linkReplaceOnChanges: JSON.stringify(["target"]),
            });
            await engine.up();
            engine.setConfig("engine-fixture:content", "changed");
            assert.equal(opsByName(await engine.up()).note, "update");
            // the link has no diff: the engine compares inputs, so `target` is a changed key and replaceOnChanges
            // applies, also when the note's delete-before-replace asks whether the link must go first
            engine.setConfig("engine-fixture:noteName", "renamed.txt");
            const result = await engine.up();
            assert.deepEqual(calls(result, ["note", "link"]).slice(0, 7), [
                "Check note",
                "Diff note",
                "Check note",
                "Diff link",
                "Delete link",
                "Delete note",
                "Create note",
            ]);
            assert.equal(opsByName(result).link, "replace");
        });

        it("customTimeouts: kept in the checkpoint; the command's create gives up in the pause after a dial once its timeout passed", async function () {
            const closed = await freePort();
            const engine = engineWith(
                {
                    noteOptions: JSON.stringify({ customTimeouts: { create: "1m30s", delete: "500ms" } }),
                    remoteConnection: JSON.stringify({ host: "127.0.0.1", port: closed, dialErrorLimit: -1 }),
                    remoteOptions: JSON.stringify({ customTimeouts: { create: "2s" } }),
                },
                emulators,
            );
            const started = Date.now();
            const error = await runError(engine.up());
            // without the timeout, dialErrorLimit -1 retries for ever
            assert.match(
                error.message,
                /Create of remote \(command:remote:Command\) failed: context deadline exceeded$/,
            );
            assert.ok(Date.now() - started >= 2000, "not before the timeout");
            assert.ok(
                error.result.diagnostics.filter((line) => line.includes("Dial ")).length >= 3,
                error.result.diagnostics.join("\n"),
            );
            assert.deepEqual(stateOf(engine.state(), "note")?.customTimeouts, { create: 90, delete: 0.5 });
        });

        it("refuses the options it does not model, naming them, before anything is created", async function () {
            const engine = engineWith({
                noteOptions: JSON.stringify({ protect: true, retainOnDelete: true, hideDiffs: ["content"] }),
            });
            const error = await runError(engine.up());
            assert.match(
                error.message,
                /note \(pulumi-nodejs:dynamic\/fixture:Note\): the test engine does not model the resource option protect, retainOnDelete, hideDiffs; it refuses what it would otherwise ignore/,
            );
            assert.ok(!fs.existsSync(file("note.txt")));
            assert.deepEqual(customNames(engine.state()), []);
        });
    });

    describe("8. up previews first, as `pulumi up` does without --skip-preview", function () {
        it("a Check that throws on a value a preview does not know fails the up before anything is written; with --skip-preview the same up goes through", async function () {
            const engine = engineWith({ withStamp: "true", stampRefusesUnknown: "true" });
            const error = await runError(engine.up());
            assert.match(
                error.message,
                /Check of stamp \(pulumi-nodejs:dynamic\/fixture:Stamp\) failed: .*notePath is not known yet/,
            );
            assert.deepEqual(fs.readdirSync(dir), []);
            assert.deepEqual(customNames(engine.state()), []);
            assert.ok(!engine.locked, "the up's lock is released");
            const skipped = await engine.up({ skipPreview: true });
            assert.equal(opsByName(skipped).stamp, "create");
            assert.equal(stampFiles().length, 1);
        });
    });
});

/** A widget plugin: ids widget-1, widget-2...; a Delete of an id listed in `failing` fails. */
function widgetEmulator(failing: string[]): ResourceEmulator {
    let created = 0;
    return {
        create: async (inputs) => ({ id: `widget-${++created}`, outputs: { ...inputs, serial: `W-${inputs.size}` } }),
        delete: async (id) => {
            if (failing.includes(id)) {
                throw new Error(`${id} is stuck`);
            }
        },
        diff: (olds, news) => ({ changes: olds.size !== news.size, replaces: olds.size !== news.size ? ["size"] : [] }),
    };
}

function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}
