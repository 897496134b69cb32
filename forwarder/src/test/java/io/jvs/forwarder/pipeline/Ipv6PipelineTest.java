package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.NeighbourCache6;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.neigh.RouteTable6;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Ipv6ServiceLookup;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.service.VrrpGate;
import io.jvs.forwarder.xmit.CapturingTxQueue;
import io.jvs.packet.Ipv6Address;
import io.jvs.sys.RtNetlink.Route6;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.jvs.forwarder.pipeline.V6Frames.addr;
import static io.jvs.forwarder.pipeline.V6Frames.concat;
import static io.jvs.forwarder.pipeline.V6Frames.frame;
import static io.jvs.forwarder.pipeline.V6Frames.hex;
import static io.jvs.forwarder.pipeline.V6Frames.icmp6;
import static io.jvs.forwarder.pipeline.V6Frames.l4Sum;
import static io.jvs.forwarder.pipeline.V6Frames.na;
import static io.jvs.forwarder.pipeline.V6Frames.ns;
import static io.jvs.forwarder.pipeline.V6Frames.tcp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IPv6 data path through {@link DataPath}'s pipeline: NDP (answers, resolution with the
 * bounded pending queue), DR and NAT over IPv6 with hop limit and checksums, ICMPv6 echo and
 * Time Exceeded, fragments, the drops' reasons, and no allocation per packet. Expected frames
 * and checksums were computed outside jvs (Python's ipaddress/struct, RFC 1071 by hand: see the
 * hex constants) or by {@link V6Frames}' own reference sum.
 */
class Ipv6PipelineTest {
    static final int IFINDEX = 7;
    static final long PORT_MAC = 0x02_6a_76_00_00_02L;
    static final long CLIENT_MAC = 0x02_00_00_00_00_0cL;
    static final long ROUTER_MAC = 0x02_00_00_00_00_01L;
    static final long RS1_MAC = 0x02_00_00_00_00_11L;
    static final long RS2_MAC = 0x02_00_00_00_00_12L;
    static final byte[] PORT_IP = addr("2001:db8::2");
    static final byte[] CLIENT = addr("2001:db8::c");
    static final byte[] REMOTE = addr("2001:db8:1::2");
    static final byte[] ROUTER = addr("fe80::1");
    static final byte[] VIP = addr("2001:db8::100");
    static final byte[] LIP = addr("2001:db8::3");
    static final byte[] RS1 = addr("2001:db8::11");
    static final byte[] RS2 = addr("2001:db8::12");
    static final int DR_PORT = 80;
    static final int NAT_PORT = 8080;
    /** Stand-ins the IPv4 model needs until it carries IPv6: the test's lookup maps them to the IPv6 ones. */
    static final int VIP4 = 0x0a00_0064;
    static final int RS1_4 = 0x0a00_0011;
    static final int RS2_4 = 0x0a00_0012;

    /** Hand-computed: the NA answering CLIENT's NS for VIP (checksum 0x1200). */
    static final String NA_FOR_VIP = "02000000000c026a7600000286dd6000000000203aff20010db800000000000000000000010020010db8"
            + "00000000000000000000000c880012006000000020010db80000000000000000000001000201026a76000002";
    /** Hand-computed: the NS for RS1 from the port's address to ff02::1:ff00:11 (checksum 0xa59c). */
    static final String NS_FOR_RS1 = "3333ff000011026a7600000286dd6000000000203aff20010db8000000000000000000000002"
            + "ff0200000000000000000001ff0000118700a59c0000000020010db80000000000000000000000110101026a76000002";
    /** Hand-computed: CLIENT:40000 -> VIP:8080 SYN after NAT to RS2:80, hop limit 63 (TCP checksum 0xb7c1). */
    static final String NAT_SYN_OUT = "020000000012026a7600000286dd600000000014063f20010db800000000000000000000000c20010db8"
            + "0000000000000000000000129c40005000000001000000005002ffffb7c10000";

    /** Hand-computed: the unsolicited NA for VIP at publication (all-nodes, Override only; checksum 0x80c1). */
    static final String UNSOLICITED_NA_FOR_VIP = "333300000001026a7600000286dd6000000000203aff20010db800000000000000000000"
            + "0100ff020000000000000000000000000001880080c12000000020010db80000000000000000000001000201026a76000002";

