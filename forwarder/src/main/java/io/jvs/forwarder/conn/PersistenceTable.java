package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

/**
 * Persistence templates of IPv4 services (IPVS's IP_VS_CONN_F_TEMPLATE entries,
 * ip_vs_sched_persist): a client network's affinity to one real server of a persistent service.
 * Lifetime, index and accounting: {@link TemplateTable}; IPv6 services' templates:
 * {@link PersistenceTable6}.
 *
 * <h2>Keys, as the kernel builds them</h2>
 * <ul>
 *   <li>persistent service on a port: (proto, client &amp; netmask, VIP, VPORT);</li>
 *   <li>port-0 service (persistent client connection, all ports): (proto, client &amp; netmask, VIP, 0);</li>
 *   <li>fwmark service: (0 = IPPROTO_IP, client &amp; netmask, mark, 0) — all marked traffic of a
 *       client network, whatever its ports (HTTP + HTTPS; FTP control + data).</li>
 * </ul>
 * 8 bytes of key per template on top of {@link TemplateTable}'s: 48 bytes plus 16..32 of index.
 */
public final class PersistenceTable extends TemplateTable {
    /** snet << 32 | vkey (VIP or fwmark). */
    private final long[] keyHi;

    public PersistenceTable(int capacity) {
        this(capacity, 0);
    }

    /** The template table of worker {@code worker} (its share of each real server's PersistConn). */
    public PersistenceTable(int capacity, int worker) {
        super(capacity, worker);
        keyHi = new long[capacity];
    }

    @Override
    public long footprintBytes() {
        return sharedFootprintBytes() + 8L * capacity;
    }

    /** The template key's protocol for a service: IPPROTO_IP (0) for fwmark services. */
    public static int keyProto(VirtualService svc) {
        return svc.fwmark != 0 ? 0 : svc.proto;
    }

    /** The template key's virtual part: the mark for fwmark services, else the VIP. */
    public static int keyVaddr(VirtualService svc, int vaddr) {
        return svc.fwmark != 0 ? svc.fwmark : vaddr;
    }

    /** The template key's port: 0 for fwmark and port-0 services, else the service port. */
    public static int keyVport(VirtualService svc) {
        return svc.fwmark != 0 ? 0 : svc.port;
    }

    private int hash(long hi, int lo) {
        long h = (hi ^ seed) * 0x9E3779B97F4A7C15L;
        h ^= (lo + (h >>> 29)) * 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 32));
    }

    @Override
    int hashOf(int id) {
        return hash(keyHi[id], keyLo[id]);
    }

    /**
     * The live template for this key at nowNanos, or -1. An expired template that still
     * controls connections is re-armed rather than returned as a miss (the kernel re-arms it).
     */
    public int lookup(int proto, int snet, int vkey, int vport, long nowNanos) {
        long hi = (long) snet << 32 | (vkey & 0xffffffffL);
        int lo = keyLo(proto, vport);
        int h = hash(hi, lo);
        for (int i = h & indexMask; ; i = (i + 1) & indexMask) {
            long s = index[i];
            if (s == 0) {
                return -1;
            }
            if ((int) (s >>> 32) == h) {
                int id = (int) s - 1;
                if (keyHi[id] == hi && keyLo[id] == lo) {
                    return found(id, nowNanos);
                }
            }
        }
    }

    /**
     * Enters a template placing the key's client network on dest; -1 when the table is full.
     * Precondition: lookup missed for this key.
     */
    public int insert(int proto, int snet, int vkey, int vport, VirtualService svc, RealServer dest,
                      long timeoutNanos, long nowNanos) {
        java.util.Objects.requireNonNull(dest, "dest");
        int id = allocate();
        if (id < 0) {
            return -1;
        }
        long hi = (long) snet << 32 | (vkey & 0xffffffffL);
        int lo = keyLo(proto, vport);
        keyHi[id] = hi;
        keyLo[id] = lo;
        return link(id, hash(hi, lo), svc, dest, timeoutNanos, nowNanos);
    }

    public int clientNet(int id) {
        return (int) (keyHi[id] >>> 32);
    }

    /** The VIP, or the mark of a fwmark service's template. */
    public int vkey(int id) {
        return (int) keyHi[id];
    }
}
