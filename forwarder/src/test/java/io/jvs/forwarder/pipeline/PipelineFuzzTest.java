package io.jvs.forwarder.pipeline;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.forwarder.testkit.Frames;
import io.jvs.forwarder.testkit.FuzzChecks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.jvs.forwarder.pipeline.XmitPipe.CLIENT;
import static io.jvs.forwarder.pipeline.XmitPipe.LIP;
import static io.jvs.forwarder.pipeline.XmitPipe.PORT_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.RS1;
import static io.jvs.forwarder.pipeline.XmitPipe.RS1_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.ROUTER_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.TS1;
import static io.jvs.forwarder.pipeline.XmitPipe.VIP;
import static io.jvs.forwarder.testkit.Frames.ETH;
import static io.jvs.forwarder.testkit.Frames.u16;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


/**
 * The whole data path ({@link DataPath}, every stage, all four forwarding methods: DR, NAT, TUN
 * IPIP and GUE, FULLNAT with TOA and PROXY v2, TCP and UDP) on a sequence of frames the fuzzer
 * shapes: frames from clients to the VIP's services, replies made from what the director sent
 * (addresses and ports swapped, so NAT and FULLNAT return traffic is found), ICMP errors quoting
 * either, ARP, and arbitrary bytes; each possibly mutated, with checksums made valid again or not,
 * and with an arbitrary virtio_net_hdr now and then. Properties per frame:
 * <ul>
 *   <li>no stage throws (no {@code internal_error});</li>
 *   <li>the frame is accounted once: at most one drop or "ignored", and when neither, something
 *       was sent for it or it waits for a neighbour (rx = tx + drops + ignored per frame; an
 *       ICMP frag-needed is both a drop and a frame sent);</li>
 *   <li>every IPv4 frame sent has a valid IP header checksum; when the frame that came in had
 *       valid, complete checksums, the TCP/UDP checksum of what goes out verifies too (for IPIP,
 *       the inner packet's), recomputed here by the testkit's own sums; an ICMP message the
 *       director writes itself always verifies.</li>
 * </ul>
 */
class PipelineFuzzTest {
    static final int DR = 80;
    static final int NAT = 8080;
    static final int IPIP = 81;
    static final int GUE = 82;
    static final int FNAT = 83;
    static final int FNAT_TOA = 84;
    static final int FNAT_PROXY = 85;
    static final int UDP_NAT = 53;
    static final int UDP_FNAT = 54;
    static final int UDP_DR = 55;
    static final int SP_NAT = 86;
    static final int SP_FNAT = 87;
    static final int[] TCP_PORTS = {DR, NAT, IPIP, GUE, FNAT, FNAT_TOA, FNAT_PROXY, SP_NAT, SP_FNAT, 99};
    static final int[] UDP_PORTS = {UDP_NAT, UDP_FNAT, UDP_DR, 99};

    static List<ServiceSpec> services() {
        return List.of(
                new ServiceSpec(Protocol.TCP, VIP, DR, "rr", List.of(new Dest(RS1, DR, 1, ForwardMethod.DR))),
                new ServiceSpec(Protocol.TCP, VIP, NAT, "rr", List.of(new Dest(RS1, 80, 1, ForwardMethod.NAT))),
                new ServiceSpec(Protocol.TCP, VIP, IPIP, "rr", List.of(
                        new Dest(TS1, IPIP, 1, ForwardMethod.TUN, 0, 0, TunnelType.IPIP, 0, 0))),
                new ServiceSpec(Protocol.TCP, VIP, GUE, "rr", List.of(new Dest(TS1, GUE, 1, ForwardMethod.TUN, 0, 0,
                        TunnelType.GUE, 6080, TunnelType.FLAG_CSUM))),
                fullNat(Protocol.TCP, FNAT, ClientAddressMode.NONE),
                fullNat(Protocol.TCP, FNAT_TOA, ClientAddressMode.TOA),
                fullNat(Protocol.TCP, FNAT_PROXY, ClientAddressMode.PROXY_V2),
                new ServiceSpec(Protocol.UDP, VIP, UDP_NAT, "rr", List.of(new Dest(RS1, 5353, 1, ForwardMethod.NAT))),
                fullNat(Protocol.UDP, UDP_FNAT, ClientAddressMode.PROXY_V2),
                new ServiceSpec(Protocol.UDP, VIP, UDP_DR, "rr", List.of(new Dest(RS1, UDP_DR, 1, ForwardMethod.DR))),
                new ServiceSpec(Protocol.TCP, VIP, SP_NAT, "rr", List.of(new Dest(RS1, 80, 1, ForwardMethod.NAT)))
                        .withSynProxy(true),
                fullNat(Protocol.TCP, SP_FNAT, ClientAddressMode.TOA).withSynProxy(true));
    }

