package io.jvs.forwarder.ctl.console;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Rate limit on failed console logins, per peer address: after {@link #MAX_FAILURES}
 * wrong tokens within {@link #WINDOW_SECONDS} s of the first, that peer's logins are
 * refused (even with the right token) until the window ends. A right token clears the
 * peer's count. At most {@link #MAX_PEERS} peers are remembered (oldest forgotten first),
 * so a flood of addresses cannot grow memory without bound.
 *
 * <p>Thread-safe (one monitor); time comes from the monotonic {@code nanoClock}, so tests
 * drive it with a fake clock.
 */
public final class LoginLimiter {
    public static final int MAX_FAILURES = 5;
    public static final int WINDOW_SECONDS = 60;
    static final int MAX_PEERS = 4096;

    private final LongSupplier nanoClock;
    private final Map<String, long[]> byPeer = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, long[]> eldest) {
            return size() > MAX_PEERS;
        }
    };

    public LoginLimiter(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Seconds until {@code peer} may try again; 0 when it may now. */
    public synchronized long retryAfterSeconds(String peer) {
        long[] w = current(peer);
        if (w == null || w[1] < MAX_FAILURES) {
            return 0;
        }
        long left = w[0] + WINDOW_SECONDS * 1_000_000_000L - nanoClock.getAsLong();
        return Math.max(1, (left + 999_999_999L) / 1_000_000_000L);
    }

    /** Counts one wrong token from {@code peer}. */
    public synchronized void failed(String peer) {
        long[] w = current(peer);
        if (w == null) {
            byPeer.put(peer, new long[]{nanoClock.getAsLong(), 1});
        } else {
            w[1]++;
        }
    }

    /** A right token: {@code peer} starts afresh. */
    public synchronized void succeeded(String peer) {
        byPeer.remove(peer);
    }

    /** {window start, failures} of {@code peer}'s window still open, else null (an expired one is dropped). */
    private long[] current(String peer) {
        long[] w = byPeer.get(peer);
        if (w != null && nanoClock.getAsLong() - w[0] >= WINDOW_SECONDS * 1_000_000_000L) {
            byPeer.remove(peer);
            return null;
        }
        return w;
    }
}
