package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.TcpState;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.packet.Checksum;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.sys.RtNetlink.Route;
import io.jvs.forwarder.xmit.CapturingTxQueue;
import io.jvs.forwarder.io.LanPort;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static io.jvs.forwarder.testkit.Frames.ETH;
import static io.jvs.forwarder.testkit.Frames.i32;
import static io.jvs.forwarder.testkit.Frames.mac;
import static io.jvs.forwarder.testkit.Frames.u16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The whole data-path pipeline as the director runs it ({@link DataPath}), on an
 * EmbeddedChannel, with a capturing transmit queue instead of a socket.
 */
class PipelineTest {
    static final int IFINDEX = 7;
    static final long PORT_MAC = 0x02_6a_76_00_00_02L;
    static final int PORT_IP = 0x0a00_0002;      // 10.0.0.2
    static final int ROUTER = 0x0a00_0001;       // 10.0.0.1
    static final long ROUTER_MAC = 0x02_00_00_00_00_01L;
    static final int VIP = 0x0a00_0064;          // 10.0.0.100
    static final int RS1 = 0x0a00_000b;          // 10.0.0.11
    static final int RS2 = 0x0a00_000c;          // 10.0.0.12
    static final long RS1_MAC = 0x02_00_00_00_00_0bL;
    static final long RS2_MAC = 0x02_00_00_00_00_0cL;
    static final int CLIENT = 0xc0a8_0105;       // 192.168.1.5, behind the router
    static final int CLIENT2 = 0xc0a8_0207;      // 192.168.2.7
    static final int OTHER = 0x0a00_0032;        // 10.0.0.50, not a VIP

    static final int DR_PORT = 80;               // TCP VIP:80 -> RS1:80, RS2:80 (DR, rr)
    static final int NAT_PORT = 8080;            // TCP VIP:8080 -> RS1:80, RS2:80 (NAT, rr)
    static final int UDP_PORT = 53;              // UDP VIP:53 -> RS1:5353, RS2:5353 (NAT, rr)
    static final int QUIESCED_PORT = 90;         // TCP VIP:90, both servers weight 0
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int SYN_ACK = 0x12;

    /** One pipeline with everything it needs. */
    static final class Pipe implements AutoCloseable {
        final io.jvs.forwarder.service.VrrpGate vrrp = new io.jvs.forwarder.service.VrrpGate();
        final DataPathCounters counters = new DataPathCounters("lan0");
        final ConnectionTable conns;
        final ServiceRegistry registry = new ServiceRegistry();
        final CapturingTxQueue tx = new CapturingTxQueue();
        final LanPort port = new LanPort("lan0", IFINDEX, PORT_MAC, PORT_IP, tx);
        final NeighbourCache neighbours = new NeighbourCache(port, counters::drop);
        final RouteTable routes = new RouteTable(List.of(
                new Route(0x0a00_0000, 24, 0, IFINDEX, 0, 254),
                new Route(0, 0, ROUTER, IFINDEX, 0, 254)), IFINDEX);
        final EmbeddedChannel channel;
        final DataPath dataPath;
        final PacketContext ctx = new PacketContext();
        final Arena arena = Arena.ofConfined();
        long rx;

        Pipe(int capacity) {
            this(capacity, ConnPolicy.DEFAULTS);
        }

        Pipe(int capacity, ConnPolicy policy) {
            conns = new ConnectionTable(capacity, Timeouts.DEFAULTS);
            ServiceTable table = new ServiceTableBuilder(Schedulers::create).build(List.of(
                    new ServiceSpec(Protocol.TCP, VIP, DR_PORT, "rr", List.of(
                            new Dest(RS1, DR_PORT, 1, ForwardMethod.DR),
                            new Dest(RS2, DR_PORT, 1, ForwardMethod.DR))),
                    new ServiceSpec(Protocol.TCP, VIP, NAT_PORT, "rr", List.of(
                            new Dest(RS1, 80, 1, ForwardMethod.NAT),
                            new Dest(RS2, 80, 1, ForwardMethod.NAT))),
                    new ServiceSpec(Protocol.UDP, VIP, UDP_PORT, "rr", List.of(
                            new Dest(RS1, 5353, 1, ForwardMethod.NAT),
                            new Dest(RS2, 5353, 1, ForwardMethod.NAT))),
                    new ServiceSpec(Protocol.TCP, VIP, QUIESCED_PORT, "rr", List.of(
                            new Dest(RS1, QUIESCED_PORT, 0, ForwardMethod.DR),
                            new Dest(RS2, QUIESCED_PORT, 0, ForwardMethod.DR)))),
                    ServiceTable.EMPTY);
            registry.publish(table);
            long now = System.nanoTime();
            neighbours.learn(ROUTER, ROUTER_MAC, true, now);
            neighbours.learn(RS1, RS1_MAC, true, now);
            neighbours.learn(RS2, RS2_MAC, true, now);
            channel = new EmbeddedChannel();
            dataPath = DataPath.builder().services(registry).connections(conns).neighbours(neighbours)
                    .routes(() -> routes).counters(counters).connPolicy(policy).vrrp(vrrp).build();
            dataPath.wire(channel.pipeline());
        }

        /** Feeds one frame (with a zero virtio_net_hdr) and flushes; returns the frames sent for it. */
        List<byte[]> feed(byte[] frame) {
            return feed(new byte[10], frame);
        }

