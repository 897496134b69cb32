package io.jvs.forwarder.testkit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe the "does not allocate" tests rely on sees an allocation it is shown. */
class AllocationProbeTest {

    @Test
    void seesAKnownAllocation() {
        long before = AllocationProbe.start();
        AllocationProbe.sink = new long[128 * 1024]; // 1 MiB
        long grew = AllocationProbe.since(before);
        AllocationProbe.sink = null;
        assertTrue(grew >= 1024 * 1024 && grew < 2 * 1024 * 1024, "1 MiB allocated, counted " + grew);
    }
}