    static ServiceSpec fullNat(int proto, int port, ClientAddressMode mode) {
        return new ServiceSpec(proto, VIP, port, 0, "rr", 0, 0, -1, false, List.of(LIP), mode,
                List.of(new Dest(RS1, 9000 + port, 1, ForwardMethod.FULLNAT)));
    }

    /**
     * One pipe for the inputs, reset before each ({@link XmitPipe#reset}): building one per input
     * was 3/4 of the target's time (1,000 inputs/s); a new one when ARP has taught it 64 neighbours.
     */
    private static XmitPipe pipe = new XmitPipe(services(), 40000, 40063, 1500);

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void pipeline(FuzzedDataProvider data) {
        if (pipe.neighbourEntries() > 64) {
            pipe.close();
            pipe = new XmitPipe(services(), 40000, 40063, 1500);
        }
        XmitPipe pipe = PipelineFuzzTest.pipe;
        pipe.reset();
        List<byte[]> sent = new ArrayList<>();
        int frames = data.consumeInt(1, 16);
        for (int n = 0; n < frames && data.remainingBytes() > 0; n++) {
            byte[] frame = make(data, sent);
            boolean clean = data.consumeBoolean();
            if (!clean) {
                int flips = data.consumeInt(1, 4);
                for (int i = 0; i < flips && frame.length > 0; i++) {
                    frame[data.consumeInt(0, frame.length - 1)] = data.consumeByte();
                }
                if (data.consumeBoolean()) {
                    frame = Arrays.copyOf(frame, data.consumeInt(0, frame.length + 64));
                }
                if (data.consumeBoolean() && isIpv4(frame)) {
                    fixChecksums(frame);
                    clean = fullChecksumsValid(frame);
                }
            }
            byte[] vnet = new byte[10];
            if (data.consumeInt(0, 15) == 0) {
                vnet = data.consumeBytes(10);
                vnet = Arrays.copyOf(vnet, 10);
                clean = false;
            }
            one(pipe, vnet, frame, clean, sent);
        }
    }

    private static void one(XmitPipe pipe, byte[] vnet, byte[] frame, boolean clean, List<byte[]> sent) {
        long drops = pipe.counters.totalDrops();
        long ignored = pipe.counters.ignoredFrames();
        long fragNeeded = pipe.counters.drops(DropReason.FRAG_NEEDED);
        int pending = pipe.neighbours.pendingFrames();
        long held = pipe.counters.synProxyHeldCount();
        long spliced = pipe.counters.synProxySplicedCount();
        List<XmitPipe.Sent> out = pipe.feed(vnet, frame);
        assertEquals(0, pipe.counters.drops(DropReason.INTERNAL_ERROR), "no stage threw");
        long accounted = pipe.counters.totalDrops() - drops + pipe.counters.ignoredFrames() - ignored;
        assertTrue(accounted <= 1, "one frame, at most one drop or ignore: " + accounted);
        if (accounted == 0) {
            assertTrue(!out.isEmpty() || pipe.neighbours.pendingFrames() > pending
                            || pipe.counters.synProxyHeldCount() > held,
                    "neither dropped nor ignored, so sent, or held for a neighbour or by the SYN proxy");
        } else if (!out.isEmpty()) {
            // An ARP message not for the director (ignored) still updates a neighbour being resolved, as
            // the kernel's arp_process does, and that releases the frames waiting for it.
            assertTrue(pipe.counters.drops(DropReason.FRAG_NEEDED) > fragNeeded
                    || isArp(out.get(0).frame())
                    || isArp(frame) && pipe.neighbours.pendingFrames() < pending,
                    "dropped and still sent only for frag-needed, an ARP request, or what an ARP message released");
        }
        boolean splice = pipe.counters.synProxySplicedCount() > spliced;
        for (int k = 0; k < out.size(); k++) {
            XmitPipe.Sent s = out.get(k);
            byte[] f = s.frame();
            if (isIpv4(f)) {
                // After a splice the frames behind the handshake ACK are a held earlier input's.
                checkSent(f, clean && (s.vnet()[0] & 1) == 0 && !(splice && k > 0));
                sent.add(f);
                if (sent.size() > 32) {
                    sent.remove(0);
                }
            }
        }
    }

    static boolean isArp(byte[] f) {
        return f.length >= 14 && u16(f, 12) == 0x0806;
    }

    static boolean isIpv4(byte[] f) {
        return f.length >= ETH + 20 && u16(f, 12) == 0x0800 && (f[ETH] & 0xF0) == 0x40
                && (f[ETH] & 0x0F) >= 5 && ETH + (f[ETH] & 0x0F) * 4 <= f.length
                && u16(f, ETH + 2) >= (f[ETH] & 0x0F) * 4 && ETH + u16(f, ETH + 2) <= f.length;
    }

