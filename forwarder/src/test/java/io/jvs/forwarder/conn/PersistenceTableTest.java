package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PersistenceTableTest {
    static final long S = 1_000_000_000L;
    final RealServer rs = new RealServer(0x0a00000b, 80, 1, ForwardMethod.DR, 0, 0, new DestStats());
    final VirtualService svc = new VirtualService(Protocol.TCP, 0x0a000064, 80, "rr", new RealServer[]{rs}, null,
            new DestStats());

    @Test
    void randomInsertLookupRemoveAgreesWithAMap() {
        PersistenceTable t = new PersistenceTable(512);
        Map<Long, Integer> model = new HashMap<>();
        Random r = new Random(7);
        for (int step = 0; step < 200_000; step++) {
            int snet = r.nextInt(300);
            long key = snet;
            int id = t.lookup(Protocol.TCP, snet, 0x0a000064, 80, 0);
            Integer want = model.get(key);
            assertEquals(want == null ? -1 : want, id, "step " + step);
            if (id < 0) {
                int n = t.insert(Protocol.TCP, snet, 0x0a000064, 80, svc, rs, 10 * S, 0);
                assertTrue(n >= 0);
                model.put(key, n);
            } else if (r.nextInt(3) == 0) {
                t.invalidate(id, 0);
                model.remove(key);
            }
            assertEquals(model.size(), t.size());
            assertEquals(model.size(), rs.stats.persistConnsVolatile(), "persistconns accounting");
        }
    }

    @Test
    void fullTableRefusesAndInvalidatedTemplatesWaitForTheirConnections() {
        PersistenceTable t = new PersistenceTable(2);
        int a = t.insert(Protocol.TCP, 1, 100, 80, svc, rs, 10 * S, 0);
        int b = t.insert(Protocol.TCP, 2, 100, 80, svc, rs, 10 * S, 0);
        assertEquals(-1, t.insert(Protocol.TCP, 3, 100, 80, svc, rs, 10 * S, 0), "full: refused, nothing evicted");
        t.controlAdded(a, 0);
        t.invalidate(a, 0);
        assertEquals(-1, t.lookup(Protocol.TCP, 1, 100, 80, 0), "invalid templates are unreachable");
        assertEquals(2, t.size(), "still allocated: a connection refers to it");
        t.controlRemoved(a);
        assertEquals(1, t.size(), "freed with its last connection");
        assertSame(rs, t.dest(b));
        // Expiry: due and uncontrolled -> gone; due and controlled -> re-armed.
        t.controlAdded(b, 0);
        assertEquals(0, t.expire(20 * S, 10));
        assertEquals(b, t.lookup(Protocol.TCP, 2, 100, 80, 21 * S));
        t.controlRemoved(b);
        assertEquals(1, t.expire(40 * S, 10));
        assertEquals(0, t.size());
    }
}
