package io.jvs.forwarder.io;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.packet.VirtioNetHeader;
import io.jvs.sys.Bpf;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;
import io.jvs.sys.NetDevice;
import io.jvs.sys.Tun;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A TAP device (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) as a frame source. The
 * kernel routes the VIPs into it; every read() returns a virtio_net_hdr and
 * one Ethernet frame.
 *
 * <p>Offloads (TUNSETOFFLOAD: partial checksums, TSO for IPv4 and IPv6): the
 * kernel hands over TCP GSO super-frames of up to 64 KiB and CHECKSUM_PARTIAL
 * frames as they are, described by their virtio_net_hdr, exactly as the
 * packet attachment's ring does with PACKET_VNET_HDR; the pipeline treats
 * both alike, and the kernel segments and finishes the checksum when the
 * frame leaves by the LAN's PACKET_VNET_HDR socket with the same header.
 * Without them the kernel segments every super-frame before the TAP and bulk
 * TCP costs one read, one pipeline pass and one send per MSS (measured: 2.7
 * against 12.2 Gbit/s in packet mode).
 *
 * <p>Each read lands in its own slot behind {@link #HEADROOM} bytes (room for a
 * TUN encapsulation in place): the virtio_net_hdr at HEADROOM, the frame
 * right after it, so the frame leaves on the LAN's PACKET_VNET_HDR socket as
 * it is. A slot holds a 64 KiB super-frame. The device is brought up with
 * NOARP: the kernel then addresses frames to the TAP's own MAC and never
 * ARPs into it. It is not persistent, so closing the fd removes it.
 */
public final class TapDevice implements FrameSource {
    /**
     * Slot size, as a ring frame of the packet attachment: a 65535-byte IP
     * datagram (a GSO super-frame) + Ethernet and VLAN headers + the
     * virtio_net_hdr + the headroom.
     */
    static final int SLOT = 17 * 4096;
    /**
     * Frames the kernel queues for the reader (the TAP's txqueuelen; the tun driver's default is
     * 500, 20 ms at 25k pps, which a descheduled event loop overran at the lowest UDP rates).
     * Queued frames are the kernel's skbs; the queue itself is an array of pointers.
     */
    static final int QUEUE_FRAMES = 8192;
    /** The offloads jvs accepts: what the pipeline forwards from the ring too (no UDP segmentation). */
    static final int OFFLOADS = Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | Tun.TUN_F_TSO6 | Tun.TUN_F_TSO_ECN;
    /** Room in front of each slot's virtio_net_hdr for a TUN encapsulation written in place. */
    static final int HEADROOM = 64;
    /** Where the frame starts in its slot: headroom, then the 10-byte virtio_net_hdr. */
    private static final int FRAME_AT = HEADROOM + 10;

    private final String name;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment slots;
    private final int slotCount;
    private final MemorySegment[] slotFrame;
    /** The device's tx_dropped; null on a queue other than the first (the count is the device's). */
    private final Path txDropped;
    private long lastTxDropped;
    private int used;

    private TapDevice(String name, int fd, int slotCount, boolean countsDeviceDrops) {
        this.name = name;
        this.fd = fd;
        this.slotCount = slotCount;
        this.txDropped = countsDeviceDrops ? Path.of("/sys/class/net", name, "statistics", "tx_dropped") : null;
        this.slots = arena.allocate((long) SLOT * slotCount, 64);
        this.slotFrame = new MemorySegment[slotCount];
        for (int i = 0; i < slotCount; i++) {
            slotFrame[i] = slots.asSlice((long) i * SLOT + HEADROOM, SLOT - HEADROOM);
        }
    }

    /** Creates the TAP device with its offloads, up and NOARP. */
    public static TapDevice create(String name, int slots) throws NativeException {
        return open(name, slots, Tun.openTapVnetHdr(name), true);
    }

    /**
     * Queue {@code queue} of a multi-queue TAP (IFF_MULTI_QUEUE), one per worker: queue 0
     * creates the device, each further one attaches to it, in worker order, so the kernel
     * numbers the fds as the workers are numbered. Which queue a frame lands on is the
     * steering program's choice ({@link #steer}); until one is set the kernel hashes flows.
     */
    public static TapDevice createQueue(String name, int queue, int slots) throws NativeException {
        return open(name, slots, Tun.openTapQueue(name), queue == 0);
    }

    private static TapDevice open(String name, int slots, int fd, boolean first) throws NativeException {
        try {
            // the offloads and features are the device's: set once, by the fd that made it
            if (first) {
                Tun.setOffload(fd, OFFLOADS, name);
                NetDevice.setTxQueueLen(name, QUEUE_FRAMES);
                NetDevice.changeFlags(name, NetDevice.IFF_UP | NetDevice.IFF_NOARP, 0);
            }
            return new TapDevice(name, fd, slots, first);
        } catch (NativeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /**
     * Sets the device's steering program ({@link TapSteering}): loaded as a socket filter,
     * handed to the device (which keeps its own reference) and its fd closed again.
     */
    public void steer(byte[] program) throws NativeException {
        int prog = Bpf.loadSocketFilter(program, "jvs_tap_steer");
        try {
            Tun.setSteeringProgram(fd, prog, name);
        } finally {
            Libc.close(prog);
        }
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
        while (n < budget && used < slotCount) {
            long base = (long) used * SLOT;
            // Without errno: a non-blocking read of a TAP never waits, so it is never interrupted
            // (EINTR), and any failure means drained (EAGAIN); the plain read also allocates
            // nothing before the JIT has compiled the call site, where errno capture does.
            long r = Libc.read(fd, slotFrame[used], SLOT - HEADROOM);
            if (r < 0) {
                break;
            }
            used++;
            n++;
            if (r >= SLOT - HEADROOM) {
                sink.dropped(DropReason.OVERSIZED);
                continue;
            }
            if (r < VirtioNetHeader.SIZE) {
                // the kernel never returns less than the header; a frame without one is nothing to forward
                sink.dropped(DropReason.TRUNCATED);
                continue;
            }
            long vnet = base + HEADROOM;
            ctx.seg = slots;
            ctx.vnetOff = vnet;
            ctx.frameOff = vnet + VirtioNetHeader.SIZE;
            ctx.frameLen = (int) r - VirtioNetHeader.SIZE;
            ctx.frameCapacity = SLOT - FRAME_AT;
            ctx.headroom = HEADROOM;
            sink.frame(ctx);
        }
        return n;
    }

    @Override
    public void release() {
        used = 0;
    }

    /**
     * Frames the kernel dropped because the queue to the reader was full since the last call:
     * the TAP's tx_dropped (the tun driver counts its full queue there), read once a second.
     */
    @Override
    public long kernelDrops() {
        if (txDropped == null) {
            return 0;
        }
        try {
            long now = Long.parseLong(Files.readString(txDropped).trim());
            long d = now - lastTxDropped;
            lastTxDropped = now;
            return Math.max(0, d);
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        Libc.close(fd);
        arena.close();
    }
}
