package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * Destination hashing ("dh"), as net/netfilter/ipvs/ip_vs_dh.c (current mainline):
 * <ul>
 *   <li>256 buckets ({@code IP_VS_DH_TAB_BITS} 8), filled by {@code ip_vs_dh_reassign}: bucket i
 *       holds server {@code i % n} in list order. Weights do not shape the table (unlike sh); a
 *       weight-0 server keeps its buckets.</li>
 *   <li>bucket = {@code hash_32(daddr, 8)} of the packet's destination address (host order).</li>
 *   <li>The bucket's server if it is available (weight &gt; 0, not overloaded), else null: dh has
 *       no fallback and no scheduler flags (IP_VS_SVC_F_SCHED* bits are accepted and ignored,
 *       as the kernel does).</li>
 * </ul>
 * Data-path thread only; does not allocate.
 */
public final class DestinationHashingScheduler implements Scheduler {
    static final int TAB_BITS = 8;
    static final int TAB_SIZE = 1 << TAB_BITS;

    private final RealServer[] buckets = new RealServer[TAB_SIZE];

    public DestinationHashingScheduler(RealServer[] dests) {
        int n = dests.length;
        for (int i = 0; n > 0 && i < TAB_SIZE; i++) {
            buckets[i] = dests[i % n];
        }
    }

    @Override
    public String name() {
        return "dh";
    }

    /** ip_vs_dh_hashkey. */
    static int bucket(int daddr) {
        return KernelHash.hash32(daddr, TAB_BITS);
    }

    /** The server bucket {@code i} holds (null only for a service without servers). */
    RealServer bucketServer(int i) {
        return buckets[i];
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        RealServer d = buckets[bucket(destAddr)];
        return d != null && d.available() ? d : null;
    }
}
