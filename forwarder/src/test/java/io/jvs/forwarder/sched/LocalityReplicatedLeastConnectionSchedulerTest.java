package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** lblcr against ip_vs_lblcr.c with scripted connection counts and a hand-driven clock. */
class LocalityReplicatedLeastConnectionSchedulerTest {
    private static final int DST = 0xc0a80001;
    private static final long HOUR = 3600 * LocalityCache.SECOND;
    private final long[] now = {1_000};

    private LocalityReplicatedLeastConnectionScheduler lblcr(Dests d) {
        return new LocalityReplicatedLeastConnectionScheduler(d.array(), () -> now[0], 64, 24 * HOUR);
    }

    @Test
    void setGrowsWhenItsBestMemberIsOverloadedAndPicksTheLeastLoadedMember() {
        Dests d = new Dests(2, 2, 2);
        LocalityReplicatedLeastConnectionScheduler s = lblcr(d);
        assertSame(d.get('a'), s.schedule(1, 1, DST, 80));  // miss: {a}
        d.load('a', 3, 0);                                   // a: 3 > 2, c idle (0 < 2): overloaded
        assertSame(d.get('b'), s.schedule(1, 1, DST, 80));  // wlc over all -> b; set {b, a}
        assertEquals(2, s.cache().setSize(s.cache().find(DST)));
        d.load('b', 1, 0);                                   // set min: b 256/2 < a 768/2 -> b
        assertSame(d.get('b'), s.schedule(1, 1, DST, 80));
        d.load('b', 3, 0);                                   // b 4 > 2, a 3 > 2; c idle: both overloaded
        // set min is a (768 < 1024); a is lblc-overloaded -> wlc over all = c; set {c, b, a}
        assertSame(d.get('c'), s.schedule(1, 1, DST, 80));
        assertEquals(3, s.cache().setSize(s.cache().find(DST)));
    }

    @Test
    void busiestMemberIsDroppedWhenTheSetWasNotModifiedForTheExpiration() {
        Dests d = new Dests(1, 1);
        LocalityReplicatedLeastConnectionScheduler s = lblcr(d);
        assertSame(d.get('a'), s.schedule(1, 1, DST, 80));
        d.load('a', 2, 0);                                    // a overloaded, b idle
        assertSame(d.get('b'), s.schedule(1, 1, DST, 80));   // {b, a}, lastmod = now
        d.load('a', -2, 0);
        d.load('b', 1, 0);
        now[0] += 24 * HOUR;                                  // not after lastmod + 24 h yet
        assertSame(d.get('a'), s.schedule(1, 1, DST, 80));   // min of {b, a}: a (idle)
        assertEquals(2, s.cache().setSize(s.cache().find(DST)));
        now[0] += 1;
        // after: the busiest (b) is erased, the pick was made before: a
        assertSame(d.get('a'), s.schedule(1, 1, DST, 80));
        int slot = s.cache().find(DST);
        assertEquals(1, s.cache().setSize(slot));
        assertEquals(d.get('a'), d.array()[s.cache().dest(s.cache().first(slot))]);
    }

    @Test
    void unavailableMembersAreSkippedAndNothingAvailableGivesNull() {
        Dests d = new Dests(1, 1);
        LocalityReplicatedLeastConnectionScheduler s = lblcr(d);
        assertSame(d.get('a'), s.schedule(1, 1, DST, 80));
        d.overload('a', true);
        assertSame(d.get('b'), s.schedule(1, 1, DST, 80));   // set had no available member
        d.overload('b', true);
        assertNull(s.schedule(1, 1, DST, 80));
        assertEquals(2, s.cache().setSize(s.cache().find(DST)));
        RealServer[] none = new RealServer[0];
        assertNull(new LocalityReplicatedLeastConnectionScheduler(none).schedule(1, 1, DST, 80));
    }
}