        List<byte[]> feed(byte[] vnet, byte[] frame) {
            int before = tx.total();
            MemorySegment seg = arena.allocate(10 + frame.length, 1);
            MemorySegment.copy(vnet, 0, seg, ValueLayout.JAVA_BYTE, 0, 10);
            MemorySegment.copy(frame, 0, seg, ValueLayout.JAVA_BYTE, 10, frame.length);
            ctx.seg = seg;
            ctx.vnetOff = 0;
            ctx.frameOff = 10;
            ctx.frameLen = frame.length;
            ctx.frameCapacity = frame.length;
            ctx.ingressPort = 0;
            rx++;
            channel.writeInbound(ctx);
            channel.pipeline().fireChannelReadComplete();
            channel.checkException();
            assertEquals(0, tx.queued.size(), "everything flushed");
            List<byte[]> out = new ArrayList<>();
            for (int i = before; i < tx.sent.size(); i++) {
                byte[] b = tx.sent.get(i);
                byte[] f = Arrays.copyOfRange(b, 10, b.length);
                if (f.length >= 14 && u16(f, 12) == 0x0806) {
                    assertArrayEquals(new byte[10], Arrays.copyOf(b, 10), "generated ARP: zero virtio_net_hdr");
                } else {
                    assertArrayEquals(vnet, Arrays.copyOf(b, 10), "virtio_net_hdr goes out as it came in");
                }
                out.add(f);
            }
            return out;
        }

        byte[] one(byte[] frame) {
            List<byte[]> out = feed(frame);
            assertEquals(1, out.size(), "frames sent");
            return out.get(0);
        }

        void none(byte[] frame, DropReason reason) {
            long drops = counters.drops(reason);
            long total = counters.totalDrops();
            long ignored = counters.ignoredFrames();
            List<byte[]> out = feed(frame);
            assertEquals(0, out.size(), "nothing sent");
            assertEquals(drops + 1, counters.drops(reason), reason + " counted");
            assertEquals(total + 1, counters.totalDrops(), "exactly one drop");
            assertEquals(ignored, counters.ignoredFrames(), "not also ignored");
        }

        void ignored(byte[] frame) {
            long total = counters.totalDrops();
            long ignored = counters.ignoredFrames();
            List<byte[]> out = feed(frame);
            assertEquals(0, out.size(), "nothing sent");
            assertEquals(total, counters.totalDrops(), "not dropped");
            assertEquals(ignored + 1, counters.ignoredFrames(), "counted as ignored");
        }

        @Override
        public void close() {
            channel.finishAndReleaseAll();
            neighbours.close();
            port.close();
            arena.close();
        }
    }

    Pipe pipe = new Pipe(1024);

    @AfterEach
    void close() {
        assertEquals(0, pipe.counters.drops(DropReason.INTERNAL_ERROR), "no exception inside the pipeline");
        pipe.close();
    }

    static byte[] syn(int client, int cport, int vport) {
        return Frames.tcp(ROUTER_MAC, PORT_MAC, client, cport, VIP, vport, SYN, 64, 0);
    }

    static byte[] ack(int client, int cport, int vport) {
        return Frames.tcp(ROUTER_MAC, PORT_MAC, client, cport, VIP, vport, ACK, 64, 10);
    }

    /** DR: only the MACs, the TTL and the IP checksum differ. */
    static void assertDr(byte[] in, byte[] out, long rsMac) {
        assertEquals(in.length, out.length);
        assertEquals(rsMac, mac(out, 0), "dst mac = real server");
        assertEquals(PORT_MAC, mac(out, 6), "src mac = port");
        assertEquals((in[ETH + 8] & 0xFF) - 1, out[ETH + 8] & 0xFF, "TTL - 1");
        assertTrue(Frames.ipChecksumValid(out), "IP checksum");
        assertEquals(Frames.ipChecksum(out), u16(out, ETH + 10));
        for (int i = 12; i < in.length; i++) {
            if (i != ETH + 8 && i != ETH + 10 && i != ETH + 11) {
                assertEquals(in[i], out[i], "byte " + i + " untouched");
            }
        }
    }

    static void assertChecksums(byte[] out) {
        assertTrue(Frames.ipChecksumValid(out), "IP checksum valid");
        assertEquals(Frames.l4Checksum(out), Frames.l4ChecksumField(out), "L4 checksum = full recomputation");
        // and the main code's own full computation agrees
        MemorySegment s = MemorySegment.ofArray(out);
        assertEquals(Checksum.l4(s, ETH), Frames.l4ChecksumField(out), "Checksum.l4");
        assertEquals(Checksum.ipv4Header(s, ETH, 20), u16(out, ETH + 10), "Checksum.ipv4Header");
    }

    // ------------------------------------------------------------------ ARP

    @Test
    void arpRequestForTheVipIsAnswered() {
        long asker = 0x02_00_00_00_00_77L;
        int askerIp = 0x0a00_0077;
        byte[] out = pipe.one(Frames.arp(asker, 0xFFFF_FFFF_FFFFL, 1, asker, askerIp, 0, VIP));
        assertEquals(60, out.length);
        assertEquals(asker, mac(out, 0), "eth dst = asker");
        assertEquals(PORT_MAC, mac(out, 6), "eth src = port");
        assertEquals(0x0806, u16(out, 12));
        assertEquals(2, u16(out, 20), "op reply");
        assertEquals(PORT_MAC, mac(out, 22), "sender mac");
        assertEquals(VIP, i32(out, 28), "sender ip = VIP");
        assertEquals(asker, mac(out, 32), "target mac");
        assertEquals(askerIp, i32(out, 38), "target ip");
        assertEquals(0, pipe.counters.totalDrops());
    }

