package io.jvs.forwarder.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.LocalPorts;
import io.jvs.forwarder.conn.PersistenceTable;
import io.jvs.forwarder.conn.TcpState;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TestSchedulers;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.testkit.AllocationProbe;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.packet.IpvsSync;
import io.jvs.packet.SyncEntry;
import io.jvs.packet.TcpHeader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The master's sync rules (ip_vs_sync_conn_needed with the default sysctls) and the backup's
 * install (ip_vs_proc_conn), through the wire: master table, {@link SyncMaster}, its queue,
 * the encoder, {@link IpvsSync#decode}, the backup's queue, {@link SyncInstaller}, backup table.
 * The two sides have their own service tables (same configuration, own counters).
 */
class SyncMasterBackupTest {
    private static final long S = 1_000_000_000L;
    private static final int VIP = Ipv4Address.parse("10.0.0.100");
    private static final int RS1 = Ipv4Address.parse("10.0.1.11");
    private static final int RS2 = Ipv4Address.parse("10.0.1.12");
    private static final int LIP = Ipv4Address.parse("10.0.0.250");
    private static final int CLIENT = Ipv4Address.parse("192.168.1.5");
    private static final Ipv6Address VIP6 = Ipv6Address.parse("2001:db8::100");
    private static final Ipv6Address RS6A = Ipv6Address.parse("2001:db8::11");
    private static final Ipv6Address RS6B = Ipv6Address.parse("2001:db8::12");
    private static final Ipv6Address CLIENT6 = Ipv6Address.parse("2001:db8:1::2");
    private static final Ipv6Address LIP6 = Ipv6Address.parse("2001:db8::3");
    /** CLIENT6 cut to /64, as ip_vs_sched_persist keys a -M 64 service's template. */
    private static final Ipv6Address CLIENT6_NET = Ipv6Address.parse("2001:db8:1::");

    /** One director's side: its services, tables and (for the master) SyncMaster. */
    private static final class Side {
        final ServiceRegistry registry = new ServiceRegistry();
        final ConnectionTable conns;
        final ConnectionTable6 conns6 = new ConnectionTable6(64, Timeouts.DEFAULTS);
        final SyncCounters counters = new SyncCounters();
        final SyncQueue queue = new SyncQueue(64);
        long now = 1_000 * S;

        Side() {
            ServiceSpec nat = new ServiceSpec(Protocol.TCP, VIP, 80, "rr")
                    .withDest(new ServiceSpec.Dest(RS1, 8080, 1, ForwardMethod.NAT))
                    .withDest(new ServiceSpec.Dest(RS2, 8080, 1, ForwardMethod.NAT));
            ServiceSpec fullNat = new ServiceSpec(Protocol.TCP, VIP, 81, "rr")
                    .withFullNat(List.of(LIP), ClientAddressMode.PROXY_V2)
                    .withDest(new ServiceSpec.Dest(RS1, 8081, 1, ForwardMethod.FULLNAT));
            ServiceSpec persistent = new ServiceSpec(Protocol.TCP, VIP, 443, "rr").withPersistence(360, -1)
                    .withDest(new ServiceSpec.Dest(RS1, 443, 1, ForwardMethod.DR));
            ServiceSpec dns = new ServiceSpec(Protocol.UDP, VIP, 53, "rr")
                    .withDest(new ServiceSpec.Dest(RS1, 53, 1, ForwardMethod.NAT));
            ServiceSpec nat6 = ServiceSpec.ipv6(Protocol.TCP, VIP6, 80, "rr", List.of(
                    ServiceSpec.Dest.ipv6(RS6A, 8080, 1, ForwardMethod.NAT),
                    ServiceSpec.Dest.ipv6(RS6B, 8080, 1, ForwardMethod.NAT)));
            ServiceSpec dns6 = ServiceSpec.ipv6(Protocol.UDP, VIP6, 53, "rr", List.of(
                    ServiceSpec.Dest.ipv6(RS6A, 53, 1, ForwardMethod.DR)));
            ServiceSpec fullNat6 = ServiceSpec.ipv6(Protocol.TCP, VIP6, 81, "rr", List.of())
                    .withFullNat6(List.of(LIP6), ClientAddressMode.PROXY_V2)
                    .withDests(List.of(ServiceSpec.Dest.ipv6(RS6A, 8081, 1, ForwardMethod.FULLNAT)));
            ServiceSpec persistent6 = ServiceSpec.ipv6(Protocol.TCP, VIP6, 443, "rr", List.of(
                    ServiceSpec.Dest.ipv6(RS6A, 443, 1, ForwardMethod.NAT),
                    ServiceSpec.Dest.ipv6(RS6B, 443, 1, ForwardMethod.NAT))).withPersistence(360, 64);
            // TUN over IPv6 (ip6ip6), as XmitIT's Tun6 and SyncIT run it
            ServiceSpec tun6 = ServiceSpec.ipv6(Protocol.TCP, VIP6, 82, "rr", List.of(
                    ServiceSpec.Dest.ipv6(RS6A, 80, 1, ForwardMethod.TUN),
                    ServiceSpec.Dest.ipv6(RS6B, 80, 1, ForwardMethod.TUN)));
            registry.publish(new ServiceTableBuilder(TestSchedulers.FACTORY).build(
                    List.of(nat, fullNat, persistent, dns, nat6, dns6, fullNat6, persistent6, tun6),
                    registry.current()));
            conns = new ConnectionTable(256, Timeouts.DEFAULTS, () -> now, new LocalPorts(1024, 65535));
        }

        VirtualService svc(int proto, int port) {
            return registry.current().lookup(proto, VIP, port);
        }

        VirtualService svc6(int proto, int port) {
            return registry.current().classify6(proto, VIP6.hi(), VIP6.lo(), port);
        }
    }

    private final Side master = new Side();
    private final Side backup = new Side();
    private final SyncMaster sync = new SyncMaster(master.conns, master.conns6, SyncPolicy.DEFAULTS, master.queue,
            master.counters);
    private final SyncInstaller installer = new SyncInstaller(backup.conns, backup.conns6, backup.registry,
            backup.queue, backup.counters, () -> backup.now);

    /** A new connection as ScheduleHandler makes it: insert, account its first packet, sync hook. */
    private int open(int proto, int port, int cport, RealServer dest, int flags) {
        VirtualService svc = master.svc(proto, port);
        int id = master.conns.insert(proto, CLIENT, cport, VIP, port, dest.addr, dest.port, svc, dest, master.now);
        master.conns.update(id, false, flags, 60, master.now);
        sync.inbound(id, true, false, master.now);
        return id;
    }

    /** A further inbound packet as ConnectionHandler accounts it. */
    private void in(int id, int flags) {
        master.conns.update(id, false, flags, 60, master.now);
        sync.inbound(id, false, false, master.now);
    }

    private void out(int id, int flags) {
        master.conns.update(id, true, flags, 60, master.now);
    }

    private List<SyncEntry> drain() {
        List<SyncEntry> l = new ArrayList<>();
        SyncEntry e = new SyncEntry();
        while (master.queue.poll(e)) {
            l.add(e);
            e = new SyncEntry();
        }
        return l;
    }

    /** An established TCP connection after three inbound packets (SYN, ACK, data): the third is synced. */
    private int established(int port, int cport, RealServer dest) {
        int id = open(Protocol.TCP, port, cport, dest, TcpHeader.SYN);
        out(id, TcpHeader.SYN | TcpHeader.ACK);
        in(id, TcpHeader.ACK);
        in(id, TcpHeader.ACK | TcpHeader.PSH);
        return id;
    }

    /** Master queue -> one message -> decode -> backup queue -> install on the backup. */
    private void transfer() {
        MemorySegment buf = Arena.ofAuto().allocate(1500, 1);
        IpvsSync.Encoder enc = new IpvsSync.Encoder().begin(buf, 0, 1472, 0);
        SyncEntry e = new SyncEntry();
        while (master.queue.poll(e)) {
            assertTrue(enc.add(e));
        }
        IpvsSync.Reject r = IpvsSync.decode(buf, 0, enc.size(), 0, new SyncEntry(), new IpvsSync.Visitor() {
            @Override
            public void entry(SyncEntry x) {
                assertTrue(backup.queue.offer(x));
            }

            @Override
            public void rejected(SyncEntry x, IpvsSync.Reject why) {
                throw new AssertionError(why.label());
            }
        });
        assertNull(r);
        installer.run();
    }

    // ---- master rules ----

    @Test
    void tcpIsSyncedAtTheThirdInboundPacketThenEveryFiftieth() {
        RealServer rs = master.svc(Protocol.TCP, 80).dest(RS1, 8080);
        int id = open(Protocol.TCP, 80, 40000, rs, TcpHeader.SYN);
        assertEquals(TcpState.SYN_RECV, master.conns.state(id));
        out(id, TcpHeader.SYN | TcpHeader.ACK);
        in(id, TcpHeader.ACK); // packet 2: ESTABLISHED, but 2 % 50 != 3
        assertEquals(TcpState.ESTABLISHED, master.conns.state(id));
        assertEquals(0, drain().size());
        in(id, TcpHeader.ACK); // packet 3
        List<SyncEntry> l = drain();
        assertEquals(1, l.size());
        SyncEntry e = l.get(0);
        assertEquals(Protocol.TCP, e.protocol);
        assertEquals(TcpState.ESTABLISHED, e.state);
        assertEquals(CLIENT, e.caddr);
        assertEquals(40000, e.cport);
        assertEquals(VIP, e.vaddr);
        assertEquals(80, e.vport);
        assertEquals(RS1, e.daddr);
        assertEquals(8080, e.dport);
        assertEquals(IpvsSync.CONN_F_MASQ, e.flags & IpvsSync.CONN_F_FWD_MASK);
        assertEquals(0, e.flags & IpvsSync.CONN_F_INACTIVE);
        assertEquals(900, e.timeout); // ESTABLISHED's 15 minutes, just refreshed
        for (int p = 4; p <= 52; p++) {
            in(id, TcpHeader.ACK);
        }
        assertEquals(0, drain().size());
        in(id, TcpHeader.ACK); // packet 53
        assertEquals(1, drain().size());
    }

    @Test
    void aChangeIntoAnotherSyncedStateIsSentAtOnce() {
        int id = established(80, 40001, master.svc(Protocol.TCP, 80).dest(RS1, 8080));
        drain();
        in(id, TcpHeader.FIN | TcpHeader.ACK);
        int st = master.conns.state(id);
        assertTrue(st != TcpState.ESTABLISHED && SyncMaster.syncedState(st), TcpState.name(st));
        List<SyncEntry> l = drain();
        assertEquals(1, l.size());
        assertEquals(st, l.get(0).state);
        assertEquals(IpvsSync.CONN_F_INACTIVE, l.get(0).flags & IpvsSync.CONN_F_INACTIVE);
        in(id, TcpHeader.ACK); // same state again: back to counting
        assertEquals(0, drain().size());
    }

    @Test
    void unsyncedTcpStatesAreNeverSent() {
        RealServer rs = master.svc(Protocol.TCP, 80).dest(RS1, 8080);
        int id = open(Protocol.TCP, 80, 40002, rs, TcpHeader.SYN);
        in(id, TcpHeader.SYN); // SYN_RECV, packet 2
        in(id, TcpHeader.SYN); // packet 3 would be synced were the state synced
        assertEquals(TcpState.SYN_RECV, master.conns.state(id));
        assertEquals(0, drain().size());
    }

    @Test
    void udpFollowsThePacketCountOnly() {
        RealServer rs = master.svc(Protocol.UDP, 53).dest(RS1, 53);
        int id = open(Protocol.UDP, 53, 5000, rs, 0);
        in(id, 0);
        assertEquals(0, drain().size());
        in(id, 0);
        List<SyncEntry> l = drain();
        assertEquals(1, l.size());
        assertEquals(Protocol.UDP, l.get(0).protocol);
        assertEquals(300, l.get(0).timeout);
    }

    @Test
    void aFullQueueCountsADropAndNeverBlocks() {
        RealServer rs = master.svc(Protocol.UDP, 53).dest(RS1, 53);
        for (int c = 0; c < 70; c++) { // 64 slots
            int id = open(Protocol.UDP, 53, 6000 + c, rs, 0);
            in(id, 0);
            in(id, 0);
        }
        assertEquals(6, master.counters.drops(SyncDrop.QUEUE_FULL));
        assertEquals(64, drain().size());
    }

    @Test
    void theMastersDecisionAllocatesNothing() {
        RealServer rs = master.svc(Protocol.TCP, 80).dest(RS1, 8080);
        int id = established(80, 40003, rs);
        drain();
        SyncEntry e = new SyncEntry();
        for (int i = 0; i < 20_000; i++) { // warm up: class loading and profiling are not per packet
            in(id, TcpHeader.ACK);
            while (master.queue.poll(e)) {
                // the sender's side of the queue
            }
        }
        long base = AllocationProbe.start();
        for (int i = 0; i < 100_000; i++) {
            in(id, TcpHeader.ACK);
            while (master.queue.poll(e)) {
                // the sender's side of the queue
            }
        }
        long allocated = AllocationProbe.since(base);
        // one object per packet would be >= 1.6 MB; a few bytes come from the JIT's own work
        assertTrue(allocated < 4096, "allocated " + allocated + " bytes in 100k packets (2k of them synced)");
    }

    // ---- through the wire to the backup ----

    @Test
    void theBackupInstallsTheMastersConnectionWithoutSchedulingIt() {
        int id = established(80, 40010, master.svc(Protocol.TCP, 80).dest(RS2, 8080));
        backup.now = master.now + 5 * S;
        transfer();
        int b = backup.conns.lookupIn(Protocol.TCP, CLIENT, 40010, VIP, 80, backup.now);
        assertTrue(b >= 0);
        assertEquals(RS2, backup.conns.daddr(b));
        assertEquals(8080, backup.conns.dport(b));
        assertEquals(TcpState.ESTABLISHED, backup.conns.state(b));
        assertTrue(backup.conns.synced(b));
        assertTrue(backup.conns.isActive(b));
        assertEquals(backup.now + 900 * S, backup.conns.expiresAtNanos(b));
        // replies find it too (NAT: OUT key is the client)
        assertEquals(b, backup.conns.lookupOut(Protocol.TCP, RS2, 8080, CLIENT, 40010, backup.now));
        RealServer brs = backup.svc(Protocol.TCP, 80).dest(RS2, 8080);
        assertEquals(1, brs.stats.activeConns());
        assertEquals(0, brs.stats.inactConns());
        assertEquals(0, brs.stats.conns()); // counted in ip_vs_schedule only, never for a synced entry
        assertEquals(0, backup.svc(Protocol.TCP, 80).stats.conns());
        assertFalse(master.conns.synced(id));
        assertEquals(1, backup.counters.installedConnections());
        // a later sync of the same connection updates it: FIN moves it to inactive
        in(id, TcpHeader.FIN | TcpHeader.ACK);
        backup.now += S;
        transfer();
        assertEquals(master.conns.state(id), backup.conns.state(b));
        assertEquals(0, brs.stats.activeConns());
        assertEquals(1, brs.stats.inactConns());
        assertEquals(1, backup.counters.updatedConnections());
        assertEquals(1, backup.conns.size());
    }

    /**
     * A SYN-proxied connection (spliced on the master): the backup translates as the master does,
     * the server's stream + the sequence delta, TSval + the timestamp delta, windows shifted.
     * Without them a backup taking over would forward the server's own sequence numbers to a
     * client that knows only the cookie's, and the client would reset the connection.
     */
    @Test
    void aSynProxiedConnectionKeepsItsDeltasOnTheBackup() {
        RealServer rs = master.svc(Protocol.TCP, 80).dest(RS1, 8080);
        int id = open(Protocol.TCP, 80, 40030, rs, TcpHeader.ACK);
        master.conns.startSynProxy(id, 0x65B4_6A3D, 777, 0x7000_0000, 0x37_3000, 502);
        master.conns.spliceSynProxy(id, 0x35B4_6A3D, -4321, -2);
        out(id, TcpHeader.SYN | TcpHeader.ACK);
        in(id, TcpHeader.ACK);
        in(id, TcpHeader.ACK | TcpHeader.PSH);
        transfer();
        int b = backup.conns.lookupIn(Protocol.TCP, CLIENT, 40030, VIP, 80, backup.now);
        assertTrue(b >= 0);
        assertEquals(ConnectionTable.SP_SPLICED, backup.conns.synProxyState(b));
        assertEquals(0x35B4_6A3D, backup.conns.synProxySeq(b));
        assertEquals(-4321, backup.conns.synProxyTs(b));
        assertEquals(-2, backup.conns.synProxyWinShift(b));
        assertEquals(0x7000_0000, backup.conns.synProxyClientIsn(b));
        assertEquals(0x37_3000, backup.conns.synProxyOpts(b), "MSS 1460, wscale 7, timestamps, SACK");
        assertEquals(502, backup.conns.synProxyClientWindow(b));
        // a connection that is not proxied stays plain on the backup
        established(80, 40031, rs);
        transfer();
        int plain = backup.conns.lookupIn(Protocol.TCP, CLIENT, 40031, VIP, 80, backup.now);
        assertEquals(ConnectionTable.SP_NONE, backup.conns.synProxyState(plain));
    }

    @Test
    void fullNatKeepsTheMastersLocalAddressPortAndOffsets() {
        RealServer rs = master.svc(Protocol.TCP, 81).dest(RS1, 8081);
        int id = open(Protocol.TCP, 81, 40020, rs, TcpHeader.SYN);
        master.conns.setSeqOffsets(id, 0x12345678, -77);
        master.conns.setSeqBase(id, 0x0badcafe);
        master.conns.markProxyAcked(id);
        out(id, TcpHeader.SYN | TcpHeader.ACK);
        in(id, TcpHeader.ACK);
        in(id, TcpHeader.ACK);
        int lport = master.conns.lport(id);
        assertEquals(LIP, master.conns.laddr(id));
        transfer();
        int b = backup.conns.lookupIn(Protocol.TCP, CLIENT, 40020, VIP, 81, backup.now);
        assertTrue(b >= 0);
        assertEquals(LIP, backup.conns.laddr(b));
        assertEquals(lport, backup.conns.lport(b));
        assertTrue(backup.conns.localPorts().held(LIP, lport));
        assertEquals(1, backup.conns.localPorts().inUse());
        assertTrue(backup.conns.seqSet(b));
        assertEquals(0x12345678, backup.conns.seqDelta(b));
        assertEquals(-77, backup.conns.tsDelta(b));
        assertEquals(0x0badcafe, backup.conns.seqBase(b));
        assertTrue(backup.conns.proxyAcked(b));
        assertEquals(b, backup.conns.lookupOut(Protocol.TCP, RS1, 8081, LIP, lport, backup.now));
        // resent: updated in place, the port still held once
        for (int p = 4; p <= 53; p++) {
            in(id, TcpHeader.ACK);
        }
        transfer();
        assertEquals(1, backup.conns.localPorts().inUse());
        backup.conns.remove(b);
        assertFalse(backup.conns.localPorts().held(LIP, lport)); // released with the entry
    }

    @Test
    void persistenceTemplatesFollowTheirConnections() {
        VirtualService svc = master.svc(Protocol.TCP, 443);
        RealServer rs = svc.dest(RS1, 443);
        int snet = CLIENT;
        int t = master.conns.templates().insert(PersistenceTable.keyProto(svc), snet, VIP, 443, svc, rs,
                svc.persistTimeoutNanos, master.now);
        int id = master.conns.insert(Protocol.TCP, CLIENT, 40030, VIP, 443, RS1, 443, svc, rs, master.now);
        master.conns.setController(id, t, master.now);
        master.conns.update(id, false, TcpHeader.SYN, 60, master.now);
        sync.inbound(id, true, true, master.now);
        List<SyncEntry> first = drain();
        // the template goes with every examined packet (sync_period > 0); the SYN_RECV connection does not
        assertEquals(1, first.size());
        assertTrue(first.get(0).template());
        assertEquals(0, first.get(0).cport);
        assertEquals(443, first.get(0).vport);
        assertEquals(360, first.get(0).timeout);
        master.queue.offer(first.get(0));
        transfer();
        RealServer brs = backup.svc(Protocol.TCP, 443).dest(RS1, 443);
        int bt = backup.conns.templates().lookup(Protocol.TCP, snet, VIP, 443, backup.now);
        assertTrue(bt >= 0);
        assertEquals(RS1, backup.conns.templates().dest(bt).addr);
        assertEquals(backup.now + 360 * S, backup.conns.templates().expiresAtNanos(bt));
        assertEquals(1, brs.stats.persistConnsVolatile());
    }

    // ---- IPv6 connections (ConnectionTable6), as Ipv6Handler drives the hook ----

    /** A new IPv6 connection as Ipv6Handler.schedule makes it, then its first packet's sync hook. */
    private int open6(int proto, int port, int cport, RealServer dest, int flags) {
        VirtualService svc = master.svc6(proto, port);
        int id = master.conns6.insert(proto, CLIENT6.hi(), CLIENT6.lo(), cport, VIP6.hi(), VIP6.lo(), port,
                dest.addr6Hi, dest.addr6Lo, dest.port, svc, dest, master.now);
        master.conns6.update(id, false, flags, 60, master.now);
        sync.inbound6(id, true, false, master.now);
        return id;
    }

    private void in6(int id, int flags) {
        master.conns6.update(id, false, flags, 60, master.now);
        sync.inbound6(id, false, false, master.now);
    }

    @Test
    void ipv6TcpIsSyncedAtTheThirdInboundPacketAsAnIpv6Entry() {
        RealServer rs = master.svc6(Protocol.TCP, 80).dest6(RS6B.hi(), RS6B.lo(), 8080);
        int id = open6(Protocol.TCP, 80, 40100, rs, TcpHeader.SYN);
        master.conns6.update(id, true, TcpHeader.SYN | TcpHeader.ACK, 60, master.now);
        in6(id, TcpHeader.ACK); // packet 2: ESTABLISHED, 2 % 50 != 3
        assertEquals(0, drain().size());
        in6(id, TcpHeader.ACK); // packet 3
        List<SyncEntry> l = drain();
        assertEquals(1, l.size());
        SyncEntry e = l.get(0);
        assertTrue(e.ipv6());
        assertEquals(IpvsSync.STYPE_F_INET6, e.type);
        assertEquals(Protocol.TCP, e.protocol);
        assertEquals(TcpState.ESTABLISHED, e.state);
        assertEquals(new Ipv6Address(e.caddrHi, e.caddrLo), CLIENT6);
        assertEquals(new Ipv6Address(e.vaddrHi, e.vaddrLo), VIP6);
        assertEquals(new Ipv6Address(e.daddrHi, e.daddrLo), RS6B);
        assertEquals(40100, e.cport);
        assertEquals(80, e.vport);
        assertEquals(8080, e.dport);
        assertEquals(IpvsSync.CONN_F_MASQ, e.flags & IpvsSync.CONN_F_FWD_MASK);
        assertEquals(0, e.flags & (IpvsSync.CONN_F_INACTIVE | IpvsSync.CONN_F_NOOUTPUT));
        assertEquals(900, e.timeout);
        for (int p = 4; p <= 52; p++) {
            in6(id, TcpHeader.ACK);
        }
        assertEquals(0, drain().size());
        in6(id, TcpHeader.ACK); // packet 53
        assertEquals(1, drain().size());
        in6(id, TcpHeader.FIN | TcpHeader.ACK); // a change into another synced state: at once
        l = drain();
        assertEquals(1, l.size());
        assertEquals(master.conns6.state(id), l.get(0).state);
        assertEquals(IpvsSync.CONN_F_INACTIVE, l.get(0).flags & IpvsSync.CONN_F_INACTIVE);
    }

    @Test
    void theBackupInstallsTheMastersIpv6ConnectionsWithStateAndTimeout() {
        RealServer rs = master.svc6(Protocol.TCP, 80).dest6(RS6B.hi(), RS6B.lo(), 8080);
        int id = open6(Protocol.TCP, 80, 40110, rs, TcpHeader.SYN);
        master.conns6.update(id, true, TcpHeader.SYN | TcpHeader.ACK, 60, master.now);
        in6(id, TcpHeader.ACK);
        in6(id, TcpHeader.ACK);
        // an IPv4 connection in the same message
        established(80, 40111, master.svc(Protocol.TCP, 80).dest(RS1, 8080));
        // a UDP DR one (third packet synced)
        RealServer dns = master.svc6(Protocol.UDP, 53).dest6(RS6A.hi(), RS6A.lo(), 53);
        int u = open6(Protocol.UDP, 53, 5353, dns, 0);
        in6(u, 0);
        in6(u, 0);
        backup.now = master.now + 5 * S;
        transfer();
        assertEquals(1, backup.conns.size());
        assertEquals(2, backup.conns6.size());
        int b = backup.conns6.lookupIn(Protocol.TCP, CLIENT6.hi(), CLIENT6.lo(), 40110, VIP6.hi(), VIP6.lo(), 80,
                backup.now);
        assertTrue(b >= 0);
        assertEquals(RS6B, new Ipv6Address(backup.conns6.daddrHi(b), backup.conns6.daddrLo(b)));
        assertEquals(8080, backup.conns6.dport(b));
        assertEquals(TcpState.ESTABLISHED, backup.conns6.state(b));
        assertTrue(backup.conns6.synced(b));
        assertTrue(backup.conns6.isActive(b));
        assertEquals(backup.now + 900 * S, backup.conns6.expiresAtNanos(b));
        RealServer brs = backup.svc6(Protocol.TCP, 80).dest6(RS6B.hi(), RS6B.lo(), 8080);
        assertEquals(brs, backup.conns6.dest(b));
        // the NAT replies find it on the backup too
        assertEquals(b, backup.conns6.lookupOut(Protocol.TCP, RS6B.hi(), RS6B.lo(), 8080, CLIENT6.hi(), CLIENT6.lo(),
                40110, backup.now));
        assertEquals(1, brs.stats.activeConns());
        assertEquals(0, brs.stats.conns()); // a synced entry is never scheduled here
        int bu = backup.conns6.lookupIn(Protocol.UDP, CLIENT6.hi(), CLIENT6.lo(), 5353, VIP6.hi(), VIP6.lo(), 53,
                backup.now);
        assertTrue(bu >= 0);
        assertEquals(backup.now + 300 * S, backup.conns6.expiresAtNanos(bu));
        assertFalse(backup.conns6.outputSeen(bu)); // DR: IP_VS_CONN_F_NOOUTPUT
        assertEquals(3, backup.counters.installedConnections());
        // idempotent: a resend updates in place; FIN moves it to inactive
        in6(id, TcpHeader.FIN | TcpHeader.ACK);
        backup.now += S;
        transfer();
        assertEquals(2, backup.conns6.size());
        assertEquals(master.conns6.state(id), backup.conns6.state(b));
        assertEquals(0, brs.stats.activeConns());
        assertEquals(1, brs.stats.inactConns());
        assertEquals(1, backup.counters.updatedConnections());
    }

    private SyncEntry nat6Entry(int cport) {
        SyncEntry e = new SyncEntry();
        e.type = IpvsSync.STYPE_F_INET6;
        e.protocol = Protocol.TCP;
        e.state = TcpState.ESTABLISHED;
        e.caddrHi = CLIENT6.hi();
        e.caddrLo = CLIENT6.lo();
        e.cport = cport;
        e.vaddrHi = VIP6.hi();
        e.vaddrLo = VIP6.lo();
        e.vport = 80;
        e.daddrHi = RS6A.hi();
        e.daddrLo = RS6A.lo();
        e.dport = 8080;
        e.timeout = 900;
        return e;
    }

    @Test
    void ipv6EntriesTheBackupCannotHoldAreDroppedAndCounted() {
        SyncEntry e = nat6Entry(1);
        e.vport = 8888;
        installer.install(e, backup.now);
        assertEquals(1, backup.counters.drops(SyncDrop.NO_SERVICE));
        e = nat6Entry(2);
        e.daddrLo ^= 0x99;
        installer.install(e, backup.now);
        assertEquals(1, backup.counters.drops(SyncDrop.NO_DEST));
        // a FULLNAT server's entry without jvs's option 26 cannot be forwarded
        e = nat6Entry(4);
        e.vport = 81;
        e.dport = 8081;
        installer.install(e, backup.now);
        assertEquals(1, backup.counters.drops(SyncDrop.FULLNAT_OPTION_MISSING));
        assertEquals(0, backup.conns6.size());
        // an IPv4 entry with the same VIP bits is no IPv6 one
        e = nat6Entry(6);
        e.type = 0;
        installer.install(e, backup.now);
        assertEquals(2, backup.counters.drops(SyncDrop.NO_SERVICE));
        assertEquals(0, backup.conns.size());
    }

    @Test
    void anIpv6TunConnectionOfTheMasterIsInstalledOnTheBackup() {
        RealServer rs = master.svc6(Protocol.TCP, 82).dest6(RS6B.hi(), RS6B.lo(), 80);
        int id = open6(Protocol.TCP, 82, 40120, rs, TcpHeader.SYN);
        in6(id, TcpHeader.ACK); // TUN: the director never sees the SYN-ACK; the client's ACK establishes it
        in6(id, TcpHeader.ACK);
        transfer();
        assertEquals(0, totalDrops(backup.counters));
        int b = backup.conns6.lookupIn(Protocol.TCP, CLIENT6.hi(), CLIENT6.lo(), 40120, VIP6.hi(), VIP6.lo(), 82,
                backup.now);
        assertTrue(b >= 0, "the master's TUN6 connection is held by the backup");
        RealServer brs = backup.svc6(Protocol.TCP, 82).dest6(RS6B.hi(), RS6B.lo(), 80);
        assertEquals(brs, backup.conns6.dest(b));
        assertEquals(ForwardMethod.TUN, backup.conns6.dest(b).method);
        assertEquals(TcpState.ESTABLISHED, backup.conns6.state(b));
        assertFalse(backup.conns6.outputSeen(b)); // replies go from the real server to the client
        assertEquals(1, brs.stats.activeConns());
    }

    /**
     * One version 1 message as a kernel (or jvs) master lays it out, built here byte by byte from
     * ip_vs_sync.c's structs: an ip6ip6 (IP_VS_CONN_F_TUNNEL) connection as struct ip_vs_sync_v6,
     * and a SYN-proxied IPv6 NAT connection with jvs's option 25.
     */
    @Test
    void kernelLayoutIpv6TunAndSynProxyEntriesAreInstalled() {
        java.nio.ByteBuffer m = java.nio.ByteBuffer.allocate(8 + 72 + 96); // big-endian, as on the wire
        // struct ip_vs_sync_mesg: reserved, syncid, size, nr_conns, version 1, spare
        m.put((byte) 0).put((byte) 0).putShort((short) (8 + 72 + 96)).put((byte) 2).put((byte) 1).putShort((short) 0);
        // struct ip_vs_sync_v6: type STYPE_F_INET6, IPPROTO_TCP, ver_size 72 (version 0),
        // flags IP_VS_CONN_F_TUNNEL | IP_VS_CONN_F_NOOUTPUT, state IP_VS_TCP_S_ESTABLISHED (1),
        // cport, vport, dport, fwmark, timeout, caddr, vaddr, daddr
        m.put((byte) 1).put((byte) 6).putShort((short) 72).putInt(0x0002 | 0x0080).putShort((short) 1)
                .putShort((short) 40210).putShort((short) 82).putShort((short) 80).putInt(0).putInt(900);
        putAddr(m, "2001:db8:1::2");
        putAddr(m, "2001:db8::100");
        putAddr(m, "2001:db8::11");
        // the proxied NAT one: ver_size 72 + 2 + 20, IP_VS_CONN_F_MASQ, then option 25 (mandatory,
        // 20 bytes): seq delta, ts delta, client ISN, option bits, client window, window shift,
        // state 2 (spliced), 0; padded to 96
        m.put((byte) 1).put((byte) 6).putShort((short) 94).putInt(0x0000).putShort((short) 1)
                .putShort((short) 40211).putShort((short) 80).putShort((short) 8080).putInt(0).putInt(900);
        putAddr(m, "2001:db8:1::2");
        putAddr(m, "2001:db8::100");
        putAddr(m, "2001:db8::12");
        m.put((byte) 25).put((byte) 20).putInt(0x35B4_6A3D).putInt(-4321).putInt(0x7000_0000).putShort((short) 0x373)
                .putShort((short) 502).put((byte) -2).put((byte) 2).putShort((short) 0);
        m.putShort((short) 0); // padding to the 4-byte boundary, counted in the message's size only
        assertEquals(m.capacity(), m.position());
        MemorySegment buf = Arena.ofAuto().allocate(m.capacity(), 1);
        buf.copyFrom(MemorySegment.ofArray(m.array()));
        IpvsSync.Reject r = IpvsSync.decode(buf, 0, m.capacity(), 0, new SyncEntry(), new IpvsSync.Visitor() {
            @Override
            public void entry(SyncEntry x) {
                assertTrue(backup.queue.offer(x));
            }

            @Override
            public void rejected(SyncEntry x, IpvsSync.Reject why) {
                throw new AssertionError(why.label());
            }
        });
        assertNull(r);
        installer.run();
        assertEquals(0, totalDrops(backup.counters));
        assertEquals(2, backup.counters.installedConnections());

        Ipv6Address client = Ipv6Address.parse("2001:db8:1::2");
        Ipv6Address vip = Ipv6Address.parse("2001:db8::100");
        int t = backup.conns6.lookupIn(Protocol.TCP, client.hi(), client.lo(), 40210, vip.hi(), vip.lo(), 82,
                backup.now);
        assertTrue(t >= 0, "the IPv6 TUN entry is installed");
        RealServer ts1 = backup.conns6.dest(t);
        assertEquals(ForwardMethod.TUN, ts1.method);
        assertEquals(Ipv6Address.parse("2001:db8::11"), new Ipv6Address(ts1.addr6Hi, ts1.addr6Lo));
        assertEquals(80, ts1.port);
        assertEquals(TcpState.ESTABLISHED, backup.conns6.state(t));
        assertEquals(backup.now + 900 * S, backup.conns6.expiresAtNanos(t));
        assertEquals(ConnectionTable6.SP_NONE, backup.conns6.synProxyState(t));

        int p = backup.conns6.lookupIn(Protocol.TCP, client.hi(), client.lo(), 40211, vip.hi(), vip.lo(), 80,
                backup.now);
        assertTrue(p >= 0, "the proxied IPv6 entry is installed");
        assertEquals(ForwardMethod.NAT, backup.conns6.dest(p).method);
        assertEquals(ConnectionTable6.SP_SPLICED, backup.conns6.synProxyState(p));
        assertEquals(0x35B4_6A3D, backup.conns6.synProxySeq(p));
        assertEquals(-4321, backup.conns6.synProxyTs(p));
        assertEquals(0x7000_0000, backup.conns6.synProxyClientIsn(p));
        assertEquals(0x37_3000, backup.conns6.synProxyOpts(p), "MSS 1460, wscale 7, timestamps, SACK");
        assertEquals(502, backup.conns6.synProxyClientWindow(p));
        assertEquals(-2, backup.conns6.synProxyWinShift(p));
    }

    private static void putAddr(java.nio.ByteBuffer m, String addr) {
        try {
            m.put(java.net.InetAddress.getByName(addr).getAddress()); // a literal: no lookup
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static long totalDrops(SyncCounters c) {
        long n = 0;
        for (SyncDrop d : SyncDrop.values()) {
            n += c.drops(d);
        }
        return n;
    }

    @Test
    void anIpv6SynProxiedConnectionKeepsItsDeltasOnTheBackup() {
        RealServer rs = master.svc6(Protocol.TCP, 80).dest6(RS6A.hi(), RS6A.lo(), 8080);
        int id = open6(Protocol.TCP, 80, 40130, rs, TcpHeader.ACK);
        master.conns6.startSynProxy(id, 0x65B4_6A3D, 777, 0x7000_0000, 0x37_3000, 502);
        // awaiting the server's SYN-ACK: option 25 with state 1 (the master's cookie ISN and TSval)
        master.conns6.update(id, true, TcpHeader.SYN | TcpHeader.ACK, 60, master.now);
        in6(id, TcpHeader.ACK);
        in6(id, TcpHeader.ACK | TcpHeader.PSH);
        List<SyncEntry> sent = new ArrayList<>();
        SyncEntry x = new SyncEntry();
        while (master.queue.poll(x)) {
            sent.add(x);
            assertTrue(backup.queue.offer(x)); // (re-sent through the wire below)
            x = new SyncEntry();
        }
        assertEquals(1, sent.size());
        assertTrue(sent.get(0).ipv6() && sent.get(0).hasSynProxy, "the IPv6 entry carries option 25");
        assertEquals(IpvsSync.SYNPROXY_AWAITING, sent.get(0).spState);
        while (backup.queue.poll(x)) {
            assertTrue(master.queue.offer(x));
        }
        transfer();
        int b = backup.conns6.lookupIn(Protocol.TCP, CLIENT6.hi(), CLIENT6.lo(), 40130, VIP6.hi(), VIP6.lo(), 80,
                backup.now);
        assertTrue(b >= 0);
        assertEquals(ConnectionTable6.SP_AWAITING_SERVER, backup.conns6.synProxyState(b));
        assertEquals(0x65B4_6A3D, backup.conns6.synProxySeq(b));
        assertEquals(777, backup.conns6.synProxyTs(b));
        // spliced on the master: the next sync (at the 53rd packet) updates the backup's entry
        master.conns6.spliceSynProxy(id, 0x35B4_6A3D, -4321, -2);
        for (int n = 4; n <= 53; n++) {
            in6(id, TcpHeader.ACK);
        }
        transfer();
        assertEquals(1, backup.counters.updatedConnections());
        assertEquals(ConnectionTable6.SP_SPLICED, backup.conns6.synProxyState(b));
        assertEquals(0x35B4_6A3D, backup.conns6.synProxySeq(b));
        assertEquals(-4321, backup.conns6.synProxyTs(b));
        assertEquals(-2, backup.conns6.synProxyWinShift(b));
        assertEquals(0x7000_0000, backup.conns6.synProxyClientIsn(b));
        assertEquals(0x37_3000, backup.conns6.synProxyOpts(b), "MSS 1460, wscale 7, timestamps, SACK");
        assertEquals(502, backup.conns6.synProxyClientWindow(b));
        // a connection that is not proxied stays plain on the backup
        int plain = open6(Protocol.TCP, 80, 40131, rs, TcpHeader.SYN);
        master.conns6.update(plain, true, TcpHeader.SYN | TcpHeader.ACK, 60, master.now);
        in6(plain, TcpHeader.ACK);
        in6(plain, TcpHeader.ACK);
        transfer();
        int bp = backup.conns6.lookupIn(Protocol.TCP, CLIENT6.hi(), CLIENT6.lo(), 40131, VIP6.hi(), VIP6.lo(), 80,
                backup.now);
        assertTrue(bp >= 0);
        assertEquals(ConnectionTable6.SP_NONE, backup.conns6.synProxyState(bp));
        assertEquals(0, totalDrops(backup.counters));
    }

    @Test
    void anIpv6InactiveUpdateForAReplacedConnectionIsIgnoredAnActiveOneReplacesIt() {
        installer.install(nat6Entry(7), backup.now);
        SyncEntry moved = nat6Entry(7);
        moved.daddrHi = RS6B.hi();
        moved.daddrLo = RS6B.lo();
        moved.state = TcpState.TIME_WAIT;
        moved.flags = IpvsSync.CONN_F_INACTIVE;
        installer.install(moved, backup.now);
        assertEquals(1, backup.counters.drops(SyncDrop.STALE));
        SyncEntry active = nat6Entry(7);
        active.daddrHi = RS6B.hi();
        active.daddrLo = RS6B.lo();
        installer.install(active, backup.now);
        int b = backup.conns6.lookupIn(Protocol.TCP, CLIENT6.hi(), CLIENT6.lo(), 7, VIP6.hi(), VIP6.lo(), 80,
                backup.now);
        assertEquals(RS6B, new Ipv6Address(backup.conns6.daddrHi(b), backup.conns6.daddrLo(b)));
        assertEquals(1, backup.conns6.size());
        assertEquals(0, backup.svc6(Protocol.TCP, 80).dest6(RS6A.hi(), RS6A.lo(), 8080).stats.activeConns());
        assertEquals(1, backup.svc6(Protocol.TCP, 80).dest6(RS6B.hi(), RS6B.lo(), 8080).stats.activeConns());
    }

    @Test
    void ipv6FullNatKeepsTheMastersLocalAddressPortAndOffsets() {
        RealServer rs = master.svc6(Protocol.TCP, 81).dest6(RS6A.hi(), RS6A.lo(), 8081);
        int id = open6(Protocol.TCP, 81, 40130, rs, TcpHeader.SYN);
        master.conns6.setSeqOffsets(id, 0x12345678, -77);
        master.conns6.setSeqBase(id, 0x0badcafe);
        master.conns6.markProxyAcked(id);
        master.conns6.markToaOnAckSent(id);
        master.conns6.update(id, true, TcpHeader.SYN | TcpHeader.ACK, 60, master.now);
        in6(id, TcpHeader.ACK);
        in6(id, TcpHeader.ACK);
        int lport = master.conns6.lport(id);
        assertEquals(LIP6, new Ipv6Address(master.conns6.laddrHi(id), master.conns6.laddrLo(id)));
        transfer();
        int b = backup.conns6.lookupIn(Protocol.TCP, CLIENT6.hi(), CLIENT6.lo(), 40130, VIP6.hi(), VIP6.lo(), 81,
                backup.now);
        assertTrue(b >= 0, "the FULLNAT6 connection is installed on the backup");
        assertEquals(LIP6, new Ipv6Address(backup.conns6.laddrHi(b), backup.conns6.laddrLo(b)));
        assertEquals(lport, backup.conns6.lport(b));
        assertTrue(backup.conns6.localPorts().held(LIP6.hi(), LIP6.lo(), lport));
        assertEquals(1, backup.conns6.localPorts().inUse());
        assertTrue(backup.conns6.seqSet(b));
        assertEquals(0x12345678, backup.conns6.seqDelta(b));
        assertEquals(-77, backup.conns6.tsDelta(b));
        assertEquals(0x0badcafe, backup.conns6.seqBase(b));
        assertTrue(backup.conns6.proxyAcked(b));
        assertTrue(backup.conns6.toaOnAckSent(b));
        assertEquals(TcpState.ESTABLISHED, backup.conns6.state(b));
        // the server's replies (to LIP6:lport) find it
        assertEquals(b, backup.conns6.lookupOut(Protocol.TCP, RS6A.hi(), RS6A.lo(), 8081, LIP6.hi(), LIP6.lo(), lport,
                backup.now));
        // resent: updated in place, the port still held once
        for (int p = 4; p <= 53; p++) {
            in6(id, TcpHeader.ACK);
        }
        transfer();
        assertEquals(1, backup.counters.updatedConnections());
        assertEquals(1, backup.conns6.localPorts().inUse());
        backup.conns6.remove(b);
        assertFalse(backup.conns6.localPorts().held(LIP6.hi(), LIP6.lo(), lport)); // released with the entry
    }

    @Test
    void anIpv6FullNatPortHeldHereIsNotTakenTwice() {
        SyncEntry e = nat6Entry(9);
        e.vport = 81;
        e.dport = 8081;
        e.hasFullNat = true;
        e.localAddrHi = LIP6.hi();
        e.localAddrLo = LIP6.lo();
        e.localPort = 5000;
        installer.install(e, backup.now);
        SyncEntry other = nat6Entry(10);
        other.vport = 81;
        other.dport = 8081;
        other.hasFullNat = true;
        other.localAddrHi = LIP6.hi();
        other.localAddrLo = LIP6.lo();
        other.localPort = 5000;
        installer.install(other, backup.now);
        assertEquals(1, backup.counters.drops(SyncDrop.LOCAL_PORT_TAKEN));
        assertEquals(1, backup.conns6.size());
        assertEquals(1, backup.conns6.localPorts().inUse());
    }

    @Test
    void ipv6PersistenceTemplatesFollowTheirConnections() {
        VirtualService svc = master.svc6(Protocol.TCP, 443);
        RealServer rs = svc.dest6(RS6B.hi(), RS6B.lo(), 443);
        // as Ipv6Handler.schedule: the template keyed by the client's /64, then its connection
        int t = master.conns6.templates().insert(Protocol.TCP, CLIENT6_NET.hi(), CLIENT6_NET.lo(), VIP6.hi(),
                VIP6.lo(), 443, svc, rs, svc.persistTimeoutNanos, master.now);
        int id = master.conns6.insert(Protocol.TCP, CLIENT6.hi(), CLIENT6.lo(), 40140, VIP6.hi(), VIP6.lo(), 443,
                RS6B.hi(), RS6B.lo(), 443, svc, rs, master.now);
        master.conns6.setController(id, t, master.now);
        master.conns6.update(id, false, TcpHeader.SYN, 60, master.now);
        sync.inbound6(id, true, true, master.now);
        List<SyncEntry> first = drain();
        // the template goes with the first examined packet; the SYN_RECV connection does not
        assertEquals(1, first.size());
        SyncEntry te = first.get(0);
        assertTrue(te.ipv6());
        assertTrue(te.template());
        assertEquals(CLIENT6_NET, new Ipv6Address(te.caddrHi, te.caddrLo));
        assertEquals(VIP6, new Ipv6Address(te.vaddrHi, te.vaddrLo));
        assertEquals(RS6B, new Ipv6Address(te.daddrHi, te.daddrLo));
        assertEquals(0, te.cport);
        assertEquals(443, te.vport);
        assertEquals(443, te.dport);
        assertEquals(360, te.timeout);
        assertEquals(IpvsSync.CONN_F_MASQ, te.flags & IpvsSync.CONN_F_FWD_MASK);
        master.queue.offer(te);
        transfer();
        VirtualService bsvc = backup.svc6(Protocol.TCP, 443);
        RealServer brs = bsvc.dest6(RS6B.hi(), RS6B.lo(), 443);
        int bt = backup.conns6.templates().lookup(Protocol.TCP, CLIENT6_NET.hi(), CLIENT6_NET.lo(), VIP6.hi(),
                VIP6.lo(), 443, backup.now);
        assertTrue(bt >= 0, "the IPv6 template is installed on the backup");
        assertEquals(brs, backup.conns6.templates().dest(bt));
        assertEquals(backup.now + 360 * S, backup.conns6.templates().expiresAtNanos(bt));
        assertEquals(1, brs.stats.persistConnsVolatile());
        assertEquals(1, backup.counters.installedConnections());
        // sent again: the template's lifetime is renewed in place
        backup.now += 100 * S;
        master.queue.offer(te);
        transfer();
        assertEquals(1, backup.conns6.templates().size());
        assertEquals(backup.now + 360 * S, backup.conns6.templates().expiresAtNanos(bt));
        assertEquals(1, backup.counters.updatedConnections());
    }

    @Test
    void theMastersIpv6DecisionAllocatesNothing() {
        RealServer rs = master.svc6(Protocol.TCP, 80).dest6(RS6A.hi(), RS6A.lo(), 8080);
        int id = open6(Protocol.TCP, 80, 40120, rs, TcpHeader.SYN);
        master.conns6.update(id, true, TcpHeader.SYN | TcpHeader.ACK, 60, master.now);
        // a FULLNAT6 connection (option 26) and a persistent one with its template, synced alongside
        int fn = open6(Protocol.TCP, 81, 40121, master.svc6(Protocol.TCP, 81).dest6(RS6A.hi(), RS6A.lo(), 8081),
                TcpHeader.SYN);
        master.conns6.update(fn, true, TcpHeader.SYN | TcpHeader.ACK, 60, master.now);
        VirtualService psvc = master.svc6(Protocol.TCP, 443);
        RealServer prs = psvc.dest6(RS6A.hi(), RS6A.lo(), 443);
        int t = master.conns6.templates().insert(Protocol.TCP, CLIENT6_NET.hi(), CLIENT6_NET.lo(), VIP6.hi(),
                VIP6.lo(), 443, psvc, prs, psvc.persistTimeoutNanos, master.now);
        int p = master.conns6.insert(Protocol.TCP, CLIENT6.hi(), CLIENT6.lo(), 40122, VIP6.hi(), VIP6.lo(), 443,
                RS6A.hi(), RS6A.lo(), 443, psvc, prs, master.now);
        master.conns6.setController(p, t, master.now);
        master.conns6.update(p, true, TcpHeader.SYN | TcpHeader.ACK, 60, master.now);
        SyncEntry e = new SyncEntry();
        int[] ids = {id, fn, p};
        for (int i = 0; i < 20_000; i++) {
            in6(ids[i % 3], TcpHeader.ACK);
            while (master.queue.poll(e)) {
                // the sender's side of the queue
            }
        }
        long base = AllocationProbe.start();
        for (int i = 0; i < 99_999; i++) {
            in6(ids[i % 3], TcpHeader.ACK);
            while (master.queue.poll(e)) {
                // the sender's side of the queue
            }
        }
        long allocated = AllocationProbe.since(base);
        assertTrue(allocated < 4096, "allocated " + allocated + " bytes in 100k IPv6 packets (NAT, FULLNAT6 and a "
                + "persistent connection with its template; thousands of them synced)");
    }

    // ---- what the backup refuses, each counted ----

    private SyncEntry natEntry(int cport) {
        SyncEntry e = new SyncEntry();
        e.protocol = Protocol.TCP;
        e.state = TcpState.ESTABLISHED;
        e.caddr = CLIENT;
        e.cport = cport;
        e.vaddr = VIP;
        e.vport = 80;
        e.daddr = RS1;
        e.dport = 8080;
        e.timeout = 900;
        return e;
    }

    @Test
    void entriesForUnknownServicesOrServersAreDroppedAndCounted() {
        SyncEntry e = natEntry(1);
        e.vport = 8888;
        installer.install(e, backup.now);
        assertEquals(1, backup.counters.drops(SyncDrop.NO_SERVICE));
        e = natEntry(2);
        e.daddr = Ipv4Address.parse("10.9.9.9");
        installer.install(e, backup.now);
        assertEquals(1, backup.counters.drops(SyncDrop.NO_DEST));
        e = natEntry(3);
        e.vport = 81;
        e.dport = 8081;
        installer.install(e, backup.now); // FULLNAT server, no jvs option
        assertEquals(1, backup.counters.drops(SyncDrop.FULLNAT_OPTION_MISSING));
        assertEquals(0, backup.conns.size());
    }

    @Test
    void aFullNatPortHeldHereIsNotTakenTwice() {
        assertTrue(backup.conns.localPorts().reserve(LIP, 5000));
        SyncEntry e = natEntry(4);
        e.vport = 81;
        e.dport = 8081;
        e.hasFullNat = true;
        e.localAddr = LIP;
        e.localPort = 5000;
        installer.install(e, backup.now);
        assertEquals(1, backup.counters.drops(SyncDrop.LOCAL_PORT_TAKEN));
        assertEquals(0, backup.conns.size());
        assertEquals(1, backup.conns.localPorts().inUse());
    }

    @Test
    void anInactiveUpdateForAReplacedConnectionIsIgnoredAnActiveOneReplacesIt() {
        installer.install(natEntry(5), backup.now);
        SyncEntry moved = natEntry(5);
        moved.daddr = RS2;
        moved.state = TcpState.TIME_WAIT;
        moved.flags = IpvsSync.CONN_F_INACTIVE;
        installer.install(moved, backup.now);
        assertEquals(1, backup.counters.drops(SyncDrop.STALE));
        int b = backup.conns.lookupIn(Protocol.TCP, CLIENT, 5, VIP, 80, backup.now);
        assertEquals(RS1, backup.conns.daddr(b));
        SyncEntry active = natEntry(5);
        active.daddr = RS2;
        installer.install(active, backup.now);
        b = backup.conns.lookupIn(Protocol.TCP, CLIENT, 5, VIP, 80, backup.now);
        assertEquals(RS2, backup.conns.daddr(b));
        assertEquals(1, backup.conns.size());
        assertEquals(0, backup.svc(Protocol.TCP, 80).dest(RS1, 8080).stats.activeConns());
        assertEquals(1, backup.svc(Protocol.TCP, 80).dest(RS2, 8080).stats.activeConns());
    }

    @Test
    void maxLenDefaultsAndClampsAsStartSyncThread() {
        SyncSettings s = new SyncSettings("eth1", 0, 0, 0, 0, 0);
        assertEquals(1472, s.effectiveMaxLen(SyncRole.MASTER, 9000));
        assertEquals(8972, s.effectiveMaxLen(SyncRole.BACKUP, 9000));
        assertEquals(1472, s.effectiveMaxLen(SyncRole.BACKUP, 1400));
        SyncSettings small = new SyncSettings("eth1", 0, 0, 0, 0, 100);
        assertEquals(100, small.effectiveMaxLen(SyncRole.MASTER, 1500));
        assertEquals(1024, small.effectiveMaxLen(SyncRole.BACKUP, 1500));
    }
}
