package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 persistence templates: the client network as the kernel's ipv6_addr_prefix cuts it, keys
 * over all 256 bits of network and VIP, the lifetime rules shared with IPv4's templates, and the
 * connection table's controller link.
 */
class PersistenceTable6Test {
    static final long S = 1_000_000_000L;
    static final Ipv6Address VIP = Ipv6Address.parse("2001:db8::100");
    final RealServer rs = new RealServer(0x0a00000b, 80, 1, ForwardMethod.DR, 0, 0, new DestStats());
    final VirtualService svc = new VirtualService(Protocol.TCP, 0x0a000064, 80, "rr", new RealServer[]{rs}, null,
            new DestStats());

    /** Hand-computed: 2001:db8:1:2:3:4:5:6 cut to several lengths (the groups written out, then zeroed). */
    @Test
    void clientNetworkIsTheAddressCutToThePrefixLength() {
        Ipv6Address a = Ipv6Address.parse("2001:db8:1:2:3:4:5:6");
        assertEquals(0x2001_0db8_0001_0002L, PersistenceTable6.netHi(a.hi(), 64));
        assertEquals(0L, PersistenceTable6.netLo(a.lo(), 64));
        assertEquals(0x2001_0db8_0001_0000L, PersistenceTable6.netHi(a.hi(), 48));
        assertEquals(0x2000_0000_0000_0000L, PersistenceTable6.netHi(a.hi(), 3));   // 0x2001 = 0010 0000 ...
        assertEquals(0L, PersistenceTable6.netHi(a.hi(), 2));
        assertEquals(0x0003_0004_0005_0000L, PersistenceTable6.netLo(a.lo(), 120));  // last byte 06 cut
        assertEquals(0x0003_0004_0005_0006L, PersistenceTable6.netLo(a.lo(), 128));
        assertEquals(0x2001_0db8_0001_0002L, PersistenceTable6.netHi(a.hi(), 128));
        assertEquals(0x0003_0000_0000_0000L, PersistenceTable6.netLo(a.lo(), 80));   // group 0003 is bits 64..79: kept
        assertEquals(0x0002_0000_0000_0000L, PersistenceTable6.netLo(a.lo(), 79));   // 0003's last bit cut
        // an independent model: BigInteger's shifts, over random addresses and every length
        Random r = new Random(5);
        for (int i = 0; i < 2000; i++) {
            long hi = r.nextLong();
            long lo = r.nextLong();
            int plen = 1 + r.nextInt(128);
            BigInteger v = new BigInteger(1, toBytes(hi, lo));
            BigInteger net = v.shiftRight(128 - plen).shiftLeft(128 - plen);
            byte[] want = toBytes(0, 0);
            byte[] nb = net.toByteArray();
            for (int k = 0; k < Math.min(16, nb.length); k++) {
                want[15 - k] = nb[nb.length - 1 - k];
            }
            Ipv6Address w = new Ipv6Address(hiOf(want), loOf(want));
            assertEquals(w.hi(), PersistenceTable6.netHi(hi, plen), "hi /" + plen);
            assertEquals(w.lo(), PersistenceTable6.netLo(lo, plen), "lo /" + plen);
        }
    }