    /** VRRP's gate: a BACKUP is silent on ARP for the instance's addresses and forwards nothing for them. */
    @Test
    void vrrpBackupIsSilentForItsAddressesAndAMasterAnswersAndForwards() {
        long asker = 0x02_00_00_00_00_77L;
        int askerIp = 0x0a00_0077;
        pipe.vrrp.publish(io.jvs.forwarder.service.VrrpGate.Snapshot.of(new int[] {VIP}, new int[0]));
        pipe.ignored(Frames.arp(asker, 0xFFFF_FFFF_FFFFL, 1, asker, askerIp, 0, VIP));
        pipe.none(syn(CLIENT, 40000, DR_PORT), DropReason.VRRP_BACKUP);
        pipe.none(syn(CLIENT, 40001, NAT_PORT), DropReason.VRRP_BACKUP);
        assertEquals(0, pipe.conns.size(), "no connection made by a BACKUP");

        // MASTER: the VIP and an address no service has (OTHER) are answered; traffic flows
        pipe.vrrp.publish(io.jvs.forwarder.service.VrrpGate.Snapshot.of(new int[0], new int[] {VIP, OTHER}));
        byte[] reply = pipe.one(Frames.arp(asker, 0xFFFF_FFFF_FFFFL, 1, asker, askerIp, 0, VIP));
        assertEquals(2, u16(reply, 20), "op reply");
        reply = pipe.one(Frames.arp(asker, 0xFFFF_FFFF_FFFFL, 1, asker, askerIp, 0, OTHER));
        assertEquals(OTHER, i32(reply, 28), "the MASTER answers for its non-VIP address as its own");
        byte[] fwd = pipe.one(syn(CLIENT, 40000, DR_PORT));
        assertTrue(mac(fwd, 0) == RS1_MAC || mac(fwd, 0) == RS2_MAC, "forwarded to a real server (DR)");
        assertEquals(1, pipe.conns.size());
    }

    @Test
    void arpRequestsForOtherAddressesGetNoReply() {
        long asker = 0x02_00_00_00_00_77L;
        pipe.ignored(Frames.arp(asker, 0xFFFF_FFFF_FFFFL, 1, asker, 0x0a00_0077, 0, OTHER));
        pipe.ignored(Frames.arp(asker, 0xFFFF_FFFF_FFFFL, 1, asker, 0x0a00_0077, 0, PORT_IP));
        // gratuitous ARP for the VIP by someone else: no reply either
        pipe.ignored(Frames.arp(asker, 0xFFFF_FFFF_FFFFL, 1, asker, VIP, 0, VIP));
        // a reply is never answered
        pipe.ignored(Frames.arp(asker, PORT_MAC, 2, asker, 0x0a00_0077, PORT_MAC, VIP));
    }

    @Test
    void arpReplyFromARealServerUpdatesItsMac() {
        long newMac = 0x02_00_00_00_01_0bL;
        pipe.ignored(Frames.arp(newMac, PORT_MAC, 2, newMac, RS1, PORT_MAC, PORT_IP));
        pipe.one(syn(CLIENT, 40000, DR_PORT));              // RS2 first
        byte[] out = pipe.one(syn(CLIENT, 40001, DR_PORT)); // then RS1, at its new MAC
        assertEquals(newMac, mac(out, 0));
    }

    // ------------------------------------------------------------------ DR

    @Test
    void drSynGoesToTheRealServersMacWithTheIpPacketUntouchedButTtl() {
        byte[] in = syn(CLIENT, 40000, DR_PORT);
        byte[] out = pipe.one(in);
        assertDr(in, out, RS2_MAC);   // rr: the newest-added server first
        assertEquals(1, pipe.conns.size());
    }

    @Test
    void drRoundRobinAndConnectionAffinity() {
        assertDr(syn(CLIENT, 40000, DR_PORT), pipe.one(syn(CLIENT, 40000, DR_PORT)), RS2_MAC);
        assertDr(syn(CLIENT, 40001, DR_PORT), pipe.one(syn(CLIENT, 40001, DR_PORT)), RS1_MAC);
        assertDr(syn(CLIENT2, 40000, DR_PORT), pipe.one(syn(CLIENT2, 40000, DR_PORT)), RS2_MAC);
        for (int i = 0; i < 5; i++) {
            assertEquals(RS2_MAC, mac(pipe.one(ack(CLIENT, 40000, DR_PORT)), 0));
            assertEquals(RS1_MAC, mac(pipe.one(ack(CLIENT, 40001, DR_PORT)), 0));
            assertEquals(RS2_MAC, mac(pipe.one(ack(CLIENT2, 40000, DR_PORT)), 0));
        }
        // a retransmitted SYN of a live connection keeps its server
        assertEquals(RS1_MAC, mac(pipe.one(syn(CLIENT, 40001, DR_PORT)), 0));
        assertEquals(3, pipe.conns.size());
        assertEquals(0, pipe.counters.totalDrops());
    }

    @Test
    void synReusingATimeWaitConnectionIsRescheduled() {
        assertEquals(RS2_MAC, mac(pipe.one(syn(CLIENT, 40000, DR_PORT)), 0));
        int id = pipe.conns.lookupIn(Protocol.TCP, CLIENT, 40000, VIP, DR_PORT);
        assertTrue(id >= 0);
        pipe.conns.setState(id, TcpState.TIME_WAIT, System.nanoTime());
        // Not a SYN: still the old connection, old server.
        assertEquals(RS2_MAC, mac(pipe.one(ack(CLIENT, 40000, DR_PORT)), 0));
        int id2 = pipe.conns.lookupIn(Protocol.TCP, CLIENT, 40000, VIP, DR_PORT);
        pipe.conns.setState(id2, TcpState.TIME_WAIT, System.nanoTime());
        // A new SYN on the same ports: scheduled afresh (rr's next is RS1).
        assertEquals(RS1_MAC, mac(pipe.one(syn(CLIENT, 40000, DR_PORT)), 0));
        int id3 = pipe.conns.lookupIn(Protocol.TCP, CLIENT, 40000, VIP, DR_PORT);
        assertEquals(RS1, pipe.conns.daddr(id3));
        assertNotEquals(TcpState.TIME_WAIT, pipe.conns.state(id3));
        assertEquals(1, pipe.conns.size());
        assertEquals(RS1_MAC, mac(pipe.one(ack(CLIENT, 40000, DR_PORT)), 0));
    }

