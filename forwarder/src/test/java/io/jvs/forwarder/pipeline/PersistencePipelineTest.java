package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.jvs.forwarder.testkit.Frames.i32;
import static io.jvs.forwarder.testkit.Frames.mac;
import static io.jvs.forwarder.testkit.Frames.u16;
import static io.jvs.forwarder.pipeline.PipelineTest.ACK;
import static io.jvs.forwarder.pipeline.PipelineTest.CLIENT;
import static io.jvs.forwarder.pipeline.PipelineTest.CLIENT2;
import static io.jvs.forwarder.pipeline.PipelineTest.PORT_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.ROUTER_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.RS1;
import static io.jvs.forwarder.pipeline.PipelineTest.RS1_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.RS2;
import static io.jvs.forwarder.pipeline.PipelineTest.RS2_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.SYN;
import static io.jvs.forwarder.pipeline.PipelineTest.VIP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Persistence (templates), port-0 and fwmark services, and connection reuse on removed or
 * quiesced servers, through the whole pipeline.
 */
class PersistencePipelineTest {
    PipelineTest.Pipe pipe = new PipelineTest.Pipe(4096);
    ServiceTable table = ServiceTable.EMPTY;

    /** Starts over with a data path built with {@code policy} (the IPVS sysctls are fixed when it is built). */
    void restartWith(ConnPolicy policy) {
        pipe.close();
        pipe = new PipelineTest.Pipe(4096, policy);
        table = ServiceTable.EMPTY;
    }

    @AfterEach
    void close() {
        pipe.close();
    }

    void publish(List<ServiceSpec> specs, List<FwmarkRule> rules) {
        ServiceTable next = new ServiceTableBuilder(Schedulers::create).build(specs, rules, table);
        next.commitDestStates(table);
        table = next;
        pipe.registry.publish(next);
    }

    static ServiceSpec persistentWeb(int timeout, int mask, Dest... dests) {
        return new ServiceSpec(Protocol.TCP, VIP, 80, "rr", List.of(dests)).withPersistence(timeout, mask);
    }

