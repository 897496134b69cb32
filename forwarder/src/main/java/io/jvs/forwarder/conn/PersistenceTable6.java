package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

/**
 * Persistence templates of IPv6 services (ip_vs_sched_persist with {@code svc->af == AF_INET6}):
 * the keys are IPVS's, (proto, client network, VIP, VPORT), the client network being the
 * client address cut to the service's prefix length ({@code -M 64}: ipv6_addr_prefix with
 * {@code svc->netmask} read as a length), the port 0 for a port-0 service; for a fwmark service
 * (IPPROTO_IP, client network, the mark as the address's first word, 0). Lifetime, index
 * and accounting: {@link TemplateTable}, as for IPv4's {@link PersistenceTable}; a table of its
 * own so an IPv4 template keeps its 8 bytes of key (here 32).
 */
public final class PersistenceTable6 extends TemplateTable {
    private final long[] netHi;
    private final long[] netLo;
    private final long[] vHi;
    private final long[] vLo;

    public PersistenceTable6(int capacity) {
        this(capacity, 0);
    }

    /** The IPv6 template table of worker {@code worker}. */
    public PersistenceTable6(int capacity, int worker) {
        super(capacity, worker);
        netHi = new long[capacity];
        netLo = new long[capacity];
        vHi = new long[capacity];
        vLo = new long[capacity];
    }

    @Override
    public long footprintBytes() {
        return sharedFootprintBytes() + 32L * capacity;
    }

    /** The high 64 bits of {@code hi:lo}'s /plen network (plen 0..128). */
    public static long netHi(long hi, int plen) {
        return plen >= 64 ? hi : plen <= 0 ? 0 : hi & (-1L << (64 - plen));
    }

    /** The low 64 bits of {@code hi:lo}'s /plen network (plen 0..128). */
    public static long netLo(long lo, int plen) {
        return plen <= 64 ? 0 : plen >= 128 ? lo : lo & (-1L << (128 - plen));
    }

    /** The template key's protocol, as for IPv4: IPPROTO_IP (0) for a fwmark service. */
    public static int keyProto(VirtualService svc) {
        return PersistenceTable.keyProto(svc);
    }

    /**
     * The high 64 bits of the template key's virtual address: the VIP's, or for a fwmark service
     * the mark where ip_vs_sched_persist puts it ({@code union nf_inet_addr fwmark = { .ip =
     * htonl(svc->fwmark) }}: the address's first 32-bit word, the other three zero).
     */
    public static long keyVaddrHi(VirtualService svc, long vaddrHi) {
        return svc.fwmark != 0 ? (svc.fwmark & 0xffffffffL) << 32 : vaddrHi;
    }

    /** The low 64 bits of the template key's virtual address: 0 for a fwmark service. */
    public static long keyVaddrLo(VirtualService svc, long vaddrLo) {
        return svc.fwmark != 0 ? 0 : vaddrLo;
    }

    /** The template key's port, as for IPv4 ({@link PersistenceTable#keyVport}). */
    public static int keyVport(VirtualService svc) {
        return PersistenceTable.keyVport(svc);
    }

    private int hash(long nHi, long nLo, long aHi, long aLo, int lo) {
        long h = (nHi ^ seed) * 0x9E3779B97F4A7C15L;
        h = (Long.rotateLeft(h, 29) ^ nLo) * 0xBF58476D1CE4E5B9L;
        h = (Long.rotateLeft(h, 31) ^ aHi) * 0x9E3779B97F4A7C15L;
        h = (Long.rotateLeft(h, 27) ^ aLo) * 0xBF58476D1CE4E5B9L;
        h ^= (lo + (h >>> 29)) * 0x94D049BB133111EBL;
        return (int) (h ^ (h >>> 32));
    }

    @Override
    int hashOf(int id) {
        return hash(netHi[id], netLo[id], vHi[id], vLo[id], keyLo[id]);
    }

    /**
     * The live template for (proto, client network, VIP, vport) at nowNanos, or -1; re-armed when
     * due but still controlling connections (as {@link PersistenceTable#lookup}). Allocation-free.
     */
    public int lookup(int proto, long snetHi, long snetLo, long vaddrHi, long vaddrLo, int vport, long nowNanos) {
        int lo = keyLo(proto, vport);
        int h = hash(snetHi, snetLo, vaddrHi, vaddrLo, lo);
        for (int i = h & indexMask; ; i = (i + 1) & indexMask) {
            long s = index[i];
            if (s == 0) {
                return -1;
            }
            if ((int) (s >>> 32) == h) {
                int id = (int) s - 1;
                if (netLo[id] == snetLo && netHi[id] == snetHi && vLo[id] == vaddrLo && vHi[id] == vaddrHi
                        && keyLo[id] == lo) {
                    return found(id, nowNanos);
                }
            }
        }
    }

    /** Enters a template placing the client network on dest; -1 when the table is full. Precondition: lookup missed. */
    public int insert(int proto, long snetHi, long snetLo, long vaddrHi, long vaddrLo, int vport, VirtualService svc,
                      RealServer dest, long timeoutNanos, long nowNanos) {
        java.util.Objects.requireNonNull(dest, "dest");
        int id = allocate();
        if (id < 0) {
            return -1;
        }
        int lo = keyLo(proto, vport);
        netHi[id] = snetHi;
        netLo[id] = snetLo;
        vHi[id] = vaddrHi;
        vLo[id] = vaddrLo;
        keyLo[id] = lo;
        return link(id, hash(snetHi, snetLo, vaddrHi, vaddrLo, lo), svc, dest, timeoutNanos, nowNanos);
    }

    public long clientNetHi(int id) {
        return netHi[id];
    }

    public long clientNetLo(int id) {
        return netLo[id];
    }

    public long vaddrHi(int id) {
        return vHi[id];
    }

    public long vaddrLo(int id) {
        return vLo[id];
    }
}
