package io.jvs.forwarder.frame;

import io.jvs.packet.IcmpHeader;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.VirtioNetHeader;
import io.jvs.packet.ArpPacket;
import io.jvs.packet.UdpHeader;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.EthernetHeader;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

import java.lang.foreign.MemorySegment;

/**
 * The one mutable object that travels down the pipeline for every frame. One
 * instance per packet channel, reused for every frame: the io layer points it
 * at the frame's memory, {@link FrameDecoder} fills the decoded summary, the
 * handlers fill the verdict. Nothing here is allocated per packet.
 *
 * <p>Offsets are absolute offsets into {@link #seg}.
 */
public final class PacketContext {
    // ---- frame memory (set by the io layer) ----
    /** Memory holding the frame (a ring, or a read buffer). */
    public MemorySegment seg;
    /** Offset of the virtio_net_hdr in front of the frame, or -1 when the port has none. */
    public long vnetOff = -1;
    /** Offset of the Ethernet header. */
    public long frameOff;
    /** Length of the frame in bytes, from the Ethernet header. */
    public int frameLen;
    /** Bytes writable from frameOff (>= frameLen); room for encapsulation later. */
    public int frameCapacity;
    /**
     * Bytes writable in front of the virtio_net_hdr (in front of frameOff when there is
     * none): room for the outer headers of an encapsulation (TUN), so it is done in place.
     */
    public int headroom;
    /** The port the frame came in on. */
    public int ingressPort;

    // ---- flyweight views, re-wrapped per frame ----
    // Valid after FrameDecoder.decode only where it wrapped them: vnet when vnetOff >= 0;
    // eth once the frame holds an Ethernet header; arp for ARP; ip for IPV4; tcp/udp/icmp
    // when l4Off >= 0 and ipProto names that protocol. Any other view still points at an
    // earlier frame: check the summary before touching it.
    public final VirtioNetHeader vnet = new VirtioNetHeader();
    public final EthernetHeader eth = new EthernetHeader();
    public final ArpPacket arp = new ArpPacket();
    public final Ipv4Header ip = new Ipv4Header();
    public final TcpHeader tcp = new TcpHeader();
    public final UdpHeader udp = new UdpHeader();
    public final IcmpHeader icmp = new IcmpHeader();
    /** IPv6 and its extension-header walk (after a decode to {@link FrameKind#IPV6}). */
    public final Ipv6Header ip6 = new Ipv6Header();
    /** ICMPv6 (after a decode to {@link FrameKind#IPV6} with ipProto 58 and l4Off >= 0). */
    public final Icmpv6Header icmp6 = new Icmpv6Header();

    // ---- decoded summary (set by FrameDecoder) ----
    /** EtherType after any 802.1Q/802.1ad tags (at most two are walked). */
    public int etherType;
    /** 802.1Q TCI of the outer (first) tag, or -1 when untagged. */
    public int vlanTci = -1;
    /** TCI of the inner (second) tag of a QinQ frame, or -1 when there is none. */
    public int innerVlanTci = -1;
    /**
     * Offsets of the L3 and L4 headers (absolute). l3Off is set for every frame
     * that got past the Ethernet header and tags; l4Off is -1 for non-first
     * fragments and for anything that is not IPv4.
     */
    public long l3Off;
    public long l4Off = -1;
    /**
     * IPv4 protocol number, addresses (host order ints), TTL. For ARP, srcAddr and
     * dstAddr are the sender and target protocol addresses.
     */
    public int ipProto;
    public int srcAddr;
    public int dstAddr;
    public int ttl;
    /**
     * IPv6 source and destination (after a decode to {@link FrameKind#IPV6}): high and low 64
     * bits each; {@link #ttl} holds the hop limit. 0 for anything else.
     */
    public long srcHi;
    public long srcLo;
    public long dstHi;
    public long dstLo;
    /** L4 ports (0 when the protocol has none, or for non-first fragments). */
    public int srcPort;
    public int dstPort;
    /** TCP flags byte (FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10), 0 for non-TCP. */
    public int tcpFlags;
    /** Fragment state: MF set or offset non-zero (IPv6: a fragment header); first = offset 0. */
    public boolean fragment;
    public boolean firstFragment;
    /** True when the virtio_net_hdr says the L4 checksum is partial (CHECKSUM_PARTIAL). */
    public boolean csumPartial;

    // ---- verdict (set by the handlers) ----
    public VirtualService service;
    public RealServer dest;
    /** Connection-table slot of this packet's connection, or -1. */
    public int conn = -1;
    /** True for server->client packets (NAT replies). */
    public boolean reply;
    /** Set when the frame is dropped; the handler that sets it counts it. */
    public DropReason drop;
    /**
     * SYN proxy: the cookie data of a client ACK that opens a connection (set by the synproxy
     * stage, read by schedule and transmit), or -1.
     */
    public int synProxyData = -1;

    /** Clears the decoded summary and verdict before the next frame. */
    public void reset() {
        etherType = 0;
        vlanTci = -1;
        innerVlanTci = -1;
        l3Off = 0;
        l4Off = -1;
        ipProto = 0;
        srcAddr = 0;
        dstAddr = 0;
        ttl = 0;
        srcHi = 0;
        srcLo = 0;
        dstHi = 0;
        dstLo = 0;
        srcPort = 0;
        dstPort = 0;
        tcpFlags = 0;
        fragment = false;
        firstFragment = false;
        csumPartial = false;
        service = null;
        dest = null;
        conn = -1;
        reply = false;
        drop = null;
        synProxyData = -1;
    }
}
