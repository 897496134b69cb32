package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * Power of two choices ("twos"), as net/netfilter/ipvs/ip_vs_twos.c:
 * <ol>
 *   <li>total = sum of the weights of the available servers (none: null), plus one;</li>
 *   <li>r1 = rand32 % total, r2 = rand32 % total (two independent draws, in that order);</li>
 *   <li>walk the available servers in list order subtracting each weight from r1 and r2; the
 *       first server at which r1 &lt;= 0 is choice 1, the first at which r2 &lt;= 0 is choice 2;</li>
 *   <li>return choice 2 if {@code weight2 * overhead1 > weight1 * overhead2} (it has the
 *       smaller overhead per weight), else choice 1. Overhead = activeconns * 256 + inactconns.</li>
 * </ol>
 * The kernel multiplies in 32-bit ints, which can wrap with large weights and connection counts;
 * jvs multiplies in 64 bits, which gives the kernel's answer whenever the kernel does not overflow.
 *
 * <p>Randomness: SplitMix64 in one long field (no allocation, no shared state, not
 * cryptographic — the kernel uses get_random_u32 only to spread load). Seeded from
 * {@link System#nanoTime()} unless a seed is given (tests). Data-path thread only.
 */
public final class TwoChoiceScheduler implements Scheduler {
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private final RealServer[] dests;
    private long seed;

    public TwoChoiceScheduler(RealServer[] dests) {
        this(dests, System.nanoTime() ^ System.identityHashCode(dests));
    }

    public TwoChoiceScheduler(RealServer[] dests, long seed) {
        this.dests = dests.clone();
        this.seed = seed;
    }

    @Override
    public String name() {
        return "twos";
    }

    /** The next 32 random bits (SplitMix64, upper half of the mixed word), as an unsigned value. */
    long nextU32() {
        long z = (seed += GOLDEN_GAMMA);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z = z ^ (z >>> 31);
        return z >>> 32;
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        final RealServer[] d = dests;
        long total = 0;
        for (RealServer s : d) {
            if (s.available()) {
                total += s.weight;
            }
        }
        if (total == 0) {
            return null;
        }
        total += 1; // so that the draws are 0..sum inclusive, as the kernel says
        long r1 = nextU32() % total;
        long r2 = nextU32() % total;
        RealServer choice1 = null;
        RealServer choice2 = null;
        long overhead1 = 0;
        long overhead2 = 0;
        for (RealServer s : d) {
            if (!s.available()) {
                continue;
            }
            r1 -= s.weight;
            r2 -= s.weight;
            if (r1 <= 0 && choice1 == null) {
                choice1 = s;
                overhead1 = WeightedLeastConnectionScheduler.overhead(s);
            }
            if (r2 <= 0 && choice2 == null) {
                choice2 = s;
                overhead2 = WeightedLeastConnectionScheduler.overhead(s);
            }
            if (choice1 != null && choice2 != null) {
                break;
            }
        }
        // r1, r2 <= sum of weights, so both choices are always found
        if ((long) choice2.weight * overhead1 > (long) choice1.weight * overhead2) {
            return choice2;
        }
        return choice1;
    }
}
