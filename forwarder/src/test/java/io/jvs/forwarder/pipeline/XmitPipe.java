package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.LocalPorts;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.sys.RtNetlink.Route;
import io.jvs.forwarder.xmit.CapturingTxQueue;
import io.jvs.forwarder.io.LanPort;
import io.netty.channel.embedded.EmbeddedChannel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The director's pipeline ({@link DataPath}: icmp stage, all four forwarding
 * methods), over a capturing transmit queue, for the TUN, FULLNAT and ICMP tests. Frames are fed the way the ring hands them over: with
 * {@link #HEADROOM} bytes in front of the virtio_net_hdr and spare room after
 * the frame.
 */
final class XmitPipe implements AutoCloseable {
    static final int IFINDEX = 7;
    static final long PORT_MAC = 0x02_6a_76_00_00_02L;
    static final int PORT_IP = 0x0a00_0002;      // 10.0.0.2
    static final int ROUTER = 0x0a00_0001;       // 10.0.0.1
    static final long ROUTER_MAC = 0x02_00_00_00_00_01L;
    static final int VIP = 0x0a00_0064;          // 10.0.0.100
    static final int RS1 = 0x0a00_000b;          // 10.0.0.11 on the LAN
    static final long RS1_MAC = 0x02_00_00_00_00_0bL;
    static final int TS1 = 0x0a00_020b;          // 10.0.2.11, behind the router
    static final int LIP = 0x0a00_0003;          // 10.0.0.3
    static final int CLIENT = 0x0a00_0102;       // 10.0.1.2, behind the router
    static final int HEADROOM = 64;
    static final int TAILROOM = 64;
    /** The SYN cookie key of every pipe (SynCookiesTest's). */
    static final long COOKIE_KEY0 = 0xC00C1E01L;
    static final long COOKIE_KEY1 = 0xC00C1E02L;

    /** One frame sent: its virtio_net_hdr and the frame. */
    record Sent(byte[] vnet, byte[] frame) {
    }

    final DataPathCounters counters = new DataPathCounters("lan0");
    final ConnectionTable conns;
    final ServiceRegistry registry = new ServiceRegistry();
    final CapturingTxQueue tx = new CapturingTxQueue();
    final LanPort port;
    final NeighbourCache neighbours;
    final RouteTable routes = new RouteTable(List.of(
            new Route(0x0a00_0000, 24, 0, IFINDEX, 0, 254),
            new Route(0, 0, ROUTER, IFINDEX, 0, 254)), IFINDEX);
    final EmbeddedChannel channel;
    final PacketContext ctx = new PacketContext();
    final Arena arena = Arena.ofConfined();
    private MemorySegment buffer;

    XmitPipe(List<ServiceSpec> services) {
        this(services, LocalPorts.DEFAULT_LOW, LocalPorts.DEFAULT_HIGH, LanPort.DEFAULT_MTU);
    }

    XmitPipe(List<ServiceSpec> services, int portLow, int portHigh, int mtu) {
        this(services, portLow, portHigh, mtu, System::currentTimeMillis);
    }

    /** With the wall clock FULLNAT's ISNs and timestamps follow. */
    XmitPipe(List<ServiceSpec> services, int portLow, int portHigh, int mtu, java.util.function.LongSupplier wallMillis) {
        conns = new ConnectionTable(1024, Timeouts.DEFAULTS, System::nanoTime, new LocalPorts(portLow, portHigh));
        port = new LanPort("lan0", IFINDEX, PORT_MAC, PORT_IP, mtu, tx);
        neighbours = new NeighbourCache(port, counters::drop);
        ServiceTable table = new ServiceTableBuilder(Schedulers::create).build(services, ServiceTable.EMPTY);
        registry.publish(table);
        long now = System.nanoTime();
        neighbours.learn(ROUTER, ROUTER_MAC, true, now);
        neighbours.learn(RS1, RS1_MAC, true, now);
        channel = new EmbeddedChannel();
        DataPath.builder().services(registry).connections(conns).neighbours(neighbours)
                .routes(() -> routes).counters(counters)
                .fullNatClock(wallMillis).fullNatIsnKey(0x5EED_0001L, 0x5EED_0002L)
                .synCookieKey(COOKIE_KEY0, COOKIE_KEY1).build()
                .wire(channel.pipeline());
    }

    List<Sent> feed(byte[] frame) {
        return feed(new byte[10], frame);
    }

    /** Feeds one frame and flushes; returns what was sent for it. */
    List<Sent> feed(byte[] vnet, byte[] frame) {
        int before = tx.total();
        // A slice exactly this frame's size of one buffer reused for every frame (reads past it still
        // throw), with garbage in the headroom and tailroom: nothing may depend on it being zero.
        long size = HEADROOM + 10 + frame.length + TAILROOM;
        if (buffer == null || buffer.byteSize() < size) {
            buffer = arena.allocate(Math.max(size, 4096), 8);
        }
        MemorySegment seg = buffer.asSlice(0, size);
        seg.fill((byte) 0xA5);
        MemorySegment.copy(vnet, 0, seg, ValueLayout.JAVA_BYTE, HEADROOM, 10);
        MemorySegment.copy(frame, 0, seg, ValueLayout.JAVA_BYTE, HEADROOM + 10, frame.length);
        ctx.seg = seg;
        ctx.vnetOff = HEADROOM;
        ctx.frameOff = HEADROOM + 10;
        ctx.frameLen = frame.length;
        ctx.frameCapacity = frame.length + TAILROOM;
        ctx.headroom = HEADROOM;
        ctx.ingressPort = 0;
        channel.writeInbound(ctx);
        channel.pipeline().fireChannelReadComplete();
        channel.checkException();
        assertEquals(0, tx.queued.size(), "everything flushed");
        List<Sent> out = new ArrayList<>();
        for (int i = before; i < tx.sent.size(); i++) {
            byte[] b = tx.sent.get(i);
            out.add(new Sent(Arrays.copyOf(b, 10), Arrays.copyOfRange(b, 10, b.length)));
        }
        return out;
    }

    /** Neighbour entries after the last {@link #reset}: more now means an input made the director ask for one. */
    private int neighboursAfterReset = -1;

    /**
     * Back to the state of a new pipe, near enough, for a fuzz target that reuses one pipe for
     * every input (a new one costs ~1 ms, mostly zeroing the SYN proxy's held segments and the
     * neighbour queue's pool, against ~0.1 ms for the frames of an input): every connection
     * removed as its expiry would (local ports, client limits and held segments released with it);
     * when the input added neighbour entries, every one still unresolved given up (its waiting
     * frames dropped as neigh_unresolved, as after its retries); the router and the real server
     * learned afresh; nothing captured. What stays: neighbours an input's ARP taught the director
     * (as a real director keeps them; at most 64, then the caller builds a new pipe) and the
     * counters, which keep counting (the fuzz properties compare before and after each frame).
     */
    void reset() {
        conns.forEach((t, id) -> t.remove(id));
        long now = System.nanoTime();
        if (neighbours.size() != neighboursAfterReset || neighbours.pendingFrames() > 0) {
            // tick scans the whole cache: only when this input added entries
            for (int i = 1; i <= 4; i++) {
                neighbours.tick(now + i * 2_000_000_000L);
            }
        }
        neighbours.learn(ROUTER, ROUTER_MAC, true, now);
        neighbours.learn(RS1, RS1_MAC, true, now);
        neighboursAfterReset = neighbours.size();
        channel.pipeline().fireChannelReadComplete();
        channel.checkException();
        tx.clear();
        assertEquals(0, conns.size(), "no connection left");
        assertEquals(0, neighbours.pendingFrames(), "no frame left waiting for a neighbour");
    }

    /** Neighbour entries the director holds (the router, the real server and what ARP taught it). */
    int neighbourEntries() {
        return neighbours.size();
    }

    byte[] one(byte[] frame) {
        return one(new byte[10], frame).frame();
    }

    Sent one(byte[] vnet, byte[] frame) {
        List<Sent> out = feed(vnet, frame);
        assertEquals(1, out.size(), "frames sent");
        return out.get(0);
    }

    @Override
    public void close() {
        channel.finishAndReleaseAll();
        neighbours.close();
        port.close();
        arena.close();
    }
}
