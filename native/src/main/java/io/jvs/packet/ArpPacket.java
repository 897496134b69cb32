package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over an Ethernet/IPv4 ARP packet (RFC 826; 28 bytes after the
 * Ethernet header and any VLAN tags).
 *
 * <pre>
 *  0  u16 htype (1 = Ethernet)      2  u16 ptype (0x0800)
 *  4  u8  hlen (6)   5  u8 plen (4)  6  u16 op (1 request, 2 reply)
 *  8  sender MAC (6)  14  sender IP (4)
 * 18  target MAC (6)  24  target IP (4)
 * </pre>
 *
 * <p>Invariants: MACs are the low 48 bits of a long, IPv4 addresses host-order
 * ints; network byte order on the wire; {@link #wrap} only records the position
 * and nothing allocates. The view does not validate: {@link FrameDecoder} only
 * returns {@link FrameKind#ARP} for Ethernet/IPv4 ARP ({@link #isEthernetIpv4()}).
 */
public final class ArpPacket extends Flyweight {
    public static final int LEN = 28;
    /** Ethernet header + ARP, before padding. */
    public static final int UNPADDED_FRAME_LEN = EthernetHeader.HEADER_LEN + LEN;
    /** What {@link #writeFrame} returns: padded to the Ethernet minimum. */
    public static final int FRAME_LEN = EthernetHeader.MIN_FRAME_LEN;

    public static final int HTYPE_ETHERNET = 1;
    public static final int OP_REQUEST = 1;
    public static final int OP_REPLY = 2;

    private static final int HTYPE = 0;
    private static final int PTYPE = 2;
    private static final int HLEN = 4;
    private static final int PLEN = 5;
    private static final int OP = 6;
    private static final int SHA = 8;
    private static final int SPA = 14;
    private static final int THA = 18;
    private static final int TPA = 24;

    public ArpPacket wrap(MemorySegment seg, long off) {
        bind(seg, off);
        return this;
    }

    public int htype() {
        return Bytes.u16(seg, off + HTYPE);
    }

    public ArpPacket setHtype(int v) {
        Bytes.u16(seg, off + HTYPE, v);
        return this;
    }

    public int ptype() {
        return Bytes.u16(seg, off + PTYPE);
    }

    public ArpPacket setPtype(int v) {
        Bytes.u16(seg, off + PTYPE, v);
        return this;
    }

    public int hlen() {
        return Bytes.u8(seg, off + HLEN);
    }

    public ArpPacket setHlen(int v) {
        Bytes.u8(seg, off + HLEN, v);
        return this;
    }

    public int plen() {
        return Bytes.u8(seg, off + PLEN);
    }

    public ArpPacket setPlen(int v) {
        Bytes.u8(seg, off + PLEN, v);
        return this;
    }

    public int op() {
        return Bytes.u16(seg, off + OP);
    }

    public ArpPacket setOp(int v) {
        Bytes.u16(seg, off + OP, v);
        return this;
    }

    public long senderMac() {
        return Bytes.mac(seg, off + SHA);
    }

    public ArpPacket setSenderMac(long mac) {
        Bytes.mac(seg, off + SHA, mac);
        return this;
    }

    public int senderIp() {
        return Bytes.i32(seg, off + SPA);
    }

    public ArpPacket setSenderIp(int ip) {
        Bytes.i32(seg, off + SPA, ip);
        return this;
    }

    public long targetMac() {
        return Bytes.mac(seg, off + THA);
    }

    public ArpPacket setTargetMac(long mac) {
        Bytes.mac(seg, off + THA, mac);
        return this;
    }

    public int targetIp() {
        return Bytes.i32(seg, off + TPA);
    }

    public ArpPacket setTargetIp(int ip) {
        Bytes.i32(seg, off + TPA, ip);
        return this;
    }

    /** htype 1, ptype 0x0800, hlen 6, plen 4: the only kind jvs answers or sends. */
    public boolean isEthernetIpv4() {
        return htype() == HTYPE_ETHERNET && ptype() == EthernetHeader.ETH_P_IP && hlen() == 6 && plen() == 4;
    }

    /** True for a gratuitous ARP (sender IP == target IP): an announcement, not a question. */
    public boolean isGratuitous() {
        return senderIp() == targetIp();
    }

    /**
     * Writes a complete untagged ARP frame (Ethernet header, Ethernet/IPv4 ARP,
     * zero padding) at {@code off} and returns its length, {@link #FRAME_LEN}.
     * The segment must have {@link #FRAME_LEN} bytes from {@code off}.
     *
     * <ul>
     * <li>reply: {@code ethDst} = asker's MAC, op REPLY, sender = (our MAC, VIP),
     *     target = (asker's MAC, asker's IP);</li>
     * <li>request: {@code ethDst} = {@link EthernetHeader#BROADCAST}, op REQUEST,
     *     sender = (our MAC, our IP), target = (0, IP being resolved);</li>
     * <li>gratuitous: {@code ethDst} = BROADCAST, op REQUEST (or REPLY), sender =
     *     (our MAC, VIP), target = (0, VIP).</li>
     * </ul>
     */
    public static int writeFrame(MemorySegment seg, long off, long ethDst, long ethSrc, int op,
                                 long senderMac, int senderIp, long targetMac, int targetIp) {
        Bytes.mac(seg, off, ethDst);
        Bytes.mac(seg, off + 6, ethSrc);
        Bytes.u16(seg, off + 12, EthernetHeader.ETH_P_ARP);
        long a = off + EthernetHeader.HEADER_LEN;
        Bytes.u16(seg, a + HTYPE, HTYPE_ETHERNET);
        Bytes.u16(seg, a + PTYPE, EthernetHeader.ETH_P_IP);
        Bytes.u8(seg, a + HLEN, 6);
        Bytes.u8(seg, a + PLEN, 4);
        Bytes.u16(seg, a + OP, op);
        Bytes.mac(seg, a + SHA, senderMac);
        Bytes.i32(seg, a + SPA, senderIp);
        Bytes.mac(seg, a + THA, targetMac);
        Bytes.i32(seg, a + TPA, targetIp);
        // Pad with zeros: a short frame must not leak whatever the buffer held before.
        Bytes.zero(seg, off + UNPADDED_FRAME_LEN, FRAME_LEN - UNPADDED_FRAME_LEN);
        return FRAME_LEN;
    }
}
