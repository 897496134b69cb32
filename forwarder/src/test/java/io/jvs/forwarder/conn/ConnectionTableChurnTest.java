package io.jvs.forwarder.conn;

import io.jvs.packet.TcpHeader;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Randomized inserts, removes, lookups, time steps and sweeps against a HashMap model. The
 * squeezed-hash variants force every key into a few home slots (long probe chains, many equal
 * fingerprints, chains that wrap past the end of the index), which is where backward-shift
 * deletion goes wrong if it is wrong: after every operation batch each key the model holds must
 * still be found through both indexes, and no other.
 */
class ConnectionTableChurnTest {
    private static final long SECOND = 1_000_000_000L;
    private static final int[] CADDRS = {0xc0a80105, 0x0a000001, 0xffffffff, 0};
    private static final int[] VADDRS = {0x0a000064, 0x0a000065};
    private static final int[] VPORTS = {80, 443};

    record Key(int proto, int caddr, int cport, int vaddr, int vport) {
        int daddr() {
            return vaddr + 0x100;       // injective: the OUT key identifies the IN key
        }

        int dport() {
            return vport;
        }
    }

    static final class Entry {
        final int id;
        long expires;

        Entry(int id, long expires) {
            this.id = id;
            this.expires = expires;
        }
    }

    @ParameterizedTest(name = "capacity {0}, hash mask {1}, bias {2}, seed {3}")
    @CsvSource({
        "64, -1, 0, 1",
        "64, 127, 0, 2",
        "64, 3, 124, 3",      // homes 124..127 of 128 slots: every chain wraps to slot 0
        "64, 0, 127, 4",      // a single home: one chain of up to 64 through the wrap
        "64, 1, 64, 5",
        "100, 7, 248, 6",     // 256 slots, homes 248..255
        "5000, -1, 0, 7",
    })
    void matchesAHashMapModel(int capacity, int hashMask, int hashBias, long seed) {
        long[] now = {1_000 * SECOND};
        DestStats ds = new DestStats();
        RealServer dest = new RealServer(0x0a00000b, 80, 1, ForwardMethod.NAT, 0, 0, ds);
        VirtualService svc = new VirtualService(Protocol.TCP, VADDRS[0], 80, "rr",
                new RealServer[] {dest}, null, new DestStats());
        ConnectionTable t = new ConnectionTable(capacity, Timeouts.DEFAULTS, () -> now[0], seed, hashMask, hashBias);
        Map<Key, Entry> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        int ports = Math.max(50, capacity / 4);
        int ops = capacity > 1000 ? 300_000 : 60_000;

        for (int op = 0; op < ops; op++) {
            Key k = new Key(rnd.nextBoolean() ? Protocol.TCP : Protocol.UDP, CADDRS[rnd.nextInt(CADDRS.length)],
                    rnd.nextInt(ports) + (rnd.nextBoolean() ? 0 : 65535 - ports),
                    VADDRS[rnd.nextInt(VADDRS.length)], VPORTS[rnd.nextInt(VPORTS.length)]);
            int r = rnd.nextInt(100);
            if (r < 40) {
                // insert after a miss, as the pipeline does
                int found = t.lookupIn(k.proto, k.caddr, k.cport, k.vaddr, k.vport);
                Entry e = model.get(k);
                if (e != null && now[0] - e.expires >= 0) {
                    model.remove(k);          // the lookup removed the expired entry
                    e = null;
                }
                assertEquals(e == null ? -1 : e.id, found, "lookupIn " + k);
                if (found < 0) {
                    int id = t.insert(k.proto, k.caddr, k.cport, k.vaddr, k.vport, k.daddr(), k.dport(),
                            svc, dest, now[0]);
                    if (model.size() == capacity) {
                        assertEquals(-1, id, "full");
                    } else {
                        assertTrue(id >= 0 && id < capacity);
                        for (Entry other : model.values()) {
                            assertFalse(other.id == id, "id " + id + " handed out twice");
                        }
                        model.put(k, new Entry(id, now[0] + ConnectionTable.INITIAL_TIMEOUT_NANOS));
                    }
                }
            } else if (r < 65) {
                // remove a random live entry (through its OUT key)
                if (!model.isEmpty()) {
                    Key victim = pick(model, rnd);
                    Entry e = model.get(victim);
                    int found = t.lookupOut(victim.proto, victim.daddr(), victim.dport(), victim.caddr, victim.cport);
                    if (now[0] - e.expires >= 0) {
                        assertEquals(-1, found, "expired " + victim);
                    } else {
                        assertEquals(e.id, found, "lookupOut " + victim);
                        t.remove(found);
                    }
                    model.remove(victim);
                }
            } else if (r < 80) {
                // a packet: refresh (TCP SYN -> SYN_RECV 60 s, UDP 300 s)
                Entry e = model.get(k);
                int found = t.lookupIn(k.proto, k.caddr, k.cport, k.vaddr, k.vport);
                if (e != null && now[0] - e.expires >= 0) {
                    model.remove(k);
                    e = null;
                }
                assertEquals(e == null ? -1 : e.id, found, "lookupIn " + k);
                if (e != null) {
                    t.update(found, false, TcpHeader.SYN, 60, now[0]);
                    e.expires = now[0] + (k.proto == Protocol.TCP ? 60 : 300) * SECOND;
                }
            } else if (r < 97) {
                // time passes
                now[0] += rnd.nextLong(SECOND);
            } else {
                // a bounded sweep; what it removed must have been expired
                t.expire(now[0], 1 + rnd.nextInt(capacity));
                for (Iterator<Map.Entry<Key, Entry>> it = model.entrySet().iterator(); it.hasNext(); ) {
                    Map.Entry<Key, Entry> me = it.next();
                    boolean expired = now[0] - me.getValue().expires >= 0;
                    if (!t.isLive(me.getValue().id)) {
                        assertTrue(expired, "swept a live entry " + me.getKey());
                        it.remove();
                    }
                }
            }
            if (op % 97 == 0 || op == ops - 1) {
                verify(t, model, ds, now[0]);
            }
        }
    }

