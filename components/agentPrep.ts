// The commands of each agent's prep step (@pulumi/command): pre-pull the star
// image, and place the collector's resources file. The file is written with the
// same `sudo -n` as every other command, into directories the command creates or
// checks (a real directory, not a symbolic link, owned by the user who writes,
// not writable by group or others), and atomically: a temporary file in the same
// directory, then a rename, so that the Mesos fetcher never reads half a file.
import { command, joined, privileged, sh, ShellScript, SshHost } from "@calico-stars/providers/ssh";
import { resourcesFileName } from "./starsTemplate";

/**
 * Arguments: $1 the resources directory, $2 the group's path below it (segments separated by /), $3 the
 * file name; the file itself on stdin. Only POSIX sh, ls and coreutils-or-busybox basics.
 */
const writeResourcesScript = [
    "set -e",
    "umask 022",
    "me=$(id -u)",
    'refuse() { printf \'calico-stars: refusing to write the resources file under %s: %s\\n\' "$1" "$2" >&2; exit 3; }',
    "owned() {",
    '  if [ -L "$1" ] || [ ! -d "$1" ]; then refuse "$1" \'it is a symbolic link or not a directory\'; fi',
    '  set -- "$1" $(ls -ldn -- "$1")',
    '  if [ "$4" != "$me" ]; then refuse "$1" "it belongs to uid $4, not $me"; fi',
    '  case "$2" in ?????w*|????????w*) refuse "$1" "others may write to it ($2)";; esac',
    "}",
    "dir=$1",
    "name=$3",
    '[ -e "$dir" ] || [ -L "$dir" ] || mkdir -p -- "$dir"',
    'owned "$dir"',
    // the group's segments become the positional parameters; IFS is back to its default before owned() splits ls
    "set -f",
    "IFS=/",
    "set -- $2",
    "unset IFS",
    "for part do",
    "  dir=$dir/$part",
    '  [ -e "$dir" ] || [ -L "$dir" ] || mkdir -- "$dir"',
    '  owned "$dir"',
    "done",
    "tmp=$dir/.$name.$$",
    "trap 'rm -f -- \"$tmp\"' EXIT",
    '(set -C; cat > "$tmp")',
    'chmod 0644 -- "$tmp"',
    'mv -f -- "$tmp" "$dir/$name"',
].join("\n");

export interface ResourcesFilePlace {
    /** The resources directory (config `resourcesDir`). */
    baseDir: string;
    /** The group's path below it (config `groupId`). */
    groupPath: string;
}

/** Writes stdin to `<baseDir>/<groupPath>/calico-stars-resources.json` (see writeResourcesScript). */
export function writeResourcesFile(host: Pick<SshHost, "sudo">, place: ResourcesFilePlace): ShellScript {
    return command(
        privileged(host, [
            "sh",
            "-c",
            writeResourcesScript,
            "calico-stars-resources",
            place.baseDir,
            place.groupPath,
            resourcesFileName,
        ]),
    );
}

export function removeResourcesFile(host: Pick<SshHost, "sudo">, place: ResourcesFilePlace): ShellScript {
    return command(privileged(host, ["rm", "-f", "--", `${place.baseDir}/${place.groupPath}/${resourcesFileName}`]));
}

/** Pulls the image only when it is missing, so that no registry is contacted needlessly. */
function prePull(host: Pick<SshHost, "sudo">, image: string): ShellScript {
    return sh`${command(privileged(host, ["docker", "inspect", "--type=image", image]))} >/dev/null 2>&1 || ${command(privileged(host, ["docker", "pull", image]))}`;
}

/** The prep step's create: the pre-pull, then the resources file from stdin. */
export function agentPrepCreate(host: Pick<SshHost, "sudo">, image: string, place: ResourcesFilePlace): ShellScript {
    return joined([prePull(host, image), writeResourcesFile(host, place)], "&&");
}
