// Not Mesos: the sandbox's own setting for the containers its agents start. A container's network namespace starts
// with Linux's default net.ipv4.tcp_syn_retries, 6, so a connect to an address that drops it fails after about 127 s
// (torvalds/linux, net/ipv4/tcp_ipv4.c tcp_sk_init; net/ipv4/tcp_timer.c tcp_model_timeout), and star, which sets no
// connect timeout, waits that long. The sandbox lowers it in each container's namespace once the container runs, as an
// operator can on a real agent: `nsenter --net=/proc/<pid>/ns/net sysctl -w net.ipv4.tcp_syn_retries=2`, or with
// Docker 1.12 and later the app's parameter {"key": "sysctl", "value": "net.ipv4.tcp_syn_retries=2"}.
import { execFile } from "child_process";
import { programs } from "../lib/layout";

const sysctlTimeoutMs = 5000;

/**
 * What the kernel accepts (net/ipv4/sysctl_net_ipv4.c: tcp_syn_retries_min 1, tcp_syn_retries_max MAX_TCP_SYNCNT 127).
 */
export function isSynRetries(text: string): boolean {
    return /^[0-9]{1,3}$/.test(text) && Number(text) >= 1 && Number(text) <= 127;
}

/** Sets net.ipv4.tcp_syn_retries in the network namespace of process `pid`. */
export function setSynRetries(pid: number, value: number): Promise<void> {
    return new Promise((resolve, reject) => {
        execFile(
            programs.nsenter,
            [`--net=/proc/${pid}/ns/net`, "--", programs.sysctl, "-q", "-w", `net.ipv4.tcp_syn_retries=${value}`],
            { timeout: sysctlTimeoutMs },
            (error, _stdout, stderr) => (error ? reject(new Error(String(stderr).trim() || error.message)) : resolve()),
        );
    });
}
