package io.jvs.forwarder.health;

/**
 * keepalived's per-checker state (check_api.c, check_tcp.c, check_misc.c):
 * up or down, and how many retries of the current failure have been spent.
 *
 * <ul>
 *   <li>Starts up, or down with {@code alpha}.</li>
 *   <li>A success resets the retries; if the checker was down it goes up (one
 *       success is enough, as in keepalived).</li>
 *   <li>A failure while up is retried {@code retry} times, each after
 *       {@code delay_before_retry}; the failure after those goes down. So a
 *       blip shorter than retry+1 consecutive failures never takes a server
 *       out: this is the damping of flaps jvs applies (keepalived's own).</li>
 *   <li>The next check runs {@code delay_before_retry} after a failure being
 *       retried, else {@code delay_loop} after the last check finished.</li>
 * </ul>
 * Not thread-safe: the health thread owns it.
 */
final class CheckerState {
    private final CheckSpec.Timing timing;
    private boolean up;
    private int retries;

    CheckerState(CheckSpec.Timing timing) {
        this.timing = timing;
        this.up = !timing.alpha();
    }

    boolean up() {
        return up;
    }

    /** Records a result; returns true when up/down changed. */
    boolean record(boolean ok) {
        if (ok) {
            retries = 0;
            if (!up) {
                up = true;
                return true;
            }
            return false;
        }
        if (up && retries < timing.retry()) {
            retries++;
            return false;
        }
        retries = 0;
        if (up) {
            up = false;
            return true;
        }
        return false;
    }

    /** Milliseconds until the next check, given what was just recorded. */
    long nextDelayMillis() {
        return retries > 0 ? timing.delayBeforeRetryMillis() : timing.delayLoopMillis();
    }
}
