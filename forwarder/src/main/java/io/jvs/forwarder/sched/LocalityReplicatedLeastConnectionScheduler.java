package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

import java.util.function.LongSupplier;

/**
 * Locality-based least-connection with replication ("lblcr"), as
 * net/netfilter/ipvs/ip_vs_lblcr.c: each destination address maps to a set of servers (newest
 * member first).
 * <ul>
 *   <li>Hit: lastuse = now; n = the set's wlc pick among its available members
 *       ({@code ip_vs_dest_set_min}). Then, if the set has more than one member and was last
 *       modified more than lblcr_expiration (24 h) ago, its busiest member by overhead/weight
 *       ({@code ip_vs_dest_set_max}, weight &gt; 0) is dropped (lastmod = now). If n exists and
 *       is not lblc-overloaded (activeconns &gt; weight while some server has activeconns * 2 &lt;
 *       weight) it is returned; otherwise the wlc pick over all servers is added to the set
 *       (lastmod = now, unless already a member) and returned.</li>
 *   <li>Miss: the wlc pick over all servers, cached as a one-member set.</li>
 *   <li>Expiry and GC as lblc ({@link LocalityCache}).</li>
 * </ul>
 * The clock is read once per {@link #schedule} call. Data-path thread only; no allocation after
 * construction (members come from the cache's fixed pool, two per entry on average; when it is
 * empty a member is not added, as when the kernel's kmalloc fails). The cache belongs to this
 * instance: a new snapshot starts cold.
 */
public final class LocalityReplicatedLeastConnectionScheduler implements Scheduler {
    private final RealServer[] dests;
    private final LongSupplier clock;
    private final LocalityCache cache;
    private final long expiration;

    public LocalityReplicatedLeastConnectionScheduler(RealServer[] dests) {
        this(dests, false);
    }

    /** A scheduler of an IPv6 service ({@code ipv6}): its cache keys whole 128-bit addresses. */
    public LocalityReplicatedLeastConnectionScheduler(RealServer[] dests, boolean ipv6) {
        this(dests, System::nanoTime, LocalityCache.DEFAULT_SLOTS, LocalityCache.DEFAULT_EXPIRATION, ipv6);
    }

    /** With a clock (nanoseconds), a cache size (power of two) and the lblcr_expiration age (tests). */
    LocalityReplicatedLeastConnectionScheduler(RealServer[] dests, LongSupplier clock, int slots,
                                               long expiration) {
        this(dests, clock, slots, expiration, false);
    }

    LocalityReplicatedLeastConnectionScheduler(RealServer[] dests, LongSupplier clock, int slots, long expiration, boolean ipv6) {
        this.dests = dests.clone();
        this.clock = clock;
        this.expiration = expiration;
        int n = this.dests.length == 0 ? 2 : slots;
        this.cache = new LocalityCache(n, 2 * n, expiration, clock.getAsLong(), ipv6);
    }

    @Override
    public String name() {
        return "lblcr";
    }

    /** The cache (tests). */
    LocalityCache cache() {
        return cache;
    }

    /** Runs the cache's periodic check now (for a caller with its own timer). */
    public void checkExpire(long nowNanos) {
        cache.checkExpire(nowNanos);
    }

    /** ip_vs_dest_set_min: wlc over the set's available members, in set order. */
    private RealServer setMin(int slot) {
        RealServer least = null;
        long loh = 0;
        for (int e = cache.first(slot); e >= 0; e = cache.next(e)) {
            RealServer d = dests[cache.dest(e)];
            if (!d.available()) {
                continue;
            }
            long doh = WeightedLeastConnectionScheduler.overhead(d);
            if (least == null || loh * d.weight > doh * least.weight) {
                least = d;
                loh = doh;
            }
        }
        return least;
    }

    /** ip_vs_dest_set_max: the member with the most overhead per weight among weight &gt; 0 (overload ignored); -1 if none. */
    private int setMax(int slot) {
        int most = -1;
        long moh = 0;
        for (int e = cache.first(slot); e >= 0; e = cache.next(e)) {
            int i = cache.dest(e);
            RealServer d = dests[i];
            if (d.weight <= 0) {
                continue;
            }
            long doh = WeightedLeastConnectionScheduler.overhead(d);
            if (most < 0 || moh * d.weight < doh * dests[most].weight) {
                most = i;
                moh = doh;
            }
        }
        return most;
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        return pick(destAddr, 0, 0);
    }

    /** ip_vs_lblc(r)_schedule for AF_INET6: bucketed by the address's fold, the entry by all of it. */
    @Override
    public RealServer schedule6(long clientHi, long clientLo, int clientPort, long destHi, long destLo, int destPort) {
        return pick(Scheduler.fold6(destHi, destLo), destHi, destLo);
    }

    private RealServer pick(int destAddr, long destHi, long destLo) {
        if (dests.length == 0) {
            return null;
        }
        long now = clock.getAsLong();
        cache.maybeCheckExpire(now);
        int slot = cache.find(destAddr, destHi, destLo);
        if (slot >= 0) {
            cache.touch(slot, now);
            RealServer dest = setMin(slot);
            // time_after(jiffies, lastmod + expiration)
            if (cache.setSize(slot) > 1 && now - (cache.lastMod(slot) + expiration) > 0) {
                int m = setMax(slot);
                if (m >= 0) {
                    cache.eraseMember(slot, m, now);
                }
            }
            if (dest != null && !LocalityLeastConnectionScheduler.lblcOverloaded(dest, dests)) {
                return dest;
            }
            int index = WeightedLeastConnectionScheduler.leastLoadedIndex(dests);
            if (index < 0) {
                return null;
            }
            cache.addMember(slot, index, true, now);
            return dests[index];
        }
        int index = WeightedLeastConnectionScheduler.leastLoadedIndex(dests);
        if (index < 0) {
            return null;
        }
        slot = cache.insert(destAddr, destHi, destLo, now);
        if (slot >= 0) {
            cache.addMember(slot, index, false, now);
        }
        return dests[index];
    }
}
