package io.jvs.forwarder.service;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvs.forwarder.testkit.AllocationProbe;
import io.jvs.packet.Ipv4Address;

import org.junit.jupiter.api.Test;

/** The data path's view of VRRP: lookups in a published snapshot, allocation-free. */
class VrrpGateTest {
    static final int VIP = Ipv4Address.parse("10.0.0.100");
    static final int VIP2 = Ipv4Address.parse("10.0.0.101");
    static final int OTHER = Ipv4Address.parse("10.0.0.50");

    @Test
    void openUntilPublishedThenAsTheSnapshotSays() {
        VrrpGate gate = new VrrpGate();
        assertFalse(gate.silent(VIP), "no VRRP: never silent");
        gate.publish(VrrpGate.Snapshot.of(new int[] {VIP2, VIP}, new int[] {OTHER}));
        assertTrue(gate.silent(VIP));
        assertTrue(gate.silent(VIP2), "unsorted input is sorted");
        assertFalse(gate.silent(OTHER));
        assertTrue(gate.owned(OTHER));
        assertFalse(gate.owned(VIP));
    }

    @Test
    void ipv6AddressesAreSilentAsTheSnapshotSays() {
        VrrpGate gate = new VrrpGate();
        long hi = 0x20010db800000000L;
        assertFalse(gate.silent6(hi, 0x100), "no VRRP: never silent");
        // pairs out of order, one with a negative (signed) high word
        gate.publish(VrrpGate.Snapshot.of(new int[0], new int[0],
                new long[] {hi, 0x101, 0xfd00000000000000L, 0x1, hi, 0x100}));
        assertTrue(gate.silent6(hi, 0x100));
        assertTrue(gate.silent6(hi, 0x101));
        assertTrue(gate.silent6(0xfd00000000000000L, 0x1));
        assertFalse(gate.silent6(hi, 0x102));
        assertFalse(gate.silent6(hi + 1, 0x100), "the high word counts");
        assertFalse(gate.silent6(0x100, hi), "not the words swapped");
        assertFalse(gate.silent(VIP), "IPv4 stays open");
    }

    @Test
    void ipv6AddressesOfMasterInstancesAreOwned() {
        VrrpGate gate = new VrrpGate();
        long hi = 0x20010db800000000L;
        assertFalse(gate.owned6(hi, 0x254), "no VRRP: owns nothing");
        gate.publish(VrrpGate.Snapshot.of(new int[0], new int[0], new long[] {hi, 0x100},
                new long[] {hi, 0x255, hi, 0x254}));
        assertTrue(gate.owned6(hi, 0x254));
        assertTrue(gate.owned6(hi, 0x255), "unsorted input is sorted");
        assertFalse(gate.owned6(hi, 0x100), "silent, not owned");
        assertFalse(gate.silent6(hi, 0x254), "owned, not silent");
    }

    @Test
    void lookupsAllocateNothing() {
        VrrpGate gate = new VrrpGate();
        int[] silent = new int[64];
        for (int i = 0; i < silent.length; i++) {
            silent[i] = VIP + 2 * i;
        }
        long[] silent6 = new long[64];
        for (int i = 0; i < silent6.length; i += 2) {
            silent6[i] = 0x20010db800000000L;
            silent6[i + 1] = 0x100 + i;
        }
        gate.publish(VrrpGate.Snapshot.of(silent, new int[] {OTHER}, silent6, new long[] {0x20010db800000000L, 0x254}));
        int hits = 0;
        for (int i = 0; i < 100_000; i++) { // warm up
            hits += gate.silent(VIP + (i & 127)) ? 1 : 0;
        }
        long before = AllocationProbe.start();
        for (int i = 0; i < 1_000_000; i++) {
            hits += gate.silent(VIP + (i & 127)) ? 1 : 0;
            hits += gate.owned(OTHER + (i & 1)) ? 1 : 0;
            hits += gate.silent6(0x20010db800000000L, 0x100 + (i & 127)) ? 1 : 0;
            hits += gate.owned6(0x20010db800000000L, 0x254 + (i & 1)) ? 1 : 0;
        }
        long allocated = AllocationProbe.since(before);
        AllocationProbe.sink = hits;
        assertTrue(allocated < 4096, "allocated " + allocated + " bytes in 4M lookups");
    }
}
