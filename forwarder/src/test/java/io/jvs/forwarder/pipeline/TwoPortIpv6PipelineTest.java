package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPorts;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.NeighbourCache6;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.neigh.RouteTable6;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
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
import static io.jvs.forwarder.pipeline.V6Frames.frame;
import static io.jvs.forwarder.pipeline.V6Frames.ns;
import static io.jvs.forwarder.pipeline.V6Frames.tcp;
import static io.jvs.forwarder.testkit.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two-NIC director over IPv6 ({@link TwoPortPipelineTest}'s, dual-stack): port 0 the external
 * interface (2001:db8::/64 with the VIP6 on it, default route), port 1 the real servers' side
 * (2001:db8:3::/64). NDP follows the routes as ARP does: an NS for the VIP6 is answered on the
 * external port only, the unsolicited NA at publication leaves there only; NAT6 requests leave by
 * the internal port, replies by the external one, each with its port's MAC.
 */
class TwoPortIpv6PipelineTest {
    static final int EXT_IFINDEX = 3;
    static final int INT_IFINDEX = 4;
    static final int TAP_IFINDEX = 9;
    static final long EXT_MAC = 0x02_6a_76_00_00_02L;
    static final long INT_MAC = 0x02_6a_76_00_03_01L;
    static final long ROUTER_MAC = 0x02_6a_76_00_00_01L;
    static final long NRS1_MAC = 0x02_6a_76_00_03_11L;
    static final long NRS2_MAC = 0x02_6a_76_00_03_12L;
    static final byte[] EXT_IP = addr("2001:db8::2");
    static final byte[] INT_IP = addr("2001:db8:3::1");
    static final byte[] ROUTER = addr("2001:db8::1");
    static final byte[] VIP = addr("2001:db8::100");
    static final byte[] SN_VIP = addr("ff02::1:ff00:100");
    static final byte[] NRS1 = addr("2001:db8:3::11");
    static final byte[] NRS2 = addr("2001:db8:3::12");
    static final byte[] CLIENT = addr("2001:db8:1::2");
    static final int SYN = 0x02;
    static final int SYN_ACK = 0x12;
    static final int ETH = 14;

    final DataPathCounters counters = new DataPathCounters("eth0", "eth1");
    final CapturingTxQueue extTx = new CapturingTxQueue();
    final CapturingTxQueue intTx = new CapturingTxQueue();
    final LanPorts ports = new LanPorts();
    final NeighbourCache ext = new NeighbourCache(ports.add("eth0", EXT_IFINDEX, EXT_MAC, 0x0a00_0002, 1500, extTx),
            counters::drop);
    final NeighbourCache internal = new NeighbourCache(ports.add("eth1", INT_IFINDEX, INT_MAC, 0x0a00_0301, 1500, intTx),
            counters::drop);
    final NeighbourCache6 ext6 = new NeighbourCache6(ext.port(), hi(EXT_IP), lo(EXT_IP), counters::drop);
    final NeighbourCache6 int6 = new NeighbourCache6(internal.port(), hi(INT_IP), lo(INT_IP), counters::drop);
    /** What `ip -6 route` shows in the two-NIC director, with TAP mode's /128 for the VIP6. */
    final RouteTable6 routes6 = new RouteTable6(List.of(
            route("::", 0, ROUTER, EXT_IFINDEX),
            route("2001:db8::", 64, null, EXT_IFINDEX),
            route("2001:db8:3::", 64, null, INT_IFINDEX),
            route("fe80::", 64, null, EXT_IFINDEX),
            route("fe80::", 64, null, INT_IFINDEX),
            route("2001:db8::100", 128, null, TAP_IFINDEX)), EXT_IFINDEX, INT_IFINDEX);
    final ServiceTable table = new ServiceTableBuilder(Schedulers::create).build(List.of(
            ServiceSpec.ipv6(Protocol.TCP, v6(VIP), 80, "rr", List.of(
                    Dest.ipv6(v6(NRS1), 8080, 1, ForwardMethod.NAT),
                    Dest.ipv6(v6(NRS2), 8080, 1, ForwardMethod.NAT)))), ServiceTable.EMPTY);
    final ConnectionTable6 conns6 = new ConnectionTable6(64, Timeouts.DEFAULTS);
    final Arena arena = Arena.ofConfined();
    final PacketContext ctx = new PacketContext();
    final DataPath dataPath;
    final EmbeddedChannel extChannel = new EmbeddedChannel();
    final EmbeddedChannel intChannel = new EmbeddedChannel();

    TwoPortIpv6PipelineTest() {
        ServiceRegistry registry = new ServiceRegistry();
        registry.publish(ServiceTable.EMPTY);
        dataPath = DataPath.builder().services(registry).connections(new ConnectionTable(64, Timeouts.DEFAULTS))
                .neighbours(ext, internal).routes(() -> new RouteTable(List.of(), EXT_IFINDEX, INT_IFINDEX))
                .counters(counters).services6(() -> table).connections6(conns6).neighbours6(ext6, int6)
                .routes6(() -> routes6).build();
        dataPath.wire(extChannel.pipeline(), 0);
        dataPath.wire(intChannel.pipeline(), 1);
    }

    static Route6 route(String dst, int len, byte[] gw, int oif) {
        Ipv6Address d = Ipv6Address.parse(dst);
        return new Route6(d.hi(), d.lo(), len, gw == null ? 0 : hi(gw), gw == null ? 0 : lo(gw), oif, 1024, 254);
    }

    static Ipv6Address v6(byte[] a) {
        return new Ipv6Address(hi(a), lo(a));
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

    @AfterEach
    void close() {
        assertEquals(0, counters.drops(DropReason.INTERNAL_ERROR), "no exception inside the pipeline");
        extChannel.finishAndReleaseAll();
        intChannel.finishAndReleaseAll();
        ext6.close();
        int6.close();
        ext.close();
        internal.close();
        ports.close();
        arena.close();
    }

    /** Feeds a frame on one attachment and flushes; returns what each port sent (without virtio_net_hdr). */
    List<List<byte[]>> feed(EmbeddedChannel ch, int port, byte[] f) {
        int extBefore = extTx.sent.size();
        int intBefore = intTx.sent.size();
        MemorySegment seg = arena.allocate(64 + 10 + f.length + 64, 8);
        MemorySegment.copy(f, 0, seg, ValueLayout.JAVA_BYTE, 74, f.length);
        ctx.seg = seg;
        ctx.vnetOff = 64;
        ctx.frameOff = 74;
        ctx.frameLen = f.length;
        ctx.frameCapacity = f.length + 64;
        ctx.headroom = 64;
        ctx.ingressPort = port;
        ch.writeInbound(ctx);
        ch.pipeline().fireChannelReadComplete();
        ch.checkException();
        return List.of(sent(extTx, extBefore), sent(intTx, intBefore));
    }

    static List<byte[]> sent(CapturingTxQueue q, int from) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] b : q.sent.subList(from, q.sent.size())) {
            out.add(Arrays.copyOfRange(b, 10, b.length));
        }
        return out;
    }

    byte[] nsForVip(long srcMac, byte[] src) {
        return frame(0x3333_ff00_0100L, srcMac, src, SN_VIP, 58, 255, ns(src, SN_VIP, VIP, srcMac));
    }

    @Test
    void nsForTheVip6IsAnsweredOnTheExternalPortOnly() {
        List<List<byte[]>> out = feed(extChannel, 0, nsForVip(ROUTER_MAC, ROUTER));
        assertEquals(1, out.get(0).size(), "the router's NS: answered on the external port");
        assertEquals(0, out.get(1).size());
        byte[] na = out.get(0).getFirst();
        assertEquals(136, na[ETH + 40] & 0xff, "a Neighbor Advertisement");
        assertArrayEquals(VIP, Arrays.copyOfRange(na, ETH + 48, ETH + 64), "for the VIP6");
        assertEquals(EXT_MAC, mac(na, 6), "from the external port");
        assertEquals(EXT_MAC, mac(na, ETH + 66), "the VIP6 is at the external port's MAC");

        long ignored = counters.ignoredFrames();
        out = feed(intChannel, 1, nsForVip(NRS1_MAC, NRS1));
        assertEquals(0, out.get(0).size() + out.get(1).size(), "nrs1's NS on the servers' side: not answered");
        assertEquals(ignored + 1, counters.ignoredFrames(), "counted as ignored");
    }

    @Test
    void theUnsolicitedNaAtPublicationLeavesByTheExternalPortOnly() {
        assertTrue(dataPath.announce6(hi(VIP), lo(VIP)));
        ports.flush();
        assertEquals(1, extTx.sent.size(), "announced on the external segment");
        assertEquals(0, intTx.sent.size(), "not on the servers' segment");
        byte[] na = Arrays.copyOfRange(extTx.sent.getFirst(), 10, extTx.sent.getFirst().length);
        assertEquals(0x3333_0000_0001L, mac(na, 0), "to all-nodes");
        assertArrayEquals(VIP, Arrays.copyOfRange(na, ETH + 48, ETH + 64));
    }

    @Test
    void nat6RequestsLeaveByTheInternalPortAndRepliesByTheExternalOne() {
        long now = System.nanoTime();
        ext6.learn(hi(ROUTER), lo(ROUTER), ROUTER_MAC, true, now);
        int6.learn(hi(NRS1), lo(NRS1), NRS1_MAC, true, now);
        int6.learn(hi(NRS2), lo(NRS2), NRS2_MAC, true, now);
        byte[] syn = frame(EXT_MAC, ROUTER_MAC, CLIENT, VIP, 6, 63, tcp(CLIENT, VIP, 40000, 80, 1, SYN));
        List<List<byte[]>> out = feed(extChannel, 0, syn);
        assertEquals(0, out.get(0).size(), "nothing back out of the external port");
        assertEquals(1, out.get(1).size(), "the SYN leaves by the internal port");
        byte[] f = out.get(1).getFirst();
        assertEquals(INT_MAC, mac(f, 6), "source MAC: the internal port's");
        byte[] rip = Arrays.copyOfRange(f, ETH + 24, ETH + 40);
        boolean one = Arrays.equals(rip, NRS1);
        assertTrue(one || Arrays.equals(rip, NRS2), "DNAT to nrs1 or nrs2");
        assertEquals(one ? NRS1_MAC : NRS2_MAC, mac(f, 0), "to the server's MAC, from port 1's cache");
        assertEquals(62, f[ETH + 7] & 0xff, "hop limit decremented");

        byte[] synAck = frame(INT_MAC, one ? NRS1_MAC : NRS2_MAC, rip, CLIENT, 6, 64,
                tcp(rip, CLIENT, 8080, 40000, 7, SYN_ACK));
        out = feed(intChannel, 1, synAck);
        assertEquals(0, out.get(1).size(), "nothing back out of the internal port");
        assertEquals(1, out.get(0).size(), "the SYN-ACK leaves by the external port");
        f = out.get(0).getFirst();
        assertEquals(EXT_MAC, mac(f, 6), "source MAC: the external port's");
        assertEquals(ROUTER_MAC, mac(f, 0), "to the default route's gateway");
        assertArrayEquals(VIP, Arrays.copyOfRange(f, ETH + 8, ETH + 24), "SNAT back to the VIP6");
    }
}
