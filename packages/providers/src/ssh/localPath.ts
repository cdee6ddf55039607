// Paths on the machine that runs pulumi, as stack files name them.
import * as os from "os";

/** `~/...` as a shell would read it: stack files such as Pulumi.dev.yaml name `~/.ssh/known_hosts`. */
export function expandHome(path: string): string {
    return path === "~" || path.startsWith("~/") ? os.homedir() + path.slice(1) : path;
}
