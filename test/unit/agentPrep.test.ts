// The agents' prep commands, run here with /bin/sh as @pulumi/command runs them on an agent.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { agentPrepCreate, removeResourcesFile, writeResourcesFile } from "../../components/agentPrep";

const asUser = { sudo: false };

function run(script: string, stdin = ""): { code: number; stderr: string } {
    const result = spawnSync("/bin/sh", ["-c", script], { input: stdin, encoding: "utf8" });
    return { code: result.status ?? -1, stderr: result.stderr };
}

describe("the resources file on an agent", function () {
    let root: string;
    let place: { baseDir: string; groupPath: string };
    const file = () => path.join(place.baseDir, place.groupPath, "calico-stars-resources.json");

    beforeEach(function () {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-prep-"));
        place = { baseDir: path.join(root, "calico-stars"), groupPath: "team/stars" };
    });

    afterEach(function () {
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("creates the directories and writes stdin to the file, readable by all, leaving no temporary file", function () {
        assert.deepStrictEqual(run(writeResourcesFile(asUser, place).script, "[1]\n"), { code: 0, stderr: "" });
        assert.strictEqual(fs.readFileSync(file(), "utf8"), "[1]\n");
        assert.strictEqual(fs.statSync(file()).mode & 0o777, 0o644);
        assert.deepStrictEqual(fs.readdirSync(path.dirname(file())), ["calico-stars-resources.json"]);
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

    it("removes the file on delete, and deleting again succeeds", function () {
        run(writeResourcesFile(asUser, place).script, "[1]\n");
        assert.strictEqual(run(removeResourcesFile(asUser, place).script).code, 0);
        assert.strictEqual(run(removeResourcesFile(asUser, place).script).code, 0);
        assert.ok(!fs.existsSync(file()));
    });

    it("writes and removes with sudo -n on hosts that need it, as every other command does", function () {
        assert.match(writeResourcesFile({ sudo: true }, place).script, /^sudo -n sh -c /);
        assert.match(removeResourcesFile({ sudo: true }, place).script, /^sudo -n rm -f -- /);
        assert.match(
            agentPrepCreate({ sudo: true }, "djosborne/star:v0.5.0", place).script,
            /^sudo -n docker inspect --type=image djosborne\/star:v0\.5\.0 >\/dev\/null 2>&1 \|\| sudo -n docker pull djosborne\/star:v0\.5\.0 && sudo -n sh -c /,
        );
    });
});
