package io.jvs.forwarder.conn;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * --workers: each worker's connection and template tables write only that worker's share of a
 * real server's counters; readers (jvsadm, metrics, the schedulers) see the sum; the summed view
 * of the workers' data-path counters adds them up.
 */
class WorkerSharesTest {
    static final int VIP = 0x0a000064;
    static final int RIP = 0x0a00000b;

    @Test
    void eachWorkerWritesItsOwnShareAndReadersSeeTheSum() {
        DestStats ds = new DestStats(2);
        DestStats ss = new DestStats(2);
        RealServer dest = new RealServer(RIP, 80, 1, ForwardMethod.NAT, 0, 0, ds);
        VirtualService svc = new VirtualService(Protocol.TCP, VIP, 80, "rr", new RealServer[] {dest}, null, ss);
        long now = 1_000_000_000_000L;
        ConnectionTable w0 = new ConnectionTable(64, Timeouts.DEFAULTS, () -> now, new LocalPorts(1024, 2047), 0);
        ConnectionTable w1 = new ConnectionTable(64, Timeouts.DEFAULTS, () -> now, new LocalPorts(2048, 4095), 1);

        int a = w0.insert(Protocol.TCP, 0x0a000114, 1000, VIP, 80, RIP, 80, svc, dest, now);
        w0.update(a, false, 0x02, 60, now);                 // SYN in, 60 bytes
        int b = w1.insert(Protocol.TCP, 0x0a000115, 1001, VIP, 80, RIP, 80, svc, dest, now);
        int c = w1.insert(Protocol.TCP, 0x0a000115, 1002, VIP, 80, RIP, 80, svc, dest, now);
        w1.update(b, false, 0x02, 100, now);
        w1.update(c, true, 0x12, 40, now);                  // SYN+ACK out, 40 bytes

        assertEquals(1, ds.conns(0));
        assertEquals(2, ds.conns(1));
        assertEquals(3, ds.conns(), "ipvsadm's Conns: the sum");
        assertEquals(3, ss.conns(), "the service's too");
        assertEquals(1, ds.inPkts(0));
        assertEquals(1, ds.inPkts(1));
        assertEquals(160, ds.inBytes());
        assertEquals(1, ds.outPkts(1));
        assertEquals(0, ds.outPkts(0));
        assertEquals(40, ds.outBytes());
        assertEquals(3, ds.activeConns() + ds.inactConns(),
                "ActiveConn + InActConn as the schedulers and thresholds read them: all workers' connections");

        PersistenceTable t1 = w1.templates();
        t1.insert(Protocol.TCP, 0x0a000115, VIP, 80, svc, dest, 360_000_000_000L, now);
        assertEquals(1, ds.persistConnsVolatile(), "worker 1's template, counted once");
    }

    @Test
    void theTotalViewSumsTheWorkersCounters() {
        DataPathCounters w0 = new DataPathCounters("eth0", "eth1");
        DataPathCounters w1 = new DataPathCounters("eth0", "eth1");
        DataPathCounters total = DataPathCounters.total(w0, w1);
        w0.rx(1, 100);
        w1.rx(1, 50);
        w1.rx(0, 10);
        w0.drop(DropReason.NO_CONNECTION);
        w1.drop(DropReason.NO_CONNECTION);
        w1.drop(DropReason.TABLE_FULL);
        w0.decision(DataPathCounters.SchedulingOutcome.SCHEDULED);
        w0.busy(7);
        w1.busy(5);
        assertEquals(2, total.rxFrames(1));
        assertEquals(150, total.rxBytes(1));
        assertEquals(1, total.rxFrames(0));
        assertEquals(2, total.drops(DropReason.NO_CONNECTION));
        assertEquals(3, total.totalDrops());
        assertEquals(1, total.decisions(DataPathCounters.SchedulingOutcome.SCHEDULED));
        assertEquals(12, total.busyNanos());
        assertEquals("eth1", total.portName(1));
        assertEquals(1, w1.drops(DropReason.NO_CONNECTION), "a worker's own view is its own");
    }

    @Test
    void theTotalViewSumsTheDefenceAndSynProxyEvents() {
        DataPathCounters w0 = new DataPathCounters("eth0");
        DataPathCounters w1 = new DataPathCounters("eth0");
        DataPathCounters total = DataPathCounters.total(w0, w1);
        w0.embryonicReclaim();
        w1.embryonicReclaim();
        w1.embryonicReclaim();
        w0.embryonicDrop(4);
        w1.embryonicDrop(5);
        w0.synProxySynAck();
        w1.synProxySynAck();
        w1.synProxyOpened();
        w0.synProxySpliced();
        w0.synProxyHeld();
        w1.synProxyHeld();
        assertEquals(3, total.embryonicReclaimed());
        assertEquals(9, total.embryonicDropped());
        assertEquals(2, total.synProxySynAckCount());
        assertEquals(1, total.synProxyOpenedCount());
        assertEquals(1, total.synProxySplicedCount());
        assertEquals(2, total.synProxyHeldCount());
    }
}
