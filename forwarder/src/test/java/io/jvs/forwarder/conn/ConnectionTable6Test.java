package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.testkit.AllocationProbe;
import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.Test;

import static io.jvs.packet.TcpHeader.ACK;
import static io.jvs.packet.TcpHeader.FIN;
import static io.jvs.packet.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The IPv6 connection table: keys of 128-bit addresses, the kernel's accounting, expiry, its footprint. */
class ConnectionTable6Test {
    static final long S = 1_000_000_000L;
    static final Ipv6Address CLIENT = Ipv6Address.parse("2001:db8:1::5");
    static final Ipv6Address VIP = Ipv6Address.parse("2001:db8::100");
    static final Ipv6Address RIP = Ipv6Address.parse("2001:db8::11");
    /** Differs from CLIENT only in the high half: a key compared on one half only would match it. */
    static final Ipv6Address CLIENT_OTHER_HI = Ipv6Address.parse("2001:db9:1::5");

    final RealServer nat = new RealServer(1, 80, 1, ForwardMethod.NAT, 0, 0, new DestStats());
    final RealServer dr = new RealServer(1, 80, 1, ForwardMethod.DR, 0, 0, new DestStats());
    final VirtualService svc = new VirtualService(Protocol.TCP, 1, 80, "rr", new RealServer[] {nat, dr}, null,
            new DestStats());
    final ConnectionTable6 t = new ConnectionTable6(8, Timeouts.DEFAULTS);

    int insert(Ipv6Address c, int cport, RealServer d, long now) {
        return t.insert(Protocol.TCP, c.hi(), c.lo(), cport, VIP.hi(), VIP.lo(), 80, RIP.hi(), RIP.lo(), 8080,
                svc, d, now);
    }

    @Test
    void inAndOutLookupsUseAll128BitsAndThePorts() {
        int id = insert(CLIENT, 40000, nat, 0);
        assertEquals(id, t.lookupIn(Protocol.TCP, CLIENT.hi(), CLIENT.lo(), 40000, VIP.hi(), VIP.lo(), 80, 1));
        assertEquals(-1, t.lookupIn(Protocol.TCP, CLIENT_OTHER_HI.hi(), CLIENT_OTHER_HI.lo(), 40000, VIP.hi(), VIP.lo(), 80, 1));
        assertEquals(-1, t.lookupIn(Protocol.UDP, CLIENT.hi(), CLIENT.lo(), 40000, VIP.hi(), VIP.lo(), 80, 1));
        assertEquals(-1, t.lookupIn(Protocol.TCP, CLIENT.hi(), CLIENT.lo(), 40001, VIP.hi(), VIP.lo(), 80, 1));
        assertEquals(id, t.lookupOut(Protocol.TCP, RIP.hi(), RIP.lo(), 8080, CLIENT.hi(), CLIENT.lo(), 40000, 1));
        assertEquals(-1, t.lookupOut(Protocol.TCP, RIP.hi(), RIP.lo(), 80, CLIENT.hi(), CLIENT.lo(), 40000, 1));
        assertEquals(8080, t.dport(id));
        assertEquals(RIP.lo(), t.daddrLo(id));
        // Every key with one fingerprint and home slot: the entries themselves must tell them apart.
        ConnectionTable6 same = new ConnectionTable6(8, Timeouts.DEFAULTS, 0, 0, 5);
        int a = same.insert(Protocol.TCP, CLIENT.hi(), CLIENT.lo(), 40000, VIP.hi(), VIP.lo(), 80, RIP.hi(), RIP.lo(),
                8080, svc, nat, 0);
        assertEquals(-1, same.lookupIn(Protocol.TCP, CLIENT_OTHER_HI.hi(), CLIENT_OTHER_HI.lo(), 40000, VIP.hi(),
                VIP.lo(), 80, 1), "client differing in the high half only");
        assertEquals(-1, same.lookupIn(Protocol.TCP, CLIENT.hi(), CLIENT.lo(), 40000, VIP.hi() + 1, VIP.lo(), 80, 1),
                "VIP differing in the high half only");
        assertEquals(-1, same.lookupOut(Protocol.TCP, RIP.hi() + 1, RIP.lo(), 8080, CLIENT.hi(), CLIENT.lo(), 40000, 1),
                "real server differing in the high half only");
        int b = same.insert(Protocol.TCP, CLIENT_OTHER_HI.hi(), CLIENT_OTHER_HI.lo(), 40000, VIP.hi(), VIP.lo(), 80,
                RIP.hi(), RIP.lo(), 8080, svc, nat, 0);
        assertEquals(b, same.lookupIn(Protocol.TCP, CLIENT_OTHER_HI.hi(), CLIENT_OTHER_HI.lo(), 40000, VIP.hi(),
                VIP.lo(), 80, 1));
        same.remove(a);
        assertEquals(b, same.lookupOut(Protocol.TCP, RIP.hi(), RIP.lo(), 8080, CLIENT_OTHER_HI.hi(),
                CLIENT_OTHER_HI.lo(), 40000, 1), "still reachable after a backward shift");
    }

