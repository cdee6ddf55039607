import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    acceptedHostKey,
    command,
    commandLine,
    expandHome,
    joined,
    privileged,
    quote,
    sh,
} from "@calico-stars/providers/ssh";

/** What /bin/sh makes of a command line: the argv it would run, one per line. */
function argvAfterShell(line: string): string[] {
    const out = execFileSync("/bin/sh", ["-c", `for a in ${line.replace(/^\S+/, "")}; do printf '%s\\0' "$a"; done`], {
        encoding: "utf8",
    });
    return out.split("\0").slice(0, -1);
}

const hostile = [
    "$(touch /tmp/pwned)",
    "`id`",
    "a;b",
    "a && b",
    "a | b",
    "'",
    '"',
    "it's",
    "x\ny",
    "--at=1",
    "-rf",
    "*",
    "~root",
    "$HOME",
    "${IFS}",
    "a\\b",
    "#comment",
    "!",
    "{a,b}",
    "a b",
    "",
    "\t",
    "<in",
    ">out",
    "2>&1",
];

describe("command quoting", function () {
    it("leaves plain words as they are", function () {
        assert.strictEqual(
            commandLine(["docker", "network", "create", "--subnet=192.168.0.0/16", "management-ui"]),
            "docker network create --subnet=192.168.0.0/16 management-ui",
        );
    });

    for (const text of hostile) {
        it(`keeps ${JSON.stringify(text)} one inert argument`, function () {
            assert.deepStrictEqual(argvAfterShell(commandLine(["echo", text, "end"])), [text, "end"]);
        });
    }

    it("refuses a NUL byte, which no shell word can carry", function () {
        assert.throws(() => quote("a\0b"), /NUL/);
    });

    it("refuses an empty command", function () {
        assert.throws(() => commandLine([]), /empty command/);
    });

    for (const text of hostile) {
        it(`keeps ${JSON.stringify(text)} one inert word when a script template interpolates it`, function () {
            const script = sh`printf '%s\\n' ${text} && ${command(["printf", "%s\\n", text])}`;
            assert.deepStrictEqual(
                execFileSync("/bin/sh", ["-c", script.script], { encoding: "utf8" }),
                `${text}\n${text}\n`,
            );
        });
    }

    it("puts a built script into a template as it is, and joins scripts with one operator", function () {
        const check = command(["test", "-e", "/x y"]);
        assert.strictEqual(
            sh`if ${check}; then rm -f ${"/x y"}; fi`.script,
            "if test -e '/x y'; then rm -f '/x y'; fi",
        );
        assert.strictEqual(joined([command(["a"]), command(["b c"])], "&&").script, "a && 'b c'");
    });

    it("adds sudo -n only for hosts that need it", function () {
        const host = { address: "h", port: 22, user: "u", sudo: false };
        assert.deepStrictEqual(privileged(host, ["iptables", "-S"]), ["iptables", "-S"]);
        assert.deepStrictEqual(privileged({ ...host, sudo: true }, ["iptables", "-S"]), [
            "sudo",
            "-n",
            "iptables",
            "-S",
        ]);
    });
});

describe("home-relative paths", function () {
    let home: string;
    let savedHome: string | undefined;

    beforeEach(function () {
        savedHome = process.env.HOME;
        home = fs.mkdtempSync(path.join(os.tmpdir(), "calico-stars-home-"));
        process.env.HOME = home;
    });

    afterEach(function () {
        process.env.HOME = savedHome;
        fs.rmSync(home, { recursive: true, force: true });
    });

    it("reads ~/ as the home directory, and leaves ~user and other paths alone", function () {
        assert.deepStrictEqual(
            [expandHome("~/.ssh/known_hosts"), expandHome("~"), expandHome("~root/x"), expandHome("/etc/x")],
            [`${home}/.ssh/known_hosts`, home, "~root/x", "/etc/x"],
        );
    });

    it("finds a host's key in a known_hosts file named ~/...", function () {
        fs.mkdirSync(path.join(home, ".ssh"));
        fs.writeFileSync(
            path.join(home, ".ssh", "known_hosts"),
            "10.197.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEk0\n",
        );
        assert.deepStrictEqual(
            acceptedHostKey(
                { hostKeys: {}, knownHostsPath: "~/.ssh/known_hosts" },
                { address: "10.197.0.11", port: 22 },
            ),
            { key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEk0" },
        );
    });
});
