// @ts-check
// Empty directories for a process in a private mount namespace, as a host of its own would have them.
const { paths, programs } = require("./layout");

/**
 * A shell command that mounts an empty tmpfs on each of `dirs`. A checkout under one of them (in /root or
 * /tmp, say) would vanish with it, and with it the sandbox's own state and scripts: so the project is bound
 * back in place through a descriptor opened before the tmpfs hid it. The script reads the project's path
 * from $SANDBOX_PROJECT (see `withProjectPath`), so no path is ever parsed by the shell.
 * @param {string[]} dirs absolute paths without a trailing slash
 */
function freshDirsScript(dirs) {
    const mounts = `for dir in ${dirs.join(" ")}; do mount -n -t tmpfs -o mode=755 tmpfs $dir || exit; done`;
    if (!dirs.some((dir) => paths.project === dir || paths.project.startsWith(`${dir}/`))) {
        return mounts;
    }
    return `exec 3<"$SANDBOX_PROJECT" && ${mounts} && mkdir -p "$SANDBOX_PROJECT"`
        + ' && mount -n --no-canonicalize --bind /proc/self/fd/3 "$SANDBOX_PROJECT" && exec 3<&-';
}

/**
 * `freshDirsScript(dirs)`, then the host's own resolv.conf ($SANDBOX_RESOLV) bound over /etc/resolv.conf, as a
 * host whose resolver is the cluster's DNS would have it. Where /etc/resolv.conf is a link (into /run, say), the
 * link's target is bound, made first in the fresh directory that hides it.
 * @param {string[]} dirs
 */
function freshDirsAndResolverScript(dirs) {
    return `resolv=$(readlink -f /etc/resolv.conf) && ${freshDirsScript(dirs)}`
        + ' && { [ -e "$resolv" ] || { mkdir -p "${resolv%/*}" && : >"$resolv"; }; } && mount -n --bind "$SANDBOX_RESOLV" "$resolv"';
}

/**
 * The argv that runs `argv` with $SANDBOX_PROJECT (and $SANDBOX_RESOLV) set, for the scripts above.
 * @param {string[]} argv
 * @param {string} [resolvConf] the host's resolv.conf
 */
function withProjectPath(argv, resolvConf) {
    return [programs.env, `SANDBOX_PROJECT=${paths.project}`, ...(resolvConf === undefined ? [] : [`SANDBOX_RESOLV=${resolvConf}`]), ...argv];
}

module.exports = { freshDirsScript, freshDirsAndResolverScript, withProjectPath };