    /** A frame jvs sent: IP header checksum always; L4 when the input's were complete and valid. */
    static void checkSent(byte[] f, boolean l4MustVerify) {
        assertTrue(Frames.ipChecksumValid(f), "IP header checksum of a sent frame");
        int ihl = (f[ETH] & 0x0F) * 4;
        int proto = f[ETH + 9] & 0xFF;
        boolean fragment = (u16(f, ETH + 6) & 0x3FFF) != 0;
        if (fragment) {
            return;
        }
        if (proto == 1) {
            int type = f[ETH + ihl] & 0xFF;
            // Echo replies and frag-needed are written by jvs: always valid. Forwarded errors: when the input was.
            if (l4MustVerify || type == 0 || type == 3 && (f[ETH + ihl + 1] & 0xFF) == 4) {
                int len = u16(f, ETH + 2) - ihl;
                assertEquals(0xFFFF, Frames.refSum(f, ETH + ihl, len, 0), "ICMP checksum of type " + type);
            }
            return;
        }
        if (!l4MustVerify) {
            return;
        }
        if (proto == 4) {
            // IPIP: the inner datagram as a frame of its own.
            byte[] inner = new byte[f.length - ihl];
            System.arraycopy(f, 0, inner, 0, ETH);
            System.arraycopy(f, ETH + ihl, inner, ETH, f.length - ETH - ihl);
            if (isIpv4(inner)) {
                checkSent(inner, true);
            }
            return;
        }
        if (proto == 6 || proto == 17) {
            if (proto == 17 && Frames.l4ChecksumField(f) == 0) {
                return; // UDP without a checksum (GUE without FLAG_CSUM, or a client that sent none)
            }
            assertEquals(Frames.l4Checksum(f), Frames.l4ChecksumField(f), "L4 checksum of a sent "
                    + (proto == 6 ? "TCP" : "UDP") + " frame");
        }
    }

    static void fixChecksums(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        Frames.fixIpChecksum(f);
        int proto = f[ETH + 9] & 0xFF;
        int len = u16(f, ETH + 2) - ihl;
        if ((u16(f, ETH + 6) & 0x3FFF) != 0) {
            return;
        }
        if (proto == 6 && len >= 20 || proto == 17 && len >= 8) {
            Frames.fixL4Checksum(f);
        } else if (proto == 1 && len >= 8) {
            Frames.put16(f, ETH + ihl + 2, 0);
            Frames.put16(f, ETH + ihl + 2, ~Frames.refSum(f, ETH + ihl, len, 0) & 0xFFFF);
        }
    }

    static boolean fullChecksumsValid(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        int proto = f[ETH + 9] & 0xFF;
        int len = u16(f, ETH + 2) - ihl;
        return Frames.ipChecksumValid(f) && (proto == 6 && len >= 20 || proto == 17 && len >= 8 || proto == 1 && len >= 8);
    }

