// How long Linux keeps connecting to an address that drops the SYN, for a given net.ipv4.tcp_syn_retries: star sets no
// connect timeout, so this is how long one of its requests can hang.
//
// torvalds/linux, net/ipv4/tcp_timer.c: tcp_write_timeout gives a socket in SYN_SENT up once
// retransmits_timed_out(sk, tcp_syn_retries) holds, which compares the time since the first SYN with
// tcp_model_timeout(boundary = tcp_syn_retries, rto_base = TCP_TIMEOUT_INIT): the SYN is sent again after 1 s, and each
// wait doubles up to TCP_RTO_MAX (include/net/tcp.h: TCP_TIMEOUT_INIT 1 s, TCP_RTO_MAX 120 s). So with r retries the
// SYNs leave at 0, 1, 3, 7, ... s and the connect fails at (2^(r+1) - 1) s while the waits double (r <= 6: 127 s at the
// default 6), and 120 s later for each retry past that. A new network namespace starts at 6 (tcp_ipv4.c tcp_sk_init);
// the kernel takes 1 to 127 (sysctl_net_ipv4.c).

/** A new network namespace's net.ipv4.tcp_syn_retries. */
export const linuxDefaultSynRetries = 6;
/** What net.ipv4.tcp_syn_retries can be. */
export const synRetriesRange = { min: 1, max: 127 } as const;

const firstRetryMs = 1000;
const longestWaitMs = 120000;
/** The last retry whose wait still doubles: ilog2(TCP_RTO_MAX / TCP_TIMEOUT_INIT). */
const lastDoublingRetry = Math.floor(Math.log2(longestWaitMs / firstRetryMs));

/** From the first SYN until connect fails, when every SYN is dropped. */
export function connectLimitMs(synRetries: number): number {
    checkSynRetries(synRetries);
    if (synRetries <= lastDoublingRetry) {
        return (2 ** (synRetries + 1) - 1) * firstRetryMs;
    }
    return (2 ** (lastDoublingRetry + 1) - 1) * firstRetryMs + (synRetries - lastDoublingRetry) * longestWaitMs;
}

/**
 * From the last SYN until connect fails: a connect whose last SYN left before a policy opened the way still fails
 * this long after the opening.
 */
export function lastSynWaitMs(synRetries: number): number {
    checkSynRetries(synRetries);
    return Math.min(2 ** synRetries * firstRetryMs, longestWaitMs);
}

function checkSynRetries(synRetries: number): void {
    if (!Number.isInteger(synRetries) || synRetries < synRetriesRange.min || synRetries > synRetriesRange.max) {
        throw new RangeError(
            `net.ipv4.tcp_syn_retries is ${synRetriesRange.min} to ${synRetriesRange.max}, not ${synRetries}`,
        );
    }
}
