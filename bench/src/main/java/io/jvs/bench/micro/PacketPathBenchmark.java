package io.jvs.bench.micro;

import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.pipeline.DataPath;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.sys.RtNetlink.Route;
import io.jvs.forwarder.io.LanPort;
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
 * One frame through the whole data-path pipeline, as Director wires it (decode, ARP, classify,
 * connection lookup + TCP state update, transmit rewrite, queue; one flush per burst of 32), on an
 * EmbeddedChannel with a counting transmit queue instead of a socket. Each operation first copies
 * the pristine frame (vnet header + 60 bytes) into the burst slot, because the rewrite changes it
 * in place (TTL, MACs, NAT addresses and checksums); that copy is part of the measured time.
 *
 * <p>Frames belong to {@value #FLOWS} established connections, visited in turn:
 * <ul>
 *   <li>{@code method=DR}: client ACK to VIP:80, DR service (MAC rewrite, TTL);</li>
 *   <li>{@code method=NAT}: client ACK to VIP:8080, NAT service (DNAT, incremental checksums);</li>
 *   <li>{@code method=NAT_REPLY}: real server ACK to the client (OUT index lookup, SNAT).</li>
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
    static final int RS1 = 0x0a00_000b;
    static final int RS2 = 0x0a00_000c;
    static final long RS1_MAC = 0x02_6a_76_00_00_0bL;
    static final long RS2_MAC = 0x02_6a_76_00_00_0cL;
    static final int CLIENT = 0x0a00_0102;        // 10.0.1.2, behind the router
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int SYN_ACK = 0x12;
    static final int SLOT = 128;                  // vnet header (10) + frame (60), rounded up

    @Param({"DR", "NAT", "NAT_REPLY"})
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
    MemorySegment templates;   // FLOWS pristine frames
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
                        new Dest(RS2, 80, 1, ForwardMethod.NAT)))),
                ServiceTable.EMPTY);
        registry.publish(table);
        long now = System.nanoTime();
        neighbours.learn(ROUTER, ROUTER_MAC, true, now);
        neighbours.learn(RS1, RS1_MAC, true, now);
        neighbours.learn(RS2, RS2_MAC, true, now);
        channel = new EmbeddedChannel();
        pipeline = DataPath.builder().services(registry).connections(conns).neighbours(neighbours).lan(port)
                .routes(() -> routes).counters(counters).build()
                .wire(channel.pipeline());
        ctx = new PacketContext();
        arena = Arena.ofConfined();
        templates = arena.allocate((long) SLOT * FLOWS, 64);
        work = arena.allocate((long) SLOT * BURST, 64);

        final boolean dr = method.equals("DR");
        final int vport = dr ? 80 : 8080;
        for (int i = 0; i < FLOWS; i++) {
            int cport = 20000 + i;
            // open the connection: SYN (and for NAT the SYN-ACK back), then ACK: ESTABLISHED
            long before = tx.frames;
            feedOnce(BenchFrames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, cport, VIP, vport, SYN, 0));
            if (tx.frames != before + 1) {
                throw new IllegalStateException(method + ": the SYN of flow " + i + " was not forwarded");
            }
            int id = conns.lookupIn(Protocol.TCP, CLIENT, cport, VIP, vport);
            int rs = conns.daddr(id);
            long rsMac = rs == RS1 ? RS1_MAC : RS2_MAC;
            if (!dr) {
                feedOnce(BenchFrames.tcp(rsMac, PORT_MAC, rs, 80, CLIENT, cport, SYN_ACK, 0));
            }
            feedOnce(BenchFrames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, cport, VIP, vport, ACK, 0));
            byte[] data = method.equals("NAT_REPLY")
                    ? BenchFrames.tcp(rsMac, PORT_MAC, rs, 80, CLIENT, cport, ACK, 6)
                    : BenchFrames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, cport, VIP, vport, ACK, 6);
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

    private void feedOnce(byte[] frame) {
        work.asSlice(0, 10).fill((byte) 0);
        MemorySegment.copy(frame, 0, work, ValueLayout.JAVA_BYTE, 10, frame.length);
        point(0, frame.length);
        pipeline.fireChannelRead(ctx);
        pipeline.fireChannelReadComplete();
    }

    private void point(long off, int len) {
        ctx.seg = work;
        ctx.vnetOff = off;
        ctx.frameOff = off + 10;
        ctx.frameLen = len;
        ctx.frameCapacity = SLOT - 10;
        ctx.ingressPort = 0;
    }

    @Benchmark
    public long forward() {
        final int f = flow;
        flow = (f + 1) & (FLOWS - 1);
        final long off = (long) inBurst * SLOT;
        MemorySegment.copy(templates, (long) f * SLOT, work, off, 10 + frameLen);
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