    @Test
    void accountingStatesAndExpiryFollowTheKernel() {
        int id = insert(CLIENT, 40000, nat, 0);
        assertEquals(1, nat.stats.inactConns());
        t.update(id, false, SYN, 60, 0);
        t.update(id, true, SYN | ACK, 60, 0);
        t.update(id, false, ACK, 60, 0);
        assertEquals(TcpState.ESTABLISHED, t.state(id));
        assertEquals(1, nat.stats.activeConns());
        assertEquals(0, nat.stats.inactConns());
        assertEquals(900 * S, t.expiresAtNanos(id), "ESTABLISHED: 900 s");
        t.update(id, false, FIN | ACK, 60, 10 * S);
        assertEquals(TcpState.CLOSE_WAIT, t.state(id), "tcp_states INPUT: ESTABLISHED -FIN-> CLOSE_WAIT");
        assertEquals(0, nat.stats.activeConns(), "CLOSE_WAIT is inactive");
        assertEquals(1, nat.stats.inactConns());
        assertEquals(0, t.expire(10 * S + 59 * S, 8));
        assertEquals(1, t.expire(10 * S + 60 * S, 8), "CLOSE_WAIT: 60 s");
        assertEquals(0, nat.stats.inactConns());
        assertEquals(0, t.size());
    }

    /** As ConnectionTableTest's: of two NAT entries with one OUT key, a reply finds the newest (the kernel's hash-head order). */
    @Test
    void aReplyFindsTheNewestOfTwoNatEntriesWithTheSameOutKey() {
        int old = insert(CLIENT, 40001, nat, 0);
        int young = t.insert(Protocol.TCP, CLIENT.hi(), CLIENT.lo(), 40001, VIP.hi(), VIP.lo(), 8088, RIP.hi(),
                RIP.lo(), 8080, svc, nat, 0);
        assertEquals(young, t.lookupOut(Protocol.TCP, RIP.hi(), RIP.lo(), 8080, CLIENT.hi(), CLIENT.lo(), 40001, 1),
                "the newer entry");
        t.remove(young);
        assertEquals(old, t.lookupOut(Protocol.TCP, RIP.hi(), RIP.lo(), 8080, CLIENT.hi(), CLIENT.lo(), 40001, 1),
                "the older one alone");
        int third = t.insert(Protocol.TCP, CLIENT.hi(), CLIENT.lo(), 40001, VIP.hi(), VIP.lo(), 8088, RIP.hi(),
                RIP.lo(), 8080, svc, nat, 0);
        assertEquals(third, t.lookupOut(Protocol.TCP, RIP.hi(), RIP.lo(), 8080, CLIENT.hi(), CLIENT.lo(), 40001, 1),
                "newer again");
    }

    @Test
    void aReplyPrefersTheNatEntryAndAFullTableRefuses() {
        int d = insert(CLIENT, 40000, dr, 0);
        t.remove(d);
        insert(CLIENT, 40000, dr, 0);
        int n = t.insert(Protocol.TCP, CLIENT.hi(), CLIENT.lo(), 40000, VIP.hi(), VIP.lo() + 1, 80, RIP.hi(), RIP.lo(),
                8080, svc, nat, 0);
        assertEquals(n, t.lookupOut(Protocol.TCP, RIP.hi(), RIP.lo(), 8080, CLIENT.hi(), CLIENT.lo(), 40000, 1));
        for (int i = 1; i < 7; i++) {
            assertTrue(insert(CLIENT, 40000 + i, nat, 0) >= 0);
        }
        assertEquals(ConnectionTable6.FULL, insert(CLIENT, 50000, nat, 0));
        assertEquals(-1, t.lookupIn(Protocol.TCP, CLIENT.hi(), CLIENT.lo(), 40001, VIP.hi(), VIP.lo(), 80,
                4 * S), "expired (3 s initial timeout) entries are never returned");
        // TUN has IPv6 connections too (the expired entry's slot was freed by the lookup above).
        assertTrue(t.insert(Protocol.TCP, 0, 1, 1, 0, 2, 2, 0, 3, 3, svc,
                new RealServer(1, 80, 1, ForwardMethod.TUN, 0, 0, new DestStats()), 4 * S) >= 0);
    }

