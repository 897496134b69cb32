package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.TcpState;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.testkit.Frames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.jvs.forwarder.pipeline.PipelineTest.CLIENT;
import static io.jvs.forwarder.pipeline.PipelineTest.DR_PORT;
import static io.jvs.forwarder.pipeline.PipelineTest.NAT_PORT;
import static io.jvs.forwarder.pipeline.PipelineTest.PORT_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.ROUTER_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.RS1;
import static io.jvs.forwarder.pipeline.PipelineTest.RS1_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.RS2;
import static io.jvs.forwarder.pipeline.PipelineTest.RS2_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.UDP_PORT;
import static io.jvs.forwarder.pipeline.PipelineTest.VIP;
import static io.jvs.forwarder.pipeline.PipelineTest.assertDr;
import static io.jvs.forwarder.pipeline.XmitPipe.LIP;
import static io.jvs.forwarder.testkit.Frames.i32;
import static io.jvs.forwarder.testkit.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPVS's sloppy_tcp through the whole pipeline: which segments of an unknown connection open
 * one, and the state the new entry is in afterwards.
 *
 * <p>The expected states are read off the kernel's tcp_states[] (net/netfilter/ipvs/
 * ip_vs_proto_tcp.c, mainline), column sNO (a new entry starts in NONE), with
 * tcp_state_idx()'s row choice (RST, else SYN, else FIN, else ACK; none of them: no row, and
 * set_tcp_state keeps its default CLOSE). DR connections start flagged NOOUTPUT, so the
 * INPUT-ONLY table applies; NAT ones use INPUT:
 * <pre>
 *   INPUT-ONLY  sNO:  syn sSR   fin sCL   ack sES   rst sCL
 *   INPUT       sNO:  syn sSR   fin sCL   ack sES   rst sCL
 * </pre>
 * tcp_conn_schedule: {@code if (th->rst || !(sysctl_sloppy_tcp(ipvs) || th->syn)) return 1;}
 * (no scheduling, no entry). UDP has no such check (udp_conn_schedule schedules any datagram)
 * and the kernel has no sloppy_udp.
 */
class SloppyTcpPipelineTest {
    static final ConnPolicy SLOPPY = new ConnPolicy(false, false, true);
    static final int FIN = 0x01;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;
    static final int FULLNAT_PORT = 8443;
    static final int MIXED_PORT = 8444;
    static final int MH_PORT = 9000;

    PipelineTest.Pipe pipe = new PipelineTest.Pipe(1024, SLOPPY);

    @AfterEach
    void close() {
        assertEquals(0, pipe.counters.drops(DropReason.INTERNAL_ERROR), "no exception inside the pipeline");
        pipe.close();
    }

