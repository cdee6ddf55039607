// The commands of each agent's prep step (@pulumi/command): pre-pull the star
// image, and place the collector's resources file. The file is written with the
// same `sudo -n` as every other command, into directories the command creates or
// checks (a real directory, not a symbolic link, owned by the user who writes,
// not writable by group or others), and atomically: a temporary file in the same
// directory, then a rename, so that the Mesos fetcher never reads half a file.
// Beside it, `<file>.owner` holds the stack's owner id: a file another stack marked
// is refused on write and left in place on delete.
import { command, joined, privileged, sh, ShellScript, SshHost } from "@calico-stars/providers/ssh";
import { resourcesFileName } from "./starsTemplate";

/** The owner id in a mark ($1) that is a regular file, or "?" for anything else; empty when there is no mark. */
const markOwnerFunction = [
    "mark_owner() {",
    '  if [ -L "$1" ]; then echo "?"; elif [ -f "$1" ]; then head -c 64 -- "$1"; elif [ -e "$1" ]; then echo "?"; fi',
    "}",
].join("\n");

/**
 * Arguments: $1 the resources directory, $2 the group's path below it (segments separated by /), $3 the
 * file name, $4 the stack's owner id; the file itself on stdin. Only POSIX sh, ls and coreutils-or-busybox basics.
 */
const writeResourcesScript = [
    "set -e",
    "umask 022",
    "me=$(id -u)",
    'refuse() { printf \'calico-stars: refusing to write the resources file under %s: %s\\n\' "$1" "$2" >&2; exit 3; }',
    markOwnerFunction,
    "owned() {",
    '  if [ -L "$1" ] || [ ! -d "$1" ]; then refuse "$1" \'it is a symbolic link or not a directory\'; fi',
    '  set -- "$1" $(ls -ldn -- "$1")',
    '  if [ "$4" != "$me" ]; then refuse "$1" "it belongs to uid $4, not $me"; fi',
    '  case "$2" in ?????w*|????????w*) refuse "$1" "others may write to it ($2)";; esac',
    "}",
    "dir=$1",
    "name=$3",
    "owner=$4",
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
    // a file without a mark was written before marks existed, by this program: it is taken over
    'found=$(mark_owner "$dir/$name.owner")',
    'if [ -n "$found" ] && [ "$found" != "$owner" ]; then',
    '  refuse "$dir" "$name belongs to another stack (owner id $found in $name.owner), not to this one ($owner)"',
    "fi",
    "tmp=$dir/.$name.$$",
    'trap \'rm -f -- "$tmp" "$tmp.owner"\' EXIT',
    '(set -C; printf \'%s\\n\' "$owner" > "$tmp.owner")',
    '(set -C; cat > "$tmp")',
    'chmod 0644 -- "$tmp.owner" "$tmp"',
    'mv -f -- "$tmp.owner" "$dir/$name.owner"',
    'mv -f -- "$tmp" "$dir/$name"',
].join("\n");

/**
 * Arguments: $1 the directory, $2 the file name, $3 the stack's owner id. Removes the file and its mark when the mark
 * is this stack's (or missing: a file from before marks); leaves another stack's file, saying so.
 */
const removeResourcesScript = [
    markOwnerFunction,
    'found=$(mark_owner "$1/$2.owner")',
    'if [ -z "$found" ] || [ "$found" = "$3" ]; then',
    '  rm -f -- "$1/$2" "$1/$2.owner"',
    "else",
    '  printf \'calico-stars: leaving %s/%s: it belongs to another stack (owner id %s), not to this one (%s)\\n\' "$1" "$2" "$found" "$3" >&2',
    "fi",
].join("\n");

export interface ResourcesFilePlace {
    /** The resources directory (config `resourcesDir`). */
    baseDir: string;
    /** The group's path below it (config `groupId`). */
    groupPath: string;
    /** The stack's owner id, which marks the file as its own. */
    ownerId: string;
}

/** Writes stdin to `<baseDir>/<groupPath>/calico-stars-resources.json` and marks it (see writeResourcesScript). */
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
            place.ownerId,
        ]),
    );
}

/** Removes the file and its mark, unless another stack marked it (see removeResourcesScript). */
export function removeResourcesFile(host: Pick<SshHost, "sudo">, place: ResourcesFilePlace): ShellScript {
    return command(
        privileged(host, [
            "sh",
            "-c",
            removeResourcesScript,
            "calico-stars-resources",
            `${place.baseDir}/${place.groupPath}`,
            resourcesFileName,
            place.ownerId,
        ]),
    );
}

/** Pulls the image only when it is missing, so that no registry is contacted needlessly. */
function prePull(host: Pick<SshHost, "sudo">, image: string): ShellScript {
    return sh`${command(privileged(host, ["docker", "inspect", "--type=image", image]))} >/dev/null 2>&1 || ${command(privileged(host, ["docker", "pull", image]))}`;
}

/** The prep step's create: the pre-pull, then the resources file from stdin. */
export function agentPrepCreate(host: Pick<SshHost, "sudo">, image: string, place: ResourcesFilePlace): ShellScript {
    return joined([prePull(host, image), writeResourcesFile(host, place)], "&&");
}