    private static Key pick(Map<Key, Entry> model, SplittableRandom rnd) {
        int n = rnd.nextInt(model.size());
        for (Key k : model.keySet()) {
            if (n-- == 0) {
                return k;
            }
        }
        throw new AssertionError();
    }

    /** Every model key found through both indexes with the right fields; counts agree. */
    private static void verify(ConnectionTable t, Map<Key, Entry> model, DestStats ds, long now) {
        // drop what has expired (the lookups below would remove it)
        List<Key> live = new ArrayList<>();
        for (Map.Entry<Key, Entry> me : model.entrySet()) {
            if (now - me.getValue().expires < 0) {
                live.add(me.getKey());
            }
        }
        int liveOrUnswept = t.size();
        assertEquals(model.size(), liveOrUnswept, "size (expired but unswept entries still count)");
        assertEquals(t.size(), ds.activeConns() + ds.inactConns(), "each entry counted once");
        int[] visited = {0};
        t.forEach((table, id) -> visited[0]++);
        assertEquals(t.size(), visited[0]);
        for (Key k : live) {
            Entry e = model.get(k);
            int in = t.lookupIn(k.proto, k.caddr, k.cport, k.vaddr, k.vport, now);
            int out = t.lookupOut(k.proto, k.daddr(), k.dport(), k.caddr, k.cport, now);
            if (in != e.id || out != e.id) {
                fail("key " + k + " id " + e.id + ": lookupIn " + in + ", lookupOut " + out);
            }
            assertEquals(k.proto, t.proto(in));
            assertEquals(k.caddr, t.caddr(in));
            assertEquals(k.cport, t.cport(in));
            assertEquals(k.vaddr, t.vaddr(in));
            assertEquals(k.vport, t.vport(in));
            assertEquals(k.daddr(), t.daddr(in));
            assertEquals(k.dport(), t.dport(in));
            assertEquals(e.expires, t.expiresAtNanos(in));
        }
        // keys the model does not hold are not found
        for (Key k : live) {
            assertEquals(-1, t.lookupIn(k.proto, k.caddr, k.cport ^ 0x4000, k.vaddr, k.vport, now));
        }
    }
}
