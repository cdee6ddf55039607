// The program logs in as the reference cluster's hosts are logged into: vagrant, with `sudo: true`. Here the
// sandbox (vagrant as on the centos/7 boxes) is strict enough to catch a privileged command that forgot its
// `sudo -n`, and every command the program ran through a whole lifecycle is read back from the hosts' audit logs
// and checked for it; and a change of how the program logs in previews as no replacement. Run by the test engine;
// needs root and the sandbox, and skips, saying so, without.
import * as assert from "assert";
import * as path from "path";
import { runbookPolicy } from "../../components/config";
import { agentPrepCreate } from "../../components/agentPrep";
import { providers } from "@calico-stars/providers";
import { runCommand } from "@calico-stars/providers/ssh";
import { StackRun } from "../../engine";
import { oneRuleChange, profiles, programHostOf, SandboxStack } from "../../scripts/sandboxStack";
import { startStackOrSkip } from "../support/sandboxStack";

/** Programs that need root on the reference hosts (docker does too for the program, whose `sudo` covers it). */
const privilegedPrograms = new Set(["docker", "calicoctl", "iptables", "iptables-save", "iptables-restore"]);
/** Where root owns the path on the reference hosts: the resources directory is made with sudo, so it is root's too. */
const rootOwnedPath = /^\/(etc|usr|var\/lib|run|root|var\/tmp\/calico-stars)(\/|$)/;
/** Words that start or join compound commands rather than name a program. */
const reservedWords = new Set(["if", "then", "else", "elif", "fi", "while", "until", "do", "done", "!", "{", "}"]);

interface SimpleCommand {
    /** The words, quotes removed, without redirections. */
    argv: string[];
    /** Where its redirections point. */
    redirections: string[];
}

/**
 * The simple commands of a POSIX shell text, as the program writes its commands: words in single or double
 * quotes or with backslash escapes, joined by `&&`, `||`, `;`, `|`, `&`, newlines and grouping, with redirections
 * (`2>/dev/null`, `>&2`); a `$(...)` outside quotes reads as the commands inside it. Throws on an unbalanced quote
 * and on a command substitution it would not see into (in double quotes, or backquoted), so that no command
 * escapes the reading.
 */
export function simpleCommands(text: string): SimpleCommand[] {
    const commands: SimpleCommand[] = [];
    let current: SimpleCommand = { argv: [], redirections: [] };
    let word: string | undefined;
    let redirecting = false;
    const endWord = () => {
        if (word !== undefined) {
            if (redirecting) {
                current.redirections.push(word);
                redirecting = false;
            } else if (!(current.argv.length === 0 && reservedWords.has(word))) {
                current.argv.push(word);
            }
        }
        word = undefined;
    };
    const endCommand = () => {
        endWord();
        if (current.argv.length > 0) {
            commands.push(current);
        }
        current = { argv: [], redirections: [] };
    };
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === "'") {
            const end = text.indexOf("'", i + 1);
            if (end === -1) {
                throw new Error(`unbalanced ' in: ${text}`);
            }
            word = (word ?? "") + text.slice(i + 1, end);
            i = end;
        } else if (c === '"') {
            let value = "";
            for (i++; i < text.length && text[i] !== '"'; i++) {
                if (text.startsWith("$(", i) || text[i] === "`") {
                    throw new Error(
                        `a command substitution inside double quotes, which this reading does not follow, in: ${text}`,
                    );
                }
                value += text[i] === "\\" && '$`"\\\n'.includes(text[i + 1]) ? text[++i] : text[i];
            }
            if (i >= text.length) {
                throw new Error(`unbalanced " in: ${text}`);
            }
            word = (word ?? "") + value;
        } else if (c === "`") {
            throw new Error(`a backquoted command substitution, which this reading does not follow, in: ${text}`);
        } else if (c === "\\") {
            word = (word ?? "") + (text[++i] ?? "");
        } else if (c === " " || c === "\t") {
            endWord();
        } else if ("\n;&|()".includes(c)) {
            endCommand();
        } else if (c === ">" || c === "<") {
            // a descriptor number before it belongs to the redirection, not to the command
            if (word !== undefined && /^\d+$/.test(word)) {
                word = undefined;
            }
            endWord();
            while (text[i + 1] === ">" || text[i + 1] === "&") {
                i++;
            }
            redirecting = true;
        } else {
            word = (word ?? "") + c;
        }
    }
    endCommand();
    return commands;
}

/** The program that runs, past `sudo -n` and `env VAR=value`. */
function programOf(argv: string[]): string {
    let rest = argv[0] === "sudo" ? argv.slice(argv[1] === "-n" ? 2 : 1) : argv;
    if (rest[0] === "env") {
        rest = rest.slice(1);
        while (rest.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0])) {
            rest = rest.slice(1);
        }
    }
    return path.basename(rest[0] ?? "");
}

