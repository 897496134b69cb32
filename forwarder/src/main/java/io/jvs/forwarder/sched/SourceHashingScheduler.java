package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec;

/**
 * Source hashing ("sh"), as net/netfilter/ipvs/ip_vs_sh.c (current mainline):
 * <ul>
 *   <li>256 buckets filled by {@code ip_vs_sh_reassign}: walking the list in order (wrapping),
 *       each server takes {@code weight} consecutive buckets (a weight-0 server takes one: the
 *       kernel moves on once {@code ++count >= weight}).</li>
 *   <li>{@code hashkey(addr, port, offset) = (offset + hash_32(port + addr, 8)) & 255} with the
 *       client's address and, only with sh-port ({@link #SH_PORT}), its source port (else 0),
 *       both host order, added as u32.</li>
 *   <li>Without sh-fallback: the bucket's server if available (weight &gt; 0, not overloaded),
 *       else null.</li>
 *   <li>With sh-fallback ({@link #SH_FALLBACK}), {@code ip_vs_sh_get_fallback}: if the first
 *       bucket's server is unavailable, for offset 0..255 try
 *       {@code hashkey(addr, port, (offset + ihash) % 256)} — i.e. bucket
 *       {@code (2 * ihash + offset) & 255}, the kernel adds the original hash twice — and return
 *       the first available server.</li>
 * </ul>
 * SCHED_FLAG_3 is accepted and ignored, as the kernel does. Data-path thread only; does not
 * allocate.
 */
public final class SourceHashingScheduler implements Scheduler {
    /** IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1. */
    public static final int SH_FALLBACK = ServiceSpec.SCHED_FLAG_1;
    /** IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2. */
    public static final int SH_PORT = ServiceSpec.SCHED_FLAG_2;

    static final int TAB_BITS = 8;
    static final int TAB_SIZE = 1 << TAB_BITS;
    private static final int TAB_MASK = TAB_SIZE - 1;

    private final RealServer[] buckets = new RealServer[TAB_SIZE];
    private final boolean fallback;
    private final boolean usePort;

    public SourceHashingScheduler(int schedFlags, RealServer[] dests) {
        this.fallback = (schedFlags & SH_FALLBACK) != 0;
        this.usePort = (schedFlags & SH_PORT) != 0;
        int p = 0;
        int count = 0;
        for (int i = 0; dests.length > 0 && i < TAB_SIZE; i++) {
            RealServer d = dests[p];
            buckets[i] = d;
            if (++count >= d.weight) {
                p = (p + 1) % dests.length;
                count = 0;
            }
        }
    }

    @Override
    public String name() {
        return "sh";
    }

    /** ip_vs_sh_hashkey. */
    static int hashkey(int addr, int port, int offset) {
        return (offset + KernelHash.hash32(port + addr, TAB_BITS)) & TAB_MASK;
    }

    /** The server bucket {@code i} holds (null only for a service without servers). */
    RealServer bucketServer(int i) {
        return buckets[i];
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        int port = usePort ? clientPort : 0;
        int ihash = hashkey(clientAddr, port, 0);
        RealServer d = buckets[ihash];
        if (d == null) {
            return null;
        }
        if (d.available()) {
            return d;
        }
        if (!fallback) {
            return null;
        }
        for (int offset = 0; offset < TAB_SIZE; offset++) {
            int roffset = (offset + ihash) % TAB_SIZE;
            d = buckets[hashkey(clientAddr, port, roffset)];
            if (d.available()) {
                return d;
            }
        }
        return null;
    }
}
