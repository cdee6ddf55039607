// calicoctl v0.19.0's entry point for the profile command: the datastore is set up (and ETCD_AUTHORITY checked)
// before the command line is read, and every exception ends the command as calicoctl.py's main ends it.
// Source: calico-containers v0.19.0 calicoctl/calicoctl.py (main), calicoctl/calico_ctl/connectors.py (client,
// DOCKER_URL), libcalico v0.14.0 pycalico/datastore.py (ETCD_AUTHORITY_DEFAULT "127.0.0.1:2379").
import { checkAuthority, Datastore, Docker, Etcd } from "./datastore";
import { parseProfileCommand, profileDoc, splitOptions } from "./docopt";
import { ProfileCommands, readStdin } from "./profile";
import { CommandExit, PythonException } from "./python";

/** This stand-in has only the profile command; for any other, the top-level usage. */
const topUsage = `Usage: calicoctl <command> [<args>...]

    profile           Configure endpoint profiles

This sandbox stand-in implements the profile command only.`;

export interface CommandResult {
    stdout: string;
    stderr: string;
    code: number;
}

/**
 * Runs one calicoctl command line.
 * @param argv the words after "calicoctl"
 * @param stdin read only by `rule update`
 */
export async function calicoctl(
    argv: string[],
    env: NodeJS.ProcessEnv,
    stdin: () => string = readStdin,
): Promise<CommandResult> {
    const authority = env.ETCD_AUTHORITY ?? "127.0.0.1:2379";
    const commands = new ProfileCommands(
        new Datastore(new Etcd(authority)),
        new Docker(env.DOCKER_HOST ?? "unix://var/run/docker.sock"),
        stdin,
    );
    try {
        checkAuthority(authority);
        if (argv[0] !== "profile") {
            throw new CommandExit("", 1, `${topUsage}\n`);
        }
        const line = splitOptions(argv.slice(1));
        if (line.help) {
            return { stdout: `${profileDoc}\n`, stderr: "", code: 0 };
        }
        await commands.run(parseProfileCommand(line));
        return { stdout: commands.printed, stderr: "", code: 0 };
    } catch (error) {
        const exit = error instanceof PythonException ? error.toExit() : error;
        if (!(exit instanceof CommandExit)) {
            throw error;
        }
        return { stdout: commands.printed + exit.stdout, stderr: exit.stderr, code: exit.code };
    }
}

/**
 * calicoctl as the hosts run it (sandbox/bin/calicoctl): this process's arguments, environment, stdin and exit status.
 */
export async function main(): Promise<void> {
    const { stdout, stderr, code } = await calicoctl(process.argv.slice(2), process.env);
    process.stdout.write(stdout);
    process.stderr.write(stderr);
    process.exitCode = code;
}
