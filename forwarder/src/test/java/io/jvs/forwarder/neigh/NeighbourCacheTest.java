package io.jvs.forwarder.neigh;

import io.jvs.forwarder.testkit.Frames;
import static io.jvs.forwarder.testkit.Frames.i32;
import static io.jvs.forwarder.testkit.Frames.mac;
import static io.jvs.forwarder.testkit.Frames.u16;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.xmit.CapturingTxQueue;
import io.jvs.forwarder.io.LanPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NeighbourCacheTest {
    static final long SEC = 1_000_000_000L;
    static final long PORT_MAC = 0x02_6a_76_00_00_02L;
    static final int PORT_IP = 0x0a00_0002;       // 10.0.0.2
    static final int RS1 = 0x0a00_000b;           // 10.0.0.11
    static final int RS2 = 0x0a00_000c;           // 10.0.0.12
    static final int RS3 = 0x0a00_000d;           // 10.0.0.13
    static final long RS1_MAC = 0x02_00_00_00_00_0bL;
    static final long RS2_MAC = 0x02_00_00_00_00_0cL;

    final CapturingTxQueue tx = new CapturingTxQueue();
    final LanPort port = new LanPort("lan0", 7, PORT_MAC, PORT_IP, tx);
    final List<DropReason> drops = new ArrayList<>();
    final NeighbourCache cache = new NeighbourCache(port, drops::add);
    final PacketContext ctx = new PacketContext();
    long t0 = 5_000 * SEC;

    @AfterEach
    void close() {
        cache.close();
        port.close();
    }

    // ------------------------------------------------------------ helpers

    /**
     * A context over a fresh 10 + len byte (virtio_net_hdr + frame) copy, loaded by the testkit at an
     * odd offset, whose bytes after the MACs carry {@code marker}.
     */
    PacketContext frame(int marker, int len) {
        byte[] b = new byte[10 + len];
        for (int i = 0; i < 10; i++) {
            b[i] = (byte) (0x40 + i);                    // recognisable vnet header
        }
        for (int i = 0; i < len; i++) {
            b[10 + i] = (byte) (i < 12 ? 0xEE : marker + i);
        }
        return Frames.load(b, true, ctx).ctx();
    }

    /** Checks a captured (vnet + frame) ARP frame. */
    static void assertArp(byte[] withVnet, long ethDst, int op, long sha, int spa, long tha, int tpa) {
        assertEquals(70, withVnet.length, "10-byte virtio_net_hdr + 60-byte frame");
        assertArrayEquals(new byte[10], Arrays.copyOf(withVnet, 10), "zero virtio_net_hdr");
        byte[] f = Arrays.copyOfRange(withVnet, 10, withVnet.length);
        assertEquals(ethDst, mac(f, 0), "eth dst");
        assertEquals(PORT_MAC, mac(f, 6), "eth src");
        assertEquals(0x0806, u16(f, 12), "ethertype");
        assertEquals(1, u16(f, 14), "htype");
        assertEquals(0x0800, u16(f, 16), "ptype");
        assertEquals(6, f[18]);
        assertEquals(4, f[19]);
        assertEquals(op, u16(f, 20), "op");
        assertEquals(sha, mac(f, 22), "sender mac");
        assertEquals(spa, i32(f, 28), "sender ip");
        assertEquals(tha, mac(f, 32), "target mac");
        assertEquals(tpa, i32(f, 38), "target ip");
        for (int i = 42; i < 60; i++) {
            assertEquals(0, f[i], "padding byte " + i);
        }
    }

    List<byte[]> all() {
        List<byte[]> l = new ArrayList<>(tx.sent);
        l.addAll(tx.queued);
        return l;
    }

    // ------------------------------------------------------------ resolution

    @Test
    void missSendsExactlyOneBroadcastRequest() {
        assertEquals(-1, cache.resolve(RS1, t0));
        assertEquals(1, tx.total());
        assertArp(all().get(0), 0xFFFF_FFFF_FFFFL, 1, PORT_MAC, PORT_IP, 0L, RS1);
        // Still incomplete: no second request, still no MAC.
        assertEquals(-1, cache.resolve(RS1, t0 + SEC / 2));
        assertEquals(1, tx.total());
        assertEquals(1, cache.size());
        assertTrue(drops.isEmpty());
    }

    @Test
    void enqueueRequiresAnIncompleteEntry() {
        assertFalse(cache.enqueue(RS1, frame(1, 60)), "no entry");
        cache.learn(RS2, RS2_MAC, true, t0);
        assertFalse(cache.enqueue(RS2, frame(1, 60)), "already reachable");
        cache.resolve(RS1, t0);
        assertTrue(cache.enqueue(RS1, frame(1, 60)));
    }

    @Test
    void parkedFramesAreBoundedPerNeighbourAndByThePool() {
        cache.resolve(RS1, t0);
        for (int i = 0; i < NeighbourTable.PENDING_PER_NEIGH; i++) {
            assertTrue(cache.enqueue(RS1, frame(i, 64)), "frame " + i);
        }
        assertFalse(cache.enqueue(RS1, frame(99, 64)), "per-neighbour limit");
        cache.resolve(RS2, t0);
        for (int i = 0; i < NeighbourTable.PENDING_SLOTS - NeighbourTable.PENDING_PER_NEIGH; i++) {
            assertTrue(cache.enqueue(RS2, frame(i, 64)), "frame " + i);
        }
        cache.resolve(RS3, t0);
        assertFalse(cache.enqueue(RS3, frame(1, 64)), "pool exhausted");
        // enqueue does not count: the caller does
        assertTrue(drops.isEmpty());
    }

    @Test
    void frameTooLargeForASlotIsRefused() {
        cache.resolve(RS1, t0);
        assertFalse(cache.enqueue(RS1, frame(1, NeighbourTable.PENDING_SLOT_SIZE - 9)));
        assertTrue(cache.enqueue(RS1, frame(1, NeighbourTable.PENDING_SLOT_SIZE - 10)));
    }

    @Test
    void learnReleasesParkedFramesInOrderWithTheResolvedMac() {
        cache.resolve(RS1, t0);
        int[] lens = {60, 1514, 61, 9000};
        for (int i = 0; i < lens.length; i++) {
            PacketContext c = frame(i * 10, lens[i]);
            c.eth.wrap(c.seg, c.frameOff).setSrc(PORT_MAC);   // NextHopSender does this before parking
            assertTrue(cache.enqueue(RS1, c));
        }
        tx.clear();
        cache.learn(RS1, RS1_MAC, false, t0 + SEC / 10);
        List<byte[]> out = all();
        assertEquals(lens.length, out.size());
        for (int i = 0; i < lens.length; i++) {
            byte[] b = out.get(i);
            assertEquals(10 + lens[i], b.length, "frame " + i + " length");
            for (int k = 0; k < 10; k++) {
                assertEquals((byte) (0x40 + k), b[k], "virtio_net_hdr kept");
            }
            assertEquals(RS1_MAC, mac(b, 10), "dst mac");
            assertEquals(PORT_MAC, mac(b, 16), "src mac");
            for (int k = 12; k < lens[i]; k++) {
                assertEquals((byte) (i * 10 + k), b[10 + k], "frame " + i + " byte " + k);
            }
        }
        assertEquals(RS1_MAC, cache.resolve(RS1, t0 + SEC));
        assertEquals(lens.length, tx.total(), "no further request");
        // learnt again with nothing parked: nothing sent
        cache.learn(RS1, RS1_MAC, false, t0 + 2 * SEC);
        assertEquals(lens.length, tx.total());
        assertTrue(drops.isEmpty());
    }

    @Test
    void slotsOfReleasedFramesAreHeldUntilTheFlush() {
        cache.resolve(RS1, t0);
        for (int i = 0; i < NeighbourTable.PENDING_PER_NEIGH; i++) {
            assertTrue(cache.enqueue(RS1, frame(i, 100)));
        }
        cache.resolve(RS2, t0);
        for (int i = 0; i < NeighbourTable.PENDING_PER_NEIGH; i++) {
            assertTrue(cache.enqueue(RS2, frame(i, 100)));
        }
        cache.learn(RS1, RS1_MAC, false, t0);
        cache.resolve(RS3, t0);
        assertFalse(cache.enqueue(RS3, frame(1, 100)), "released slots still queued for transmit");
        port.flush();
        for (int i = 0; i < NeighbourTable.PENDING_PER_NEIGH; i++) {
            assertTrue(cache.enqueue(RS3, frame(i, 100)), "after flush " + i);
        }
    }

    @Test
    void poolSlotsDoNotLeakOverManyCycles() {
        long now = t0;
        for (int cycle = 0; cycle < 500; cycle++) {
            int a = 0x0a01_0000 + cycle + 1;
            int b = 0x0a02_0000 + cycle + 1;
            assertEquals(-1, cache.resolve(a, now));
            assertEquals(-1, cache.resolve(b, now));
            for (int i = 0; i < NeighbourTable.PENDING_PER_NEIGH; i++) {
                assertTrue(cache.enqueue(a, frame(i, 80)), "cycle " + cycle + " a " + i);
                assertTrue(cache.enqueue(b, frame(i, 80)), "cycle " + cycle + " b " + i);
            }
            cache.learn(a, 0x02_00_00_01_00_00L + cycle, false, now);
            if (cycle % 2 == 0) {
                cache.learn(b, 0x02_00_00_02_00_00L + cycle, false, now);
            } else {
                // b never answers: its frames are dropped by tick
                cache.tick(now + 1 * SEC);
                cache.tick(now + 2 * SEC);
                cache.tick(now + 3 * SEC);
            }
            port.flush();
            now += 4 * SEC;
        }
        assertEquals(250 * NeighbourTable.PENDING_PER_NEIGH, drops.size());
    }

    // ------------------------------------------------------------ timers

    @Test
    void tickRetransmitsEverySecondThenGivesUp() {
        cache.resolve(RS1, t0);
        for (int i = 0; i < 5; i++) {
            assertTrue(cache.enqueue(RS1, frame(i, 90)));
        }
        assertEquals(1, tx.total());
        cache.tick(t0 + SEC / 2);
        assertEquals(1, tx.total(), "not before a second");
        cache.tick(t0 + SEC);
        assertEquals(2, tx.total(), "second request");
        assertArp(all().get(1), 0xFFFF_FFFF_FFFFL, 1, PORT_MAC, PORT_IP, 0L, RS1);
        cache.tick(t0 + SEC + SEC / 2);
        assertEquals(2, tx.total());
        cache.tick(t0 + 2 * SEC);
        assertEquals(3, tx.total(), "third request");
        assertTrue(drops.isEmpty());
        assertEquals(1, cache.size());

        cache.tick(t0 + 3 * SEC);
        assertEquals(3, tx.total(), "no fourth request");
        assertEquals(List.of(DropReason.NEIGH_UNRESOLVED, DropReason.NEIGH_UNRESOLVED,
                DropReason.NEIGH_UNRESOLVED, DropReason.NEIGH_UNRESOLVED, DropReason.NEIGH_UNRESOLVED), drops);
        assertEquals(0, cache.size(), "entry forgotten");
        assertFalse(cache.enqueue(RS1, frame(1, 60)), "no entry to park on");

        // A fresh miss starts over with a new request, and the pool is whole again.
        assertEquals(-1, cache.resolve(RS1, t0 + 4 * SEC));
        assertEquals(4, tx.total());
        for (int i = 0; i < NeighbourTable.PENDING_PER_NEIGH; i++) {
            assertTrue(cache.enqueue(RS1, frame(i, 60)));
        }
        cache.resolve(RS2, t0 + 4 * SEC);
        for (int i = 0; i < NeighbourTable.PENDING_PER_NEIGH; i++) {
            assertTrue(cache.enqueue(RS2, frame(i, 60)));
        }
    }

    @Test
    void replyBetweenRetransmitsReleasesAndStopsRetransmitting() {
        cache.resolve(RS1, t0);
        assertTrue(cache.enqueue(RS1, frame(1, 60)));
        cache.tick(t0 + SEC);
        cache.learn(RS1, RS1_MAC, false, t0 + SEC + 1);
        int sent = tx.total();
        cache.tick(t0 + 5 * SEC);
        cache.tick(t0 + 10 * SEC);
        assertEquals(sent, tx.total(), "reachable: no requests");
        assertTrue(drops.isEmpty());
        assertEquals(RS1_MAC, cache.resolve(RS1, t0 + 10 * SEC));
    }

    @Test
    void reachableTurnsStaleAfterThirtySecondsRefreshesButKeepsTheMac() {
        cache.learn(RS1, RS1_MAC, true, t0);
        assertEquals(0, tx.total(), "learning sends nothing");
        assertEquals(RS1_MAC, cache.resolve(RS1, t0 + 30 * SEC));
        assertEquals(0, tx.total(), "still reachable at exactly 30 s");
        assertEquals(RS1_MAC, cache.resolve(RS1, t0 + 30 * SEC + 1));
        assertEquals(1, tx.total(), "refresh request");
        assertArp(all().get(0), 0xFFFF_FFFF_FFFFL, 1, PORT_MAC, PORT_IP, 0L, RS1);
        assertEquals(RS1_MAC, cache.resolve(RS1, t0 + 30 * SEC + 2));
        assertEquals(1, tx.total(), "one refresh, not one per packet");
        // answered: reachable again for another 30 s
        cache.learn(RS1, RS2_MAC, false, t0 + 31 * SEC);
        assertEquals(RS2_MAC, cache.resolve(RS1, t0 + 60 * SEC));
        assertEquals(1, tx.total());
    }

    @Test
    void staleWithoutAnswerIsForgotten() {
        cache.learn(RS1, RS1_MAC, true, t0);
        long s = t0 + 31 * SEC;
        assertEquals(RS1_MAC, cache.resolve(RS1, s));
        cache.tick(s + SEC);
        cache.tick(s + 2 * SEC);
        assertEquals(3, tx.total());
        assertEquals(RS1_MAC, cache.resolve(RS1, s + 2 * SEC), "stale is still used");
        cache.tick(s + 3 * SEC);
        assertEquals(0, cache.size());
        assertTrue(drops.isEmpty(), "nothing was parked");
        assertEquals(-1, cache.resolve(RS1, s + 4 * SEC));
    }

    @Test
    void learnWithoutCreateDoesNotCreate() {
        cache.learn(RS1, RS1_MAC, false, t0);
        assertEquals(0, cache.size());
        assertEquals(-1, cache.resolve(RS1, t0));
        assertEquals(1, tx.total(), "a miss: request sent");
    }

    @Test
    void learnIgnoresZeroAddressesAndMulticastMacs() {
        cache.learn(0, RS1_MAC, true, t0);
        cache.learn(RS1, 0xFFFF_FFFF_FFFFL, true, t0);
        cache.learn(RS1, 0x01_00_5e_00_00_01L, true, t0);
        cache.learn(RS1, 0L, true, t0);
        assertEquals(0, cache.size());
    }

    @Test
    void deletionKeepsOtherEntriesReachable() {
        // Many entries (collisions in a 4096-slot table are certain); half answer, half are forgotten.
        int n = 2000;
        for (int i = 0; i < n; i++) {
            cache.resolve(0x0a10_0000 + i * 7919, t0);
        }
        for (int i = 0; i < n; i += 2) {
            cache.learn(0x0a10_0000 + i * 7919, 0x02_00_00_00_00_00L + i + 1, false, t0);
        }
        for (int k = 1; k <= 3; k++) {
            cache.tick(t0 + k * SEC);
        }
        assertEquals(n / 2, cache.size());
        port.flush();
        tx.clear();
        for (int i = 0; i < n; i += 2) {
            assertEquals(0x02_00_00_00_00_00L + i + 1, cache.resolve(0x0a10_0000 + i * 7919, t0 + 4 * SEC), "entry " + i);
        }
        assertEquals(0, tx.total(), "every learnt entry still found");
    }

    @Test
    void gratuitousAnnounce() {
        int vip = 0x0a00_0064;
        cache.announce(vip);
        assertEquals(1, tx.total());
        assertArp(all().get(0), 0xFFFF_FFFF_FFFFL, 1, PORT_MAC, vip, 0L, vip);
        assertEquals(0, cache.size());
    }

    @Test
    void flushFreesScratchAndSendsEverything() {
        for (int i = 0; i < 300; i++) {   // more than the 256 scratch slots: allocScratch flushes itself
            cache.announce(0x0a00_0100 + i);
        }
        assertEquals(300, tx.total());
        List<byte[]> out = all();
        for (int i = 0; i < 300; i++) {
            assertArp(out.get(i), 0xFFFF_FFFF_FFFFL, 1, PORT_MAC, 0x0a00_0100 + i, 0L, 0x0a00_0100 + i);
        }
    }
}