    final DataPathCounters counters = new DataPathCounters("lan0");
    final CapturingTxQueue tx = new CapturingTxQueue();
    final CaptureSwitchTxQueue queue = new CaptureSwitchTxQueue(tx);
    final LanPort port = new LanPort("lan0", IFINDEX, PORT_MAC, 0x0a00_0002, queue);
    final NeighbourCache neighbours = new NeighbourCache(port, counters::drop);
    final NeighbourCache6 neighbours6 = new NeighbourCache6(port, hi(PORT_IP), lo(PORT_IP), counters::drop);
    final ConnectionTable6 conns6 = new ConnectionTable6(64, Timeouts.DEFAULTS);
    final ServiceTable table = new ServiceTableBuilder(Schedulers::create).build(List.of(
            new ServiceSpec(Protocol.TCP, VIP4, DR_PORT, "rr", List.of(new Dest(RS1_4, DR_PORT, 1, ForwardMethod.DR))),
            new ServiceSpec(Protocol.TCP, VIP4, NAT_PORT, "rr", List.of(new Dest(RS2_4, 80, 1, ForwardMethod.NAT))),
            // --synproxy on a NAT service: answered by the IPv6 SYN proxy
            new ServiceSpec(Protocol.TCP, VIP4, 443, "rr", List.of(new Dest(RS1_4, 443, 1, ForwardMethod.NAT)))
                    .withSynProxy(true)),
            ServiceTable.EMPTY);
    /** Ports of real IPv6 services (the model's, looked up before the stand-ins). */
    static final int PERSIST_PORT = 9000;
    static final int DENY_PORT = 9001;
    static final int ALLOW_PORT = 9002;
    static final int RR_PORT = 9003;
    static final int LIMIT_PORT = 9004;
    static final int RATE_PORT = 9005;
    static final int OPS_PORT = 5353;
    /** [VIP]:9010 from the client /64 2001:db8:1::/64 is marked 6 (-f 6 -6, persistent -M 64). */
    static final int FWM_PORT = 9010;
    /** -f 5 -6: rr DR over both servers, marked for [2001:db8::200]:80 */
    static final byte[] FWM_VIP = addr("2001:db8::200");
    final ServiceTable table6 = new ServiceTableBuilder(Schedulers::create).build(List.of(
            ServiceSpec.ipv6(Protocol.TCP, v6(VIP), PERSIST_PORT, "rr", List.of(
                    Dest.ipv6(v6(RS1), PERSIST_PORT, 1, ForwardMethod.DR),
                    Dest.ipv6(v6(RS2), PERSIST_PORT, 1, ForwardMethod.DR))).withPersistence(300, 64),
            ServiceSpec.ipv6(Protocol.TCP, v6(VIP), DENY_PORT, "rr", List.of(
                    Dest.ipv6(v6(RS1), DENY_PORT, 1, ForwardMethod.DR))).withClientPolicy(new io.jvs.forwarder.service.ClientPolicy(
                    List.of(), List.of(io.jvs.forwarder.service.ClientPrefix.parse("2001:db8:1::/64")), 0, 0, 0)),
            ServiceSpec.ipv6(Protocol.TCP, v6(VIP), ALLOW_PORT, "rr", List.of(
                    Dest.ipv6(v6(RS1), ALLOW_PORT, 1, ForwardMethod.DR))).withClientPolicy(new io.jvs.forwarder.service.ClientPolicy(
                    List.of(io.jvs.forwarder.service.ClientPrefix.parse("2001:db8:2::/48")), List.of(), 0, 0, 0)),
            ServiceSpec.ipv6(Protocol.TCP, v6(VIP), RR_PORT, "rr", List.of(
                    Dest.ipv6(v6(RS1), RR_PORT, 1, ForwardMethod.DR),
                    Dest.ipv6(v6(RS2), RR_PORT, 1, ForwardMethod.DR))),
            ServiceSpec.ipv6(Protocol.TCP, v6(VIP), LIMIT_PORT, "rr", List.of(
                    Dest.ipv6(v6(RS1), LIMIT_PORT, 1, ForwardMethod.DR))).withClientPolicy(
                    new io.jvs.forwarder.service.ClientPolicy(List.of(), List.of(), 3, 0, 0)),
            ServiceSpec.ipv6(Protocol.TCP, v6(VIP), RATE_PORT, "rr", List.of(
                    Dest.ipv6(v6(RS1), RATE_PORT, 1, ForwardMethod.DR))).withClientPolicy(
                    new io.jvs.forwarder.service.ClientPolicy(List.of(), List.of(), 0, 1, 2)),
            ServiceSpec.ipv6(Protocol.UDP, v6(VIP), OPS_PORT, "rr", List.of(
                    Dest.ipv6(v6(RS1), OPS_PORT, 1, ForwardMethod.DR),
                    Dest.ipv6(v6(RS2), OPS_PORT, 1, ForwardMethod.DR))).withOnePacket(true),
            ServiceSpec.fwmark6(5, "rr").withDest(Dest.ipv6(v6(RS1), 80, 1, ForwardMethod.DR))
                    .withDest(Dest.ipv6(v6(RS2), 80, 1, ForwardMethod.DR)),
            ServiceSpec.fwmark6(6, "rr").withDest(Dest.ipv6(v6(RS1), 0, 1, ForwardMethod.DR))
                    .withDest(Dest.ipv6(v6(RS2), 0, 1, ForwardMethod.DR)).withPersistence(300, 64)),
            List.of(io.jvs.forwarder.service.FwmarkRule.ipv6(v6(addr("2001:db8:1::")), 64, v6(VIP), 128, Protocol.TCP,
                            FWM_PORT, FWM_PORT, 6),
                    io.jvs.forwarder.service.FwmarkRule.ipv6(v6(addr("::")), 0, v6(FWM_VIP), 128, Protocol.TCP, 80, 80, 5)),
            ServiceTable.EMPTY);
    final Lookup lookup = new Lookup(table, table6);

    static Ipv6Address v6(byte[] a) {
        return new Ipv6Address(hi(a), lo(a));
    }
    final RouteTable6 routes6 = new RouteTable6(List.of(
            new Route6(hi(addr("2001:db8::")), 0, 64, 0, 0, IFINDEX, 256, 254),
            new Route6(0, 0, 0, hi(ROUTER), lo(ROUTER), IFINDEX, 1024, 254)), IFINDEX);
    final EmbeddedChannel channel = new EmbeddedChannel();
    final PacketContext ctx = new PacketContext();
    final Arena arena = Arena.ofConfined();
    final VrrpGate vrrp = new VrrpGate();
    final DataPath dataPath;

    Ipv6PipelineTest() {
        ServiceRegistry registry = new ServiceRegistry();
        registry.publish(ServiceTable.EMPTY);
        dataPath = DataPath.builder().services(registry).connections(new ConnectionTable(64, Timeouts.DEFAULTS))
                .neighbours(neighbours).routes(() -> new RouteTable(List.of(), IFINDEX)).counters(counters)
                .services6(() -> lookup).connections6(conns6).neighbours6(neighbours6).routes6(() -> routes6)
                .vrrp(vrrp).build();
        dataPath.wire(channel.pipeline());
    }

    /** VRRP: the instance holding VIP (in virtual_ipaddress_excluded) is BACKUP here. */
    void vrrpBackup() {
        vrrp.publish(VrrpGate.Snapshot.of(new int[0], new int[0], new long[] {hi(VIP), lo(VIP)}));
    }

    /** VRRP: the instance is MASTER (its gate published before the announcer runs, as VrrpRouter does). */
    void vrrpMaster() {
        vrrp.publish(VrrpGate.Snapshot.of(new int[0], new int[] {}, new long[0]));
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
        neighbours.close();
        neighbours6.close();
        port.close();
        arena.close();
    }

    /** The published table's stand-in: (proto, VIP, port) to the IPv4 model's service, real servers to IPv6. */
    static final class Lookup implements Ipv6ServiceLookup {
        final ServiceTable table;
        final ServiceTable table6;

        Lookup(ServiceTable table, ServiceTable table6) {
            this.table = table;
            this.table6 = table6;
        }

        @Override
        public VirtualService classify6(int proto, long hi, long lo, int port) {
            VirtualService v6 = table6.classify6(proto, hi, lo, port);
            if (v6 != null) {
                return v6;
            }
            return hi == hi(VIP) && lo == lo(VIP) ? table.lookup(proto, VIP4, port) : null;
        }