    /** The real server a SYN went to, by destination MAC. */
    int syn(int client, int cport, int vport) {
        byte[] out = pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, client, cport, VIP, vport, SYN, 64, 0));
        long m = mac(out, 0);
        return m == RS1_MAC ? RS1 : m == RS2_MAC ? RS2 : 0;
    }

    @Test
    void oneClientStaysOnOneServerWhileRoundRobinWouldAlternate() {
        publish(List.of(persistentWeb(300, -1, new Dest(RS1, 80, 1, ForwardMethod.DR),
                new Dest(RS2, 80, 1, ForwardMethod.DR))), List.of());
        int first = syn(CLIENT, 40000, 80);
        for (int p = 40001; p < 40100; p++) {
            assertEquals(first, syn(CLIENT, p, 80), "client port " + p);
        }
        // Another client gets the other server (rr advanced once), and sticks there too.
        int other = syn(CLIENT2, 50000, 80);
        assertNotEquals(first, other);
        assertEquals(other, syn(CLIENT2, 50001, 80));
        assertEquals(2, pipe.conns.templates().size(), "one template per client network");
        assertEquals(102, pipe.conns.templates().controlledCount(0) + pipe.conns.templates().controlledCount(1));
    }

    @Test
    void netmaskGroupsClientsAndTemplateExpiryMovesThem() {
        // 192.168.0.0/16 covers CLIENT and CLIENT2: one template for both.
        publish(List.of(persistentWeb(300, 0xffff0000, new Dest(RS1, 80, 1, ForwardMethod.DR),
                new Dest(RS2, 80, 1, ForwardMethod.DR))), List.of());
        int first = syn(CLIENT, 40000, 80);
        assertEquals(first, syn(CLIENT2, 50000, 80));
        assertEquals(1, pipe.conns.templates().size());
        // Once the connections are gone and the template's timeout has passed, it is dropped
        // and the next connection is scheduled afresh (rr: the other server).
        long later = System.nanoTime() + 400_000_000_000L;
        pipe.conns.expire(later, 1 << 20);
        pipe.conns.templates().expire(later, 1 << 20);
        assertEquals(0, pipe.conns.size());
        assertEquals(0, pipe.conns.templates().size());
    }

    @Test
    void templateOutlivesItsTimeoutWhileItControlsAConnection() {
        publish(List.of(persistentWeb(1, -1, new Dest(RS1, 80, 1, ForwardMethod.DR),
                new Dest(RS2, 80, 1, ForwardMethod.DR))), List.of());
        syn(CLIENT, 40000, 80);
        pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, 80, ACK, 64, 10)); // ESTABLISHED: 900 s
        long later = System.nanoTime() + 5_000_000_000L;
        pipe.conns.expire(later, 1 << 20);
        pipe.conns.templates().expire(later, 1 << 20);
        assertEquals(1, pipe.conns.templates().size(), "re-armed: it still controls a connection");
    }

    @Test
    void portZeroServiceSendsAllPortsOfAClientToOneServerKeepingThePort() {
        ServiceSpec pcc = new ServiceSpec(Protocol.TCP, VIP, 0, 0, "rr", 0, 600, -1, false, List.of(),
                io.jvs.forwarder.service.ClientAddressMode.NONE,
                List.of(new Dest(RS1, 0, 1, ForwardMethod.NAT), new Dest(RS2, 0, 1, ForwardMethod.NAT)));
        publish(List.of(pcc), List.of());
        // A port-0 service catches every port of its VIP (ip_vs_service_find's catch-all).
        int s80 = natDest(pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, 80, SYN, 64, 0)), 80);
        int s443 = natDest(pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40001, VIP, 443, SYN, 64, 0)), 443);
        assertEquals(s80, s443);
    }

    /** A NAT frame's destination, checking the port was kept. */
    static int natDest(byte[] f, int port) {
        assertEquals(port, u16(f, 14 + 20 + 2), "destination port kept");
        return i32(f, 14 + 16);
    }

    @Test
    void fwmarkServiceSharesPersistenceAcrossPorts() {
        List<FwmarkRule> rules = List.of(
                new FwmarkRule(0, 0, VIP, 32, Protocol.TCP, 80, 80, 1),
                new FwmarkRule(0, 0, VIP, 32, Protocol.TCP, 443, 443, 1));
        publish(List.of(ServiceSpec.fwmark(1, "rr").withPersistence(1800, -1)
                .withDests(List.of(new Dest(RS1, 0, 1, ForwardMethod.DR), new Dest(RS2, 0, 1, ForwardMethod.DR)))),
                rules);
        for (int i = 0; i < 20; i++) {
            int web = syn(CLIENT, 41000 + i, 80);
            assertEquals(web, syn(CLIENT, 42000 + i, 443), "HTTPS follows HTTP");
        }
        assertEquals(1, pipe.conns.templates().size());
        assertEquals(0, pipe.conns.templates().vport(0));
        assertEquals(1, pipe.conns.templates().vkey(0), "fwmark templates are keyed by the mark");
    }

    @Test
    void removedServerTemplateIsReplacedAndQuiescedOneIsKeptUnlessPolicySaysSo() {
        Dest a = new Dest(RS1, 80, 1, ForwardMethod.DR);
        Dest b = new Dest(RS2, 80, 1, ForwardMethod.DR);
        publish(List.of(persistentWeb(300, -1, a, b)), List.of());
        int first = syn(CLIENT, 40000, 80);
        Dest firstDest = first == RS1 ? a : b;
        Dest otherDest = first == RS1 ? b : a;
        // Quiesce it: IPVS keeps persistence to a weight-0 server (expire_quiescent_template=0).
        publish(List.of(persistentWeb(300, -1, firstDest.withWeight(0), otherDest)), List.of());
        assertEquals(first, syn(CLIENT, 40001, 80));
        // Remove it: the template is invalid, the client is scheduled on the remaining server.
        publish(List.of(persistentWeb(300, -1, otherDest)), List.of());
        int moved = syn(CLIENT, 40002, 80);
        assertNotEquals(first, moved);
        assertEquals(moved, syn(CLIENT, 40003, 80));
        // The old connections to the removed server: dropped, counted (expire_nodest_conn=0).
        pipe.none(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, 80, ACK, 64, 10), DropReason.DEST_REMOVED);
    }

    @Test
    void reusedClientPortOnAQuiescedServerIsRescheduled() {
        Dest a = new Dest(RS1, 80, 1, ForwardMethod.DR);
        Dest b = new Dest(RS2, 80, 1, ForwardMethod.DR);
        publish(List.of(new ServiceSpec(Protocol.TCP, VIP, 80, "rr", List.of(a, b))), List.of());
        int first = syn(CLIENT, 40000, 80);
        pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, 80, ACK, 64, 10)); // ESTABLISHED
        Dest firstDest = first == RS1 ? a : b;
        Dest otherDest = first == RS1 ? b : a;
        publish(List.of(new ServiceSpec(Protocol.TCP, VIP, 80, "rr",
                List.of(firstDest.withWeight(0), otherDest))), List.of());
        // Existing connection keeps flowing to the quiesced server...
        assertEquals(first == RS1 ? RS1_MAC : RS2_MAC,
                mac(pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, 80, ACK, 64, 10)), 0));
        // ...but a new SYN on the same client port goes to a server that takes new connections.
        assertNotEquals(first, syn(CLIENT, 40000, 80));
        assertTrue(pipe.conns.size() == 1);
    }

    @Test
    void serviceTimeoutsOverrideTheGlobalOnesForThatServiceOnly() {
        Dest a = new Dest(RS1, 80, 1, ForwardMethod.DR);
        publish(List.of(new ServiceSpec(Protocol.TCP, VIP, 80, "rr", List.of(a))
                        .withTimeouts(new io.jvs.forwarder.service.ServiceTimeouts(60, 0, 0)),
                new ServiceSpec(Protocol.TCP, VIP, 81, "rr", List.of(new Dest(RS1, 81, 1, ForwardMethod.DR)))),
                List.of());
        long before = System.nanoTime();
        syn(CLIENT, 40000, 80);
        pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, 80, ACK, 64, 10));
        syn(CLIENT, 40001, 81);
        pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40001, VIP, 81, ACK, 64, 10));
        long after = System.nanoTime();
        int own = pipe.conns.lookupIn(Protocol.TCP, CLIENT, 40000, VIP, 80, after);
        int global = pipe.conns.lookupIn(Protocol.TCP, CLIENT, 40001, VIP, 81, after);
        long ownLeft = pipe.conns.expiresAtNanos(own) - before;
        long globalLeft = pipe.conns.expiresAtNanos(global) - before;
        assertTrue(ownLeft >= 60_000_000_000L && ownLeft < 61_000_000_000L, "ESTABLISHED 60 s: " + ownLeft);
        assertTrue(globalLeft >= 900_000_000_000L && globalLeft < 901_000_000_000L, "global 900 s: " + globalLeft);
    }

    @Test
    void expireQuiescentTemplateMovesTheClientOffADrainingServer() {
        restartWith(new ConnPolicy(false, true, false));
        Dest a = new Dest(RS1, 80, 1, ForwardMethod.DR);
        Dest b = new Dest(RS2, 80, 1, ForwardMethod.DR);
        publish(List.of(persistentWeb(300, -1, a, b)), List.of());
        int first = syn(CLIENT, 40000, 80);
        Dest firstDest = first == RS1 ? a : b;
        Dest otherDest = first == RS1 ? b : a;
        publish(List.of(persistentWeb(300, -1, firstDest.withWeight(0), otherDest)), List.of());
        assertNotEquals(first, syn(CLIENT, 40001, 80), "template of the quiesced server dropped");
    }

    @Test
    void expireNodestConnExpiresAndReschedulesUdp() {
        Dest a = new Dest(RS1, 53, 1, ForwardMethod.NAT);
        Dest b = new Dest(RS2, 53, 1, ForwardMethod.NAT);
        byte[] dgram = Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, 53, 64, 8);
        for (ConnPolicy policy : List.of(ConnPolicy.DEFAULTS, new ConnPolicy(true, false, false))) {
            restartWith(policy);
            publish(List.of(new ServiceSpec(Protocol.UDP, VIP, 53, "rr", List.of(a, b))), List.of());
            int first = PersistencePipelineTest.natDest(pipe.one(dgram.clone()), 53);
            Dest otherDest = first == RS1 ? b : a;
            publish(List.of(new ServiceSpec(Protocol.UDP, VIP, 53, "rr", List.of(otherDest))), List.of());
            if (!policy.expireNodestConn()) {
                pipe.none(dgram.clone(), DropReason.DEST_REMOVED); // kernel default: dropped until it times out
            } else {
                assertEquals(otherDest.addr(), PersistencePipelineTest.natDest(pipe.one(dgram.clone()), 53),
                        "expired and rescheduled");
            }
        }
    }
}
