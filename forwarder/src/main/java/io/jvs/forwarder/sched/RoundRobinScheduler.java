package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * Round-robin ("rr"), as net/netfilter/ipvs/ip_vs_rr.c.
 *
 * <p>Invariants and kernel correspondence:
 * <ul>
 *   <li>{@code cursor} is the kernel's {@code svc->sched_data}: -1 stands for the list head
 *       (the state after init), otherwise the index of the last server returned.</li>
 *   <li>A call walks forward from the server after the cursor, wrapping past the head once,
 *       and returns the first server that is not overloaded and has weight &gt; 0
 *       ({@link RealServer#available()}); the cursor then points at it.</li>
 *   <li>When the cursor is at the head one pass over the list is enough; otherwise the walk
 *       stops after re-checking the cursor's own server (second pass). No server: null, and
 *       the cursor does not move.</li>
 *   <li>Weights never change within an instance: a new snapshot builds a new scheduler
 *       (the kernel's add/del/upd_dest reset), so a new instance starts from the head.</li>
 * </ul>
 * Data-path thread only; {@link #schedule} does not allocate.
 */
public final class RoundRobinScheduler implements Scheduler {
    private static final int HEAD = -1;

    private final RealServer[] dests;
    private int cursor = HEAD;

    public RoundRobinScheduler(RealServer[] dests) {
        this.dests = dests.clone();
    }

    @Override
    public String name() {
        return "rr";
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        final RealServer[] d = dests;
        final int n = d.length;
        final int last = cursor;
        int i = last;
        int pass = 0;
        do {
            // list_for_each_entry_continue: from the entry after i up to (not including) the head
            for (i = i + 1; i < n; i++) {
                if (d[i].available()) {
                    cursor = i;
                    return d[i];
                }
                if (i == last) {
                    return null;
                }
            }
            i = HEAD;
            pass++;
        } while (pass < 2 && last != HEAD);
        return null;
    }
}
