package io.jvs.forwarder.io;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;
import io.jvs.sys.NetDevice;
import io.jvs.sys.Tun;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A TAP device (IFF_TAP | IFF_NO_PI) as a frame source. The kernel routes the
 * VIPs into it; every read() returns one complete Ethernet frame (no
 * IFF_VNET_HDR, so the kernel has already segmented and checksummed it).
 *
 * <p>Each read lands in its own slot behind {@link #HEADROOM} bytes (room for a
 * TUN encapsulation in place) and 10 zero bytes, so the frame can
 * leave on the LAN's PACKET_VNET_HDR socket as it is (a zero virtio_net_hdr
 * means: complete checksum, no GSO). The device is brought up with NOARP: the
 * kernel then addresses frames to the TAP's own MAC and never ARPs into it.
 * It is not persistent, so closing the fd removes it.
 */
public final class TapDevice implements FrameSource {
    /** Slot size: a frame of up to 16 KiB - 10 (the TAP MTU stays far below). */
    static final int SLOT = 16384;
    /** Room in front of each slot's virtio_net_hdr for a TUN encapsulation written in place. */
    static final int HEADROOM = 64;
    /** Where the frame starts in its slot: headroom, then the 10-byte virtio_net_hdr. */
    private static final int FRAME_AT = HEADROOM + 10;

    private final String name;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment slots;
    private final int slotCount;
    private final Libc.Errno errno = new Libc.Errno(arena);
    private final MemorySegment[] slotFrame;
    private int used;

    private TapDevice(String name, int fd, int slotCount) {
        this.name = name;
        this.fd = fd;
        this.slotCount = slotCount;
        this.slots = arena.allocate((long) SLOT * slotCount, 64);
        this.slotFrame = new MemorySegment[slotCount];
        for (int i = 0; i < slotCount; i++) {
            slotFrame[i] = slots.asSlice((long) i * SLOT + FRAME_AT, SLOT - FRAME_AT);
        }
    }

    /** Creates the TAP device, up and NOARP. */
    public static TapDevice create(String name, int slots) throws NativeException {
        int fd = Tun.openTap(name);
        try {
            NetDevice.changeFlags(name, NetDevice.IFF_UP | NetDevice.IFF_NOARP, 0);
            return new TapDevice(name, fd, slots);
        } catch (NativeException e) {
            Libc.close(fd);
            throw e;
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
            long r = Libc.read(errno, fd, slotFrame[used], SLOT - FRAME_AT);
            if (r < 0) {
                int e = errno.get();
                if (e == Libc.EINTR) {
                    continue;
                }
                break;   // EAGAIN: drained
            }
            used++;
            n++;
            if (r >= SLOT - FRAME_AT) {
                sink.dropped(DropReason.OVERSIZED);
                continue;
            }
            long vnet = base + HEADROOM;
            slots.set(ValueLayout.JAVA_LONG_UNALIGNED, vnet, 0L);     // zero virtio_net_hdr
            slots.set(ValueLayout.JAVA_SHORT_UNALIGNED, vnet + 8, (short) 0);
            ctx.seg = slots;
            ctx.vnetOff = vnet;
            ctx.frameOff = vnet + 10;
            ctx.frameLen = (int) r;
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

    @Override
    public void close() {
        Libc.close(fd);
        arena.close();
    }
}