    // ------------------------------------------------------------------ NAT

    @Test
    void natRewritesBothWaysWithValidChecksums() {
        byte[] in = Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, NAT_PORT, SYN, 64, 33);
        byte[] out = pipe.one(in);
        assertEquals(RS2_MAC, mac(out, 0));
        assertEquals(PORT_MAC, mac(out, 6));
        assertEquals(CLIENT, i32(out, ETH + 12), "source kept");
        assertEquals(RS2, i32(out, ETH + 16), "DNAT address");
        assertEquals(40000, u16(out, ETH + 20), "source port kept");
        assertEquals(80, u16(out, ETH + 22), "DNAT port");
        assertEquals(63, out[ETH + 8]);
        assertChecksums(out);
        // payload untouched
        assertArrayEquals(Arrays.copyOfRange(in, ETH + 40, in.length), Arrays.copyOfRange(out, ETH + 40, out.length));

        // The real server answers through the director: SNAT back to VIP:8080, to the router (default route).
        byte[] reply = Frames.tcp(RS2_MAC, PORT_MAC, RS2, 80, CLIENT, 40000, SYN_ACK, 64, 100);
        byte[] back = pipe.one(reply);
        assertEquals(ROUTER_MAC, mac(back, 0), "default route: router's MAC");
        assertEquals(PORT_MAC, mac(back, 6));
        assertEquals(VIP, i32(back, ETH + 12), "SNAT address");
        assertEquals(NAT_PORT, u16(back, ETH + 20), "SNAT port");
        assertEquals(CLIENT, i32(back, ETH + 16));
        assertEquals(40000, u16(back, ETH + 22));
        assertEquals(63, back[ETH + 8]);
        assertChecksums(back);

