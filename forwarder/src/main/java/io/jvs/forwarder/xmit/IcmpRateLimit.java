package io.jvs.forwarder.xmit;

/**
 * The token bucket that limits the ICMP and ICMPv6 errors jvs originates, as the kernel's
 * icmp_global_allow: {@link #PER_SECOND} tokens a second (net.ipv4.icmp_msgs_per_sec), at most
 * {@link #BURST} saved up (net.ipv4.icmp_msgs_burst), one per error; with none left the error is
 * not sent. So a stream of oversized super-frames or expiring packets cannot turn into a flood.
 * {@link IcmpSender} and {@link Ipv6Sender} each have one.
 *
 * <p>Allocation-free; one thread (the event loop).
 */
final class IcmpRateLimit {
    /** Kernel defaults: net.ipv4.icmp_msgs_per_sec / icmp_msgs_burst. */
    static final int PER_SECOND = 1000;
    static final int BURST = 50;
    private static final long NANOS_PER_TOKEN = 1_000_000_000L / PER_SECOND;

    private long tokens = BURST;
    private long refilledAt;

    /** A full bucket. */
    IcmpRateLimit() {
        this(System.nanoTime());
    }

    /** A full bucket, last refilled at {@code now} (System.nanoTime()). */
    IcmpRateLimit(long now) {
        refilledAt = now;
    }

    /** Takes a token now; false when none is left (the error is then not sent). */
    boolean take() {
        return take(System.nanoTime());
    }

    /** Takes a token at {@code now} (System.nanoTime(), never earlier than the last call's). */
    boolean take(long now) {
        long earned = (now - refilledAt) / NANOS_PER_TOKEN;
        if (earned > 0) {
            tokens = Math.min(BURST, tokens + earned);
            refilledAt += earned * NANOS_PER_TOKEN;
        }
        if (tokens == 0) {
            return false;
        }
        tokens--;
        return true;
    }
}
