package io.jvs.forwarder.conn;

import io.jvs.forwarder.testkit.AllocationProbe;
import io.jvs.packet.TcpHeader;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.jvs.forwarder.conn.Fixture.CLIENT;
import static io.jvs.forwarder.conn.Fixture.RIP;
import static io.jvs.forwarder.conn.Fixture.SECOND;
import static io.jvs.forwarder.conn.Fixture.VIP;
import static io.jvs.packet.TcpHeader.ACK;
import static io.jvs.packet.TcpHeader.FIN;
import static io.jvs.packet.TcpHeader.PSH;
import static io.jvs.packet.TcpHeader.RST;
import static io.jvs.packet.TcpHeader.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConnectionTableTest {

    @Test
    void insertThenLookupBothWaysAndReadEveryField() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.table.insert(Protocol.TCP, CLIENT, 54321, VIP, 80, RIP, 8080, f.svc, f.dest, f.now);
        assertTrue(id >= 0);
        assertEquals(1, f.table.size());
        assertEquals(id, f.table.lookupIn(Protocol.TCP, CLIENT, 54321, VIP, 80));
        assertEquals(id, f.table.lookupOut(Protocol.TCP, RIP, 8080, CLIENT, 54321));
        assertEquals(Protocol.TCP, f.table.proto(id));
        assertEquals(CLIENT, f.table.caddr(id));
        assertEquals(54321, f.table.cport(id));
        assertEquals(VIP, f.table.vaddr(id));
        assertEquals(80, f.table.vport(id));
        assertEquals(RIP, f.table.daddr(id));
        assertEquals(8080, f.table.dport(id));
        assertSame(f.dest, f.table.dest(id));
        assertSame(f.svc, f.table.service(id));
        assertEquals(TcpState.NONE, f.table.state(id));
        // ip_vs_conn_new: 3*HZ until the first packet's transition
        assertEquals(f.now + 3 * SECOND, f.table.expiresAtNanos(id));
        assertTrue(f.table.isLive(id));
        assertFalse(f.table.isActive(id));
    }

    /**
     * One client port to the same real server port through a DR VIP:80 and a NAT VIP:81 (the
     * soak's services): both entries have the OUT key (RIP:80, CLIENT:port); the reply belongs to
     * the NAT entry, whichever was made first. With the DR entry alone, the lookup still finds it.
     */
    @Test
    void aReplyFindsTheNatEntryWhenADrEntryHasTheSameOutKey() {
        Fixture f = new Fixture(ForwardMethod.DR);
        RealServer natDest = new RealServer(RIP, 80, 1, ForwardMethod.NAT, 0, 0, new DestStats());
        VirtualService nat = new VirtualService(Protocol.TCP, VIP, 81, "rr", new RealServer[] {natDest}, null,
                new DestStats());
        int dr1 = f.insert(40001);
        assertEquals(dr1, f.table.lookupOut(Protocol.TCP, RIP, 80, CLIENT, 40001), "the DR entry alone");
        int nat1 = f.table.insert(Protocol.TCP, CLIENT, 40001, VIP, 81, RIP, 80, nat, natDest, f.now);
        assertEquals(nat1, f.table.lookupOut(Protocol.TCP, RIP, 80, CLIENT, 40001), "NAT made after DR");
        int nat2 = f.table.insert(Protocol.TCP, CLIENT, 40002, VIP, 81, RIP, 80, nat, natDest, f.now);
        f.insert(40002);
        assertEquals(nat2, f.table.lookupOut(Protocol.TCP, RIP, 80, CLIENT, 40002), "NAT made before DR");
    }

    /**
     * One client port reaching one real server port through two NAT VIPs, the first connection
     * still in the table (TIME_WAIT at the director) when the second is made: both entries have the
     * OUT key (RIP:80, CLIENT:port), and the server's SYN-ACK belongs to the new one. The kernel finds
     * the newest (ip_vs_conn_hash adds at the bucket's head, ip_vs_conn_out_get takes the first hit);
     * the oldest would send the SYN-ACK out from the first VIP's port and the client would reset it
     * (seen in the lab: a client port reused from VIP6:80 for VIP6:8088 never connected).
     */
    @Test
    void aReplyFindsTheNewestOfTwoNatEntriesWithTheSameOutKey() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        VirtualService other = new VirtualService(Protocol.TCP, VIP, 8088, "rr", new RealServer[] {f.dest}, null,
                new DestStats());
        int old = f.table.insert(Protocol.TCP, CLIENT, 40001, VIP, 80, RIP, 80, f.svc, f.dest, f.now);
        int young = f.table.insert(Protocol.TCP, CLIENT, 40001, VIP, 8088, RIP, 80, other, f.dest, f.now);
        assertEquals(young, f.table.lookupOut(Protocol.TCP, RIP, 80, CLIENT, 40001), "the newer entry");
        f.table.remove(young);
        assertEquals(old, f.table.lookupOut(Protocol.TCP, RIP, 80, CLIENT, 40001), "the older one alone");
        int third = f.table.insert(Protocol.TCP, CLIENT, 40001, VIP, 8088, RIP, 80, other, f.dest, f.now);
        assertEquals(third, f.table.lookupOut(Protocol.TCP, RIP, 80, CLIENT, 40001), "newer again");
    }

    @Test
    void lookupsMissOnAnyDifferentKeyField() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        f.table.insert(Protocol.TCP, CLIENT, 1000, VIP, 80, RIP, 8080, f.svc, f.dest, f.now);
        assertEquals(-1, f.table.lookupIn(Protocol.UDP, CLIENT, 1000, VIP, 80));
        assertEquals(-1, f.table.lookupIn(Protocol.TCP, CLIENT + 1, 1000, VIP, 80));
        assertEquals(-1, f.table.lookupIn(Protocol.TCP, CLIENT, 1001, VIP, 80));
        assertEquals(-1, f.table.lookupIn(Protocol.TCP, CLIENT, 1000, VIP + 1, 80));
        assertEquals(-1, f.table.lookupIn(Protocol.TCP, CLIENT, 1000, VIP, 81));
        // the OUT key is (proto, daddr, dport, caddr, cport): the VIP is not part of it
        assertEquals(-1, f.table.lookupOut(Protocol.TCP, RIP, 80, CLIENT, 1000));
        assertEquals(-1, f.table.lookupOut(Protocol.TCP, RIP + 1, 8080, CLIENT, 1000));
        assertEquals(-1, f.table.lookupOut(Protocol.TCP, RIP, 8080, CLIENT, 1001));
        assertEquals(-1, f.table.lookupOut(Protocol.UDP, RIP, 8080, CLIENT, 1000));
        // the IN key as an OUT key and vice versa
        assertEquals(-1, f.table.lookupOut(Protocol.TCP, CLIENT, 1000, VIP, 80));
        assertEquals(-1, f.table.lookupIn(Protocol.TCP, RIP, 8080, CLIENT, 1000));
    }

    @Test
    void portsAndAddressesUseAllBits() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.table.insert(Protocol.TCP, 0xffffffff, 65535, 0x80000000, 65535, 0xfffffffe, 65534,
                f.svc, f.dest, f.now);
        assertEquals(id, f.table.lookupIn(Protocol.TCP, 0xffffffff, 65535, 0x80000000, 65535));
        assertEquals(id, f.table.lookupOut(Protocol.TCP, 0xfffffffe, 65534, 0xffffffff, 65535));
        assertEquals(0xffffffff, f.table.caddr(id));
        assertEquals(65535, f.table.cport(id));
        assertEquals(0x80000000, f.table.vaddr(id));
        assertEquals(65535, f.table.vport(id));
        assertEquals(0xfffffffe, f.table.daddr(id));
        assertEquals(65534, f.table.dport(id));
    }

    // ------------------------------------------------------------------ TCP accounting

    @Test
    void natHandshakeAndClientCloseBothDirections() {
        // NAT: no IP_VS_CONN_F_NOOUTPUT (masquerading), so input uses INPUT from the start.
        // Active = ES/SS/SR/SA (mainline tcp_state_active_table).
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(40000);
        assertEquals("0/1", f.counts());
        assertTrue(f.table.outputSeen(id));
        f.in(id, SYN);                 // INPUT syn NO -> SR
        assertEquals("SYN_RECV", f.state(id));
        assertEquals("1/0", f.counts());
        assertEquals(f.now + 60 * SECOND, f.table.expiresAtNanos(id));
        f.out(id, SYN | ACK);          // OUTPUT syn SR -> SR
        assertEquals("SYN_RECV", f.state(id));
        f.in(id, ACK);                 // INPUT ack SR -> ES
        assertEquals("ESTABLISHED", f.state(id));
        assertEquals("1/0", f.counts());
        assertEquals(f.now + 900 * SECOND, f.table.expiresAtNanos(id));
        f.in(id, PSH | ACK);           // ES -> ES
        f.out(id, PSH | ACK);          // ES -> ES
        assertEquals("ESTABLISHED", f.state(id));
        f.in(id, FIN | ACK);           // INPUT fin ES -> CW: leaves ESTABLISHED, inactive
        assertEquals("CLOSE_WAIT", f.state(id));
        assertEquals("0/1", f.counts());
        assertEquals(f.now + 60 * SECOND, f.table.expiresAtNanos(id));
        f.out(id, ACK);                // OUTPUT ack CW -> CW
        assertEquals("CLOSE_WAIT", f.state(id));
        f.out(id, FIN | ACK);          // OUTPUT fin CW -> TW
        assertEquals("TIME_WAIT", f.state(id));
        f.in(id, ACK);                 // INPUT ack TW -> TW
        assertEquals("TIME_WAIT", f.state(id));
        assertEquals("0/1", f.counts());
        assertEquals(f.now + 120 * SECOND, f.table.expiresAtNanos(id));
        f.now += 120 * SECOND;
        assertEquals(1, f.table.expire(f.now, 100));
        assertEquals("0/0", f.counts());
        assertEquals(0, f.table.size());
    }

    @Test
    void natServerClosesFirst() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(40001);
        f.in(id, SYN);
        f.out(id, SYN | ACK);
        f.in(id, ACK);
        assertEquals("1/0", f.counts());
        f.out(id, FIN | ACK);          // OUTPUT fin ES -> FW
        assertEquals("FIN_WAIT", f.state(id));
        assertEquals("0/1", f.counts());
        f.in(id, ACK);                 // INPUT ack FW -> FW
        f.in(id, FIN | ACK);           // INPUT fin FW -> TW
        assertEquals("TIME_WAIT", f.state(id));
        f.out(id, ACK);                // OUTPUT ack TW -> TW
        assertEquals("TIME_WAIT", f.state(id));
        assertEquals("0/1", f.counts());
    }

    @Test
    void drHandshakeAndCloseInputOnly() {
        // DR: NOOUTPUT set at bind, never cleared: every packet uses INPUT-ONLY.
        Fixture f = new Fixture(ForwardMethod.DR);
        int id = f.insert(40002);
        assertFalse(f.table.outputSeen(id));
        assertEquals("0/1", f.counts());
        f.in(id, SYN);                 // INPUT-ONLY syn NO -> SR
        assertEquals("SYN_RECV", f.state(id));
        assertEquals("1/0", f.counts());
        f.in(id, ACK);                 // INPUT-ONLY ack SR -> ES
        assertEquals("ESTABLISHED", f.state(id));
        f.in(id, PSH | ACK);
        assertEquals("ESTABLISHED", f.state(id));
        assertEquals("1/0", f.counts());
        f.in(id, FIN | ACK);           // INPUT-ONLY fin ES -> FW (INPUT would say CW)
        assertEquals("FIN_WAIT", f.state(id));
        assertEquals("0/1", f.counts());
        assertEquals(f.now + 120 * SECOND, f.table.expiresAtNanos(id));
        f.in(id, ACK);                 // INPUT-ONLY ack FW -> FW
        assertEquals("FIN_WAIT", f.state(id));
        assertFalse(f.table.outputSeen(id));
        f.now += 120 * SECOND - 1;
        assertEquals(0, f.table.expire(f.now, 100));
        f.now += 1;
        assertEquals(1, f.table.expire(f.now, 100));
        assertEquals("0/0", f.counts());
    }

    @Test
    void drResetGoesToClose() {
        Fixture f = new Fixture(ForwardMethod.TUN);
        int id = f.insert(40003);
        f.in(id, SYN);
        f.in(id, ACK);
        f.in(id, RST | ACK);           // INPUT-ONLY rst ES -> CL
        assertEquals("CLOSE", f.state(id));
        assertEquals("0/1", f.counts());
        assertEquals(f.now + 10 * SECOND, f.table.expiresAtNanos(id));
    }

    @Test
    void firstOutputSwitchesFromInputOnlyToInput() {
        // A DR entry that does see a reply (set_tcp_state clears NOOUTPUT on output):
        // afterwards a client FIN in ES uses INPUT (CW), not INPUT-ONLY (FW).
        Fixture f = new Fixture(ForwardMethod.DR);
        int id = f.insert(40004);
        f.in(id, SYN);
        f.in(id, ACK);
        assertFalse(f.table.outputSeen(id));
        f.out(id, ACK);
        assertTrue(f.table.outputSeen(id));
        f.in(id, FIN | ACK);
        assertEquals("CLOSE_WAIT", f.state(id));
    }

    @Test
    void segmentWithoutFlagsMovesToClose() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(40005);
        f.in(id, SYN);
        f.in(id, ACK);
        assertEquals("1/0", f.counts());
        f.in(id, PSH);                 // no RST/SYN/FIN/ACK: set_tcp_state's default CLOSE
        assertEquals("CLOSE", f.state(id));
        assertEquals("0/1", f.counts());
        assertEquals(f.now + 10 * SECOND, f.table.expiresAtNanos(id));
    }

    @Test
    void reEnteringAnActiveStateMovesBack() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(40006);
        f.in(id, SYN);
        f.in(id, ACK);
        f.in(id, FIN | ACK);           // CW, inactive
        assertEquals("0/1", f.counts());
        f.in(id, SYN);                 // INPUT syn CW -> SR: active again
        assertEquals("SYN_RECV", f.state(id));
        assertEquals("1/0", f.counts());
        f.table.remove(id);
        assertEquals("0/0", f.counts());
    }

    @Test
    void packetAndByteCountersOnDestAndService() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(40007);
        assertEquals(1, f.destStats.conns());
        assertEquals(1, f.svcStats.conns());
        f.in(id, SYN);
        f.out(id, SYN | ACK);
        f.in(id, ACK);
        for (DestStats s : new DestStats[] {f.destStats, f.svcStats}) {
            assertEquals(2, s.inPkts());
            assertEquals(120, s.inBytes());
            assertEquals(1, s.outPkts());
            assertEquals(1500, s.outBytes());
        }
        f.insert(40008);
        assertEquals(2, f.destStats.conns());
        assertEquals(2, f.svcStats.conns());
    }

    // ------------------------------------------------------------------ UDP

    @Test
    void udpEntriesStayInactiveWithTheUdpTimeout() {
        Fixture f = new Fixture(ForwardMethod.NAT, Protocol.UDP, 0, 0, 16);
        int id = f.insert(5353);
        assertEquals("0/1", f.counts());
        f.in(id, 0);
        assertEquals(f.now + 300 * SECOND, f.table.expiresAtNanos(id));
        f.out(id, SYN | ACK);          // flags mean nothing to UDP
        assertEquals(0, f.table.state(id));
        assertEquals("0/1", f.counts());
        assertFalse(f.table.isActive(id));
        assertEquals(id, f.lookupOut(5353));
        f.now += 299 * SECOND;
        assertEquals(id, f.lookupIn(5353));
        f.now += SECOND;
        assertEquals(-1, f.lookupIn(5353));
        assertEquals("0/0", f.counts());
        assertEquals(0, f.table.size());
    }

    @Test
    void udpTimeoutFromSetTakesEffectOnTheNextPacket() {
        Fixture f = new Fixture(ForwardMethod.DR, Protocol.UDP, 0, 0, 16);
        int id = f.insert(5353);
        f.in(id, 0);
        long before = f.table.expiresAtNanos(id);
        f.table.setTimeouts(f.table.timeouts().withUdp(30));
        assertEquals(before, f.table.expiresAtNanos(id), "existing expiry kept until the next packet");
        f.now += SECOND;
        f.in(id, 0);
        assertEquals(f.now + 30 * SECOND, f.table.expiresAtNanos(id));
    }

    // ------------------------------------------------------------------ timeouts and expiry

    @Test
    void everyStateExpiresAfterItsTimeout() {
        for (int state = 0; state < TcpState.COUNT; state++) {
            Fixture f = new Fixture(ForwardMethod.NAT);
            int id = f.insert(41000);
            long t0 = f.now;
            f.table.setState(id, state, t0);
            long timeout = Timeouts.DEFAULTS.nanos(state);
            assertEquals(t0 + timeout, f.table.expiresAtNanos(id), TcpState.name(state));
            assertEquals(TcpState.isActive(state) ? "1/0" : "0/1", f.counts(), TcpState.name(state));
            f.now = t0 + timeout - 1;
            assertEquals(id, f.lookupIn(41000), TcpState.name(state) + " just before");
            assertEquals(id, f.lookupOut(41000), TcpState.name(state) + " just before");
            f.now = t0 + timeout;
            assertEquals(-1, f.lookupIn(41000), TcpState.name(state) + " at expiry");
            assertEquals(0, f.table.size());
            assertEquals("0/0", f.counts(), TcpState.name(state));
        }
    }

    @Test
    void packetsRefreshTheExpiryOfTheirNewState() {
        // the states packets reach, each with its own timeout after the packet
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(41001);
        Object[][] steps = {
            {false, SYN, TcpState.SYN_RECV}, {true, SYN | ACK, TcpState.SYN_RECV},
            {false, ACK, TcpState.ESTABLISHED}, {true, FIN | ACK, TcpState.FIN_WAIT},
            {false, FIN | ACK, TcpState.TIME_WAIT}, {false, RST, TcpState.CLOSE},
            {true, SYN, TcpState.SYN_SENT}, {false, FIN, TcpState.SYN_SENT},
        };
        for (Object[] s : steps) {
            f.now += 7 * SECOND;
            f.table.update(id, (boolean) s[0], (int) s[1], 40, f.now);
            int state = (int) s[2];
            assertEquals(TcpState.name(state), f.state(id));
            assertEquals(f.now + Timeouts.DEFAULTS.nanos(state), f.table.expiresAtNanos(id), TcpState.name(state));
        }
    }

    @Test
    void tcpSetTimeoutsApplyOnTheNextPacket() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(41002);
        f.in(id, SYN);
        f.in(id, ACK);
        assertEquals(f.now + 900 * SECOND, f.table.expiresAtNanos(id));
        // ipvsadm --set 60 10 0
        f.table.setTimeouts(f.table.timeouts().withTcp(60).withTcpFin(10).withUdp(0));
        assertEquals(f.now + 900 * SECOND, f.table.expiresAtNanos(id));
        f.in(id, ACK);
        assertEquals(f.now + 60 * SECOND, f.table.expiresAtNanos(id));
        f.out(id, FIN | ACK);
        assertEquals("FIN_WAIT", f.state(id));
        assertEquals(f.now + 10 * SECOND, f.table.expiresAtNanos(id));
        assertEquals(300, f.table.timeouts().udp());
    }

    @Test
    void expiredEntryFoundByLookupIsRemovedAndMissed() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(41003);
        f.in(id, SYN);                 // SR, 60 s, active
        f.now += 60 * SECOND;
        assertEquals(-1, f.lookupOut(41003));
        assertEquals(0, f.table.size());
        assertEquals("0/0", f.counts());
        assertFalse(f.table.isLive(id));
        assertEquals(-1, f.lookupIn(41003));
        assertEquals(0, f.table.expire(f.now, 1000), "the sweep finds nothing left");
        // the key can be used again
        int again = f.insert(41003);
        assertEquals(again, f.lookupIn(41003));
    }

    @Test
    void explicitTimeLookupsDoNotReadTheClock() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(41004);
        f.in(id, SYN);
        long expiry = f.table.expiresAtNanos(id);
        f.now = Long.MIN_VALUE; // would be nonsense if read
        assertEquals(id, f.table.lookupIn(Protocol.TCP, CLIENT, 41004, VIP, 80, expiry - 1));
        assertEquals(id, f.table.lookupOut(Protocol.TCP, RIP, 80, CLIENT, 41004, expiry - 1));
        assertEquals(-1, f.table.lookupIn(Protocol.TCP, CLIENT, 41004, VIP, 80, expiry));
    }

    @Test
    void expiryComparisonSurvivesNanoTimeWrap() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        f.now = Long.MAX_VALUE - SECOND;
        int id = f.insert(41005);
        f.in(id, SYN);                 // expires 59 s after the wrap
        f.now += 30 * SECOND;          // wrapped to negative
        assertEquals(id, f.lookupIn(41005));
        f.now += 30 * SECOND;
        assertEquals(-1, f.lookupIn(41005));
    }

    @Test
    void incrementalSweepIsBoundedPerCall() {
        Fixture f = new Fixture(ForwardMethod.DR, Protocol.TCP, 0, 0, 256);
        for (int i = 0; i < 100; i++) {
            int id = f.insert(42000 + i);
            f.in(id, SYN);
        }
        assertEquals("100/0", f.counts());
        assertEquals(0, f.table.expire(f.now, 1000));
        f.now += 60 * SECOND;
        int total = 0;
        for (int call = 0; call < 10; call++) {
            int removed = f.table.expire(f.now, 10);
            assertTrue(removed <= 10);
            total += removed;
        }
        assertEquals(100, total);
        assertEquals(0, f.table.size());
        assertEquals("0/0", f.counts());
    }

    @Test
    void sweepKeepsLiveEntries() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int a = f.insert(43000);
        int b = f.insert(43001);
        f.in(a, SYN);                  // 60 s
        f.in(b, SYN);
        f.in(b, ACK);                  // 900 s
        f.now += 100 * SECOND;
        assertEquals(1, f.table.expire(f.now, 1000));
        assertEquals(-1, f.lookupIn(43000));
        assertEquals(b, f.lookupIn(43001));
        assertEquals("1/0", f.counts());
    }

    // ------------------------------------------------------------------ capacity

    @Test
    void fullTableRefusesInsertsButKeepsUpdating() {
        Fixture f = new Fixture(ForwardMethod.NAT, Protocol.TCP, 0, 0, 8);
        int[] ids = new int[8];
        for (int i = 0; i < 8; i++) {
            ids[i] = f.insert(44000 + i);
            assertTrue(ids[i] >= 0);
        }
        assertEquals(8, f.table.size());
        assertEquals(-1, f.insert(44100));
        assertEquals(-1, f.insert(44101));
        assertEquals(8, f.table.size());
        assertEquals(8, f.destStats.conns(), "refused inserts are not counted");
        for (int i = 0; i < 8; i++) {
            assertEquals(ids[i], f.lookupIn(44000 + i), "live entries are never evicted");
            f.in(ids[i], SYN);
            f.in(ids[i], ACK);
            assertEquals("ESTABLISHED", f.state(ids[i]));
        }
        assertEquals("8/0", f.counts());
        f.table.remove(ids[3]);
        int id = f.insert(44100);
        assertEquals(ids[3], id, "the freed id is reused");
        assertEquals(id, f.lookupIn(44100));
        assertEquals(-1, f.lookupIn(44003));
        assertEquals(-1, f.insert(44102));
    }

    @Test
    void capacityOneWorks() {
        Fixture f = new Fixture(ForwardMethod.NAT, Protocol.TCP, 0, 0, 1);
        int id = f.insert(1);
        assertEquals(0, id);
        assertEquals(-1, f.insert(2));
        f.table.remove(id);
        assertEquals(0, f.insert(2));
        assertEquals(0, f.lookupIn(2));
    }

    @Test
    void badCapacityIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ConnectionTable(0, Timeouts.DEFAULTS));
        assertThrows(IllegalArgumentException.class,
                () -> new ConnectionTable(ConnectionTable.MAX_CAPACITY + 1, Timeouts.DEFAULTS));
    }

    @Test
    void removeAndUpdateOfDeadIdsAreRejected() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(45000);
        f.table.remove(id);
        assertThrows(IllegalArgumentException.class, () -> f.table.remove(id));
        assertThrows(IllegalArgumentException.class, () -> f.table.update(id, false, SYN, 40, f.now));
        assertThrows(IllegalArgumentException.class, () -> f.table.remove(-1));
        assertThrows(IllegalArgumentException.class, () -> f.table.remove(1 << 20));
        assertEquals("0/0", f.counts());
    }

    @Test
    void removedEntriesDropTheirSnapshotReferences() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(45001);
        f.table.remove(id);
        assertEquals(null, f.table.dest(id));
        assertEquals(null, f.table.service(id));
    }

    // ------------------------------------------------------------------ thresholds

    @Test
    void upperThresholdWithDefaultLowerAtThreeQuarters() {
        // -x 4: overloaded when active+inactive >= 4; cleared on unbind when total*4 < 4*3
        Fixture f = new Fixture(ForwardMethod.NAT, Protocol.TCP, 4, 0, 16);
        int[] ids = new int[4];
        for (int i = 0; i < 3; i++) {
            ids[i] = f.insert(46000 + i);
            assertFalse(f.destStats.overloaded());
        }
        ids[3] = f.insert(46003);
        assertTrue(f.destStats.overloaded());
        assertFalse(f.dest.available());
        f.table.remove(ids[0]);        // total 3: 12 < 12 is false, still overloaded
        assertTrue(f.destStats.overloaded());
        f.table.remove(ids[1]);        // total 2: 8 < 12, cleared
        assertFalse(f.destStats.overloaded());
        assertTrue(f.dest.available());
    }

    @Test
    void upperAndLowerThresholds() {
        // -x 3 -y 2: overloaded at 3, cleared only below 2
        Fixture f = new Fixture(ForwardMethod.DR, Protocol.TCP, 3, 2, 16);
        int a = f.insert(47000);
        int b = f.insert(47001);
        f.in(a, SYN);                  // active and inactive both count
        assertFalse(f.destStats.overloaded());
        int c = f.insert(47002);
        assertTrue(f.destStats.overloaded());
        f.table.remove(c);             // 2: not below 2
        assertTrue(f.destStats.overloaded());
        f.now += 60 * SECOND;          // a (SYN_RECV, 60 s) and b (3 s) expire
        assertEquals(2, f.table.expire(f.now, 100));
        assertFalse(f.destStats.overloaded());
    }

    @Test
    void unbindWithoutThresholdsClearsOverload() {
        // ip_vs_unbind_dest's last branch: no thresholds, an overloaded flag is cleared
        Fixture f = new Fixture(ForwardMethod.NAT);
        int id = f.insert(48000);
        f.destStats.setOverloaded(true);
        f.table.remove(id);
        assertFalse(f.destStats.overloaded());
    }

    // ------------------------------------------------------------------ NAT replies and sharing

    @Test
    void lookupOutFindsNatEntriesAmongMany() {
        Fixture f = new Fixture(ForwardMethod.NAT, Protocol.TCP, 0, 0, 4096);
        int[] ids = new int[3000];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = f.insert(10000 + i);
        }
        for (int i = 0; i < ids.length; i++) {
            assertEquals(ids[i], f.lookupOut(10000 + i));
            assertEquals(ids[i], f.lookupIn(10000 + i));
        }
        assertEquals(-1, f.lookupOut(9999));
    }

    @Test
    void oneClientPortToTwoVipsOnTheSameRealServerSharesTheOutKey() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        VirtualService other = new VirtualService(Protocol.TCP, VIP + 1, 80, "rr",
                new RealServer[] {f.dest}, null, new DestStats());
        int a = f.table.insert(Protocol.TCP, CLIENT, 50000, VIP, 80, RIP, 80, f.svc, f.dest, f.now);
        int b = f.table.insert(Protocol.TCP, CLIENT, 50000, VIP + 1, 80, RIP, 80, other, f.dest, f.now);
        assertNotEquals(a, b);
        int found = f.lookupOut(50000);
        assertTrue(found == a || found == b);
        f.table.remove(found);
        assertEquals(found == a ? b : a, f.lookupOut(50000));
    }

    // ------------------------------------------------------------------ listing

    @Test
    void forEachVisitsLiveEntriesAndAllowsRemovingThem() {
        Fixture f = new Fixture(ForwardMethod.NAT);
        for (int i = 0; i < 10; i++) {
            f.insert(51000 + i);
        }
        f.table.remove(f.lookupIn(51004));
        List<Integer> ports = new ArrayList<>();
        f.table.forEach((t, id) -> ports.add(t.cport(id)));
        assertEquals(9, ports.size());
        assertFalse(ports.contains(51004));
        f.table.forEach((t, id) -> {
            if (t.cport(id) % 2 == 0) {
                t.remove(id);
            }
        });
        assertEquals(5, f.table.size());
        List<Integer> left = new ArrayList<>();
        f.table.forEach((t, id) -> left.add(t.cport(id)));
        left.sort(null);
        assertEquals(List.of(51001, 51003, 51005, 51007, 51009), left);
    }

    // ------------------------------------------------------------------ SYN flood defence

    @Test
    void aFullTableGivesUpItsOldestEmbryonicEntryNeverAnEstablishedOne() {
        Fixture f = new Fixture(ForwardMethod.DR, Protocol.TCP, 0, 0, 4);
        int[] ids = new int[4];
        for (int i = 0; i < 4; i++) {
            ids[i] = f.insert(1000 + i);
            f.in(ids[i], SYN);
            f.now += SECOND;
        }
        f.in(ids[0], ACK);                                  // the oldest completes its handshake
        assertEquals("ESTABLISHED", f.state(ids[0]));
        assertEquals(ConnectionTable.FULL, f.insert(2000));
        assertTrue(f.table.reclaimEmbryonic(64));
        assertEquals(-1, f.lookupIn(1001), "the oldest embryonic entry went");
        assertEquals(ids[0], f.lookupIn(1000), "the established one stayed");
        assertEquals(3, f.table.size());
        assertEquals("3/0", f.counts(), "its real server's counts follow (SYN_RECV is active)");
        int n = f.insert(2000);
        assertTrue(n >= 0);
        f.in(n, SYN);
        assertTrue(f.table.reclaimEmbryonic(64));
        assertEquals(-1, f.lookupIn(1002));
        int m = f.insert(2001);
        f.in(m, SYN);
        f.in(m, ACK);
        f.in(ids[3], ACK);
        f.in(n, ACK);
        assertEquals(ConnectionTable.FULL, f.insert(2002));
        assertFalse(f.table.reclaimEmbryonic(64), "only established entries left: nothing is reclaimed");
        assertEquals(4, f.table.size());
    }

    @Test
    void reclaimSkipsStaleRecordsOfRecycledIds() {
        Fixture f = new Fixture(ForwardMethod.DR, Protocol.TCP, 0, 0, 2);
        int a = f.insert(1);
        f.in(a, SYN);
        f.table.remove(a);                                  // its record stays in the ring
        int b = f.insert(2);                                // may reuse a's id
        f.in(b, SYN);
        f.in(b, ACK);
        int c = f.insert(3);
        f.in(c, SYN);
        assertTrue(f.table.reclaimEmbryonic(64));
        assertEquals(b, f.lookupIn(2), "a recycled id's old record does not make its new entry reclaimable");
        assertEquals(-1, f.lookupIn(3));
    }

    @Test
    void udpEntriesAreNeverReclaimedOrDropped() {
        Fixture f = new Fixture(ForwardMethod.NAT, Protocol.UDP, 0, 0, 2);
        f.in(f.insert(1), 0);
        f.in(f.insert(2), 0);
        assertFalse(f.table.reclaimEmbryonic(64));
        for (int i = 0; i < 100; i++) {
            assertEquals(0, f.table.randomDropEntry());
        }
        assertEquals(2, f.table.size());
    }

    @Test
    void randomDropEntryRemovesOnlyEmbryonicEntriesAndScansACapacityThirtySecondPerCall() {
        Fixture f = new Fixture(ForwardMethod.DR, Protocol.TCP, 0, 0, 256);
        for (int i = 0; i < 256; i++) {
            int id = f.insert(1000 + i);
            f.in(id, SYN);
            if (i % 2 == 0) {
                f.in(id, ACK);
            }
        }
        int first = f.table.randomDropEntry();
        assertTrue(first <= 256 >> 5, "at most capacity/32 ids looked at: " + first);
        int dropped = first;
        for (int k = 0; k < 2000; k++) {
            dropped += f.table.randomDropEntry();
        }
        assertEquals(128, dropped, "every embryonic entry eventually, and nothing else");
        assertEquals(128, f.table.size());
        f.table.forEach((t, id) -> assertEquals(TcpState.ESTABLISHED, t.state(id)));
    }

    @Test
    void secureTcpUsesTheDosTables() {
        Fixture dr = new Fixture(ForwardMethod.DR);
        dr.table.setSecureTcp(true);
        int id = dr.insert(1);
        dr.in(id, SYN);
        assertEquals("SYNACK", dr.state(id), "tcp_states_dos INPUT-ONLY: NONE -SYN-> SYNACK");
        Fixture nat = new Fixture(ForwardMethod.NAT);
        nat.table.setSecureTcp(true);
        int n = nat.insert(1);
        nat.in(n, SYN);
        nat.in(n, ACK);
        assertEquals("SYN_RECV", nat.state(n), "tcp_states_dos INPUT: an ACK before the server's reply stays SYN_RECV");
        nat.out(n, SYN | ACK);
        assertEquals("SYNACK", nat.state(n));
        nat.in(n, ACK);
        assertEquals("SYNACK", nat.state(n), "tcp_states_dos INPUT: SYNACK -ACK-> SYNACK");
        nat.out(n, ACK);
        assertEquals("ESTABLISHED", nat.state(n), "only the server's own ACK establishes it");
        nat.table.setSecureTcp(false);
        int m = nat.insert(2);
        nat.in(m, SYN);
        nat.in(m, ACK);
        assertEquals("ESTABLISHED", nat.state(m), "tcp_states INPUT: SYN_RECV -ACK-> ESTABLISHED");
    }

    // ------------------------------------------------------------------ memory and allocation

    @Test
    void memoryPerConnectionIsAsDocumented() {
        ConnectionTable pow2 = new ConnectionTable(1 << 16, Timeouts.DEFAULTS);
        assertEquals(146.0, pow2.footprintBytes() / (double) pow2.capacity(), 0.001);
        ConnectionTable worst = new ConnectionTable((1 << 16) + 1, Timeouts.DEFAULTS);
        assertTrue(worst.footprintBytes() / (double) worst.capacity() <= 186.0);
    }

    @Test
    void hotPathDoesNotAllocate() {
        Fixture f = new Fixture(ForwardMethod.NAT, Protocol.TCP, 100_000, 0, 1 << 12);
        Runnable round = () -> {
            for (int i = 0; i < 3000; i++) {
                int id = f.insert(i);
                f.table.update(id, false, SYN, 60, f.now);
                f.table.update(id, true, SYN | ACK, 60, f.now);
            }
            for (int i = 0; i < 3000; i++) {
                int id = f.lookupIn(i);
                f.table.update(id, false, ACK, 60, f.now);
                if (f.lookupOut(i) != id) {
                    throw new AssertionError();
                }
                if ((i & 1) == 0) {
                    f.table.remove(id);
                } else {
                    f.table.update(id, false, RST, 40, f.now); // CLOSE, 10 s
                }
            }
            f.now += 61 * SECOND;
            f.table.expire(f.now, 1 << 12);
            f.table.expire(f.now, 1 << 12);
            if (f.table.size() != 0) {
                throw new AssertionError(f.table.size());
            }
        };
        for (int i = 0; i < 20; i++) {
            round.run();
        }
        long before = AllocationProbe.start();
        for (int i = 0; i < 20; i++) {
            round.run();
        }
        long allocated = AllocationProbe.since(before);
        assertTrue(allocated < 4096, "allocated " + allocated + " bytes in 60k inserts and ~300k other operations");
    }
}
