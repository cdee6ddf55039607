// Each host's own users and sudo, as the reference's centos/7 Vagrant boxes have them: the login user `vagrant`
// with passwordless sudo for everything, root still there. The files go under .state/hosts/<host>/etc and are
// bound over /etc's in the host's private mounts (lib/privateMounts.ts), so the machine's /etc stays untouched.
import * as fs from "node:fs";
import * as path from "node:path";
import { NamedHost, paths } from "./layout";

/** The reference hosts' login user. */
export const loginUser = "vagrant";

export function hostEtcOf(host: NamedHost) {
    return path.join(paths.hosts, host.name, "etc");
}

/**
 * CentOS 7's /etc/sudoers (sudo 1.8.6p7, the release of CentOS 7.2, as `sudo -l` on such a host lists its
 * Defaults), with `Defaults requiretty` commented out as the centos/7 box's kickstart does
 * (CentOS/sig-cloud-instance-build, vagrant/centos7.ks, 2015-05 to 2016-12: `sed -i "s/^.*requiretty/#Defaults
 * requiretty/" /etc/sudoers`; later boxes have sudo 1.8.6p7-21, where it is off by default). env_reset with
 * this env_keep drops DOCKER_HOST and ETCD_AUTHORITY, and secure_path replaces PATH.
 */
const sudoers = `#Defaults    requiretty
Defaults   !visiblepw
Defaults    always_set_home
Defaults    env_reset
Defaults    env_keep =  "COLORS DISPLAY HOSTNAME HISTSIZE INPUTRC KDEDIR LS_COLORS"
Defaults    env_keep += "MAIL PS1 PS2 QTDIR USERNAME LANG LC_ADDRESS LC_CTYPE"
Defaults    env_keep += "LC_COLLATE LC_IDENTIFICATION LC_MEASUREMENT LC_MESSAGES"
Defaults    env_keep += "LC_MONETARY LC_NAME LC_NUMERIC LC_PAPER LC_TELEPHONE"
Defaults    env_keep += "LC_TIME LC_ALL LANGUAGE LINGUAS _XKB_CHARSET XAUTHORITY"
Defaults    secure_path = /sbin:/bin:/usr/sbin:/usr/bin
root\tALL=(ALL) \tALL
%wheel\tALL=(ALL)\tALL
#includedir /etc/sudoers.d
`;

/**
 * The box's /etc/sudoers.d/vagrant (vagrant/centos7.ks: `echo "%vagrant ALL=(ALL) NOPASSWD: ALL" >>
 * /etc/sudoers.d/vagrant`).
 */
const vagrantSudoers = `%${loginUser} ALL=(ALL) NOPASSWD: ALL\n`;

/**
 * /etc/hosts as Vagrant leaves it on a CentOS 7 guest: the host's name on 127.0.0.1 (hashicorp/vagrant v1.8.1,
 * plugins/guests/redhat/cap/change_host_name.rb, update_etc_hosts). sudo looks its host's name up, and would
 * complain about each command where the name does not resolve.
 */
const etcHosts = (
    hostname: string,
) => `127.0.0.1   ${hostname} localhost localhost.localdomain localhost4 localhost4.localdomain4
::1         localhost localhost.localdomain localhost6 localhost6.localdomain6
`;

/** @returns the colon-separated fields of each line */
function readEntries(file: string): string[][] {
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "" && !line.startsWith("#"))
        .map((line) => line.split(":"));
}

/**
 * The machine's users and groups, vagrant added (or put in place of the machine's own vagrant) with an id the
 * machine does not use, so that the hosts' vagrant can never own or signal the machine's processes. vagrant is in
 * the docker group: the reference cluster's Vagrantfile provisions Docker with Vagrant's docker provisioner, which
 * adds the login user to it (hashicorp/vagrant v1.8.1, plugins/provisioners/docker/installer.rb ensure_installed ->
 * cap/linux/docker_configure_vagrant_user.rb: `usermod -a -G docker vagrant`), and the runbook's own transcript
 * runs `docker network ls` as vagrant without sudo. The docker group is the machine's when it has one (its dockerd
 * gives the socket that group), else one made here (each host's dockerd then reads the hosts' group file).
 */
function accounts(): { passwd: string[][]; group: string[][] } {
    const machineUsers = readEntries("/etc/passwd");
    const machineGroups = readEntries("/etc/group");
    const usedUids = new Set(machineUsers.map((fields) => Number(fields[2])));
    const usedGids = new Set(machineGroups.map((fields) => Number(fields[2])));
    let uid = 1000;
    while (usedUids.has(uid) || usedGids.has(uid)) {
        uid++;
    }
    const passwd = [
        ...machineUsers.filter((fields) => fields[0] !== loginUser),
        [loginUser, "x", String(uid), String(uid), "", `/home/${loginUser}`, "/bin/bash"],
    ];
    const group = machineGroups.filter((fields) => fields[0] !== loginUser);
    const docker = group.find((fields) => fields[0] === "docker");
    if (docker !== undefined) {
        docker[3] = [...docker[3].split(",").filter((member) => member !== "" && member !== loginUser), loginUser].join(
            ",",
        );
    } else {
        let gid = 999;
        while (usedGids.has(gid)) {
            gid--;
        }
        group.push(["docker", "x", String(gid), loginUser]);
    }
    group.push([loginUser, "x", String(uid), ""]);
    return { passwd, group };
}

/** vagrant's uid on the host, from the passwd file `writeHostAccounts` wrote. */
export function loginUidOf(host: NamedHost) {
    const entry = readEntries(path.join(hostEtcOf(host), "passwd")).find((fields) => fields[0] === loginUser);
    if (entry === undefined) {
        throw new Error(`${host.name} has no user ${loginUser}: its account files were not written`);
    }
    return Number(entry[2]);
}

/**
 * Writes every host's passwd, group, shadow (no password for anyone: root and vagrant log in by key only, and a
 * `*` does not lock an account as `!` would for sshd without PAM), sudoers, sudoers.d and hosts. sudo refuses
 * sudoers files that others may write to, and wants them owned by root: they are 0440, as on CentOS.
 */
export function writeHostAccounts(hosts: readonly NamedHost[]): void {
    const { passwd, group } = accounts();
    const lines = (entries: string[][]) => entries.map((fields) => fields.join(":")).join("\n") + "\n";
    const lastChange = String(Math.floor(Date.now() / 86400000));
    const shadow = passwd.map((fields) => [fields[0], "*", lastChange, "0", "99999", "7", "", "", ""]);
    for (const host of hosts) {
        const etc = hostEtcOf(host);
        fs.mkdirSync(path.join(etc, "sudoers.d"), { recursive: true, mode: 0o755 });
        fs.writeFileSync(path.join(etc, "passwd"), lines(passwd), { mode: 0o644 });
        fs.writeFileSync(path.join(etc, "group"), lines(group), { mode: 0o644 });
        fs.writeFileSync(path.join(etc, "shadow"), lines(shadow), { mode: 0o600 });
        fs.writeFileSync(path.join(etc, "hosts"), etcHosts(host.name), { mode: 0o644 });
        fs.writeFileSync(path.join(etc, "sudoers"), sudoers, { mode: 0o440 });
        fs.writeFileSync(path.join(etc, "sudoers.d", loginUser), vagrantSudoers, { mode: 0o440 });
    }
}
