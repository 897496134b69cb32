package io.jvs.forwarder.io;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.VirtioNetHeader;
import io.jvs.sys.AfPacket;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * An AF_PACKET receive socket with a memory-mapped TPACKET_V2 ring and
 * PACKET_VNET_HDR.
 *
 * <p>Why V2: TPACKET_V3 hands a block to user space only when it is full or
 * its retire timer fires, which at light load costs 0.6-1 ms of p50 latency
 * (measured on this machine: docs/ARCHITECTURE.md); V2 hands over every frame
 * as it lands and kept within ~20 µs of kernel forwarding, with throughput
 * within noise of V3.
 *
 * <p>Sized by memory, not by the largest frame. A V2 slot has one fixed size;
 * slots of 68 KiB (so that a GSO super-frame fits) made 512 frames in 34 MiB,
 * 20 ms of 25k pps, and an event loop descheduled that long overflowed it at
 * the lowest rates. So each slot fits one frame of the interface's MTU
 * ({@link #slotSize}: 2 KiB at MTU 1500), the ring holds {@code memory / slot}
 * of them (32 MiB: 16,384 frames), and a larger frame (a GSO super-frame of
 * bulk TCP) takes the kernel's other way in: with PACKET_COPY_THRESH the
 * kernel also queues the whole frame on the socket's receive queue (bounded
 * by SO_RCVBUF, as large as the ring's memory) and marks its truncated slot TP_STATUS_COPY; {@link #poll}
 * reads the copy, virtio_net_hdr first, into one of {@link #COPY_BUFFERS}
 * 68 KiB buffers, in ring order. When they are all in use the burst ends
 * there and the rest waits for the next burst (after the flush released
 * them). A frame captured shorter than it was and without a copy (the receive
 * queue was full) is {@code truncated} and never forwarded.
 *
 * <p>Invariant: slots [head - held, head) are owned by user space and not yet
 * returned; {@link #release()} returns them in order with release stores.
 * The receive queue holds exactly the copies of the TP_STATUS_COPY slots not
 * yet passed by {@link #poll}, in ring order (each is read when its slot is).
 */
public final class PacketRxRing implements FrameSource {
    /** 17 pages: 65535-byte IP datagram + Ethernet/VLAN + virtio_net_hdr + headroom: one copy buffer. */
    public static final int MAX_FRAME = 17 * 4096;
    /**
     * PACKET_RESERVE: extra bytes the kernel leaves in front of each frame, so a TUN
     * encapsulation (at most 32 bytes: IPv4 + UDP + GUE) is written in place.
     */
    public static final int RESERVE = 64;
    /**
     * Where the kernel puts the Ethernet header in a slot: TPACKET_ALIGN(tpacket2_hdr +
     * sockaddr_ll + 16) + PACKET_RESERVE + virtio_net_hdr - ETH_HLEN (af_packet.c, tpacket_rcv).
     */
    static final int MAC_OFFSET = 80 + RESERVE + VirtioNetHeader.SIZE - 14;
    static final int MIN_SLOT = 2048;
    static final int MAX_SLOT = 65536;
    /** Ring block (contiguous kernel memory): 32 slots of 2 KiB, or one large slot. */
    static final int BLOCK = 65536;
    /** Super-frames one burst can hold in copy buffers (1.1 MiB). */
    static final int COPY_BUFFERS = 16;
    /**
     * Least receive queue for the copies until they are read (about a hundred super-frames); the
     * queue gets the ring's memory when that is more: a full queue truncates the next super-frame
     * (8 MiB is 8 ms of bulk TCP at 8 Gbit/s, less than one time slice of a loaded machine).
     */
    static final int COPY_RCVBUF = 8 << 20;
    private static final VarHandle STATUS = ValueLayout.JAVA_INT.varHandle();

    private final String name;
    private final int fd;
    private final MemorySegment ring;
    private final int slot;
    private final int frames;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment copies;
    private final MemorySegment[] copyAt;
    private int head;
    private int held;
    private int copiesUsed;

    private PacketRxRing(String name, int fd, MemorySegment ring, int slot, int frames) {
        this.name = name;
        this.fd = fd;
        this.ring = ring;
        this.slot = slot;
        this.frames = frames;
        this.copies = arena.allocate((long) MAX_FRAME * COPY_BUFFERS, 64);
        this.copyAt = new MemorySegment[COPY_BUFFERS];
        for (int i = 0; i < COPY_BUFFERS; i++) {
            copyAt[i] = copies.asSlice((long) i * MAX_FRAME + RESERVE, MAX_FRAME - RESERVE);
        }
    }

    /** The slot size for an interface of this MTU: a power of two that fits one frame of it with a VLAN tag. */
    public static int slotSize(int mtu) {
        int need = MAC_OFFSET + 18 + mtu;
        int s = MIN_SLOT;
        while (s < need && s < MAX_SLOT) {
            s <<= 1;
        }
        return s;
    }

    /** SO_RCVBUF for the copies of a ring of {@code memoryBytes}: as much again, at least {@link #COPY_RCVBUF}. */
    static int copyReceiveBuffer(long memoryBytes) {
        // the kernel doubles SO_RCVBUF(FORCE) and keeps it an int: stay below 1 GiB
        return (int) Math.min(Math.max(COPY_RCVBUF, memoryBytes), 1L << 30);
    }

    /** Frames of a ring of about {@code memoryBytes} for this MTU: whole blocks, at least one. */
    public static int frameCount(long memoryBytes, int mtu) {
        int s = slotSize(mtu);
        int block = Math.max(s, BLOCK);
        long blocks = Math.max(1, memoryBytes / block);
        return (int) Math.min(blocks * (block / s), 1 << 24);
    }

    /**
     * Opens the ring on an interface: socket (protocol 0, so nothing arrives
     * before the ring exists), TPACKET_V2, PACKET_VNET_HDR, PACKET_IGNORE_OUTGOING
     * (our own transmissions must not loop back), PACKET_COPY_THRESH and the
     * receive buffer its copies wait in, the ring (about {@code memoryBytes} of
     * slots sized for {@code mtu}), then bind to the protocol (ETH_P_ALL for
     * the packet attachment, ETH_P_ARP for the TAP attachment's LAN side) on
     * the interface.
     */
    public static PacketRxRing open(String ifname, long memoryBytes, int mtu, int protocol) throws NativeException {
        return open(ifname, memoryBytes, mtu, protocol, null);
    }

    /**
     * An NDP-only ring (TAP mode's --lan side, as the ARP-only ring is for ARP): bound to
     * ETH_P_IPV6 with {@link #NDP_FILTER}, so the kernel hands it Neighbor Solicitations and
     * Advertisements only; every other IPv6 frame on the interface is the kernel's to route (into
     * the TAP when it is for a VIP), and this ring must not see it, or jvs would forward it twice.
     */
    public static PacketRxRing openNdp(String ifname, long memoryBytes, int mtu) throws NativeException {
        return open(ifname, memoryBytes, mtu, EthernetHeader.ETH_P_IPV6, NDP_FILTER);
    }

    /**
     * The classic BPF socket filter of {@link #openNdp}, loads from the Ethernet header: IPv6
     * (ethertype 0x86dd at 12) whose next header (at 14 + 6) is ICMPv6 (58), or one hop-by-hop
     * options header (0; its next header 58) before it, as MLD-style senders put one, with an
     * ICMPv6 type of 135, Neighbor Solicitation, or 136, Neighbor Advertisement: the whole frame;
     * anything else, nothing. The type is at 14 + 40 without the hop-by-hop header, else 8 bytes
     * per its length field (at 14 + 41) + 8 further on; a load past the frame drops it. Other
     * extension headers (none before NDP in practice) are not looked through.
     */
    static final long[] NDP_FILTER = {
        insn(0x28, 0, 0, 12),                          // 0: ldh [12]
        insn(0x15, 0, 14, EthernetHeader.ETH_P_IPV6),  // 1: jeq #0x86dd, 2, 16
        insn(0x30, 0, 0, 20),                          // 2: ldb [20]          next header
        insn(0x15, 9, 0, 58),                          // 3: jeq #58, 13, 4
        insn(0x15, 0, 11, 0),                          // 4: jeq #0, 5, 16     hop-by-hop
        insn(0x30, 0, 0, 54),                          // 5: ldb [54]          its next header
        insn(0x15, 0, 9, 58),                          // 6: jeq #58, 7, 16
        insn(0x30, 0, 0, 55),                          // 7: ldb [55]          its length - 8, in 8s
        insn(0x64, 0, 0, 3),                           // 8: lsh #3
        insn(0x04, 0, 0, 8),                           // 9: add #8
        insn(0x07, 0, 0, 0),                           // 10: tax
        insn(0x50, 0, 0, 54),                          // 11: ldb [x + 54]     ICMPv6 type behind it
        insn(0x05, 0, 0, 1),                           // 12: ja 14
        insn(0x30, 0, 0, 54),                          // 13: ldb [54]         ICMPv6 type
        insn(0x15, 2, 0, 135),                         // 14: jeq #135, 17, 15
        insn(0x15, 1, 0, 136),                         // 15: jeq #136, 17, 16
        insn(0x06, 0, 0, 0),                           // 16: ret #0
        insn(0x06, 0, 0, 0xffff),                      // 17: ret #65535
    };

    private static long insn(int code, int jt, int jf, int k) {
        return code | (long) jt << 16 | (long) jf << 24 | (k & 0xffffffffL) << 32;
    }

    private static PacketRxRing open(String ifname, long memoryBytes, int mtu, int protocol, long[] filter)
            throws NativeException {
        int ifindex = Libc.ifNameToIndex(ifname);
        int slot = slotSize(mtu);
        int block = Math.max(slot, BLOCK);
        int frames = frameCount(memoryBytes, mtu);
        int fd = AfPacket.openSocket();
        try {
            Libc.setsockoptInt(fd, AfPacket.SOL_PACKET, AfPacket.PACKET_VERSION, AfPacket.TPACKET_V2, "PACKET_VERSION");
            Libc.setsockoptInt(fd, AfPacket.SOL_PACKET, AfPacket.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR");
            Libc.setsockoptInt(fd, AfPacket.SOL_PACKET, AfPacket.PACKET_RESERVE, RESERVE, "PACKET_RESERVE");
            Libc.setsockoptInt(fd, AfPacket.SOL_PACKET, AfPacket.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING");
            Libc.setsockoptInt(fd, AfPacket.SOL_PACKET, AfPacket.PACKET_COPY_THRESH, 1, "PACKET_COPY_THRESH");
            Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE,
                    copyReceiveBuffer(memoryBytes), "SO_RCVBUFFORCE");
            MemorySegment ring = AfPacket.setupRxRing(fd, block, frames / (block / slot), slot, frames);
            if (filter != null) {
                AfPacket.attachFilter(fd, filter);
            }
            AfPacket.bind(fd, ifindex, protocol, ifname);
            return new PacketRxRing(ifname, fd, ring, slot, frames);
        } catch (NativeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /** Frames the ring holds. */
    public int frames() {
        return frames;
    }

    /** Bytes per ring slot. */
    public int slotSize() {
        return slot;
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int poll(PacketContext ctx, FrameSink sink, int budget) {
        int n = 0;
        while (n < budget && held < frames) {
            long base = (long) head * slot;
            int status = (int) STATUS.getAcquire(ring, base);
            if ((status & AfPacket.TP_STATUS_USER) == 0) {
                break;
            }
            boolean copied = (status & AfPacket.TP_STATUS_COPY) != 0;
            if (copied && copiesUsed == COPY_BUFFERS) {
                break;   // this slot and its copy wait for the next burst
            }
            head = head + 1 == frames ? 0 : head + 1;
            held++;
            n++;
            if (copied) {
                // Read whatever becomes of the frame, so the queue stays in step with the ring.
                long r = readCopy();
                if (r < 0) {
                    sink.dropped(DropReason.TRUNCATED);
                } else if ((status & AfPacket.TP_STATUS_VLAN_VALID) != 0) {
                    sink.dropped(DropReason.VLAN_OFFLOADED);
                } else if (r >= MAX_FRAME - RESERVE) {
                    sink.dropped(DropReason.OVERSIZED);
                } else {
                    long vnet = (long) copiesUsed * MAX_FRAME + RESERVE;
                    copiesUsed++;
                    ctx.seg = copies;
                    ctx.vnetOff = vnet;
                    ctx.frameOff = vnet + VirtioNetHeader.SIZE;
                    ctx.frameLen = (int) r - VirtioNetHeader.SIZE;
                    ctx.frameCapacity = MAX_FRAME - RESERVE - VirtioNetHeader.SIZE;
                    ctx.headroom = RESERVE;
                    sink.frame(ctx);
                }
                continue;
            }
            int len = ring.get(ValueLayout.JAVA_INT, base + AfPacket.TP2_LEN);
            int snap = ring.get(ValueLayout.JAVA_INT, base + AfPacket.TP2_SNAPLEN);
            int mac = ring.get(ValueLayout.JAVA_SHORT, base + AfPacket.TP2_MAC) & 0xffff;
            if (snap < len) {
                sink.dropped(DropReason.TRUNCATED);
                continue;
            }
            if ((status & AfPacket.TP_STATUS_VLAN_VALID) != 0) {
                // The kernel moved an 802.1Q tag out of the frame; re-inserting it is not supported.
                sink.dropped(DropReason.VLAN_OFFLOADED);
                continue;
            }
            ctx.seg = ring;
            ctx.frameOff = base + mac;
            ctx.vnetOff = base + mac - VirtioNetHeader.SIZE;
            ctx.frameLen = len;
            ctx.frameCapacity = slot - mac;
            // Everything after tpacket2_hdr + sockaddr_ll up to the virtio_net_hdr is ours.
            ctx.headroom = mac - VirtioNetHeader.SIZE - AfPacket.TPACKET2_HDRLEN - AfPacket.SOCKADDR_LL_SIZE;
            sink.frame(ctx);
        }
        return n;
    }

    /**
     * Reads the queued copy of a TP_STATUS_COPY slot into the next copy buffer: virtio_net_hdr +
     * frame, or -1. The kernel queues the copy before it hands the slot over, so the read finds
     * it and, never having to wait, is never interrupted (no EINTR): no errno needed, and the
     * read without errno capture allocates nothing even before the JIT has compiled it.
     */
    private long readCopy() {
        long r = Libc.read(fd, copyAt[copiesUsed], MAX_FRAME - RESERVE);
        return r >= VirtioNetHeader.SIZE ? r : -1;
    }

    @Override
    public void release() {
        int at = head - held;
        if (at < 0) {
            at += frames;
        }
        for (int i = 0; i < held; i++) {
            STATUS.setRelease(ring, (long) at * slot, AfPacket.TP_STATUS_KERNEL);
            at = at + 1 == frames ? 0 : at + 1;
        }
        held = 0;
        copiesUsed = 0;
    }

    @Override
    public long kernelDrops() {
        try {
            return AfPacket.statistics(fd)[1];
        } catch (NativeException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        Libc.munmap(ring);
        Libc.close(fd);
        arena.close();
    }
}