    /**
     * The flood defence over the IPv6 table, as over the IPv4 one: a full table gives up its oldest
     * embryonic entry (SYN_RECV) for a new connection and never an established one; drop_entry's
     * random scan removes embryonic entries only.
     */
    @Test
    void fullTableReclaimsTheOldestEmbryonicEntryAndNeverAnEstablishedOne() {
        long now = 0;
        int[] ids = new int[8];
        for (int i = 0; i < 8; i++) {
            ids[i] = insert(CLIENT, 40000 + i, nat, now);
            t.update(ids[i], false, SYN, 60, now);                      // SYN_RECV
            if (i % 2 == 0) {
                t.update(ids[i], true, SYN | ACK, 60, now);              // the server's SYN-ACK
                t.update(ids[i], false, ACK, 60, now);                  // ESTABLISHED
            }
        }
        assertEquals(ConnectionTable6.FULL, insert(CLIENT, 50000, nat, now), "full");
        assertEquals(TcpState.ESTABLISHED, t.state(ids[0]));
        assertEquals(TcpState.SYN_RECV, t.state(ids[1]));
        assertTrue(t.isEmbryonic(ids[1]));
        assertFalse(t.isEmbryonic(ids[0]));
        assertTrue(t.reclaimEmbryonic(64));
        assertFalse(t.isLive(ids[1]), "the oldest embryonic entry (claimed second) went");
        assertTrue(t.isLive(ids[0]), "the older, established one stayed");
        int n = insert(CLIENT, 50000, nat, now);
        assertTrue(n >= 0, "room for the new connection");
        assertTrue(t.reclaimEmbryonic(64));
        assertFalse(t.isLive(ids[3]), "then the next oldest embryonic one");
        assertTrue(t.reclaimEmbryonic(64));
        assertTrue(t.reclaimEmbryonic(64));
        assertTrue(t.isLive(n), "the new connection (NONE: no SYN seen) is not embryonic");
        assertFalse(t.reclaimEmbryonic(64), "only established and new entries left: nothing reclaimed");
        for (int i = 0; i < 8; i += 2) {
            assertTrue(t.isLive(ids[i]), "established entry " + i + " never reclaimed");
        }
        // drop_entry: a scan removes the embryonic entries it meets, never the established ones.
        ConnectionTable6 big = new ConnectionTable6(64, Timeouts.DEFAULTS);
        int embryonic = 0;
        for (int i = 0; i < 64; i++) {
            int id = big.insert(Protocol.TCP, CLIENT.hi(), CLIENT.lo(), 1000 + i, VIP.hi(), VIP.lo(), 80, RIP.hi(),
                    RIP.lo(), 8080, svc, nat, now);
            big.update(id, false, SYN, 60, now);
            if (i % 4 != 0) {
                embryonic++;
            } else {
                big.update(id, true, SYN | ACK, 60, now);
                big.update(id, false, ACK, 60, now);
            }
        }
        int removed = 0;
        for (int k = 0; k < 2000; k++) {
            removed += big.randomDropEntry();
        }
        assertEquals(64 - embryonic, big.size(), "every embryonic entry dropped by 2000 scans of 2, "
                + removed + " removed; the 16 established ones stayed");
        assertEquals(embryonic, removed);
    }

    /**
     * Both tables' memory per connection, measured as what their constructors allocate (every array
     * is allocated up front), in one run, as the difference between a 2^19 and a 2^18 table after
     * a first small one of each (so one-time costs do not count): the IPv6 table's 200 bytes (113 per
     * entry with its controlling template's id, FULLNAT's local address, port, sequence base and
     * offsets and the per-client-limit flag, 22 of SYN proxy state, 12 for the embryonic reclaim's
     * claim serial and ring, 32 of indexes, 21 for a quarter as many persistence templates at 84 bytes with their
     * index), and the IPv4
     * table's 146, which 128-bit keys in it would have grown by 48 (three addresses of 4 bytes
     * become 16: client and VIP in addrs, daddr, laddr).
     */
    @Test
    void footprintOfBothTablesMeasured() {
        int small = 1 << 18;
        int large = 1 << 19;
        // First constructions pay one-time costs (class initialisation, the first SecureRandom): not per connection.
        new ConnectionTable(64, Timeouts.DEFAULTS);
        new ConnectionTable6(64, Timeouts.DEFAULTS);
        double v4PerConn = (allocated(() -> new ConnectionTable(large, Timeouts.DEFAULTS))
                - allocated(() -> new ConnectionTable(small, Timeouts.DEFAULTS))) / (double) (large - small);
        double v6PerConn = (allocated(() -> new ConnectionTable6(large, Timeouts.DEFAULTS))
                - allocated(() -> new ConnectionTable6(small, Timeouts.DEFAULTS))) / (double) (large - small);
        double v4Documented = (new ConnectionTable(large, Timeouts.DEFAULTS).footprintBytes()
                - new ConnectionTable(small, Timeouts.DEFAULTS).footprintBytes()) / (double) (large - small);
        System.out.printf("connection table footprint, measured: IPv4 %.1f B/conn (its footprintBytes: %.1f), IPv6 %.1f B/conn%n",
                v4PerConn, v4Documented, v6PerConn);
        assertEquals(200, new ConnectionTable6(small, Timeouts.DEFAULTS).footprintBytes() / small);
        assertEquals(200.0, v6PerConn, 1.0, "IPv6 measured");
        assertEquals(v4Documented, v4PerConn, 1.0, "IPv4 measured");
        // IPv4's entries stay as they were: IPv6 never widened them (its own table, templates included, is
        // the larger now: 179 per entry with FULLNAT's and the SYN proxy's state, plus its templates' quarter)
        assertEquals(146.0, v4PerConn, 1.0, "IPv4 measured");
    }

    private static long allocated(Runnable construct) {
        long before = AllocationProbe.start();
        construct.run();
        return AllocationProbe.since(before);
    }
}