/**
 * Whether a command needs root on the reference hosts: a privileged program, or a root-owned path in its words or
 * redirections.
 */
function needsRoot(command: SimpleCommand): boolean {
    return (
        privilegedPrograms.has(programOf(command.argv)) ||
        [...command.argv, ...command.redirections].some((word) => rootOwnedPath.test(word))
    );
}

describe("simple commands of the program's shell text (the reading the sudo check relies on)", function () {
    it("reads words, quotes, escapes, operators and redirections", function () {
        const text =
            `{ sudo -n iptables -t nat -C PREROUTING -m comment --comment 'calico-stars:ab cd' 2>/dev/null || sudo -n iptables -A x; } && ` +
            `sudo -n env ETCD_AUTHORITY=10.197.0.11:2379 calicoctl profile "a \\"b\\"" rule json >&2; if test -e /etc/x; then rm -f /var/tmp/calico-stars/f; fi\ncat a\\ b | wc -l`;
        assert.deepStrictEqual(simpleCommands(text), [
            {
                argv: [
                    "sudo",
                    "-n",
                    "iptables",
                    "-t",
                    "nat",
                    "-C",
                    "PREROUTING",
                    "-m",
                    "comment",
                    "--comment",
                    "calico-stars:ab cd",
                ],
                redirections: ["/dev/null"],
            },
            { argv: ["sudo", "-n", "iptables", "-A", "x"], redirections: [] },
            {
                argv: [
                    "sudo",
                    "-n",
                    "env",
                    "ETCD_AUTHORITY=10.197.0.11:2379",
                    "calicoctl",
                    "profile",
                    'a "b"',
                    "rule",
                    "json",
                ],
                redirections: ["2"],
            },
            { argv: ["test", "-e", "/etc/x"], redirections: [] },
            { argv: ["rm", "-f", "/var/tmp/calico-stars/f"], redirections: [] },
            { argv: ["cat", "a b"], redirections: [] },
            { argv: ["wc", "-l"], redirections: [] },
        ]);
    });

    it("tells what needs root, past sudo and env", function () {
        const verdicts = [
            "sudo -n docker network ls",
            "docker network ls",
            "sudo -n env A=1 calicoctl profile x rule json",
            "cat /etc/hostname",
            "echo x >/var/tmp/calico-stars/f",
            "echo x >/tmp/f",
            "true",
        ].map((text) => needsRoot(simpleCommands(text)[0]));
        assert.deepStrictEqual(verdicts, [true, true, true, true, true, false, false]);
        assert.strictEqual(programOf(["sudo", "-n", "env", "A=1", "B=2", "/usr/bin/calicoctl"]), "calicoctl");
    });

    it("reads into a $(...) outside quotes, and refuses what it cannot read: an unbalanced quote, a substitution in double quotes or backquotes", function () {
        assert.deepStrictEqual(
            simpleCommands(
                "if found=$(sudo -n docker network inspect x 2>/dev/null); then printf '%s' \"$found\"; fi",
            ).map((c) => c.argv),
            [["found=$"], ["sudo", "-n", "docker", "network", "inspect", "x"], ["printf", "%s", "$found"]],
        );
        assert.throws(() => simpleCommands("echo 'open"), /unbalanced ' in: echo 'open/);
        assert.throws(() => simpleCommands('echo "$(docker ps)"'), /a command substitution inside double quotes/);
        assert.throws(() => simpleCommands("echo `docker ps`"), /a backquoted command substitution/);
    });
});

