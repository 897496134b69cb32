package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

import java.util.function.LongSupplier;

/**
 * Locality-based least-connection ("lblc"), as net/netfilter/ipvs/ip_vs_lblc.c: a cache maps
 * each destination address (the packet's, e.g. the origin server a cache cluster fetches for) to
 * one real server.
 * <ul>
 *   <li>Hit: lastuse = now; the cached server is kept if it is available and not
 *       "lblc-overloaded": activeconns &gt; weight while some server of the service has
 *       activeconns * 2 &lt; weight ({@code is_overloaded}).</li>
 *   <li>Miss, or the cached server was rejected: the wlc pick over all servers
 *       ({@code __ip_vs_lblc_schedule}, see {@link WeightedLeastConnectionScheduler}); the entry
 *       then maps to it ({@code ip_vs_lblc_new}: a different server replaces the entry, lastuse =
 *       now). No server: null, the cache unchanged.</li>
 *   <li>Expiry and GC: {@link LocalityCache} (entries unused for 24 h go in the full check every
 *       30 minutes; past 16384 entries those unused for 6 min are collected every minute).</li>
 * </ul>
 * One deliberate difference: the kernel keeps a cached server that carries the threshold
 * overload flag (-x); jvs skips overloaded servers in every scheduler, so such a hit is
 * rescheduled. The clock is read once per {@link #schedule} call. Data-path thread only; no
 * allocation after construction. The cache belongs to this instance: a new snapshot starts cold.
 */
public final class LocalityLeastConnectionScheduler implements Scheduler {
    private final RealServer[] dests;
    private final LongSupplier clock;
    private final LocalityCache cache;

    public LocalityLeastConnectionScheduler(RealServer[] dests) {
        this(dests, false);
    }

    /** A scheduler of an IPv6 service ({@code ipv6}): its cache keys whole 128-bit addresses. */
    public LocalityLeastConnectionScheduler(RealServer[] dests, boolean ipv6) {
        this(dests, System::nanoTime, LocalityCache.DEFAULT_SLOTS, LocalityCache.DEFAULT_EXPIRATION, ipv6);
    }

    /** With a clock (nanoseconds), a cache size (power of two) and the lblc_expiration age (tests). */
    LocalityLeastConnectionScheduler(RealServer[] dests, LongSupplier clock, int slots, long expiration) {
        this(dests, clock, slots, expiration, false);
    }

    LocalityLeastConnectionScheduler(RealServer[] dests, LongSupplier clock, int slots, long expiration, boolean ipv6) {
        this.dests = dests.clone();
        this.clock = clock;
        int n = this.dests.length == 0 ? 2 : slots;
        this.cache = new LocalityCache(n, n, expiration, clock.getAsLong(), ipv6);
    }

    @Override
    public String name() {
        return "lblc";
    }

    /** The cache (tests). */
    LocalityCache cache() {
        return cache;
    }

    /** Runs the cache's periodic check now (for a caller with its own timer). */
    public void checkExpire(long nowNanos) {
        cache.checkExpire(nowNanos);
    }

    /** lblc's is_overloaded: busier than its weight while another server is under half of its own. */
    static boolean lblcOverloaded(RealServer dest, RealServer[] all) {
        if (dest.stats.activeConns() > dest.weight) {
            for (RealServer d : all) {
                if ((long) d.stats.activeConns() * 2 < d.weight) {
                    return true;
                }
            }
        }
        return false;
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
            int e = cache.first(slot);
            if (e >= 0) {
                RealServer cached = dests[cache.dest(e)];
                if (cached.available() && !lblcOverloaded(cached, dests)) {
                    return cached;
                }
            }
        }
        int index = WeightedLeastConnectionScheduler.leastLoadedIndex(dests);
        if (index < 0) {
            return null;
        }
        if (slot >= 0) {
            int e = cache.first(slot);
            if (e < 0 || cache.dest(e) != index) {
                cache.clearMembers(slot);
                cache.addMember(slot, index, false, now);
            }
        } else {
            slot = cache.insert(destAddr, destHi, destLo, now);
            if (slot >= 0) {
                cache.addMember(slot, index, false, now);
            }
        }
        return dests[index];
    }
}