        // further packets of the connection keep going to RS2; a second client goes to RS1
        byte[] next = pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, NAT_PORT, ACK, 64, 1));
        assertEquals(RS2, i32(next, ETH + 16));
        assertChecksums(next);
        byte[] other = pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT2, 5555, VIP, NAT_PORT, SYN, 64, 0));
        assertEquals(RS1, i32(other, ETH + 16));
        assertEquals(RS1_MAC, mac(other, 0));
        assertChecksums(other);
        assertEquals(0, pipe.counters.totalDrops());
    }

    @Test
    void natReplyToAnOnLinkClientGoesToTheClientsMac() {
        int lanClient = 0x0a00_0063;     // 10.0.0.99
        long lanClientMac = 0x02_00_00_00_00_63L;
        pipe.neighbours.learn(lanClient, lanClientMac, true, System.nanoTime());
        pipe.one(Frames.tcp(lanClientMac, PORT_MAC, lanClient, 1234, VIP, NAT_PORT, SYN, 64, 0));
        byte[] back = pipe.one(Frames.tcp(RS2_MAC, PORT_MAC, RS2, 80, lanClient, 1234, SYN_ACK, 64, 0));
        assertEquals(lanClientMac, mac(back, 0));
        assertEquals(VIP, i32(back, ETH + 12));
        assertChecksums(back);
    }

    @Test
    void udpDatagramToAUdpServiceIsForwarded() {
        byte[] in = Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 33333, VIP, UDP_PORT, 64, 40);
        byte[] out = pipe.one(in);
        assertEquals(RS2_MAC, mac(out, 0));
        assertEquals(RS2, i32(out, ETH + 16));
        assertEquals(5353, u16(out, ETH + 22));
        assertChecksums(out);
        // the same flow sticks, another flow goes to RS1
        assertEquals(RS2, i32(pipe.one(in.clone()), ETH + 16));
        assertEquals(RS1, i32(pipe.one(Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 33334, VIP, UDP_PORT, 64, 4)),
                ETH + 16));
        // the answer is SNATed back
        byte[] back = pipe.one(Frames.udp(RS2_MAC, PORT_MAC, RS2, 5353, CLIENT, 33333, 64, 77));
        assertEquals(VIP, i32(back, ETH + 12));
        assertEquals(UDP_PORT, u16(back, ETH + 20));
        assertEquals(ROUTER_MAC, mac(back, 0));
        assertChecksums(back);
    }

    @Test
    void udpWithoutChecksumKeepsZero() {
        byte[] in = Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 33333, VIP, UDP_PORT, 64, 40);
        Frames.put16(in, ETH + 20 + 6, 0);
        byte[] out = pipe.one(in);
        assertEquals(RS2, i32(out, ETH + 16));
        assertEquals(0, u16(out, ETH + 26), "no checksum stays no checksum (RFC 768)");
        assertTrue(Frames.ipChecksumValid(out));
    }

    /** What a NIC does with a CHECKSUM_PARTIAL frame: sum from csum_start to the end, complement, store. */
    static byte[] finishPartial(byte[] f) {
        byte[] g = f.clone();
        int total = u16(g, ETH + 2);
        int l4 = ETH + 20;
        int c = ~Frames.sum(g, l4, total - 20, 0) & 0xFFFF;
        Frames.put16(g, l4 + 16, c);
        return g;
    }

    @Test
    void natOfAChecksumPartialFrameKeepsTheVnetHeaderAndFixesThePseudoHeaderSum() {
        byte[] in = Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, NAT_PORT, SYN, 64, 21);
        int l4Len = u16(in, ETH + 2) - 20;
        // The sender's stack left the non-complemented pseudo-header sum in the field.
        byte[] pseudo = new byte[12];
        System.arraycopy(in, ETH + 12, pseudo, 0, 8);
        pseudo[9] = 6;
        Frames.put16(pseudo, 10, l4Len);
        Frames.put16(in, ETH + 20 + 16, Frames.sum(pseudo, 0, 12, 0));
        assertEquals(Frames.l4Checksum(in), u16(finishPartial(in), ETH + 36), "the frame as built is consistent");
        byte[] vnet = new byte[10];
        vnet[0] = 1;                               // VIRTIO_NET_HDR_F_NEEDS_CSUM
        vnet[6] = (byte) (ETH + 20);               // csum_start (le16)
        vnet[8] = 16;                              // csum_offset (le16)
        List<byte[]> out = pipe.feed(vnet, in);
        assertEquals(1, out.size());
        byte[] o = out.get(0);
        assertEquals(RS2, i32(o, ETH + 16));
        assertEquals(80, u16(o, ETH + 22));
        assertTrue(Frames.ipChecksumValid(o));
        byte[] finished = finishPartial(o);
        assertEquals(Frames.l4Checksum(finished), u16(finished, ETH + 36),
                "once the device finishes it, the TCP checksum is right for the rewritten packet");
    }

    // ------------------------------------------------------------------ drops and ignores

    @Test
    void tcpNonSynWithoutConnectionIsDropped() {
        pipe.none(ack(CLIENT, 40000, DR_PORT), DropReason.NO_CONNECTION);
        pipe.none(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, DR_PORT, 0x12, 64, 0), DropReason.NO_CONNECTION);
        pipe.none(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, DR_PORT, 0x06, 64, 0), DropReason.NO_CONNECTION);
        assertEquals(0, pipe.conns.size());
    }

    @Test
    void synToAVipPortWithoutServiceIsNoService() {
        pipe.none(syn(CLIENT, 40000, 81), DropReason.NO_SERVICE);
        pipe.none(Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 1, VIP, DR_PORT, 64, 0), DropReason.NO_SERVICE);
    }

    @Test
    void ttlOneIsExpired() {
        pipe.none(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, DR_PORT, SYN, 1, 0), DropReason.TTL_EXPIRED);
        pipe.none(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40001, VIP, NAT_PORT, SYN, 1, 0), DropReason.TTL_EXPIRED);
        pipe.none(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40002, VIP, DR_PORT, SYN, 0, 0), DropReason.TTL_EXPIRED);
        // Note: the TTL is checked in the xmit stage, after scheduling, so these SYNs still left
        // connection entries bound to real servers (3 here). Not pinned by this test.
        byte[] two = Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40003, VIP, DR_PORT, SYN, 2, 0);
        assertEquals(1, pipe.one(two)[ETH + 8]);
    }

    @Test
    void badIpChecksumIsDropped() {
        byte[] f = syn(CLIENT, 40000, DR_PORT);
        f[ETH + 10] ^= 0x01;
        pipe.none(f, DropReason.BAD_CHECKSUM);
        assertEquals(0, pipe.conns.size());
    }

    @Test
    void truncatedFramesAreDropped() {
        byte[] f = Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, DR_PORT, SYN, 64, 100);
        pipe.none(Arrays.copyOf(f, f.length - 1), DropReason.TRUNCATED);     // IP total length > frame
        pipe.none(Arrays.copyOf(f, ETH + 10), DropReason.TRUNCATED);         // half an IP header
        pipe.none(Arrays.copyOf(f, 13), DropReason.TRUNCATED);               // not even Ethernet
        pipe.none(new byte[0], DropReason.TRUNCATED);
        pipe.none(Arrays.copyOf(Frames.arp(ROUTER_MAC, PORT_MAC, 1, ROUTER_MAC, ROUTER, 0, VIP), 30),
                DropReason.TRUNCATED);
    }

    @Test
    void unknownEtherTypeIsIgnoredNotDropped() {
        byte[] f = syn(CLIENT, 40000, DR_PORT);
        Frames.put16(f, 12, 0x88CC);   // LLDP
        pipe.ignored(f);
    }

    /** IPv6 is decoded: a valid packet is ignored (not forwarded yet), a broken one dropped under its reason. */
    @Test
    void ipv6IsIgnoredAndBrokenIpv6Dropped() {
        byte[] ip6 = new byte[40 + 8];
        ip6[0] = 0x60;
        ip6[5] = 8;
        ip6[6] = 17;                   // UDP
        ip6[7] = 64;
        byte[] udp = {0x12, 0x34, 0x00, 0x35, 0x00, 0x08, 0, 0};
        System.arraycopy(udp, 0, ip6, 40, 8);
        pipe.ignored(Frames.frame().raw(0x86DD, ip6).build());
        ip6[6] = 0;                    // hop-by-hop, whose length would reach past the payload
        ip6[41] = 1;
        pipe.none(Frames.frame().raw(0x86DD, ip6).build(), DropReason.IPV6_EXTENSION_TRUNCATED);
        ip6[6] = 60;                   // destination options, then hop-by-hop: out of order
        ip6[40] = 0;
        ip6[41] = 0;
        pipe.none(Frames.frame().raw(0x86DD, ip6).build(), DropReason.IPV6_BAD_EXTENSION_CHAIN);
        byte[] f4 = syn(CLIENT, 40000, DR_PORT);
        Frames.put16(f4, 12, 0x86DD);  // IPv4 bytes behind the IPv6 EtherType
        pipe.none(f4, DropReason.MALFORMED);
    }

    @Test
    void nonFirstFragmentToTheVipIsUntracked() {
        pipe.none(Frames.fragment(ROUTER_MAC, PORT_MAC, CLIENT, VIP, 17), DropReason.FRAGMENT_UNTRACKED);
        pipe.none(Frames.fragment(ROUTER_MAC, PORT_MAC, CLIENT, VIP, 6), DropReason.FRAGMENT_UNTRACKED);
        pipe.ignored(Frames.fragment(ROUTER_MAC, PORT_MAC, CLIENT, OTHER, 17));
    }

    @Test
    void framesNotForAnyVipAreIgnored() {
        pipe.ignored(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, OTHER, 80, SYN, 64, 0));
        pipe.ignored(Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, OTHER, 53, 64, 0));
        // a "reply" from a real server that belongs to no connection
        pipe.ignored(Frames.tcp(RS1_MAC, PORT_MAC, RS1, 80, CLIENT, 40000, SYN_ACK, 64, 0));
        assertEquals(0, pipe.conns.size());
    }

    @Test
    void fullTableRefusesNewConnectionsButExistingOnesFlow() {
        pipe.close();
        pipe = new Pipe(2);
        assertEquals(RS2_MAC, mac(pipe.one(syn(CLIENT, 1, DR_PORT)), 0));
        assertEquals(RS1_MAC, mac(pipe.one(syn(CLIENT, 2, DR_PORT)), 0));
        pipe.one(ack(CLIENT, 1, DR_PORT));
        pipe.one(ack(CLIENT, 2, DR_PORT));              // both established: nothing to reclaim
        pipe.none(syn(CLIENT, 3, DR_PORT), DropReason.TABLE_FULL);
        pipe.none(Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 3, VIP, UDP_PORT, 64, 0), DropReason.TABLE_FULL);
        assertEquals(RS2_MAC, mac(pipe.one(ack(CLIENT, 1, DR_PORT)), 0));
        assertEquals(RS1_MAC, mac(pipe.one(ack(CLIENT, 2, DR_PORT)), 0));
        assertEquals(2, pipe.conns.size());
    }

    @Test
    void aFullTableOfHalfOpenConnectionsGivesTheOldestUpForANewSyn() {
        pipe.close();
        pipe = new Pipe(3);
        pipe.one(syn(CLIENT, 1, DR_PORT));
        pipe.one(syn(CLIENT, 2, DR_PORT));
        pipe.one(syn(CLIENT, 3, DR_PORT));
        pipe.one(ack(CLIENT, 1, DR_PORT));              // the oldest completes: established
        pipe.one(syn(CLIENT2, 4, DR_PORT));             // table full: client port 2's entry goes
        assertEquals(1, pipe.counters.embryonicReclaimed());
        assertEquals(0, pipe.counters.drops(DropReason.TABLE_FULL));
        pipe.none(ack(CLIENT, 2, DR_PORT), DropReason.NO_CONNECTION);
        pipe.one(ack(CLIENT, 1, DR_PORT));
        pipe.one(ack(CLIENT, 3, DR_PORT));
        pipe.one(ack(CLIENT2, 4, DR_PORT));
        pipe.none(syn(CLIENT2, 5, DR_PORT), DropReason.TABLE_FULL);
        assertEquals(3, pipe.conns.size());
    }

    @Test
    void dropPacketRefusesOneNewConnectionInAmDroprateAndNoKnownOne() {
        pipe.close();
        pipe = new Pipe(64, new ConnPolicy(false, false, false,
                new io.jvs.forwarder.conn.DefenseSettings(0, 3, 0, 1024, 3)));
        StringBuilder seen = new StringBuilder();
        for (int p = 1; p <= 7; p++) {
            seen.append(pipe.feed(syn(CLIENT, p, DR_PORT)).isEmpty() ? 'D' : '.');
        }
        assertEquals("D..D..D", seen.toString(), "ip_vs_todrop with drop_rate = am_droprate, counter from 0");
        assertEquals(3, pipe.counters.drops(DropReason.DEFENSE_DROP_PACKET));
        pipe.one(ack(CLIENT, 2, DR_PORT));              // a known connection is never asked
        assertEquals(3, pipe.counters.defenseLevel(1));
    }

    @Test
    void dropEntryAutomaticCutsInBelowAmemthreshAndSparesEstablishedConnections() {
        pipe.close();
        pipe = new Pipe(64, new ConnPolicy(false, false, false,
                new io.jvs.forwarder.conn.DefenseSettings(1, 0, 0, 60, 10)));
        for (int p = 1; p <= 50; p++) {
            pipe.one(syn(CLIENT, p, DR_PORT));
            if (p % 5 == 0) {
                pipe.one(ack(CLIENT, p, DR_PORT));
            }
        }
        assertEquals(1, pipe.counters.defenseLevel(0));
        pipe.dataPath.defenseTick();                    // 14 free < 60: drop_entry 1 -> 2
        assertEquals(2, pipe.counters.defenseLevel(0));
        for (int k = 0; k < 500; k++) {
            pipe.dataPath.defenseTick();
        }
        assertEquals(10, pipe.conns.size(), "the 40 half-open entries went, the 10 established stayed");
        assertEquals(40, pipe.counters.embryonicDropped());
        for (int p = 5; p <= 50; p += 5) {
            pipe.one(ack(CLIENT, p, DR_PORT));
        }
    }

    /** Replaces the pipe's services by one DR service on VIP:80 with this client policy. */
    void drServiceWith(io.jvs.forwarder.service.ClientPolicy policy) {
        pipe.registry.publish(new ServiceTableBuilder(Schedulers::create).build(List.of(
                new ServiceSpec(Protocol.TCP, VIP, DR_PORT, "rr", List.of(
                        new Dest(RS1, DR_PORT, 1, ForwardMethod.DR),
                        new Dest(RS2, DR_PORT, 1, ForwardMethod.DR))).withClientPolicy(policy)),
                pipe.registry.current()));
    }

    /**
     * -o on a UDP service: each datagram of one client socket is scheduled on its own (rr: the
     * servers alternate, where a connection keeps one), no entry is kept, and each counts as a
     * connection of the service (IPVS counts the one-packet connection).
     */
    @Test
    void onePacketSchedulingSchedulesEachDatagram() {
        pipe.registry.publish(new ServiceTableBuilder(Schedulers::create).build(List.of(
                new ServiceSpec(Protocol.UDP, VIP, UDP_PORT, "rr", List.of(
                        new Dest(RS1, 5353, 1, ForwardMethod.NAT),
                        new Dest(RS2, 5353, 1, ForwardMethod.NAT))).withOnePacket(true)),
                pipe.registry.current()));
        byte[] in = Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 33333, VIP, UDP_PORT, 64, 40);
        List<Integer> servers = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] out = pipe.one(in.clone());
            servers.add(i32(out, ETH + 16));
            assertChecksums(out);
        }
        int first = servers.getFirst();
        int second = first == RS1 ? RS2 : RS1;
        assertEquals(List.of(first, second, first, second), servers, "one datagram each, rr");
        assertEquals(0, pipe.conns.size(), "no connection entry kept");
        VirtualService ops = pipe.registry.current().lookup(Protocol.UDP, VIP, UDP_PORT);
        assertEquals(4, ops.stats.conns(), "four one-packet connections counted");
        for (RealServer d : ops.dests) {
            assertEquals(0, d.stats.inactConns() + d.stats.activeConns(), "none left on " + d);
        }
    }

    @Test
    void allowAndDenyListsAndTheConnectionLimitRefuseByReason() {
        drServiceWith(new io.jvs.forwarder.service.ClientPolicy(
                List.of(io.jvs.forwarder.service.ClientPrefix.parse("192.168.0.0/16")),
                List.of(io.jvs.forwarder.service.ClientPrefix.parse("192.168.2.0/24")), 2, 0, 0));
        pipe.none(syn(CLIENT2, 1, DR_PORT), DropReason.ACL_DENIED);          // 192.168.2.7: denied
        pipe.none(syn(0xac10_0001, 1, DR_PORT), DropReason.ACL_DENIED);      // 172.16.0.1: not allowed
        pipe.one(syn(CLIENT, 1, DR_PORT));                                    // 192.168.1.5: allowed
        pipe.one(syn(CLIENT, 2, DR_PORT));
        pipe.none(syn(CLIENT, 3, DR_PORT), DropReason.CLIENT_CONN_LIMIT);    // the third: limit 2
        pipe.one(ack(CLIENT, 1, DR_PORT));                                    // known connections flow
        pipe.conns.remove(pipe.conns.lookupIn(Protocol.TCP, CLIENT, 1, VIP, DR_PORT));
        pipe.one(syn(CLIENT, 3, DR_PORT));                                    // a connection left: room
        pipe.none(syn(CLIENT, 4, DR_PORT), DropReason.CLIENT_CONN_LIMIT);
        assertEquals(2, pipe.counters.drops(DropReason.ACL_DENIED));
        assertEquals(2, pipe.counters.drops(DropReason.CLIENT_CONN_LIMIT));
        assertEquals(2, pipe.conns.size());
    }

    @Test
    void theRateLimitLetsTheBurstThroughPerClient() {
        drServiceWith(new io.jvs.forwarder.service.ClientPolicy(List.of(), List.of(), 0, 1, 2));
        pipe.one(syn(CLIENT, 1, DR_PORT));
        pipe.one(syn(CLIENT, 2, DR_PORT));
        pipe.none(syn(CLIENT, 3, DR_PORT), DropReason.CLIENT_RATE_LIMIT);
        pipe.one(syn(CLIENT2, 1, DR_PORT));
        assertEquals(1, pipe.counters.drops(DropReason.CLIENT_RATE_LIMIT));
    }

    @Test
    void allServersQuiescedIsNoDestination() {
        pipe.none(syn(CLIENT, 40000, QUIESCED_PORT), DropReason.NO_DESTINATION);
        assertEquals(0, pipe.conns.size());
    }

    // ------------------------------------------------------------------ neighbour resolution in the pipeline

    @Test
    void unresolvedNextHopParksTheFrameUntilTheArpReply() {
        int lanClient = 0x0a00_0063;     // 10.0.0.99, never seen
        long lanClientMac = 0x02_00_00_00_00_63L;
        pipe.one(Frames.tcp(lanClientMac, PORT_MAC, lanClient, 1234, VIP, NAT_PORT, SYN, 64, 0));
        List<byte[]> out = pipe.feed(Frames.tcp(RS2_MAC, PORT_MAC, RS2, 80, lanClient, 1234, SYN_ACK, 64, 5));
        assertEquals(1, out.size(), "only the ARP request");
        assertEquals(0xFFFF_FFFF_FFFFL, mac(out.get(0), 0));
        assertEquals(0x0806, u16(out.get(0), 12));
        assertEquals(1, u16(out.get(0), 20));
        assertEquals(lanClient, i32(out.get(0), 38));
        out = pipe.feed(Frames.arp(lanClientMac, PORT_MAC, 2, lanClientMac, lanClient, PORT_MAC, PORT_IP));
        assertEquals(1, out.size(), "the parked reply");
        assertEquals(lanClientMac, mac(out.get(0), 0));
        assertEquals(PORT_MAC, mac(out.get(0), 6));
        assertEquals(VIP, i32(out.get(0), ETH + 12));
        assertChecksums(out.get(0));
    }

    // ------------------------------------------------------------------ robustness

    @Test
    void theEventLoopNeverDiesOnAPacket() {
        Random rnd = new Random(0x5eed_1234L);
        byte[][] valid = {
                syn(CLIENT, 40000, DR_PORT),
                ack(CLIENT, 40000, DR_PORT),
                Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40001, VIP, NAT_PORT, SYN, 64, 20),
                Frames.tcp(RS2_MAC, PORT_MAC, RS2, 80, CLIENT, 40001, SYN_ACK, 64, 20),
                Frames.tcp(RS1_MAC, PORT_MAC, RS1, 80, CLIENT, 40001, ACK, 64, 20),
                Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 33333, VIP, UDP_PORT, 64, 40),
                Frames.udp(RS2_MAC, PORT_MAC, RS2, 5353, CLIENT, 33333, 64, 40),
                Frames.arp(ROUTER_MAC, 0xFFFF_FFFF_FFFFL, 1, ROUTER_MAC, ROUTER, 0, VIP),
                Frames.arp(RS1_MAC, PORT_MAC, 2, RS1_MAC, RS1, PORT_MAC, PORT_IP),
                Frames.fragment(ROUTER_MAC, PORT_MAC, CLIENT, VIP, 6),
                syn(CLIENT, 40000, QUIESCED_PORT),
        };
        // establish a few connections so that mutations hit live state too
        for (byte[] v : valid) {
            pipe.feed(v.clone());
        }
        long rxStart = pipe.rx;
        long txStart = pipe.tx.total();
        long dropStart = pipe.counters.totalDrops();
        long ignStart = pipe.counters.ignoredFrames();
        List<String> problems = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        for (int n = 0; n < 5000; n++) {
            byte[] vnet = new byte[10];
            byte[] f;
            int kind = rnd.nextInt(6);
            switch (kind) {
                case 0 -> {                                   // pure garbage
                    f = new byte[rnd.nextInt(2001)];
                    rnd.nextBytes(f);
                }
                case 1 -> {                                   // garbage behind a plausible IPv4/ARP start
                    f = new byte[rnd.nextInt(2001)];
                    rnd.nextBytes(f);
                    if (f.length >= 16) {
                        Frames.put16(f, 12, rnd.nextBoolean() ? 0x0800 : 0x0806);
                        f[14] = 0x45;
                    }
                    if (f.length >= ETH + 20 && rnd.nextBoolean()) {
                        Frames.put32(f, ETH + 16, VIP);
                        Frames.put16(f, ETH + 2, Math.min(f.length - ETH, rnd.nextInt(2000)));
                        Frames.fixIpChecksum(f);
                    }
                }
                default -> {                                  // mutations of valid frames
                    f = valid[rnd.nextInt(valid.length)].clone();
                    int flips = 1 + rnd.nextInt(4);
                    for (int k = 0; k < flips && f.length > 0; k++) {
                        f[rnd.nextInt(f.length)] = (byte) rnd.nextInt(256);
                    }
                    if (rnd.nextInt(4) == 0) {
                        f = Arrays.copyOf(f, rnd.nextInt(f.length + 40));
                    }
                    if (f.length >= ETH + 20 && (f[ETH] & 0xF0) == 0x40 && (f[ETH] & 0x0F) >= 5
                            && ETH + (f[ETH] & 0x0F) * 4 <= f.length && rnd.nextInt(3) != 0) {
                        Frames.fixIpChecksum(f);             // get past the checksum more often
                    }
                    if (kind == 5) {
                        rnd.nextBytes(vnet);                 // random virtio_net_hdr
                    }
                }
            }
            long tx0 = pipe.tx.total();
            long d0 = pipe.counters.totalDrops();
            long i0 = pipe.counters.ignoredFrames();
            try {
                pipe.feed(vnet, f);
            } catch (Throwable t) {
                problems.add("frame " + n + " threw " + t + ": " + hex.formatHex(vnet) + " " + hex.formatHex(f));
                continue;
            }
            long outcomes = (pipe.tx.total() - tx0) + (pipe.counters.totalDrops() - d0)
                    + (pipe.counters.ignoredFrames() - i0);
            if (outcomes != 1) {
                problems.add("frame " + n + " had " + outcomes + " outcomes (tx " + (pipe.tx.total() - tx0)
                        + ", drops " + (pipe.counters.totalDrops() - d0) + ", ignored "
                        + (pipe.counters.ignoredFrames() - i0) + "): " + hex.formatHex(vnet) + " "
                        + hex.formatHex(f));
            }
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " problem frame(s), first: " + String.join("\n", problems.subList(0,
                    Math.min(5, problems.size()))));
        }
        long rx = pipe.rx - rxStart;
        long tx = pipe.tx.total() - txStart;
        long drops = pipe.counters.totalDrops() - dropStart;
        long ignored = pipe.counters.ignoredFrames() - ignStart;
        assertEquals(5000, rx);
        assertEquals(rx, tx + drops + ignored, "rx = tx + drops + ignored");
        assertTrue(tx > 0 && drops > 0 && ignored > 0, "the mix reached every outcome: tx " + tx
                + " drops " + drops + " ignored " + ignored);
        // Still forwarding afterwards.
        byte[] in = Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT2, 999, VIP, UDP_PORT, 64, 10);
        byte[] out = pipe.one(in);
        assertChecksums(out);
    }
}