    /** One frame, shaped by the fuzzer. */
    static byte[] make(FuzzedDataProvider data, List<byte[]> sent) {
        int kind = data.consumeInt(0, 6);
        int client = data.consumeBoolean() ? CLIENT : data.consumeInt();
        int cport = data.consumeInt(1, 65535);
        switch (kind) {
            case 0 -> {
                int vport = data.pickValue(TCP_PORTS);
                int flags = data.consumeBoolean() ? data.pickValue(new int[]{0x02, 0x10, 0x18, 0x11, 0x04, 0x12})
                        : data.consumeInt(0, 0xFF);
                return Frames.tcp(ROUTER_MAC, PORT_MAC, client, cport, VIP, vport, flags, data.consumeInt(0, 255),
                        data.consumeInt(0, 1600));
            }
            case 1 -> {
                return Frames.udp(ROUTER_MAC, PORT_MAC, client, cport, VIP, data.pickValue(UDP_PORTS),
                        data.consumeInt(0, 255), data.consumeInt(0, 1600));
            }
            case 2 -> {
                // A reply: the last frames sent, turned around as their receiver would answer.
                if (sent.isEmpty()) {
                    return data.consumeBytes(data.consumeInt(0, 200));
                }
                byte[] f = sent.get(data.consumeInt(0, sent.size() - 1)).clone();
                if ((f[ETH + 9] & 0xFF) == 4 && f.length >= ETH + 40) {
                    // IPIP: the real server answers the inner packet directly (DR-like).
                    byte[] inner = new byte[f.length - 20];
                    System.arraycopy(f, 0, inner, 0, ETH);
                    System.arraycopy(f, ETH + 20, inner, ETH, f.length - ETH - 20);
                    f = inner;
                }
                turnAround(f);
                if (f.length >= ETH + 34 && (f[ETH + 9] & 0xFF) == 6) {
                    // A SYN-ACK's receiver acknowledges it: seq = its ack, ack = its seq + 1 (a cookie ACK).
                    int ihl = (f[ETH] & 0x0F) * 4;
                    if (f.length >= ETH + ihl + 20 && (f[ETH + ihl + 13] & 0x12) == 0x12) {
                        int seq = Frames.i32(f, ETH + ihl + 4);
                        Frames.put32(f, ETH + ihl + 4, Frames.i32(f, ETH + ihl + 8));
                        Frames.put32(f, ETH + ihl + 8, seq + 1);
                        f[ETH + ihl + 13] = 0x10;
                    }
                }
                if (data.consumeBoolean() && f.length >= ETH + 34 && (f[ETH + 9] & 0xFF) == 6) {
                    int ihl = (f[ETH] & 0x0F) * 4;
                    f[ETH + ihl + 13] = (byte) data.pickValue(new int[]{0x12, 0x10, 0x11, 0x04, 0x18});
                }
                fixChecksums(f);
                return f;
            }
            case 3 -> {
                // An ICMP error quoting a frame sent or about to be sent.
                byte[] quoted = sent.isEmpty() || data.consumeBoolean()
                        ? Frames.tcp(ROUTER_MAC, PORT_MAC, VIP, data.pickValue(TCP_PORTS), client, cport, 0x12, 64, 0)
                        : sent.get(data.consumeInt(0, sent.size() - 1));
                int qlen = Math.min(quoted.length - ETH, data.consumeInt(8, 576));
                byte[] body = new byte[8 + qlen];
                body[0] = (byte) (data.consumeBoolean() ? 3 : data.consumeInt(0, 18));
                body[1] = (byte) data.consumeInt(0, 15);
                Frames.put16(body, 6, data.consumeInt(0, 1500));
                System.arraycopy(quoted, ETH, body, 8, qlen);
                Frames.put16(body, 2, ~Frames.refSum(body, 0, body.length, 0) & 0xFFFF);
                int from = data.consumeBoolean() ? RS1 : client;
                int to = data.consumeBoolean() ? VIP : LIP;
                return Frames.frame().macs(PORT_MAC, from == RS1 ? RS1_MAC : ROUTER_MAC).addrs(from, to).ttl(64)
                        .proto(1, body).build();
            }
            case 4 -> {
                return Frames.arp(ROUTER_MAC, data.consumeBoolean() ? -1L & 0xFFFF_FFFF_FFFFL : PORT_MAC,
                        data.consumeInt(1, 2), ROUTER_MAC, data.consumeInt(), 0, data.consumeBoolean() ? VIP
                                : data.consumeBoolean() ? LIP : data.consumeInt());
            }
            case 5 -> {
                // An echo request to the VIP, or to someone else.
                byte[] body = data.consumeBytes(data.consumeInt(8, 1600));
                body = Arrays.copyOf(body, Math.max(8, body.length));
                body[0] = 8;
                body[1] = 0;
                Frames.put16(body, 2, 0);
                Frames.put16(body, 2, ~Frames.refSum(body, 0, body.length, 0) & 0xFFFF);
                return Frames.frame().macs(PORT_MAC, ROUTER_MAC).addrs(client, data.consumeBoolean() ? VIP
                        : data.consumeInt()).ttl(64).proto(1, body).build();
            }
            default -> {
                return data.consumeBytes(data.consumeInt(0, 1600));
            }
        }
    }

    /** Swaps MACs, addresses and (TCP/UDP) ports: the receiver's answer. */
    static void turnAround(byte[] f) {
        for (int i = 0; i < 6; i++) {
            byte t = f[i];
            f[i] = f[6 + i];
            f[6 + i] = t;
        }
        for (int i = 0; i < 4; i++) {
            byte t = f[ETH + 12 + i];
            f[ETH + 12 + i] = f[ETH + 16 + i];
            f[ETH + 16 + i] = t;
        }
        f[ETH + 8] = 64;
        int ihl = (f[ETH] & 0x0F) * 4;
        int proto = f[ETH + 9] & 0xFF;
        if ((proto == 6 || proto == 17) && f.length >= ETH + ihl + 4) {
            int l4 = ETH + ihl;
            int sport = u16(f, l4);
            Frames.put16(f, l4, u16(f, l4 + 2));
            Frames.put16(f, l4 + 2, sport);
        }
        if (proto == 6 && f.length >= ETH + ihl + 12) {
            int l4 = ETH + ihl;
            int seq = Frames.i32(f, l4 + 4);
            Frames.put32(f, l4 + 4, Frames.i32(f, l4 + 8));
            Frames.put32(f, l4 + 8, seq + 1);
        }
    }

}