describe("the program as vagrant with sudo on the sandbox, as on the reference cluster", function () {
    this.timeout(300000);
    let stack: SandboxStack;

    before(async function () {
        stack = await startStackOrSkip(this);
    });

    after(async function () {
        await stack?.close();
    });

    it("up, no-op up, a policy change and destroy: every command that needs root ran under `sudo -n`", async function () {
        assert.deepStrictEqual([stack.cluster.master.user, stack.cluster.sudo], ["vagrant", true]);
        const before = new Set(stack.auditEntries());
        await stack.driver.up();
        await stack.assertConverged(runbookPolicy);
        await stack.driver.up();
        await stack.driver.setConfig("calico-stars:policy", JSON.stringify(oneRuleChange));
        await stack.driver.up();
        await stack.assertConverged(oneRuleChange);
        await stack.driver.destroy();
        // the tests look at the hosts as root; the program's sessions are vagrant's
        const ran = stack
            .auditEntries()
            .filter((line) => !before.has(line))
            .map((line) => JSON.parse(line) as { host: string; user: string; command: string })
            .filter((entry) => entry.user === "vagrant");
        const commands = ran.flatMap((entry) =>
            simpleCommands(entry.command).map((command) => ({ ...command, host: entry.host, text: entry.command })),
        );
        const programs = new Set(
            commands.filter((command) => command.argv[0] === "sudo").map((command) => programOf(command.argv)),
        );
        // not vacuous: each kind of privileged command the program has did run, under sudo
        for (const program of ["docker", "calicoctl", "iptables", "sh"]) {
            assert.ok(programs.has(program), `no \`sudo -n ${program}\` ran: ${[...programs].join(", ")}`);
        }
        // the resources file's write and its removal are each a script for `sudo -n sh -c`
        const sudoScripts = commands
            .filter((command) => command.argv[0] === "sudo" && programOf(command.argv) === "sh")
            .map((command) => command.argv.join(" "));
        for (const step of ['mv -f -- "$tmp" "$dir/$name"', 'rm -f -- "$1/$2" "$1/$2.owner"']) {
            assert.ok(
                sudoScripts.some((script) => script.includes(step)),
                `no \`sudo -n sh -c\` script ran \`${step}\``,
            );
        }
        const unprivileged = commands.filter(
            (command) => needsRoot(command) && !(command.argv[0] === "sudo" && command.argv[1] === "-n"),
        );
        assert.deepStrictEqual(
            unprivileged.map((command) => `${command.host}: ${command.argv.join(" ")} (in: ${command.text})`),
            [],
        );
    });

    it("connection settings are no identity: sudo true -> false, or the master's user and port, preview as updates, with no replacement", async function () {
        await stack.driver.up();
        const master = stack.cluster.master;
        const changes = (run: StackRun) =>
            run.steps
                .filter((step) => step.op !== "same")
                .map((step) => [step.op, step.name])
                .sort();
        const previewWith = async (key: string, value: string, restored: string) => {
            await stack.driver.setConfig(`calico-stars:${key}`, value);
            try {
                return changes(await stack.driver.preview());
            } finally {
                await stack.driver.setConfig(`calico-stars:${key}`, restored);
            }
        };
        // every resource that logs in somewhere runs its commands differently, and nothing is replaced
        assert.deepStrictEqual(
            await previewWith("sudo", "false", "true"),
            [
                ...profiles.flatMap((profile) => [`network-${profile}`, `profile-${profile}`]),
                "marathon-group",
                "marathon-group-claim",
                `dnat-${master.address}`,
                ...stack.cluster.agents.map((agent) => `agent-prep-${agent.address}`),
            ]
                .map((name) => ["update", name])
                .sort(),
        );
        const masterEndpoint = { address: master.address, port: master.port, user: master.user };
        assert.deepStrictEqual(
            await previewWith(
                "master",
                JSON.stringify({ ...masterEndpoint, port: master.port + 1, user: "root" }),
                JSON.stringify(masterEndpoint),
            ),
            [
                ["update", `dnat-${master.address}`],
                ["update", "marathon-group"],
                ["update", "marathon-group-claim"],
            ],
        );
        const unchanged = await stack.driver.preview();
        assert.deepStrictEqual(changes(unchanged), [], "the config is as it was");
    });

    it("a program command without sudo fails as vagrant: the DNAT rules' iptables, and the resources file in the directory root made", async function () {
        await stack.driver.up();
        const master = programHostOf(stack.cluster, stack.cluster.master);
        const agent = programHostOf(stack.cluster, stack.cluster.agents[0]);
        const dnat = stack.engine
            .state()
            .deployment.resources.find((resource) => resource.type.endsWith("IptablesDnat"));
        assert.ok(dnat, "the stack has its DNAT rules");
        const forgetful = { ...master, sudo: false };
        await assert.rejects(
            providers.IptablesDnat.create({ ...dnat.inputs, host: forgetful } as never),
            /iptables: not found/,
        );
        const place = {
            baseDir: "/var/tmp/calico-stars",
            groupPath: "calico-stars",
            ownerId: String(dnat.inputs.ownerId),
        };
        const write = (host: typeof agent) =>
            runCommand(host, agentPrepCreate(host, stack.cluster.docker.image, place), { stdin: "[]\n" });
        const refused = await write({ ...agent, sudo: false });
        assert.strictEqual(refused.code, 3, refused.stderr);
        assert.match(
            refused.stderr,
            /calico-stars: refusing to write the resources file under \/var\/tmp\/calico-stars: it belongs to uid 0, not \d+/,
        );
        // the same commands with the program's sudo go through
        assert.strictEqual((await write(agent)).code, 0);
        await stack.driver.destroy();
    });
});
