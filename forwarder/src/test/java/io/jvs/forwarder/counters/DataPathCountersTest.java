package io.jvs.forwarder.counters;

import io.jvs.forwarder.testkit.AllocationProbe;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataPathCountersTest {

    @Test
    void countsDropsByReason() {
        DataPathCounters c = new DataPathCounters("eth0");
        c.drop(DropReason.NO_SERVICE);
        c.drop(DropReason.NO_SERVICE);
        c.drop(DropReason.TX_ERROR);
        assertEquals(2, c.drops(DropReason.NO_SERVICE));
        assertEquals(1, c.drops(DropReason.TX_ERROR));
        assertEquals(0, c.drops(DropReason.TRUNCATED));
        assertEquals(3, c.totalDrops());
    }

    @Test
    void countsPerPort() {
        DataPathCounters c = new DataPathCounters("eth0", "jvs0");
        c.rx(0, 60);
        c.rx(0, 1500);
        c.tx(1, 100);
        c.addKernelDrops(0, 7);
        c.addKernelDrops(0, 3);
        assertEquals(2, c.rxFrames(0));
        assertEquals(1560, c.rxBytes(0));
        assertEquals(0, c.txFrames(0));
        assertEquals(1, c.txFrames(1));
        assertEquals(100, c.txBytes(1));
        assertEquals(0, c.rxFrames(1));
        assertEquals(10, c.kernelDrops(0));
        assertEquals(0, c.kernelDrops(1));
        assertEquals(2, c.portCount());
        assertEquals("jvs0", c.portName(1));
        assertThrows(IndexOutOfBoundsException.class, () -> c.rxFrames(2));
    }

    @Test
    void ignoredAndBusy() {
        DataPathCounters c = new DataPathCounters("eth0");
        c.ignored();
        c.ignored();
        c.busy(1_500);
        c.busy(500);
        assertEquals(2, c.ignoredFrames());
        assertEquals(2_000, c.busyNanos());
    }

    @Test
    void batchSizeBucketBoundaries() {
        int[][] cases = {{1, 0}, {2, 1}, {4, 1}, {5, 2}, {16, 2}, {17, 3}, {64, 3}, {65, 4}, {100_000, 4}};
        for (int[] kv : cases) {
            assertEquals(kv[1], DataPathCounters.bucketOf(kv[0]), "batch of " + kv[0]);
        }
        assertEquals(1, DataPathCounters.txBatchBucketBound(0));
        assertEquals(4, DataPathCounters.txBatchBucketBound(1));
        assertEquals(16, DataPathCounters.txBatchBucketBound(2));
        assertEquals(64, DataPathCounters.txBatchBucketBound(3));
        assertEquals(Integer.MAX_VALUE, DataPathCounters.txBatchBucketBound(4));
    }

    @Test
    void countsBatches() {
        DataPathCounters c = new DataPathCounters("eth0");
        c.txBatch(1);
        c.txBatch(3);
        c.txBatch(64);
        c.txBatch(200);
        c.txBatch(0); // nothing flushed: not a batch
        assertEquals(4, c.txBatches());
        assertEquals(268, c.txBatchFrames());
        assertEquals(1, c.txBatchBucket(0));
        assertEquals(1, c.txBatchBucket(1));
        assertEquals(0, c.txBatchBucket(2));
        assertEquals(1, c.txBatchBucket(3));
        assertEquals(1, c.txBatchBucket(4));
    }

    @Test
    void countsReceiveBurstsInTheirOwnHistogram() {
        DataPathCounters c = new DataPathCounters("eth0");
        c.rxBatch(1);
        c.rxBatch(2);
        c.rxBatch(16);
        c.rxBatch(256);
        c.rxBatch(0); // a wake-up that found nothing is not a burst
        assertEquals(4, c.rxBatches());
        assertEquals(275, c.rxBatchFrames());
        assertEquals(1, c.rxBatchBucket(0));
        assertEquals(1, c.rxBatchBucket(1));
        assertEquals(1, c.rxBatchBucket(2));
        assertEquals(0, c.rxBatchBucket(3));
        assertEquals(1, c.rxBatchBucket(4));
        assertEquals(0, c.txBatches(), "receive bursts are not transmit batches");
    }

    @Test
    void countsSchedulingDecisionsByOutcome() {
        DataPathCounters c = new DataPathCounters("eth0");
        c.decision(DataPathCounters.SchedulingOutcome.SCHEDULED);
        c.decision(DataPathCounters.SchedulingOutcome.SCHEDULED);
        c.decision(DataPathCounters.SchedulingOutcome.NO_DESTINATION);
        assertEquals(2, c.decisions(DataPathCounters.SchedulingOutcome.SCHEDULED));
        assertEquals(0, c.decisions(DataPathCounters.SchedulingOutcome.PERSISTENCE_TEMPLATE));
        assertEquals(1, c.decisions(DataPathCounters.SchedulingOutcome.NO_DESTINATION));
    }

    @Test
    void gaugesReadZeroUntilRegistered() {
        DataPathCounters c = new DataPathCounters("eth0");
        assertEquals(0, c.neighbourEntries());
        assertEquals(0, c.connectionTableEntries());
        assertEquals(0, c.connectionTableCapacity());
        c.neighbourEntries(() -> 3);
        c.connectionTable(() -> 10, () -> 1 << 20);
        assertEquals(3, c.neighbourEntries());
        assertEquals(10, c.connectionTableEntries());
        assertEquals(1 << 20, c.connectionTableCapacity());
    }

    @Test
    void rejectsBadPortNames() {
        assertThrows(IllegalArgumentException.class, DataPathCounters::new);
        assertThrows(IllegalArgumentException.class, () -> new DataPathCounters("a", "b", "c", "d", "e", "f", "g", "h",
                "i"));
        assertThrows(IllegalArgumentException.class, () -> new DataPathCounters("eth0", "eth0"));
        assertThrows(IllegalArgumentException.class, () -> new DataPathCounters(""));
    }

    @Test
    void writersDoNotAllocate() {
        DataPathCounters c = new DataPathCounters("eth0", "jvs0");
        DropReason[] reasons = DropReason.values();
        DataPathCounters.SchedulingOutcome[] outcomes = DataPathCounters.SchedulingOutcome.values();
        Runnable burst = () -> {
            for (int i = 0; i < 10_000; i++) {
                c.drop(reasons[i % reasons.length]);
                c.rx(i & 1, 64 + i);
                c.tx(i & 1, 64 + i);
                c.ignored();
                c.txBatch(1 + (i & 127));
                c.busy(i);
                c.addKernelDrops(i & 1, 1);
                c.rxBatch(1 + (i & 255));
                c.decision(outcomes[i % outcomes.length]);
            }
        };
        for (int i = 0; i < 20; i++) {
            burst.run(); // warm up (JIT, class init)
        }
        long before = AllocationProbe.start();
        burst.run();
        long allocated = AllocationProbe.since(before);
        // Reading the allocation counter itself may allocate a little; a
        // per-call allocation would be at least 10_000 x 16 bytes.
        assertTrue(allocated < 1024, "writers allocated " + allocated + " bytes");
    }

    @Test
    void readerOnAnotherThreadSeesWrites() throws Exception {
        DataPathCounters c = new DataPathCounters("eth0");
        long target = 5_000_000;
        AtomicBoolean seen = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            // A loop the JIT would hoist a plain read out of.
            while (c.rxFrames(0) < target) {
                Thread.onSpinWait();
            }
            seen.set(true);
            done.countDown();
        });
        for (long i = 0; i < target; i++) {
            c.rx(0, 64);
        }
        assertTrue(done.await(30, TimeUnit.SECONDS), "reader never saw the final count");
        assertTrue(seen.get());
        reader.join();
    }
}
