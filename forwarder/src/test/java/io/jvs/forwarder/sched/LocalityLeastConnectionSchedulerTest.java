package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** lblc against ip_vs_lblc.c with scripted connection counts and a hand-driven clock. */
class LocalityLeastConnectionSchedulerTest {
    private static final int DST1 = 0xc0a80001;
    private static final int DST2 = 0xc0a80002;
    private final long[] now = {1_000};

    private LocalityLeastConnectionScheduler lblc(Dests d) {
        return new LocalityLeastConnectionScheduler(d.array(), () -> now[0], 64, LocalityCache.DEFAULT_EXPIRATION);
    }

    @Test
    void aDestinationStaysOnItsServerWhileWlcWouldChooseAnother() {
        Dests d = new Dests(1, 1, 1);
        LocalityLeastConnectionScheduler s = lblc(d);
        assertSame(d.get('a'), s.schedule(1, 1, DST1, 80)); // miss: wlc, all idle -> a
        d.load('a', 1, 0);                                  // a 1 active (not > weight 1)
        assertSame(d.get('a'), s.schedule(2, 2, DST1, 80)); // hit
        assertSame(d.get('b'), s.schedule(3, 3, DST2, 80)); // another destination: wlc -> b
        assertEquals(2, s.cache().entries());
    }

    @Test
    void overloadRuleReschedulesOnlyWhenSomeServerIsUnderHalfItsWeight() {
        Dests d = new Dests(2, 4);
        LocalityLeastConnectionScheduler s = lblc(d);
        assertSame(d.get('a'), s.schedule(1, 1, DST1, 80));
        d.load('a', 3, 0);                                  // a: 3 > 2
        d.load('b', 2, 0);                                  // b: 2*2 = 4, not < 4
        assertSame(d.get('a'), s.schedule(1, 1, DST1, 80)); // nobody under half: keep a
        d.load('b', -1, 0);                                 // b: 1*2 < 4
        assertSame(d.get('b'), s.schedule(1, 1, DST1, 80)); // wlc: a 768/2 vs b 256/4 -> b
        d.load('a', -3, 0);                                 // a idle again
        assertSame(d.get('b'), s.schedule(1, 1, DST1, 80)); // the entry now maps to b
    }

    @Test
    void quiescedOrOverloadedCachedServerIsReplaced() {
        Dests d = new Dests(1, 1);
        LocalityLeastConnectionScheduler s = lblc(d);
        assertSame(d.get('a'), s.schedule(1, 1, DST1, 80));
        d.overload('a', true);
        assertSame(d.get('b'), s.schedule(1, 1, DST1, 80));
        d.overload('a', false);
        assertSame(d.get('b'), s.schedule(1, 1, DST1, 80));
        d.overload('b', true);
        d.overload('a', true);
        assertNull(s.schedule(1, 1, DST1, 80));
    }

    @Test
    void fullCacheStillSchedules() {
        Dests d = new Dests(1);
        LocalityLeastConnectionScheduler s = lblc(d);   // 64 slots: 48 entries
        for (int i = 0; i < 100; i++) {
            assertSame(d.get('a'), s.schedule(1, 1, DST1 + i, 80));
        }
        assertEquals(48, s.cache().entries());
    }

    @Test
    void entriesExpireAfterTheExpirationAtTheFullCheck() {
        Dests d = new Dests(1, 1);
        LocalityLeastConnectionScheduler s = new LocalityLeastConnectionScheduler(d.array(), () -> now[0], 64,
                10 * 60 * LocalityCache.SECOND);
        assertSame(d.get('a'), s.schedule(1, 1, DST1, 80));
        d.load('a', 5, 0);
        // 31 minutes later: the 30th periodic run (a full check) has dropped the unused entry ...
        for (int m = 1; m <= 31; m++) {
            now[0] += 60 * LocalityCache.SECOND;
            s.checkExpire(now[0]);
        }
        assertEquals(0, s.cache().entries());
        // ... so DST1 is scheduled afresh by wlc
        assertSame(d.get('b'), s.schedule(1, 1, DST1, 80));
    }
}
