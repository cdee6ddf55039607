// Empty directories for a process in a private mount namespace, as a host of its own would have them.
import { dockerSocketOf, hostSandboxDir, inHosts, NamedHost, paths, programs } from "./layout";
import { loginUser } from "./hostAccounts";

/**
 * A shell command that mounts an empty tmpfs on each of `dirs`. A checkout under one of them (in /root or
 * /tmp, say) would vanish with it, and with it the sandbox's own state and scripts: so the project is bound
 * back in place through a descriptor opened before the tmpfs hid it. The script reads the project's path
 * from $SANDBOX_PROJECT (see `withProjectPath`), so no path is ever parsed by the shell.
 * @param dirs absolute paths without a trailing slash
 */
function freshDirsScript(dirs: string[]) {
    const mounts = `for dir in ${dirs.join(" ")}; do mount -n -t tmpfs -o mode=755 tmpfs $dir || exit; done`;
    if (!dirs.some((dir) => paths.project === dir || paths.project.startsWith(`${dir}/`))) {
        return mounts;
    }
    return (
        `exec 3<"$SANDBOX_PROJECT" && ${mounts} && mkdir -p "$SANDBOX_PROJECT"` +
        ' && mount -n --no-canonicalize --bind /proc/self/fd/3 "$SANDBOX_PROJECT" && exec 3<&-'
    );
}

/**
 * `freshDirsScript(dirs)`, then the host's own resolv.conf ($SANDBOX_RESOLV) bound over /etc/resolv.conf, as a
 * host whose resolver is the cluster's DNS would have it. Where /etc/resolv.conf is a link (into /run, say), the
 * link's target is bound, made first in the fresh directory that hides it.
 */
export function freshDirsAndResolverScript(dirs: string[]) {
    return (
        `resolv=$(readlink -f /etc/resolv.conf) && ${freshDirsScript(dirs)}` +
        ' && { [ -e "$resolv" ] || { mkdir -p "${resolv%/*}" && : >"$resolv"; }; } && mount -n --bind "$SANDBOX_RESOLV" "$resolv"'
    );
}

/**
 * The host's own account files ($SANDBOX_ETC, lib/hostAccounts.ts) bound over the machine's `files` (names under
 * /etc, each of which must exist there: /etc/sudoers and /etc/sudoers.d do wherever sudo is installed).
 */
export function hostEtcScript(files: string[]) {
    return files.map((file) => `mount -n --bind "$SANDBOX_ETC/${file}" /etc/${file}`).join(" && ");
}

/**
 * What a host's sessions see besides their fresh directories, whoever logs in: the sandbox directory at
 * `hostSandboxDir` (so that vagrant reaches the audited shell, the authorized keys and the calicoctl stand-in
 * whatever the checkout's own path and its parents' permissions), /usr/bin/calicoctl (where the reference hosts
 * have it, and where sudo's secure_path finds it), /var/run/docker.sock (a link to the host's own dockerd: the
 * socket docker uses under sudo, which drops DOCKER_HOST) and vagrant's home. Runs after `freshDirsScript` has
 * made /run and /home. Reads $SANDBOX_DIR (the sandbox directory); the paths it names itself are the sandbox's
 * own, with no character the shell would read.
 */
export function hostViewScript(host: NamedHost) {
    return (
        `mkdir ${hostSandboxDir} && mount -n --bind "$SANDBOX_DIR" ${hostSandboxDir}` +
        ` && mount -n -t overlay -o ro,lowerdir=${inHosts(paths.usrBin)}:/usr/bin calico-stars-usr-bin /usr/bin` +
        ` && ln -s ${inHosts(dockerSocketOf(host))} /run/docker.sock` +
        ` && install -d -o ${loginUser} -g ${loginUser} -m 700 /home/${loginUser}`
    );
}

/**
 * The argv that runs `argv` with $SANDBOX_PROJECT and `variables` (SANDBOX_RESOLV, SANDBOX_ETC, ...) set, for the
 * scripts above.
 */
export function withProjectPath(argv: string[], variables: Record<string, string> = {}) {
    return [
        programs.env,
        `SANDBOX_PROJECT=${paths.project}`,
        ...Object.entries(variables).map(([name, value]) => `${name}=${value}`),
        ...argv,
    ];
}
