package io.jvs.bench.micro;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.pipeline.DataPath;
import io.jvs.forwarder.testkit.Frames;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.sys.RtNetlink.Route;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One frame through the whole data path the director runs: the pipeline {@link DataPath} wires
 * (decode, ARP, ICMP, classify, connection lookup + TCP state update, schedule, transmit rewrite,
 * queue; one flush per burst of 32), on an EmbeddedChannel with a counting transmit queue instead
 * of a socket. Each operation first copies the pristine frame (vnet header + 60 bytes) into the
 * burst slot, because the rewrite changes it in place (TTL, MACs, addresses, checksums, an outer
 * header in front of it); that copy is part of the measured time. Slots have the ring's
 * {@value #HEADROOM} bytes of headroom, where TUN writes its outer header.
 *
 * <p>Frames belong to {@value #FLOWS} established connections, visited in turn:
 * <ul>
 *   <li>{@code method=DR}: client ACK to VIP:80, DR service (MAC rewrite, TTL);</li>
 *   <li>{@code method=NAT}: client ACK to VIP:8080, NAT service (DNAT, incremental checksums);</li>
 *   <li>{@code method=NAT_REPLY}: real server ACK to the client (OUT index lookup, SNAT);</li>
 *   <li>{@code method=TUN}: client ACK to VIP:81, TUN (IPIP) service (outer IPv4 header in the
 *       headroom);</li>
 *   <li>{@code method=FULLNAT}: client ACK to VIP:8081, FULLNAT service (source = local address
 *       and port, destination = real server, incremental checksums).</li>
 * </ul>
 * A new forwarding method joins as one more value of {@code method} with its service in
 * {@link #setup}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PacketPathBenchmark {
    static final int FLOWS = 1024;
    static final int BURST = 32;
    static final int IFINDEX = 7;
    static final long PORT_MAC = 0x02_6a_76_00_00_02L;
    static final int PORT_IP = 0x0a00_0002;
    static final int ROUTER = 0x0a00_0001;
    static final long ROUTER_MAC = 0x02_6a_76_00_00_01L;
    static final int VIP = 0x0a00_0064;
    static final int LIP = 0x0a00_0003;           // 10.0.0.3, FULLNAT's local address
    static final int RS1 = 0x0a00_000b;
    static final int RS2 = 0x0a00_000c;
    static final long RS1_MAC = 0x02_6a_76_00_00_0bL;
    static final long RS2_MAC = 0x02_6a_76_00_00_0cL;
    static final int CLIENT = 0x0a00_0102;        // 10.0.1.2, behind the router
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int SYN_ACK = 0x12;
    /** Room in front of the vnet header, as the ring and the TAP leave it (TUN's outer header goes there). */
    static final int HEADROOM = 64;
    /** Headroom + vnet header (10) + frame (60) + room for what FULLNAT/TUN add behind, rounded up. */
    static final int SLOT = 256;

    @Param({"DR", "NAT", "NAT_REPLY", "TUN", "FULLNAT"})
    public String method;

    DataPathCounters counters;
    ConnectionTable conns;
    CountingTxQueue tx;
    LanPort port;
    NeighbourCache neighbours;
    EmbeddedChannel channel;
    ChannelPipeline pipeline;
    PacketContext ctx;
    Arena arena;
    MemorySegment templates;   // FLOWS pristine frames (vnet header + frame), one per SLOT
    MemorySegment work;        // BURST slots
    int frameLen;
    int flow;
    int inBurst;

    @Setup(Level.Trial)
    public void setup() {
        counters = new DataPathCounters("lan0");
        conns = new ConnectionTable(1 << 16, Timeouts.DEFAULTS);
        ServiceRegistry registry = new ServiceRegistry();
        tx = new CountingTxQueue();
        port = new LanPort("lan0", IFINDEX, PORT_MAC, PORT_IP, tx);
        neighbours = new NeighbourCache(port, counters::drop);
        RouteTable routes = new RouteTable(List.of(
                new Route(0x0a00_0000, 24, 0, IFINDEX, 0, 254),
                new Route(0, 0, ROUTER, IFINDEX, 0, 254)), IFINDEX);
        ServiceTable table = new ServiceTableBuilder(Schedulers::create).build(List.of(
                new ServiceSpec(Protocol.TCP, VIP, 80, "rr", List.of(
                        new Dest(RS1, 80, 1, ForwardMethod.DR),
                        new Dest(RS2, 80, 1, ForwardMethod.DR))),
                new ServiceSpec(Protocol.TCP, VIP, 8080, "rr", List.of(
                        new Dest(RS1, 80, 1, ForwardMethod.NAT),
                        new Dest(RS2, 80, 1, ForwardMethod.NAT))),
                new ServiceSpec(Protocol.TCP, VIP, 81, "rr", List.of(
                        new Dest(RS1, 81, 1, ForwardMethod.TUN, 0, 0, TunnelType.IPIP, 0, 0),
                        new Dest(RS2, 81, 1, ForwardMethod.TUN, 0, 0, TunnelType.IPIP, 0, 0))),
                new ServiceSpec(Protocol.TCP, VIP, 8081, 0, "rr", 0, 0, -1, false, List.of(LIP),
                        ClientAddressMode.NONE, List.of(
                        new Dest(RS1, 80, 1, ForwardMethod.FULLNAT),
                        new Dest(RS2, 80, 1, ForwardMethod.FULLNAT)))),
                ServiceTable.EMPTY);
        registry.publish(table);
        long now = System.nanoTime();
        neighbours.learn(ROUTER, ROUTER_MAC, true, now);
        neighbours.learn(RS1, RS1_MAC, true, now);
        neighbours.learn(RS2, RS2_MAC, true, now);
        channel = new EmbeddedChannel();
        pipeline = DataPath.builder().services(registry).connections(conns).neighbours(neighbours)
                .routes(() -> routes).counters(counters).build()
                .wire(channel.pipeline());
        ctx = new PacketContext();
        arena = Arena.ofConfined();
        templates = arena.allocate((long) SLOT * FLOWS, 64);
        work = arena.allocate((long) SLOT * BURST, 64);

        final int vport = switch (method) {
            case "DR" -> 80;
            case "NAT", "NAT_REPLY" -> 8080;
            case "TUN" -> 81;
            case "FULLNAT" -> 8081;
            default -> throw new IllegalArgumentException("method " + method);
        };
        final boolean seesReplies = !method.equals("DR") && !method.equals("TUN");
        for (int i = 0; i < FLOWS; i++) {
            int cport = 20000 + i;
            // open the connection: SYN (and for NAT/FULLNAT the SYN-ACK back), then ACK: ESTABLISHED
            long before = tx.frames;
            feedOnce(tcp(ROUTER_MAC, CLIENT, cport, VIP, vport, SYN, 0));
            if (tx.frames != before + 1) {
                throw new IllegalStateException(method + ": the SYN of flow " + i + " was not forwarded");
            }
            int id = conns.lookupIn(Protocol.TCP, CLIENT, cport, VIP, vport);
            int rs = conns.daddr(id);
            long rsMac = rs == RS1 ? RS1_MAC : RS2_MAC;
            // what the real server sees as the client: itself (NAT), or the local address and port (FULLNAT)
            int peer = method.equals("FULLNAT") ? conns.laddr(id) : CLIENT;
            int peerPort = method.equals("FULLNAT") ? conns.lport(id) : cport;
            if (seesReplies) {
                feedOnce(tcp(rsMac, rs, conns.dport(id), peer, peerPort, SYN_ACK, 0));
            }
            feedOnce(tcp(ROUTER_MAC, CLIENT, cport, VIP, vport, ACK, 0));
            byte[] data = method.equals("NAT_REPLY")
                    ? tcp(rsMac, rs, conns.dport(id), peer, peerPort, ACK, 6)
                    : tcp(ROUTER_MAC, CLIENT, cport, VIP, vport, ACK, 6);
            frameLen = data.length;
            MemorySegment.copy(data, 0, templates, ValueLayout.JAVA_BYTE, (long) i * SLOT + 10, data.length);
        }
        long before = tx.frames;
        for (int i = 0; i < FLOWS; i++) {
            forward();
        }
        pipeline.fireChannelReadComplete();
        inBurst = 0;
        if (tx.frames != before + FLOWS) {
            throw new IllegalStateException(method + ": " + (tx.frames - before) + " of " + FLOWS
                    + " data frames forwarded; the benchmark would measure drops");
        }
    }

    /** A TCP frame to the director's port (TTL 64). */
    static byte[] tcp(long srcMac, int src, int sport, int dst, int dport, int flags, int payload) {
        return Frames.tcp(srcMac, PORT_MAC, src, sport, dst, dport, flags, 64, payload);
    }

    private void feedOnce(byte[] frame) {
        work.asSlice(HEADROOM, 10).fill((byte) 0);
        MemorySegment.copy(frame, 0, work, ValueLayout.JAVA_BYTE, HEADROOM + 10, frame.length);
        point(0, frame.length);
        pipeline.fireChannelRead(ctx);
        pipeline.fireChannelReadComplete();
    }

    /** Points ctx at the slot at {@code off}: headroom, vnet header, frame. */
    private void point(long off, int len) {
        ctx.seg = work;
        ctx.headroom = HEADROOM;
        ctx.vnetOff = off + HEADROOM;
        ctx.frameOff = off + HEADROOM + 10;
        ctx.frameLen = len;
        ctx.frameCapacity = SLOT - HEADROOM - 10;
        ctx.ingressPort = 0;
    }

    @Benchmark
    public long forward() {
        final int f = flow;
        flow = (f + 1) & (FLOWS - 1);
        final long off = (long) inBurst * SLOT;
        MemorySegment.copy(templates, (long) f * SLOT, work, off + HEADROOM, 10 + frameLen);
        point(off, frameLen);
        pipeline.fireChannelRead(ctx);
        if (++inBurst == BURST) {
            pipeline.fireChannelReadComplete();
            inBurst = 0;
        }
        return tx.sink;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
        neighbours.close();
        port.close();
        arena.close();
    }
}
