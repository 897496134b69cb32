package io.jvs.forwarder.xmit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel's defaults: net.ipv4.icmp_msgs_per_sec = 1000, icmp_msgs_burst = 50. */
class IcmpRateLimitTest {
    static final long MS = 1_000_000L;
    static final long T0 = 7_000_000_000L;

    static int takeAll(IcmpRateLimit limit, long now) {
        int n = 0;
        while (limit.take(now)) {
            n++;
        }
        return n;
    }

    @Test
    void aBurstOfFiftyThenNothingUntilTheNextMillisecond() {
        IcmpRateLimit limit = new IcmpRateLimit(T0);
        assertEquals(50, takeAll(limit, T0));
        assertFalse(limit.take(T0 + MS - 1));
        assertTrue(limit.take(T0 + MS));
        assertFalse(limit.take(T0 + MS));
    }

    @Test
    void refillsAThousandASecondButSavesNoMoreThanFifty() {
        IcmpRateLimit limit = new IcmpRateLimit(T0);
        assertEquals(50, takeAll(limit, T0));
        assertEquals(20, takeAll(limit, T0 + 20 * MS));
        assertEquals(50, takeAll(limit, T0 + 5_000 * MS), "idle seconds save no more than the burst");
    }

    @Test
    void fractionsOfATokenAreKept() {
        IcmpRateLimit limit = new IcmpRateLimit(T0);
        takeAll(limit, T0);
        // 0.6 ms and again 0.6 ms: 1.2 ms in all earn one token, not zero twice.
        assertFalse(limit.take(T0 + 600_000));
        assertTrue(limit.take(T0 + 1_200_000));
        // The remaining 0.2 ms count towards the next: 0.8 ms more is 2 ms in all.
        assertTrue(limit.take(T0 + 2_000_000));
    }
}