    static byte[] toBytes(long hi, long lo) {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (hi >>> (56 - 8 * i));
            b[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        return b;
    }

    static long hiOf(byte[] b) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[i] & 0xff);
        }
        return v;
    }

    static long loOf(byte[] b) {
        long v = 0;
        for (int i = 8; i < 16; i++) {
            v = v << 8 | (b[i] & 0xff);
        }
        return v;
    }

    /** Keys differing in any one of the four longs, the protocol or the port are different templates. */
    @Test
    void randomInsertLookupInvalidateAgreesWithAMap() {
        PersistenceTable6 t = new PersistenceTable6(512);
        Map<List<Long>, Integer> model = new HashMap<>();
        Random r = new Random(11);
        long[] his = {0x2001_0db8_0001_0000L, 0x2001_0db8_0002_0000L, 0x2001_0db9_0001_0000L};
        for (int step = 0; step < 200_000; step++) {
            long nHi = his[r.nextInt(his.length)];
            long nLo = r.nextInt(15);
            long vLo = VIP.lo() + r.nextInt(2);
            int proto = r.nextBoolean() ? Protocol.TCP : Protocol.UDP;
            int vport = r.nextBoolean() ? 80 : 0;
            List<Long> key = List.of(nHi, nLo, VIP.hi(), vLo, (long) proto, (long) vport);
            int id = t.lookup(proto, nHi, nLo, VIP.hi(), vLo, vport, 0);
            Integer want = model.get(key);
            assertEquals(want == null ? -1 : want, id, "step " + step);
            if (id < 0) {
                int n = t.insert(proto, nHi, nLo, VIP.hi(), vLo, vport, svc, rs, 10 * S, 0);
                assertTrue(n >= 0);
                model.put(key, n);
                assertEquals(nHi, t.clientNetHi(n));
                assertEquals(nLo, t.clientNetLo(n));
                assertEquals(vLo, t.vaddrLo(n));
                assertEquals(proto, t.proto(n));
                assertEquals(vport, t.vport(n));
            } else if (r.nextInt(3) == 0) {
                t.invalidate(id, 0);
                model.remove(key);
            }
            assertEquals(model.size(), t.size());
            assertEquals(model.size(), rs.stats.persistConnsVolatile(), "persistconns accounting");
        }
    }

    /**
     * The kernel's lifetime: a template expires its timeout after it last placed a connection,
     * never while a connection it placed is in the table; removing the connection releases it.
     */
    @Test
    void templateOutlivesItsTimeoutWhileItControlsAConnection() {
        ConnectionTable6 conns = new ConnectionTable6(16, Timeouts.DEFAULTS);
        PersistenceTable6 t = conns.templates();
        Ipv6Address client = Ipv6Address.parse("2001:db8:1::5");
        long nHi = PersistenceTable6.netHi(client.hi(), 64);
        long nLo = PersistenceTable6.netLo(client.lo(), 64);
        int tmpl = t.insert(Protocol.TCP, nHi, nLo, VIP.hi(), VIP.lo(), 80, svc, rs, 300 * S, 0);
        int c = conns.insert(Protocol.TCP, client.hi(), client.lo(), 40000, VIP.hi(), VIP.lo(), 80, 1, 2, 80, svc, rs, 0);
        conns.setController(c, tmpl, 10 * S);       // placed at 10 s: the template is re-armed to 310 s
        assertEquals(tmpl, conns.controller(c));
        assertEquals(1, t.controlledCount(tmpl));
        assertEquals(310 * S, t.expiresAtNanos(tmpl));
        assertEquals(0, t.expire(400 * S, 100), "due but controlling a connection: re-armed, not removed");
        assertEquals(700 * S, t.expiresAtNanos(tmpl));
        assertEquals(tmpl, t.lookup(Protocol.TCP, nHi, nLo, VIP.hi(), VIP.lo(), 80, 800 * S),
                "a lookup of a due template that still controls re-arms it");
        assertEquals(1100 * S, t.expiresAtNanos(tmpl));
        conns.remove(c);
        assertEquals(0, t.controlledCount(tmpl), "the connection left: the template controls nothing");
        assertEquals(-1, conns.controller(c), "the freed entry names no template");
        assertEquals(0, t.expire(1099 * S, 100), "not due yet");
        assertEquals(1, t.expire(1100 * S, 100), "due and controlling nothing: gone");
        assertEquals(0, t.size());
        assertEquals(0, rs.stats.persistConnsVolatile());
        assertEquals(-1, t.lookup(Protocol.TCP, nHi, nLo, VIP.hi(), VIP.lo(), 80, 1100 * S));
    }

    /** A synced connection names no template: its removal leaves template 0's count alone. */
    @Test
    void syncedConnectionsControlNoTemplate() {
        ConnectionTable6 conns = new ConnectionTable6(16, Timeouts.DEFAULTS);
        PersistenceTable6 t = conns.templates();
        int tmpl = t.insert(Protocol.TCP, 1, 0, VIP.hi(), VIP.lo(), 80, svc, rs, 300 * S, 0);
        assertEquals(0, tmpl, "the first template has id 0");
        int placed = conns.insert(Protocol.TCP, 0, 5, 40000, VIP.hi(), VIP.lo(), 80, 1, 2, 80, svc, rs, 0);
        conns.setController(placed, tmpl, 0);
        int synced = conns.insertSynced(Protocol.TCP, 0, 6, 40000, VIP.hi(), VIP.lo(), 80, 1, 2, 80, svc, rs,
                TcpState.ESTABLISHED, false, 900 * S, 0);
        assertEquals(-1, conns.controller(synced));
        conns.remove(synced);
        assertEquals(1, t.controlledCount(tmpl), "still the one connection it placed");
    }

    @Test
    void fullTableRefusesAndInvalidatedTemplatesWaitForTheirConnections() {
        ConnectionTable6 conns = new ConnectionTable6(4, Timeouts.DEFAULTS);
        PersistenceTable6 t = new PersistenceTable6(2);
        int a = t.insert(Protocol.TCP, 1, 0, VIP.hi(), VIP.lo(), 80, svc, rs, 10 * S, 0);
        int b = t.insert(Protocol.TCP, 2, 0, VIP.hi(), VIP.lo(), 80, svc, rs, 10 * S, 0);
        assertEquals(-1, t.insert(Protocol.TCP, 3, 0, VIP.hi(), VIP.lo(), 80, svc, rs, 10 * S, 0),
                "full: refused, nothing evicted");
        t.controlAdded(a, 0);
        t.invalidate(a, 0);
        assertEquals(-1, t.lookup(Protocol.TCP, 1, 0, VIP.hi(), VIP.lo(), 80, 0), "invalid templates are unreachable");
        assertEquals(false, t.isValid(a));
        assertEquals(2, t.size(), "still allocated: a connection refers to it");
        t.controlRemoved(a);
        assertEquals(1, t.size(), "freed with its last connection");
        assertSame(rs, t.dest(b));
        assertEquals(4, conns.capacity());
    }
}
