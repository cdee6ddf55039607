// The agents' prep commands, run here with /bin/sh as @pulumi/command runs them on an agent.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    agentPrepCreate,
    removeResourcesFile,
    ResourcesFilePlace,
    writeResourcesFile,
} from "../../components/agentPrep";

const asUser = { sudo: false };

function run(script: string, stdin = ""): { code: number; stderr: string } {
    const result = spawnSync("/bin/sh", ["-c", script], { input: stdin, encoding: "utf8" });
    return { code: result.status ?? -1, stderr: result.stderr };
}

describe("the resources file on an agent", function () {
    let root: string;
    let place: ResourcesFilePlace;
    const file = () => path.join(place.baseDir, place.groupPath, "calico-stars-resources.json");
    const otherStack = () => ({ ...place, ownerId: "ffffffff" });

    beforeEach(function () {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-prep-"));
        place = { baseDir: path.join(root, "calico-stars"), groupPath: "team/stars", ownerId: "0a1b2c3d" };
    });

    afterEach(function () {
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("creates the directories and writes stdin to the file, readable by all, marked with the stack's owner id, leaving no temporary file", function () {
        assert.deepStrictEqual(run(writeResourcesFile(asUser, place).script, "[1]\n"), { code: 0, stderr: "" });
        assert.strictEqual(fs.readFileSync(file(), "utf8"), "[1]\n");
        assert.strictEqual(fs.statSync(file()).mode & 0o777, 0o644);
        assert.strictEqual(fs.readFileSync(`${file()}.owner`, "utf8"), "0a1b2c3d\n");
        assert.deepStrictEqual(fs.readdirSync(path.dirname(file())).sort(), [
            "calico-stars-resources.json",
            "calico-stars-resources.json.owner",
        ]);
    });

    it("refuses a file another stack marked, leaving it as it was", function () {
        assert.strictEqual(run(writeResourcesFile(asUser, otherStack()).script, "[1]\n").code, 0);
        const result = run(writeResourcesFile(asUser, place).script, "[2]\n");
        assert.strictEqual(result.code, 3);
        assert.match(
            result.stderr,
            /refusing to write the resources file under \S+stars: calico-stars-resources\.json belongs to another stack \(owner id ffffffff in calico-stars-resources\.json\.owner\), not to this one \(0a1b2c3d\)/,
        );
        assert.deepStrictEqual(
            [fs.readFileSync(file(), "utf8"), fs.readFileSync(`${file()}.owner`, "utf8")],
            ["[1]\n", "ffffffff\n"],
        );
    });

    it("refuses a mark that is a symbolic link, reading nothing through it", function () {
        fs.mkdirSync(path.dirname(file()), { recursive: true });
        fs.writeFileSync(path.join(root, "elsewhere"), "0a1b2c3d\n");
        fs.symlinkSync(path.join(root, "elsewhere"), `${file()}.owner`);
        const result = run(writeResourcesFile(asUser, place).script, "[1]\n");
        assert.deepStrictEqual([result.code, fs.existsSync(file())], [3, false]);
        assert.match(result.stderr, /belongs to another stack \(owner id \? in/);
    });

    it("takes over a file without a mark, which a version before marks wrote", function () {
        fs.mkdirSync(path.dirname(file()), { recursive: true });
        fs.writeFileSync(file(), "[0]\n");
        assert.strictEqual(run(writeResourcesFile(asUser, place).script, "[1]\n").code, 0);
        assert.deepStrictEqual(
            [fs.readFileSync(file(), "utf8"), fs.readFileSync(`${file()}.owner`, "utf8")],
            ["[1]\n", "0a1b2c3d\n"],
        );
    });

    it("leaves another stack's file on delete, saying so, and succeeds", function () {
        run(writeResourcesFile(asUser, otherStack()).script, "[1]\n");
        const result = run(removeResourcesFile(asUser, place).script);
        assert.strictEqual(result.code, 0);
        assert.match(
            result.stderr,
            /leaving \S+calico-stars-resources\.json: it belongs to another stack \(owner id ffffffff\)/,
        );
        assert.deepStrictEqual(
            [fs.readFileSync(file(), "utf8"), fs.readFileSync(`${file()}.owner`, "utf8")],
            ["[1]\n", "ffffffff\n"],
        );
    });

    it("replaces the file by a rename, so a reader never sees half of it", function () {
        run(writeResourcesFile(asUser, place).script, "[1]\n");
        const before = fs.statSync(file()).ino;
        assert.strictEqual(run(writeResourcesFile(asUser, place).script, "[2]\n").code, 0);
        assert.deepStrictEqual([fs.readFileSync(file(), "utf8"), fs.statSync(file()).ino !== before], ["[2]\n", true]);
    });

    it("refuses a resources directory that is a symbolic link, writing nothing through it", function () {
        const elsewhere = path.join(root, "elsewhere");
        fs.mkdirSync(elsewhere);
        fs.symlinkSync(elsewhere, place.baseDir);
        const result = run(writeResourcesFile(asUser, place).script, "[1]\n");
        assert.strictEqual(result.code, 3);
        assert.match(
            result.stderr,
            /refusing to write the resources file under .*calico-stars: it is a symbolic link or not a directory/,
        );
        assert.deepStrictEqual(fs.readdirSync(elsewhere), []);
    });

    it("refuses a group directory that is a symbolic link", function () {
        fs.mkdirSync(path.join(place.baseDir, "team"), { recursive: true });
        fs.symlinkSync(root, path.join(place.baseDir, "team", "stars"));
        assert.strictEqual(run(writeResourcesFile(asUser, place).script, "[1]\n").code, 3);
        assert.ok(!fs.existsSync(path.join(root, "calico-stars-resources.json")));
    });

    it("refuses a directory others may write to", function () {
        fs.mkdirSync(place.baseDir);
        fs.chmodSync(place.baseDir, 0o777);
        const result = run(writeResourcesFile(asUser, place).script, "[1]\n");
        assert.deepStrictEqual([result.code, /others may write to it \(drwxrwxrwx/.test(result.stderr)], [3, true]);
    });

    it("refuses a directory another user owns", function () {
        if (process.getuid?.() !== 0) {
            console.log("      skipped: needs root to give a directory to another user (CI runs as root)");
            this.skip();
        }
        fs.mkdirSync(place.baseDir);
        fs.chownSync(place.baseDir, 65534, 65534);
        const result = run(writeResourcesFile(asUser, place).script, "[1]\n");
        assert.deepStrictEqual([result.code, /it belongs to uid 65534, not 0/.test(result.stderr)], [3, true]);
    });

    it("removes the file and its mark on delete, and deleting again succeeds", function () {
        run(writeResourcesFile(asUser, place).script, "[1]\n");
        assert.strictEqual(run(removeResourcesFile(asUser, place).script).code, 0);
        assert.strictEqual(run(removeResourcesFile(asUser, place).script).code, 0);
        assert.deepStrictEqual(fs.readdirSync(path.dirname(file())), []);
    });

    it("removes a file without a mark on delete, as a version before marks did", function () {
        fs.mkdirSync(path.dirname(file()), { recursive: true });
        fs.writeFileSync(file(), "[0]\n");
        assert.strictEqual(run(removeResourcesFile(asUser, place).script).code, 0);
        assert.ok(!fs.existsSync(file()));
    });

    it("writes and removes with sudo -n on hosts that need it, as every other command does", function () {
        assert.match(writeResourcesFile({ sudo: true }, place).script, /^sudo -n sh -c /);
        assert.match(removeResourcesFile({ sudo: true }, place).script, /^sudo -n sh -c /);
        assert.match(
            agentPrepCreate({ sudo: true }, "djosborne/star:v0.5.0", place).script,
            /^sudo -n docker inspect --type=image djosborne\/star:v0\.5\.0 >\/dev\/null 2>&1 \|\| sudo -n docker pull djosborne\/star:v0\.5\.0 && sudo -n sh -c /,
        );
    });
});