        @Override
        public VirtualService classify6(int proto, long srcHi, long srcLo, long hi, long lo, int port) {
            VirtualService marked = table6.classify6(proto, srcHi, srcLo, hi, lo, port);
            return marked != null ? marked : classify6(proto, hi, lo, port);
        }

        @Override
        public boolean isVip6(long hi, long lo) {
            return hi == hi(VIP) && lo == lo(VIP) || table6.isVip6(hi, lo);
        }

        @Override
        public boolean isLocalAddr6(long hi, long lo) {
            return hi == hi(LIP) && lo == lo(LIP);
        }

        @Override
        public long destHi(RealServer d) {
            return d.ipv6 ? d.addr6Hi : hi(RS1);
        }

        @Override
        public long destLo(RealServer d) {
            return d.ipv6 ? d.addr6Lo : d.addr == RS1_4 ? lo(RS1) : lo(RS2);
        }

        @Override
        public long[] ownedAddresses6() {
            return new long[] {hi(VIP), lo(VIP), hi(LIP), lo(LIP)};
        }
    }

    static long hi(byte[] a) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (a[i] & 0xff);
        }
        return v;
    }

    static long lo(byte[] a) {
        long v = 0;
        for (int i = 8; i < 16; i++) {
            v = v << 8 | (a[i] & 0xff);
        }
        return v;
    }

    private MemorySegment seg;

    /** Feeds one frame (zero virtio_net_hdr, 64 bytes of garbage head- and tailroom) and flushes; returns what left. */
    List<byte[]> feed(byte[] f) {
        int before = tx.sent.size();
        load(f);
        channel.writeInbound(ctx);
        channel.pipeline().fireChannelReadComplete();
        channel.checkException();
        List<byte[]> out = new ArrayList<>();
        for (int i = before; i < tx.sent.size(); i++) {
            byte[] b = tx.sent.get(i);
            out.add(Arrays.copyOfRange(b, 10, b.length));
        }
        return out;
    }

    private void load(byte[] f) {
        if (seg == null || seg.byteSize() < 64 + 10 + f.length + 64) {
            seg = arena.allocate(64 + 10 + f.length + 64 + 2048, 8);
        }
        seg.fill((byte) 0xA5);
        MemorySegment.copy(new byte[10], 0, seg, ValueLayout.JAVA_BYTE, 64, 10);
        MemorySegment.copy(f, 0, seg, ValueLayout.JAVA_BYTE, 74, f.length);
        ctx.seg = seg;
        ctx.vnetOff = 64;
        ctx.frameOff = 74;
        ctx.frameLen = f.length;
        ctx.frameCapacity = f.length + 64;
        ctx.headroom = 64;
        ctx.ingressPort = 0;
    }

    byte[] one(byte[] f) {
        List<byte[]> out = feed(f);
        assertEquals(1, out.size(), "frames sent");
        return out.get(0);
    }

    void none(byte[] f, DropReason reason) {
        long before = counters.drops(reason);
        assertEquals(0, feed(f).size(), "frames sent");
        assertEquals(before + 1, counters.drops(reason), reason.label());
    }

    void ignored(byte[] f) {
        long before = counters.ignoredFrames();
        assertEquals(0, feed(f).size(), "frames sent");
        assertEquals(before + 1, counters.ignoredFrames(), "ignored");
    }

    static final byte[] SN_VIP = addr("ff02::1:ff00:100");

    /** The servers answer the director's solicitations, so their MACs are known. */
    void learnServers() {
        long now = System.nanoTime();
        neighbours6.resolve(hi(RS1), lo(RS1), now);
        neighbours6.resolve(hi(RS2), lo(RS2), now);
        neighbours6.resolve(hi(ROUTER), lo(ROUTER), now);
        port.flush(); // the three solicitations
        tx.clear();
        ignored(frame(PORT_MAC, RS1_MAC, RS1, PORT_IP, 58, 255, na(RS1, PORT_IP, RS1, RS1_MAC)));
        ignored(frame(PORT_MAC, RS2_MAC, RS2, PORT_IP, 58, 255, na(RS2, PORT_IP, RS2, RS2_MAC)));
        ignored(frame(PORT_MAC, ROUTER_MAC, ROUTER, PORT_IP, 58, 255, na(ROUTER, PORT_IP, ROUTER, ROUTER_MAC)));
        // An advertisement for an address never solicited creates nothing (RFC 4861 7.2.5).
        byte[] stranger = addr("2001:db8::77");
        ignored(frame(PORT_MAC, 0x02_77L, stranger, PORT_IP, 58, 255, na(stranger, PORT_IP, stranger, 0x02_77L)));
        assertEquals(3, neighbours6.size());
    }

    @Test
    void neighborSolicitationForTheVipIsAnsweredWithASolicitedAdvertisement() {
        byte[] req = frame(0x3333_ff00_0100L, CLIENT_MAC, CLIENT, SN_VIP, 58, 255, ns(CLIENT, SN_VIP, VIP, CLIENT_MAC));
        assertEquals(NA_FOR_VIP, hex(one(req)));
        // The solicitor was learnt from its source link-layer option: traffic to it needs no NS.
        assertTrue(neighbours6.resolve(hi(CLIENT), lo(CLIENT), System.nanoTime()) == CLIENT_MAC);
        // A local address is answered too; another address is the kernel's.
        byte[] snLip = addr("ff02::1:ff00:3");
        byte[] forLip = one(frame(0x3333_ff00_0003L, CLIENT_MAC, CLIENT, snLip, 58, 255, ns(CLIENT, snLip, LIP, CLIENT_MAC)));
        assertArrayEquals(LIP, Arrays.copyOfRange(forLip, 62, 78), "target");
        byte[] other = addr("2001:db8::99");
        byte[] snOther = addr("ff02::1:ff00:99");
        ignored(frame(0x3333_ff00_0099L, CLIENT_MAC, CLIENT, snOther, 58, 255, ns(CLIENT, snOther, other, CLIENT_MAC)));
    }

    @Test
    void unsolicitedAdvertisementAnnouncesAnAddress() {
        neighbours6.announce(hi(VIP), lo(VIP));
        port.flush();
        assertEquals(1, tx.sent.size());
        assertEquals(UNSOLICITED_NA_FOR_VIP, hex(Arrays.copyOfRange(tx.sent.get(0), 10, tx.sent.get(0).length)));
    }

    @Test
    void vrrpBackupNeitherAnswersNorForwardsForTheVipMasterDoes() {
        learnServers();
        vrrpBackup();
        byte[] ns = frame(0x3333_ff00_0100L, CLIENT_MAC, CLIENT, SN_VIP, 58, 255, ns(CLIENT, SN_VIP, VIP, CLIENT_MAC));
        ignored(ns); // the MASTER answers
        byte[] syn = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 40000, DR_PORT, 1, 0x02));
        none(syn, DropReason.VRRP_BACKUP);
        byte[] body = {0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
        byte[] echo = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 58, 60, icmp6(REMOTE, VIP, 128, 0, body));
        none(echo, DropReason.VRRP_BACKUP);
        assertEquals(0, conns6.size(), "no connection on the BACKUP");
        // An address of no instance is answered as before.
        byte[] snLip = addr("ff02::1:ff00:3");
        assertEquals(1, feed(frame(0x3333_ff00_0003L, CLIENT_MAC, CLIENT, snLip, 58, 255,
                ns(CLIENT, snLip, LIP, CLIENT_MAC))).size(), "NA for the local address");

        vrrpMaster();
        assertEquals(NA_FOR_VIP, hex(one(ns)));
        assertEquals(RS1_MAC, mac(one(syn), 0), "forwarded to RS1 by DR");
        assertEquals(1, feed(echo).size(), "echo reply");
    }

    @Test
    void unsolicitedAdvertisementFollowsVrrpOneOnTheTransitionToMaster() {
        vrrpBackup();
        // publication while BACKUP: nothing
        assertFalse(dataPath.announce6(hi(VIP), lo(VIP)));
        port.flush();
        assertEquals(0, tx.sent.size(), "a BACKUP announces nothing");
        // the transition to MASTER: one unsolicited NA (all-nodes, Override), hand-computed above
        vrrpMaster();
        assertTrue(dataPath.announce6(hi(VIP), lo(VIP)));
        port.flush();
        assertEquals(1, tx.sent.size());
        assertEquals(UNSOLICITED_NA_FOR_VIP, hex(Arrays.copyOfRange(tx.sent.get(0), 10, tx.sent.get(0).length)));
        // an instance address that is no published VIP or local address: nothing
        byte[] unpublished = addr("2001:db8::177");
        assertFalse(dataPath.announce6(hi(unpublished), lo(unpublished)));
        port.flush();
        assertEquals(1, tx.sent.size());
    }

    /**
     * An IPv6 virtual_ipaddress of an IPv6 VRRP instance that no service has (the real servers'
     * floating gateway 2001:db8::254): its MASTER answers NS for it and announces it; its BACKUP
     * does neither.
     */
    @Test
    void theFloatingIpv6GatewayIsAnsweredAndAnnouncedByTheMasterOnly() {
        byte[] gw = addr("2001:db8::254");
        byte[] snGw = addr("ff02::1:ff00:254");
        byte[] ns = frame(0x3333_ff00_0254L, RS1_MAC, RS1, snGw, 58, 255, ns(RS1, snGw, gw, RS1_MAC));
        vrrp.publish(VrrpGate.Snapshot.of(new int[0], new int[0], new long[] {hi(gw), lo(gw)}, new long[0]));
        ignored(ns); // BACKUP
        assertFalse(dataPath.announce6(hi(gw), lo(gw)));
        port.flush();
        assertEquals(0, tx.sent.size(), "a BACKUP announces nothing");

        vrrp.publish(VrrpGate.Snapshot.of(new int[0], new int[0], new long[0], new long[] {hi(gw), lo(gw)}));
        byte[] na = one(ns);
        assertEquals(RS1_MAC, mac(na, 0), "to the real server");
        assertEquals(136, na[ETH6] & 0xff, "a Neighbor Advertisement");
        assertArrayEquals(gw, Arrays.copyOfRange(na, 62, 78), "target: the floating gateway");
        assertEquals(0x60, na[ETH6 + 4] & 0xff, "Solicited and Override");
        assertEquals(0, l4Sum(gw, RS1, 58, Arrays.copyOfRange(na, ETH6, na.length)), "the checksum verifies");
        int before = tx.sent.size();
        assertTrue(dataPath.announce6(hi(gw), lo(gw)), "the MASTER announces it (no service has it)");
        port.flush();
        assertEquals(before + 1, tx.sent.size());
        byte[] una = tx.sent.getLast();
        assertArrayEquals(gw, Arrays.copyOfRange(una, una.length - 24, una.length - 8), "unsolicited NA's target");
    }

    @Test
    void dadProbeIsAnsweredToAllNodesWithoutSolicited() {
        byte[] unspecified = new byte[16];
        byte[] na = one(frame(0x3333_ff00_0100L, CLIENT_MAC, unspecified, SN_VIP, 58, 255,
                ns(unspecified, SN_VIP, VIP, 0)));
        assertEquals("333300000001", hex(Arrays.copyOf(na, 6)), "all-nodes MAC");
        assertArrayEquals(addr("ff02::1"), Arrays.copyOfRange(na, 38, 54));
        assertEquals(0x20, na[ETH6 + 4] & 0xff, "Override only");
        assertEquals(0, l4Sum(VIP, addr("ff02::1"), 58, Arrays.copyOfRange(na, ETH6, na.length)),
                "the checksum verifies (reference sum over the message with its checksum: 0)");
    }

    static final int ETH6 = 14 + 40;

    @Test
    void invalidNeighbourMessagesAreDroppedUnderTheirReasons() {
        none(frame(0x3333_ff00_0100L, CLIENT_MAC, CLIENT, SN_VIP, 58, 64, ns(CLIENT, SN_VIP, VIP, CLIENT_MAC)),
                DropReason.NDP_INVALID); // hop limit 64: it crossed a router
        byte[] bad = ns(CLIENT, SN_VIP, VIP, CLIENT_MAC);
        bad[3] ^= 1;
        none(frame(0x3333_ff00_0100L, CLIENT_MAC, CLIENT, SN_VIP, 58, 255, bad), DropReason.BAD_CHECKSUM);
    }

    @Test
    void nextHopResolvedBySolicitationWithTheBoundedPendingQueue() {
        // The router is known (the client is behind it); RS1 is not: the SYN waits for its NA.
        neighbours6.resolve(hi(ROUTER), lo(ROUTER), System.nanoTime());
        port.flush();
        tx.clear();
        ignored(frame(PORT_MAC, ROUTER_MAC, ROUTER, PORT_IP, 58, 255, na(ROUTER, PORT_IP, ROUTER, ROUTER_MAC)));
        byte[] syn = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 40000, DR_PORT, 1, 0x02));
        List<byte[]> out = feed(syn);
        assertEquals(1, out.size());
        assertEquals(NS_FOR_RS1, hex(out.get(0)), "the NS for RS1, nothing forwarded yet");
        for (int i = 1; i < 32; i++) {
            assertEquals(0, feed(frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64,
                    tcp(REMOTE, VIP, 40000 + i, DR_PORT, 1, 0x02))).size());
        }
        assertEquals(32, neighbours6.pendingFrames());
        none(frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 41000, DR_PORT, 1, 0x02)),
                DropReason.NEIGH_QUEUE_FULL);
        List<byte[]> released = feed(frame(PORT_MAC, RS1_MAC, RS1, PORT_IP, 58, 255, na(RS1, PORT_IP, RS1, RS1_MAC)));
        assertEquals(32, released.size(), "every held frame leaves once RS1 answers");
        byte[] first = released.get(0);
        assertEquals(RS1_MAC, mac(first, 0));
        assertEquals(63, first[21] & 0xff, "hop limit decremented");
        assertEquals(0, neighbours6.pendingFrames(), "the pool's slots are free again after the flush");
    }

    static long mac(byte[] f, int off) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = m << 8 | (f[off + i] & 0xff);
        }
        return m;
    }

    @Test
    void directRoutingRewritesTheMacAndDecrementsTheHopLimit() {
        learnServers();
        byte[] syn = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 40000, DR_PORT, 1, 0x02));
        byte[] out = one(syn);
        byte[] want = syn.clone();
        System.arraycopy(V6Frames.mac(RS1_MAC), 0, want, 0, 6);
        System.arraycopy(V6Frames.mac(PORT_MAC), 0, want, 6, 6);
        want[21] = 63;
        assertArrayEquals(want, out, "only the MACs and the hop limit change; TCP checksum untouched");
        byte[] ack = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 40000, DR_PORT, 2, 0x10));
        assertEquals(RS1_MAC, mac(one(ack), 0), "the connection's next packet goes to the same server");
        assertEquals(1, conns6.size());
        none(frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 40001, DR_PORT, 2, 0x10)),
                DropReason.NO_CONNECTION);
        none(frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 40001, 81, 1, 0x02)),
                DropReason.NO_SERVICE);
        // the --synproxy NAT service is forwarded over IPv6 too: its SYN is answered by a cookie SYN-ACK
        byte[] cookie = one(frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 40001, 443, 1, 0x02)));
        assertEquals(ROUTER_MAC, mac(cookie, 0), "the SYN-ACK goes back to the client's router");
        assertEquals(0x12, cookie[14 + 40 + 13] & 0xff, "SYN|ACK");
        assertEquals(1, conns6.size(), "no entry for the proxied SYN");
        ignored(frame(PORT_MAC, ROUTER_MAC, REMOTE, addr("2001:db8::77"), 6, 64,
                tcp(REMOTE, addr("2001:db8::77"), 40001, 80, 1, 0x02)));
    }

    @Test
    void natRewritesAddressAndPortWithIncrementalChecksums() {
        learnServers();
        neighbours6.learn(hi(CLIENT), lo(CLIENT), CLIENT_MAC, true, System.nanoTime());
        byte[] syn = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 40000, NAT_PORT, 1, 0x02));
        assertEquals("9793", hex(Arrays.copyOfRange(syn, ETH6 + 16, ETH6 + 18)), "hand-computed input checksum");
        assertEquals(NAT_SYN_OUT, hex(one(syn)));
        // The reply: RS2:80 -> CLIENT:40000 leaves as VIP:8080 -> CLIENT:40000, its checksum still right.
        byte[] reply = frame(PORT_MAC, RS2_MAC, RS2, CLIENT, 6, 64, tcp(RS2, CLIENT, 80, 40000, 7, 0x12));
        byte[] out = one(reply);
        assertEquals(CLIENT_MAC, mac(out, 0));
        assertArrayEquals(VIP, Arrays.copyOfRange(out, 22, 38));
        assertEquals(NAT_PORT, (out[ETH6] & 0xff) << 8 | (out[ETH6 + 1] & 0xff));
        assertEquals("977d", hex(Arrays.copyOfRange(out, ETH6 + 16, ETH6 + 18)), "hand-computed: VIP:8080 -> CLIENT:40000 SYN-ACK");
        assertEquals(63, out[21] & 0xff);
    }

    @Test
    void hopLimitReachingZeroIsAnsweredWithTimeExceeded() {
        learnServers();
        byte[] syn = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 1, tcp(REMOTE, VIP, 40000, DR_PORT, 1, 0x02));
        long before = counters.drops(DropReason.TTL_EXPIRED);
        byte[] err = one(syn);
        assertEquals(before + 1, counters.drops(DropReason.TTL_EXPIRED));
        assertEquals(ROUTER_MAC, mac(err, 0), "back by the route to the client");
        assertArrayEquals(PORT_IP, Arrays.copyOfRange(err, 22, 38), "from the port's address");
        assertArrayEquals(REMOTE, Arrays.copyOfRange(err, 38, 54));
        assertEquals(3, err[ETH6] & 0xff, "Time Exceeded");
        assertEquals(0, err[ETH6 + 1] & 0xff, "hop limit exceeded in transit");
        byte[] msg = Arrays.copyOfRange(err, ETH6, err.length);
        assertArrayEquals(Arrays.copyOfRange(syn, 14, syn.length), Arrays.copyOfRange(msg, 8, msg.length),
                "the whole offending packet quoted");
        assertEquals(0, l4Sum(PORT_IP, REMOTE, 58, msg), "ICMPv6 checksum verifies (reference sum)");
    }

    @Test
    void echoRequestToTheVipIsAnswered() {
        learnServers();
        byte[] body = {0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
        byte[] req = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 58, 60, icmp6(REMOTE, VIP, 128, 0, body));
        byte[] rep = one(req);
        assertEquals(ROUTER_MAC, mac(rep, 0));
        assertArrayEquals(VIP, Arrays.copyOfRange(rep, 22, 38));
        assertArrayEquals(REMOTE, Arrays.copyOfRange(rep, 38, 54));
        assertEquals(64, rep[21] & 0xff);
        assertArrayEquals(icmp6(VIP, REMOTE, 129, 0, body), Arrays.copyOfRange(rep, ETH6, rep.length));
        byte[] bad = icmp6(REMOTE, VIP, 128, 0, body);
        bad[2] ^= 0x40;
        none(frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 58, 60, bad), DropReason.BAD_CHECKSUM);
    }

    @Test
    void firstFragmentIsForwardedLaterFragmentsToTheVipAreUntracked() {
        learnServers();
        // Fragment header (next TCP, offset 0, M set, id 9), then the TCP header of a SYN.
        byte[] fh = V6Frames.hex("0600 0001 0000 0009");
        byte[] first = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 44, 64,
                concat(fh, tcp(REMOTE, VIP, 40000, DR_PORT, 1, 0x02), new byte[4]));
        byte[] out = one(first);
        assertEquals(RS1_MAC, mac(out, 0));
        assertArrayEquals(Arrays.copyOfRange(first, 22, first.length), Arrays.copyOfRange(out, 22, out.length));
        byte[] later = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 44, 64, concat(V6Frames.hex("0600 0020 0000 0009"),
                new byte[16]));
        none(later, DropReason.FRAGMENT_UNTRACKED);
        ignored(frame(PORT_MAC, ROUTER_MAC, REMOTE, CLIENT, 44, 64, concat(V6Frames.hex("0600 0020 0000 0009"),
                new byte[16])));
    }

    byte[] syn(byte[] src, int sport, int dport) {
        return frame(PORT_MAC, ROUTER_MAC, src, VIP, 6, 64, tcp(src, VIP, sport, dport, 1, 0x02));
    }

    /**
     * -p 300 -M 64 over IPv6: every connection of one client /64 goes to the server its first was
     * scheduled to, another /64 is scheduled afresh (rr's next), and the templates are keyed by
     * the client's /64 (written out by hand); the same clients on an rr service without -p
     * alternate (the control).
     */
    @Test
    void persistentServiceKeepsEachClientSlash64OnOneServer() {
        learnServers();
        long a = mac(one(syn(REMOTE, 40000, RR_PORT)), 0);
        long b = mac(one(syn(REMOTE, 40001, RR_PORT)), 0);
        assertTrue(a != b && (a == RS1_MAC || a == RS2_MAC) && (b == RS1_MAC || b == RS2_MAC),
                "control: without -p rr alternates one client's connections");
        long first = mac(one(syn(REMOTE, 40000, PERSIST_PORT)), 0);
        for (int i = 1; i <= 5; i++) {
            assertEquals(first, mac(one(syn(REMOTE, 40000 + i, PERSIST_PORT)), 0), "connection " + i);
        }
        assertEquals(first, mac(one(syn(addr("2001:db8:1::99"), 40000, PERSIST_PORT)), 0), "same /64");
        long other = mac(one(syn(addr("2001:db8:1:1::2"), 40000, PERSIST_PORT)), 0);
        assertTrue(other != first, "another /64 is scheduled: rr's next server");
        assertEquals(other, mac(one(syn(addr("2001:db8:1:1::77"), 40001, PERSIST_PORT)), 0), "and stays there");
        io.jvs.forwarder.conn.PersistenceTable6 t = conns6.templates();
        assertEquals(2, t.size(), "one template per client /64");
        long now = System.nanoTime();
        int t1 = t.lookup(Protocol.TCP, 0x2001_0db8_0001_0000L, 0, hi(VIP), lo(VIP), PERSIST_PORT, now);
        int t2 = t.lookup(Protocol.TCP, 0x2001_0db8_0001_0001L, 0, hi(VIP), lo(VIP), PERSIST_PORT, now);
        assertTrue(t1 >= 0 && t2 >= 0, "templates (TCP, 2001:db8:1::/64 and 2001:db8:1:1::/64, VIP, 9000)");
        assertEquals(first == RS1_MAC ? lo(RS1) : lo(RS2), t.dest(t1).addr6Lo);
        assertEquals(7, t.controlledCount(t1), "it placed seven connections");
        assertEquals(2, t.controlledCount(t2));
        assertTrue(t.expiresAtNanos(t1) - now > 299_000_000_000L, "the service's 300 s");
        assertEquals(9, conns6.size() - 2, "nine persistent connections beside the two rr ones");
    }

    /** --deny for the client's /64 and an --allow list without it: the SYN is ACL_DENIED; others pass. */
    @Test
    void allowAndDenyListsOverIpv6() {
        learnServers();
        none(syn(REMOTE, 40000, DENY_PORT), DropReason.ACL_DENIED);
        none(syn(addr("2001:db8:1::ffff"), 40000, DENY_PORT), DropReason.ACL_DENIED);
        assertEquals(RS1_MAC, mac(one(syn(addr("2001:db8:1:1::2"), 40000, DENY_PORT)), 0), "the next /64 is not denied");
        none(syn(REMOTE, 40001, ALLOW_PORT), DropReason.ACL_DENIED);
        assertEquals(RS1_MAC, mac(one(syn(addr("2001:db8:2:ffff::5"), 40001, ALLOW_PORT)), 0), "in 2001:db8:2::/48");
        none(syn(addr("2001:db8:3::5"), 40001, ALLOW_PORT), DropReason.ACL_DENIED);
        assertEquals(1 + 1, conns6.size(), "no entry for a refused client");
    }

    byte[] synTo(byte[] src, byte[] dst, int sport, int dport) {
        return frame(PORT_MAC, ROUTER_MAC, src, dst, 6, 64, tcp(src, dst, sport, dport, 1, 0x02));
    }

    /**
     * --conn-limit 3 for an IPv6 client: its first three connections pass, the fourth is
     * CLIENT_CONN_LIMIT (one drop, no entry), a client differing in the high or in the low 64 bits
     * has its own count; once the connections leave the table the client may connect again.
     */
    @Test
    void perClientConnectionLimitRefusesExactlyTheExcess() {
        learnServers();
        for (int i = 0; i < 3; i++) {
            assertEquals(RS1_MAC, mac(one(syn(REMOTE, 41000 + i, LIMIT_PORT)), 0), "connection " + i);
        }
        none(syn(REMOTE, 41003, LIMIT_PORT), DropReason.CLIENT_CONN_LIMIT);
        assertEquals(1, counters.drops(DropReason.CLIENT_CONN_LIMIT), "exactly the fourth");
        assertEquals(3, conns6.size(), "no entry for the refused SYN");
        assertEquals(RS1_MAC, mac(one(syn(addr("2001:db8:1:1::2"), 41003, LIMIT_PORT)), 0), "other high 64 bits");
        assertEquals(RS1_MAC, mac(one(syn(addr("2001:db8:1::3"), 41003, LIMIT_PORT)), 0), "other low 64 bits");
        none(syn(REMOTE, 41004, LIMIT_PORT), DropReason.CLIENT_CONN_LIMIT);
        assertEquals(2, counters.drops(DropReason.CLIENT_CONN_LIMIT));
        // the SYN_RECV entries expire (their 60 s): the counts go back with them
        assertEquals(5, conns6.expire(System.nanoTime() + 3_600_000_000_000L, 64));
        for (int i = 0; i < 3; i++) {
            assertEquals(RS1_MAC, mac(one(syn(REMOTE, 42000 + i, LIMIT_PORT)), 0), "after expiry, connection " + i);
        }
        none(syn(REMOTE, 42003, LIMIT_PORT), DropReason.CLIENT_CONN_LIMIT);
    }

    /** --rate-limit 1/2 (burst 2) for an IPv6 client: two SYNs at once pass, the third is CLIENT_RATE_LIMIT. */
    @Test
    void perClientRateLimitOverIpv6() {
        learnServers();
        one(syn(REMOTE, 43000, RATE_PORT));
        one(syn(REMOTE, 43001, RATE_PORT));
        none(syn(REMOTE, 43002, RATE_PORT), DropReason.CLIENT_RATE_LIMIT);
        one(syn(addr("2001:db8:1::3"), 43002, RATE_PORT));
        assertEquals(1, counters.drops(DropReason.CLIENT_RATE_LIMIT));
    }

    /**
     * -o on an IPv6 UDP service: each datagram of one client socket is scheduled on its own (rr:
     * the servers alternate, where a connection would keep them on one), no entry is kept, and
     * each counts as a connection of the service (IPVS counts the one-packet connection).
     */
    @Test
    void onePacketSchedulingSchedulesEachDatagram() {
        learnServers();
        byte[] payload = {'q', 'u', 'e', 'r', 'y'};
        byte[] dgram = frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 17, 64, V6Frames.udp(REMOTE, VIP, 45000, OPS_PORT, payload));
        List<Long> macs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] out = one(dgram);
            macs.add(mac(out, 0));
            assertArrayEquals(Arrays.copyOfRange(dgram, 22, 54), Arrays.copyOfRange(out, 22, 54), "addresses as sent (DR)");
        }
        long first = macs.getFirst();
        long second = first == RS1_MAC ? RS2_MAC : RS1_MAC;
        assertEquals(List.of(first, second, first, second), macs, "one datagram each, rr");
        assertEquals(0, conns6.size(), "no connection entry kept");
        VirtualService ops = table6.lookup6(Protocol.UDP, hi(VIP), lo(VIP), OPS_PORT);
        assertEquals(4, ops.stats.conns(), "four one-packet connections counted");
        for (RealServer d : ops.dests) {
            assertEquals(0, d.stats.inactConns() + d.stats.activeConns(), "none left on " + d);
        }
    }

    /**
     * An IPv6 fwmark service: [2001:db8::200]:80, marked 5 by an IPv6 rule, is scheduled rr over
     * -f 5 -6's two servers (DR to their port 80); NDP answers for the rule's /128 destination,
     * a VIP now: TCP to its port 81 (no rule) is NO_SERVICE. The persistent -f 6 -6 (-M 64) takes [VIP]:9010
     * from the client's /64 and keeps it on one server, its template keyed as
     * ip_vs_sched_persist keys a fwmark service's: (IPPROTO_IP, 2001:db8:1::/64, the mark 6 as
     * the address's first word, port 0); from another /64 there is no mark and no address service
     * on 9010: NO_SERVICE.
     */
    @Test
    void ipv6FwmarkServiceByTheMarkRules() {
        learnServers();
        List<Long> macs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] s = synTo(REMOTE, FWM_VIP, 46000 + i, 80);
            byte[] out = one(s);
            macs.add(mac(out, 0));
            assertArrayEquals(Arrays.copyOfRange(s, 22, s.length), Arrays.copyOfRange(out, 22, out.length),
                    "DR: from the hop limit on as sent but the hop limit");
        }
        long first = macs.getFirst();
        long second = first == RS1_MAC ? RS2_MAC : RS1_MAC;
        assertEquals(List.of(first, second, first, second), macs, "rr over -f 5 -6");
        byte[] ack = frame(PORT_MAC, ROUTER_MAC, REMOTE, FWM_VIP, 6, 64, tcp(REMOTE, FWM_VIP, 46000, 80, 2, 0x10));
        assertEquals(first, mac(one(ack), 0), "the connection's next packet to its server");
        none(synTo(REMOTE, FWM_VIP, 46009, 81), DropReason.NO_SERVICE); // a VIP now, as IPv4's /32 rule destinations
        byte[] snFwm = addr("ff02::1:ff00:200");
        byte[] na = one(frame(0x3333_ff00_0200L, CLIENT_MAC, CLIENT, snFwm, 58, 255, ns(CLIENT, snFwm, FWM_VIP, CLIENT_MAC)));
        assertEquals(136, na[ETH6] & 0xff, "a Neighbor Advertisement");
        assertArrayEquals(FWM_VIP, Arrays.copyOfRange(na, ETH6 + 8, ETH6 + 24), "for the rule's /128 destination");

        long sticky = mac(one(syn(REMOTE, 47000, FWM_PORT)), 0);
        for (int i = 1; i <= 3; i++) {
            assertEquals(sticky, mac(one(syn(addr("2001:db8:1::" + (i + 5)), 47000 + i, FWM_PORT)), 0), "same /64, " + i);
        }
        none(syn(addr("2001:db8:2::2"), 47000, FWM_PORT), DropReason.NO_SERVICE);
        io.jvs.forwarder.conn.PersistenceTable6 t = conns6.templates();
        assertEquals(1, t.size());
        int tmpl = t.lookup(0, 0x2001_0db8_0001_0000L, 0, 0x0000_0006_0000_0000L, 0, 0, System.nanoTime());
        assertTrue(tmpl >= 0, "template (0, 2001:db8:1::/64, [0:6::], 0)");
        assertEquals(4, t.controlledCount(tmpl));
        assertEquals(sticky == RS1_MAC ? lo(RS1) : lo(RS2), t.dest(tmpl).addr6Lo);
    }

    /** NS answers, DR and NAT forwarding allocate nothing once compiled. */
    @Test
    void ipv6PathDoesNotAllocate() {
        learnServers();
        byte[] other = addr("2001:db8::177"); // VRRP consulted on every frame: a BACKUP instance of another address
        vrrp.publish(VrrpGate.Snapshot.of(new int[0], new int[0], new long[] {hi(other), lo(other)}));
        neighbours6.learn(hi(CLIENT), lo(CLIENT), CLIENT_MAC, true, System.nanoTime());
        byte[] ns = frame(0x3333_ff00_0100L, CLIENT_MAC, CLIENT, SN_VIP, 58, 255, ns(CLIENT, SN_VIP, VIP, CLIENT_MAC));
        feed(frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 40000, DR_PORT, 1, 0x02)));
        feed(frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 40000, NAT_PORT, 1, 0x02)));
        byte[] dr = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 40000, DR_PORT, 2, 0x10));
        byte[] nat = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 40000, NAT_PORT, 2, 0x10));
        byte[] reply = frame(PORT_MAC, RS2_MAC, RS2, CLIENT, 6, 64, tcp(RS2, CLIENT, 80, 40000, 7, 0x10));
        // persistence: a SYN on the CLOSEd entry schedules anew through the template, the ACK
        // establishes it and the RST closes it again (a RST in SYN_RECV would not: IPVS's table)
        byte[] persistSyn = syn(CLIENT, 45000, PERSIST_PORT);
        byte[] persistAck = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 45000, PERSIST_PORT, 2, 0x10));
        byte[] persistRst = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 45000, PERSIST_PORT, 2, 0x04));
        byte[] denied = syn(REMOTE, 45001, DENY_PORT);
        // a limited client's connection closed and reopened (count released, acquired), an
        // over-rate SYN, one-packet datagrams and a fwmark service's connection, the same way
        byte[] limSyn = syn(CLIENT, 45002, LIMIT_PORT);
        byte[] limAck = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 45002, LIMIT_PORT, 2, 0x10));
        byte[] limRst = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 45002, LIMIT_PORT, 2, 0x04));
        byte[] overRate = syn(CLIENT, 45003, RATE_PORT);
        byte[] overRateAck = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 45003, RATE_PORT, 2, 0x10));
        byte[] overRateRst = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 45003, RATE_PORT, 2, 0x04));
        byte[] ops = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 17, 64, V6Frames.udp(CLIENT, VIP, 45004, OPS_PORT, new byte[8]));
        byte[] fwmSyn = synTo(CLIENT, FWM_VIP, 45005, 80);
        byte[] fwmAck = frame(PORT_MAC, CLIENT_MAC, CLIENT, FWM_VIP, 6, 64, tcp(CLIENT, FWM_VIP, 45005, 80, 2, 0x10));
        byte[] fwmRst = frame(PORT_MAC, CLIENT_MAC, CLIENT, FWM_VIP, 6, 64, tcp(CLIENT, FWM_VIP, 45005, 80, 2, 0x04));
        feed(persistSyn);
        feed(persistAck);
        feed(persistRst);
        for (byte[] f : new byte[][] {limSyn, limAck, limRst, overRate, overRateAck, overRateRst, overRate, overRateAck, overRateRst,
                overRate, fwmSyn, fwmAck, fwmRst}) {
            feed(f);
        }
        long viaTemplate = counters.decisions(io.jvs.forwarder.counters.DataPathCounters.SchedulingOutcome.PERSISTENCE_TEMPLATE);
        long limitedBefore = counters.drops(DropReason.CLIENT_RATE_LIMIT);
        long scheduledBefore = counters.decisions(io.jvs.forwarder.counters.DataPathCounters.SchedulingOutcome.SCHEDULED);
        byte[][] frames = {ns, dr, nat, reply, persistSyn, persistAck, persistRst, denied,
                limSyn, limAck, limRst, overRate, overRateAck, overRateRst, ops, fwmSyn, fwmAck, fwmRst};
        queue.capture = false;
        long allocated = V6Frames.allocatedFeeding(channel, ctx, port, arena, frames, 20_000);
        assertTrue(queue.counted >= 14 * 20_000, "every frame answered or forwarded: " + queue.counted);
        // (the rate lets one SYN a second through: fewer than 10,000 seconds pass)
        assertTrue(counters.drops(DropReason.CLIENT_RATE_LIMIT) - limitedBefore >= 10_000, "over-rate SYNs refused");
        assertTrue(counters.decisions(io.jvs.forwarder.counters.DataPathCounters.SchedulingOutcome.SCHEDULED)
                - scheduledBefore >= 3 * 20_000, "limited, one-packet and fwmark connections scheduled each time");
        assertTrue(counters.decisions(io.jvs.forwarder.counters.DataPathCounters.SchedulingOutcome.PERSISTENCE_TEMPLATE)
                >= viaTemplate + 20_000, "each persistent SYN placed through the template");
        assertEquals(0, allocated, "bytes allocated by 320k IPv6 frames");
    }

    @Test
    void schedulerGetsTheKernelsIpv6AddressFold() {
        // ip_vs_sh_hashkey & co.: addr->ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3], host order.
        Ipv6Address a = Ipv6Address.parse("2001:db8:1:2:3:4:5:6");
        assertEquals(0x20010db8 ^ 0x00010002 ^ 0x00030004 ^ 0x00050006, io.jvs.forwarder.service.Scheduler.fold6(a.hi(), a.lo()));
    }
}
