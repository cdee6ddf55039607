// When the sandbox cluster cannot start here, say why (CI runs as root with the packages installed).
import * as fs from "fs";

const programs = ["/usr/sbin/sshd", "/usr/bin/etcd", "/usr/sbin/dockerd", "/usr/bin/docker", "/usr/sbin/ip", "/bin/busybox", "/usr/bin/sudo"];

export function sandboxUnavailable(): string | undefined {
    if (process.getuid?.() !== 0) {
        return "the sandbox needs root (network namespaces, sshd, dockerd); CI runs as root";
    }
    const missing = programs.filter((p) => !fs.existsSync(p));
    return missing.length > 0 ? `the sandbox needs ${missing.join(", ")} (.ci/run installs them)` : undefined;
}