    static byte[] segment(int cport, int vport, int flags) {
        return Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, cport, VIP, vport, flags, 64, 10);
    }

    /** The ipvsadm name of the state of CLIENT:cport -> VIP:vport, or "absent". */
    String state(int cport, int vport) {
        int id = pipe.conns.lookupIn(Protocol.TCP, CLIENT, cport, VIP, vport);
        return id < 0 ? "absent" : TcpState.name(pipe.conns.state(id));
    }

    @Test
    void drAckOfAnUnknownConnectionIsScheduledAndEstablished() {
        byte[] in = segment(40000, DR_PORT, ACK);
        byte[] out = pipe.one(in);
        long m = mac(out, 0);
        assertTrue(m == RS1_MAC || m == RS2_MAC, "sent to a real server");
        assertDr(in, out, m);
        assertEquals("ESTABLISHED", state(40000, DR_PORT));
        assertEquals(1, pipe.counters.sloppyTcpAccepted());
        assertEquals(0, pipe.counters.totalDrops());
        // The entry is the connection's now: the next segment is no new scheduling.
        assertEquals(m, mac(pipe.one(segment(40000, DR_PORT, PSH | ACK)), 0));
        assertEquals(1, pipe.counters.sloppyTcpAccepted());
        assertEquals(1, pipe.conns.size());
    }

    @Test
    void pshAckIsEstablishedFinAckIsCloseAndAFlaglessSegmentIsClose() {
        pipe.one(segment(40001, DR_PORT, PSH | ACK));
        assertEquals("ESTABLISHED", state(40001, DR_PORT));
        pipe.one(segment(40002, DR_PORT, FIN | ACK));
        assertEquals("CLOSE", state(40002, DR_PORT), "the fin row wins over ack");
        pipe.one(segment(40003, DR_PORT, FIN));
        assertEquals("CLOSE", state(40003, DR_PORT));
        pipe.one(segment(40004, DR_PORT, PSH));
        assertEquals("CLOSE", state(40004, DR_PORT), "no row: set_tcp_state's default");
        assertEquals(4, pipe.counters.sloppyTcpAccepted());
        assertEquals(0, pipe.counters.totalDrops());
    }

    @Test
    void rstNeverOpensAConnection() {
        pipe.none(segment(40010, DR_PORT, RST), DropReason.NO_CONNECTION);
        pipe.none(segment(40011, DR_PORT, RST | ACK), DropReason.NO_CONNECTION);
        pipe.none(segment(40012, DR_PORT, 0x02 | RST), DropReason.NO_CONNECTION);
        assertEquals(0, pipe.conns.size());
        assertEquals(0, pipe.counters.sloppyTcpAccepted());
    }

    @Test
    void aSynIsNotCountedAsSloppy() {
        pipe.one(segment(40020, DR_PORT, 0x02));
        assertEquals("SYN_RECV", state(40020, DR_PORT));
        assertEquals(0, pipe.counters.sloppyTcpAccepted());
    }

    @Test
    void natAckIsScheduledEstablishedAndRewritten() {
        byte[] out = pipe.one(segment(40030, NAT_PORT, ACK));
        int daddr = i32(out, 14 + 16);
        assertTrue(daddr == RS1 || daddr == RS2, "destination rewritten to a real server");
        assertEquals(80, Frames.u16(out, 14 + 20 + 2), "to the real server's port");
        assertEquals("ESTABLISHED", state(40030, NAT_PORT));
        assertEquals(1, pipe.counters.sloppyTcpAccepted());
    }

    @Test
    void withoutSloppyEveryNonSynSegmentIsNoConnection() {
        pipe.close();
        pipe = new PipelineTest.Pipe(1024, ConnPolicy.DEFAULTS);
        for (int flags : new int[]{ACK, PSH | ACK, FIN | ACK, FIN, PSH, RST}) {
            pipe.none(segment(40040, DR_PORT, flags), DropReason.NO_CONNECTION);
            pipe.none(segment(40040, NAT_PORT, flags), DropReason.NO_CONNECTION);
        }
        assertEquals(0, pipe.conns.size());
        assertEquals(0, pipe.counters.sloppyTcpAccepted());
    }

    @Test
    void udpOpensAConnectionOnAnyDatagramWithOrWithoutSloppy() {
        for (ConnPolicy policy : List.of(ConnPolicy.DEFAULTS, SLOPPY)) {
            pipe.close();
            pipe = new PipelineTest.Pipe(1024, policy);
            byte[] out = pipe.one(Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 5000, VIP, UDP_PORT, 64, 20));
            int daddr = i32(out, 14 + 16);
            assertTrue(daddr == RS1 || daddr == RS2, policy + ": scheduled");
            assertTrue(pipe.conns.lookupIn(Protocol.UDP, CLIENT, 5000, VIP, UDP_PORT) >= 0, policy + ": entry");
            assertEquals(0, pipe.counters.sloppyTcpAccepted(), policy + ": not a sloppy acceptance");
        }
    }

    static ServiceSpec fullNat(int port, List<Dest> dests) {
        return new ServiceSpec(Protocol.TCP, VIP, port, 0, "rr", 0, 0, -1, false, List.of(LIP),
                ClientAddressMode.NONE, dests);
    }

    @Test
    void aServiceWithAFullNatServerIsExempt() {
        ServiceTable t = new ServiceTableBuilder(Schedulers::create).build(List.of(
                new ServiceSpec(Protocol.TCP, VIP, DR_PORT, "rr", List.of(new Dest(RS1, DR_PORT, 1, ForwardMethod.DR))),
                fullNat(FULLNAT_PORT, List.of(new Dest(RS1, 443, 1, ForwardMethod.FULLNAT))),
                fullNat(MIXED_PORT, List.of(new Dest(RS1, 443, 1, ForwardMethod.FULLNAT),
                        new Dest(RS2, 443, 1, ForwardMethod.DR)))), List.of(), pipe.registry.current());
        t.commitDestStates(pipe.registry.current());
        pipe.registry.publish(t);
        pipe.none(segment(40050, FULLNAT_PORT, ACK), DropReason.NO_CONNECTION);
        pipe.none(segment(40051, MIXED_PORT, ACK), DropReason.NO_CONNECTION);
        assertEquals(0, pipe.conns.size());
        pipe.one(segment(40052, DR_PORT, ACK));
        assertEquals("ESTABLISHED", state(40052, DR_PORT), "the DR service stays sloppy");
        assertEquals(1, pipe.counters.sloppyTcpAccepted());
    }

    /**
     * What sloppy_tcp is for: a director that never saw a connection begin (restarted, or newly
     * master) sends its segments where the first director sent its SYN, when the scheduler is a
     * consistent hash of the flow (mh). Two pipes stand for the two lives of a director.
     */
    @Test
    void aFreshDirectorSendsRunningFlowsToTheServerTheyWereOn() {
        List<ServiceSpec> mh = List.of(new ServiceSpec(Protocol.TCP, VIP, MH_PORT, "mh", List.of(
                new Dest(RS1, 80, 1, ForwardMethod.DR), new Dest(RS2, 80, 1, ForwardMethod.DR))));
        PipelineTest.Pipe before = new PipelineTest.Pipe(1024, SLOPPY);
        try {
            ServiceTable t1 = new ServiceTableBuilder(Schedulers::create).build(mh, List.of(), ServiceTable.EMPTY);
            before.registry.publish(t1);
            ServiceTable t2 = new ServiceTableBuilder(Schedulers::create).build(mh, List.of(), ServiceTable.EMPTY);
            pipe.registry.publish(t2);
            int onRs1 = 0;
            for (int i = 0; i < 64; i++) {   // mh hashes the client address (no mh-port flag)
                int client = CLIENT + (i << 8);
                long first = mac(before.one(Frames.tcp(ROUTER_MAC, PORT_MAC, client, 41000, VIP, MH_PORT,
                        0x02, 64, 0)), 0);
                long after = mac(pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, client, 41000, VIP, MH_PORT,
                        PSH | ACK, 64, 10)), 0);
                assertEquals(first, after, "client " + i);
                onRs1 += first == RS1_MAC ? 1 : 0;
            }
            assertTrue(onRs1 > 0 && onRs1 < 64, "both servers carry flows: " + onRs1 + " of 64 on RS1");
            assertEquals(64, pipe.counters.sloppyTcpAccepted());
        } finally {
            before.close();
        }
    }
}
