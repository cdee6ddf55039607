// The lifecycle test engine, proven on its own fixture program (test/lifecycle/engine/fixture):
// a component holding a signed note file and a link file that depends on the note's path.
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ResourceEmulator, TestEngine } from "../../engine";
import {
    callsTo,
    fixtureEngine,
    opsByName,
    owner,
    runError,
    signedNote,
    signingKey,
    writes,
} from "./engine/fixture/harness";

describe("lifecycle test engine: a stack's life on the fixture", function () {
    // Each run starts two Node processes; on a loaded machine one can take several seconds.
    this.timeout(60_000);
    let dir: string;
    let engine: TestEngine;
    const file = (name: string) => path.join(dir, name);

    before(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-selftest-"));
        engine = fixtureEngine(dir);
    });

    after(async function () {
        await engine.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("up from an empty stack creates the stack, the component and both files", async function () {
        const result = await engine.up();
        assert.deepEqual(opsByName(result), {
            "engine-fixture-selftest": "create",
            bundle: "create",
            note: "create",
            link: "create",
        });
        assert.equal(fs.readFileSync(file("link.txt"), "utf8"), `-> ${file("note.txt")}\n`);
        assert.deepEqual(result.outputs, {
            noteId: file("note.txt"),
            notePath: file("note.txt"),
            linkPath: file("link.txt"),
        });
        const link = engine.state().deployment.resources.find((r) => r.urn.endsWith("::link"));
        assert.equal(
            link?.urn,
            "urn:pulumi:selftest::engine-fixture::fixture:index:Bundle$pulumi-nodejs:dynamic/fixture:Link::link",
        );
        assert.deepEqual(link?.dependencies, [
            "urn:pulumi:selftest::engine-fixture::fixture:index:Bundle$pulumi-nodejs:dynamic/fixture:Note::note",
        ]);
    });

    it("keeps secrets out of the exported state while providers get them in plain text", function () {
        const text = engine.stateText();
        assert.ok(!text.includes(signingKey), "the signing key (provider config) leaked into state");
        assert.ok(!text.includes(owner), "the owner (a secret input) leaked into state");
        const note = engine.state().deployment.resources.find((r) => r.urn.endsWith("::note"));
        assert.match(JSON.stringify(note?.outputs.owner), /"ciphertext":"v1:/);
        // configure(req) received the secret signing key: the file is signed with it.
        const digest = crypto.createHmac("sha256", signingKey).update("hello").digest("hex");
        assert.equal(note?.outputs.digest, digest);
        assert.equal(fs.readFileSync(file("note.txt"), "utf8"), `hello\n--signed ${digest}\n`);
    });

    it("a second up is all same, with Check and Diff but no Create, Update or Delete", async function () {
        const result = await engine.up();
        assert.deepEqual(new Set(result.steps.map((s) => s.op)), new Set(["same"]));
        assert.deepEqual(
            result.rpcCalls.filter((c) => writes.includes(c.method)),
            [],
        );
        assert.deepEqual(callsTo(result, "note"), ["Check", "Diff"]);
    });

    it("preview of a changed input shows the update (the link's target unknown) and writes nothing", async function () {
        const before = engine.stateText();
        const noteBefore = fs.readFileSync(file("note.txt"), "utf8");
        engine.setConfig("engine-fixture:content", "changed");
        const result = await engine.preview();
        const note = result.steps.find((s) => s.name === "note");
        const link = result.steps.find((s) => s.name === "link");
        assert.deepEqual([note?.op, note?.diffKeys], ["update", ["content"]]);
        // The note's path is not an input, so in preview it is unknown and reaches the link as the sentinel (and so
        // is the link's); the note's ID is the old one, which an update keeps even in a preview (step.go,
        // UpdateStep.Apply).
        assert.deepEqual([link?.op, link?.diffKeys], ["update", ["target"]]);
        assert.deepEqual(result.outputs, {
            noteId: file("note.txt"),
            notePath: pulumi.runtime.unknownValue,
            linkPath: pulumi.runtime.unknownValue,
        });
        assert.deepEqual(
            result.rpcCalls.filter((c) => !["Configure", "Check", "Diff"].includes(c.method)),
            [],
        );
        assert.equal(fs.readFileSync(file("note.txt"), "utf8"), noteBefore);
        assert.equal(engine.stateText(), before);
    });

    it("up applies the change: the note is updated, the link stays the same", async function () {
        const result = await engine.up();
        assert.equal(opsByName(result).note, "update");
        assert.equal(opsByName(result).link, "same");
        assert.match(fs.readFileSync(file("note.txt"), "utf8"), /^changed\n--signed /);
    });

    it("a change to a replace key replaces the note, deleting it before creating it", async function () {
        engine.setConfig("engine-fixture:noteName", "renamed.txt");
        const result = await engine.up();
        const note = result.steps.find((s) => s.name === "note");
        assert.deepEqual([note?.op, note?.replaceKeys], ["replace", ["name"]]);
        // a replacement is checked again without its olds before the old note goes
        assert.deepEqual(callsTo(result, "note"), ["Check", "Diff", "Check", "Delete", "Create"]);
        assert.equal(opsByName(result).link, "update");
        assert.ok(!fs.existsSync(file("note.txt")));
        assert.equal(fs.readFileSync(file("link.txt"), "utf8"), `-> ${file("renamed.txt")}\n`);
    });

    it("refresh reports a file edited by hand as an update and takes its content", async function () {
        fs.writeFileSync(file("renamed.txt"), signedNote("edited by hand"));
        const result = await engine.refresh();
        const note = result.steps.find((s) => s.name === "note");
        assert.deepEqual([note?.op, note?.diffKeys], ["update", ["content"]]);
        assert.equal(opsByName(result).link, "same");
        // each resource is Read, then Diffed (refreshed state as olds, old inputs as news) to decide the step
        assert.deepEqual([...callsTo(result, "note"), ...callsTo(result, "link")], ["Read", "Diff", "Read", "Diff"]);
        const stored = engine.state().deployment.resources.find((r) => r.urn.endsWith("::note"));
        assert.equal(stored?.outputs.content, "edited by hand");
    });

    it("refresh reports a file deleted by hand as a delete and drops it from state", async function () {
        fs.rmSync(file("renamed.txt"));
        const result = await engine.refresh();
        assert.equal(opsByName(result).note, "delete");
        assert.ok(!engine.state().deployment.resources.some((r) => r.urn.endsWith("::note")));
    });

    it("the next up creates the deleted file again", async function () {
        const result = await engine.up();
        assert.equal(opsByName(result).note, "create");
        assert.equal(opsByName(result).link, "same");
        assert.ok(fs.existsSync(file("renamed.txt")));
    });

    it("destroy deletes everything, dependents first, and leaves an empty state", async function () {
        const result = await engine.destroy();
        assert.deepEqual(
            result.steps.map((s) => [s.op, s.name]),
            [
                ["delete", "link"],
                ["delete", "note"],
                ["delete", "bundle"],
                ["delete", "engine-fixture-selftest"],
            ],
        );
        assert.deepEqual(fs.readdirSync(dir), []);
        assert.deepEqual(engine.state().deployment.resources, []);
    });
});

describe("lifecycle test engine: failures and emulated resources", function () {
    this.timeout(60_000);
    let dir: string;
    const engines: TestEngine[] = [];

    function engineWith(config: Record<string, string>, emulators?: Record<string, ResourceEmulator>): TestEngine {
        const engine = fixtureEngine(dir, emulators);
        Object.entries(config).forEach(([key, value]) => engine.setConfig(`engine-fixture:${key}`, value));
        engines.push(engine);
        return engine;
    }

    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-selftest-"));
    });

    afterEach(async function () {
        await Promise.all(engines.splice(0).map((engine) => engine.close()));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a Check failure fails the run, naming the resource and the property, and creates nothing", async function () {
        const engine = engineWith({ noteName: "bad/name" });
        const error = await runError(engine.up());
        assert.match(
            error.message,
            /Check of note \(pulumi-nodejs:dynamic\/fixture:Note\) failed: property "name": must be a plain file name/,
        );
        assert.deepEqual(
            error.result.rpcCalls.filter((c) => writes.includes(c.method)),
            [],
        );
        assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("a resource type without an emulator fails the run, naming the type", async function () {
        const engine = engineWith({ withWidget: "true" });
        const error = await runError(engine.up());
        assert.match(error.message, /no emulator for resource type "fixture:index:Widget" \(resource widget\)/);
    });

    it("an emulated resource is created, replaced (create before delete) and deleted when no longer declared", async function () {
        const calls: string[] = [];
        let created = 0;
        const widgetEmulator: ResourceEmulator = {
            create: async (inputs) => {
                const id = `widget-${++created}`;
                calls.push(`create ${id}`);
                return { id, outputs: { ...inputs, serial: `W-${inputs.size}` } };
            },
            delete: async (id) => {
                calls.push(`delete ${id}`);
            },
            diff: (olds, news) => ({
                changes: olds.size !== news.size,
                replaces: olds.size !== news.size ? ["size"] : [],
            }),
        };
        const engine = engineWith({ withWidget: "true" }, { "fixture:index:Widget": widgetEmulator });
        const up = await engine.up();
        assert.equal(opsByName(up).widget, "create");
        assert.equal(up.outputs.widgetSerial, "W-3");

        engine.setConfig("engine-fixture:widgetSize", "4");
        const replaced = await engine.up();
        const widget = replaced.steps.find((s) => s.name === "widget");
        assert.deepEqual([widget?.op, widget?.replaceKeys], ["replace", ["size"]]);
        assert.deepEqual(calls, ["create widget-1", "create widget-2", "delete widget-1"]);
        assert.equal(replaced.outputs.widgetSerial, "W-4");

        engine.setConfig("engine-fixture:withWidget", "false");
        const preview = await engine.preview();
        assert.equal(opsByName(preview).widget, "delete");
        assert.equal(calls.length, 3, "preview must not delete");
        const removed = await engine.up();
        assert.equal(opsByName(removed).widget, "delete");
        assert.deepEqual(calls.slice(3), ["delete widget-2"]);
        assert.ok(!engine.state().deployment.resources.some((r) => r.urn.endsWith("::widget")));
    });

    it("deletedWith: destroy drops the widget without a Delete since the note goes too; removed alone, it is deleted", async function () {
        const calls: string[] = [];
        const widgetEmulator: ResourceEmulator = {
            create: async (inputs) => ({ id: `widget-${calls.push("create")}`, outputs: { ...inputs, serial: "W" } }),
            delete: async (id) => {
                calls.push(`delete ${id}`);
            },
        };
        const engine = engineWith(
            { withWidget: "true", widgetGoesWithNote: "true" },
            { "fixture:index:Widget": widgetEmulator },
        );
        await engine.up();
        const destroyed = await engine.destroy();
        assert.equal(opsByName(destroyed).widget, "delete");
        assert.deepEqual(calls, ["create"]);
        assert.deepEqual(callsTo(destroyed, "note"), ["Delete"]);
        assert.deepEqual(engine.state().deployment.resources, []);

        await engine.up();
        engine.setConfig("engine-fixture:withWidget", "false");
        const removed = await engine.up();
        assert.equal(opsByName(removed).widget, "delete");
        assert.deepEqual(calls, ["create", "create", "delete widget-2"]);
    });

    it("a Create that fails after creating keeps the resource in state with its id, fails the run, and the next up retries it", async function () {
        const engine = engineWith({ content: "fail-after-create" });
        const error = await runError(engine.up());
        assert.match(
            error.message,
            /Create of note \(pulumi-nodejs:dynamic\/fixture:Note\) failed: note written but never became readable/,
        );
        const resources = engine.state().deployment.resources;
        const note = resources.find((r) => r.urn.endsWith("::note"));
        assert.deepEqual([note?.id, note?.initErrors], [path.join(dir, "note.txt"), ["unreadable"]]);
        assert.ok(
            !resources.some((r) => r.urn.endsWith("::link")),
            "the link depends on the note and must not be created",
        );

        const retry = await engine.up();
        assert.deepEqual([opsByName(retry).note, opsByName(retry).link], ["update", "create"]);
        const retried = engine.state().deployment.resources.find((r) => r.urn.endsWith("::note"));
        assert.equal(retried?.initErrors, undefined);
    });
});
