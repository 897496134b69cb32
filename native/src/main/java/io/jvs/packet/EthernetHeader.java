package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over an Ethernet II header (14 bytes).
 *
 * <pre>
 *  0  dst MAC (6)
 *  6  src MAC (6)
 * 12  u16 EtherType, or the TPID of the first VLAN tag (0x8100 / 0x88A8)
 * </pre>
 *
 * <p>Invariants: MAC addresses are the low 48 bits of a {@code long} (first wire
 * byte = bits 47..40), so they compare and hash as primitives; all fields are
 * network byte order; {@link #wrap} only records the position, and nothing
 * allocates. VLAN tags are not part of this view: {@link FrameDecoder} walks them
 * and reports the inner EtherType in {@link PacketContext#etherType}.
 */
public final class EthernetHeader extends Flyweight {
    public static final int HEADER_LEN = 14;
    /** One 802.1Q/802.1ad tag: TPID (in the EtherType position) + TCI. */
    public static final int VLAN_TAG_LEN = 4;
    /** Smallest Ethernet frame without FCS: shorter frames are padded to this. */
    public static final int MIN_FRAME_LEN = 60;

    public static final int ETH_P_IP = 0x0800;
    public static final int ETH_P_ARP = 0x0806;
    public static final int ETH_P_8021Q = 0x8100;
    public static final int ETH_P_8021AD = 0x88A8;
    public static final int ETH_P_IPV6 = 0x86DD;

    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    private static final int DST = 0;
    private static final int SRC = 6;
    private static final int TYPE = 12;

    public EthernetHeader wrap(MemorySegment seg, long off) {
        bind(seg, off);
        return this;
    }

    public long dst() {
        return Bytes.mac(seg, off + DST);
    }

    public EthernetHeader setDst(long mac) {
        Bytes.mac(seg, off + DST, mac);
        return this;
    }

    public long src() {
        return Bytes.mac(seg, off + SRC);
    }

    public EthernetHeader setSrc(long mac) {
        Bytes.mac(seg, off + SRC, mac);
        return this;
    }

    /** The u16 at offset 12: the EtherType of an untagged frame, else the outer TPID. */
    public int etherType() {
        return Bytes.u16(seg, off + TYPE);
    }

    public EthernetHeader setEtherType(int type) {
        Bytes.u16(seg, off + TYPE, type);
        return this;
    }

    /** True for the group bit (broadcast and multicast destinations). */
    public static boolean isMulticast(long mac) {
        return (mac & 0x0100_0000_0000L) != 0;
    }
}
