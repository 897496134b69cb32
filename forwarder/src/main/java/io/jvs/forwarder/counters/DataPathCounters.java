package io.jvs.forwarder.counters;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The data path's own counters: drops by reason, per-port receive/transmit,
 * frames left to the kernel, transmit batching, event-loop busy time and
 * kernel ring drops, plus gauges the data path's structures register.
 *
 * <p>Invariants:
 * <ul>
 *   <li>Single writer: only the event-loop thread that owns the data path
 *       calls the writer methods ({@link #drop}, {@link #rx}, {@link #tx},
 *       {@link #ignored}, {@link #txBatch}, {@link #busy},
 *       {@link #addKernelDrops}). They do plain read-increment-write on
 *       {@code long[]} slots: no allocation, no locks, no fences, no CAS.</li>
 *   <li>Readers (the metrics thread) use opaque reads: they may see values a
 *       few frames old, but each read is of memory (the JIT cannot hoist it out
 *       of a loop) and, on the 64-bit JVMs jvs runs on, never torn.</li>
 *   <li>Every counter is monotonic; only the gauges go down.</li>
 *   <li>Ports are small ints {@code 0 .. portCount()-1}, at most
 *       {@value #MAX_PORTS}, named at construction ("eth0", "jvs0"). A port
 *       index out of range is a programming error
 *       ({@link ArrayIndexOutOfBoundsException}), not a drop.</li>
 * </ul>
 *
 * <p>Transmit batches are counted in a fixed histogram of batch sizes with
 * inclusive upper bounds 1, 4, 16, 64 and +Inf (that is, 1, 2-4, 5-16, 17-64
 * and 65+ frames per flush), plus the number of batches and the number of
 * frames sent in them. Receive bursts (frames handled per epoll wake-up) are
 * counted the same way, in a histogram of their own.
 *
 * <p>Scheduling decisions for new connections are counted by outcome
 * ({@link SchedulingOutcome}): the scheduler picked a server, a persistence
 * template supplied it, or no server was available.
 */
public final class DataPathCounters {
    /** Most ports one data path drives. */
    public static final int MAX_PORTS = 8;

    /**
     * Inclusive upper bounds of the transmit batch-size buckets but the last,
     * which is unbounded (+Inf).
     */
    private static final int[] BATCH_BUCKET_BOUNDS = {1, 4, 16, 64};

    /** Number of batch-size buckets, the +Inf one included. */
    public static final int BATCH_BUCKETS = BATCH_BUCKET_BOUNDS.length + 1;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private static final DropReason[] REASONS = DropReason.values();

    // Per-port slots: port * PORT_STRIDE + field.
    private static final int RX_FRAMES = 0;
    private static final int RX_BYTES = 1;
    private static final int TX_FRAMES = 2;
    private static final int TX_BYTES = 3;
    private static final int KERNEL_DROPS = 4;
    private static final int PORT_STRIDE = 5;

    // Scalar slots.
    private static final int IGNORED = 0;
    private static final int BUSY_NANOS = 1;
    private static final int TX_BATCHES = 2;
    private static final int TX_BATCH_FRAMES = 3;
    private static final int RX_BATCHES = 4;
    private static final int RX_BATCH_FRAMES = 5;
    private static final int SLOPPY_TCP_ACCEPTED = 6;
    private static final int SYNPROXY_SYN_ACKS = 7;
    private static final int SYNPROXY_OPENED = 8;
    private static final int SYNPROXY_SPLICED = 9;
    private static final int SYNPROXY_HELD = 10;
    private static final int EMBRYONIC_RECLAIMED = 11;
    private static final int EMBRYONIC_DROPPED = 12;
    private static final int SCALARS = 13;

    /** How a new connection got its real server (the {@code outcome} label of jvs_scheduler_decisions_total). */
    public enum SchedulingOutcome {
        /** The service's scheduler picked a server. */
        SCHEDULED("scheduled"),
        /** A persistence template named the server; the scheduler was not asked. */
        PERSISTENCE_TEMPLATE("persistence_template"),
        /** No server was available (dropped as no_destination). */
        NO_DESTINATION("no_destination");

        private final String label;

        SchedulingOutcome(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private static final SchedulingOutcome[] OUTCOMES = SchedulingOutcome.values();

    private static final IntSupplier ZERO = () -> 0;

    private final String[] portNames;
    private final long[] drops = new long[REASONS.length];
    private final long[] ports;
    private final long[] scalars = new long[SCALARS];
    private final long[] batchBuckets = new long[BATCH_BUCKETS];
    private final long[] rxBatchBuckets = new long[BATCH_BUCKETS];
    private final long[] decisions = new long[OUTCOMES.length];

    /** For a {@link #total} view: the workers' counters its readers sum; empty for a worker's own. */
    private DataPathCounters[] parts = new DataPathCounters[0];

    private volatile IntSupplier neighbourEntries = ZERO;
    private volatile IntSupplier localPortsInUse = ZERO;
    private volatile LongSupplier eventLoopAllocated = () -> 0L;
    private volatile IntSupplier connectionEntries = ZERO;
    private volatile IntSupplier connectionCapacity = ZERO;
    private volatile IntSupplier[] defenseLevels = {ZERO, ZERO, ZERO};

    /**
     * @param portNames the name of each port, by index (the {@code port} label);
     *                  1 to {@value #MAX_PORTS} distinct, non-empty names
     */
    public DataPathCounters(String... portNames) {
        if (portNames.length == 0 || portNames.length > MAX_PORTS) {
            throw new IllegalArgumentException(
                    "expected 1.." + MAX_PORTS + " port names, got " + portNames.length);
        }
        for (int i = 0; i < portNames.length; i++) {
            String name = Objects.requireNonNull(portNames[i], "port name");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("port " + i + " has an empty name");
            }
            for (int j = 0; j < i; j++) {
                if (portNames[j].equals(name)) {
                    throw new IllegalArgumentException("port name \"" + name + "\" given twice");
                }
            }
        }
        this.portNames = portNames.clone();
        this.ports = new long[portNames.length * PORT_STRIDE];
    }

    /**
     * A read-only view whose readers return the sum over {@code workers} (one DataPathCounters per
     * worker, same ports); its gauges are registered on it like a worker's (the director sums them).
     */
    public static DataPathCounters total(DataPathCounters... workers) {
        DataPathCounters t = new DataPathCounters(workers[0].portNames);
        t.parts = workers.clone();
        return t;
    }

    // ---------------------------------------------------------------- writers (data-path thread only)

    /** One frame dropped for this reason. */
    public void drop(DropReason reason) {
        drops[reason.ordinal()]++;
    }

    /** One frame of {@code bytes} bytes received on {@code port}. */
    public void rx(int port, int bytes) {
        int base = port * PORT_STRIDE;
        ports[base + RX_FRAMES]++;
        ports[base + RX_BYTES] += bytes;
    }

    /** One frame of {@code bytes} bytes handed to the kernel for transmit on {@code port}. */
    public void tx(int port, int bytes) {
        int base = port * PORT_STRIDE;
        ports[base + TX_FRAMES]++;
        ports[base + TX_BYTES] += bytes;
    }

    /** A whole transmit flush: {@code frames} frames, {@code bytes} bytes on {@code port}. */
    public void tx(int port, int frames, long bytes) {
        int base = port * PORT_STRIDE;
        ports[base + TX_FRAMES] += frames;
        ports[base + TX_BYTES] += bytes;
    }

    /** One frame not for jvs: passed on to (or left with) the kernel untouched. */
    public void ignored() {
        scalars[IGNORED]++;
    }

    /** One transmit flush of {@code frames} frames; a flush of none is not a batch. */
    public void txBatch(int frames) {
        if (frames <= 0) {
            return;
        }
        scalars[TX_BATCHES]++;
        scalars[TX_BATCH_FRAMES] += frames;
        batchBuckets[bucketOf(frames)]++;
    }

    /** One receive burst (one epoll wake-up) that handled {@code frames} frames; an empty one is not counted. */
    public void rxBatch(int frames) {
        if (frames <= 0) {
            return;
        }
        scalars[RX_BATCHES]++;
        scalars[RX_BATCH_FRAMES] += frames;
        rxBatchBuckets[bucketOf(frames)]++;
    }

    /** One new connection's scheduling decision. */
    public void decision(SchedulingOutcome outcome) {
        decisions[outcome.ordinal()]++;
    }

    /** One TCP connection opened by a segment other than a SYN (sloppy_tcp). */
    public void sloppyTcpAccept() {
        scalars[SLOPPY_TCP_ACCEPTED]++;
    }

    /** SYN proxy: one SYN answered with a SYN cookie (no connection entry made). */
    public void synProxySynAck() {
        scalars[SYNPROXY_SYN_ACKS]++;
    }

    /** SYN proxy: one ACK with a valid cookie opened a connection (and a SYN went to its real server). */
    public void synProxyOpened() {
        scalars[SYNPROXY_OPENED]++;
    }

    /** SYN proxy: one real server's SYN-ACK spliced to its client's connection. */
    public void synProxySpliced() {
        scalars[SYNPROXY_SPLICED]++;
    }

    /** SYN proxy: one client segment held until its real server answered. */
    public void synProxyHeld() {
        scalars[SYNPROXY_HELD]++;
    }

    /** A full table made room for a new connection by removing its oldest embryonic entry. */
    public void embryonicReclaim() {
        scalars[EMBRYONIC_RECLAIMED]++;
    }

    /** drop_entry removed {@code n} embryonic entries in one of its once-a-second scans. */
    public void embryonicDrop(int n) {
        scalars[EMBRYONIC_DROPPED] += n;
    }

    /** Time the event loop spent working (not waiting in epoll), in nanoseconds. */
    public void busy(long nanos) {
        scalars[BUSY_NANOS] += nanos;
    }

    /**
     * Frames the kernel dropped before the data path saw them (the receive
     * ring was full): the {@code tp_drops} of a PACKET_STATISTICS read, which
     * resets the kernel's count, so each read's value is added.
     */
    public void addKernelDrops(int port, long n) {
        ports[port * PORT_STRIDE + KERNEL_DROPS] += n;
    }

    static int bucketOf(int frames) {
        if (frames <= 1) {
            return 0;
        }
        if (frames <= 4) {
            return 1;
        }
        if (frames <= 16) {
            return 2;
        }
        return frames <= 64 ? 3 : 4;
    }

    // ---------------------------------------------------------------- gauges (registered by the wiring)

    /**
     * Bytes the event-loop thread has allocated since it started (the JVM's
     * per-thread counter): the live proof that the hot path allocates nothing
     * per packet — it must stay flat while packets flow.
     */
    public void eventLoopAllocatedBytes(LongSupplier bytes) {
        this.eventLoopAllocated = Objects.requireNonNull(bytes);
    }

    public long eventLoopAllocatedBytes() {
        return eventLoopAllocated.getAsLong();
    }

    /** FULLNAT local ports held by connections, all local addresses; called on the metrics thread. */
    public void localPortsInUse(IntSupplier inUse) {
        this.localPortsInUse = Objects.requireNonNull(inUse);
    }

    public int localPortsInUse() {
        return localPortsInUse.getAsInt();
    }

    /** The neighbour (ARP) cache's size; the supplier is called on the metrics thread. */
    public void neighbourEntries(IntSupplier entries) {
        this.neighbourEntries = Objects.requireNonNull(entries);
    }

    /** The connection table's size and capacity; the suppliers are called on the metrics thread. */
    public void connectionTable(IntSupplier entries, IntSupplier capacity) {
        this.connectionEntries = Objects.requireNonNull(entries);
        this.connectionCapacity = Objects.requireNonNull(capacity);
    }

    // ---------------------------------------------------------------- readers (any thread)

    public int portCount() {
        return portNames.length;
    }

    public String portName(int port) {
        return portNames[port];
    }

    public long drops(DropReason reason) {
        return sum(c -> c.drops, reason.ordinal());
    }

    /** Sum of drops over every reason. */
    public long totalDrops() {
        long sum = 0;
        for (int i = 0; i < drops.length; i++) {
            sum += sum(c -> c.drops, i);
        }
        return sum;
    }

    public long rxFrames(int port) {
        return portSlot(port, RX_FRAMES);
    }

    public long rxBytes(int port) {
        return portSlot(port, RX_BYTES);
    }

    public long txFrames(int port) {
        return portSlot(port, TX_FRAMES);
    }

    public long txBytes(int port) {
        return portSlot(port, TX_BYTES);
    }

    public long kernelDrops(int port) {
        return portSlot(port, KERNEL_DROPS);
    }

    public long ignoredFrames() {
        return sum(c -> c.scalars, IGNORED);
    }

    public long busyNanos() {
        return sum(c -> c.scalars, BUSY_NANOS);
    }

    /** Number of transmit flushes that sent at least one frame. */
    public long txBatches() {
        return sum(c -> c.scalars, TX_BATCHES);
    }

    /** Frames sent in all those flushes (the histogram's sum). */
    public long txBatchFrames() {
        return sum(c -> c.scalars, TX_BATCH_FRAMES);
    }

    /** Batches that fell in bucket {@code b} (0..{@link #BATCH_BUCKETS}-1), not cumulative. */
    public long txBatchBucket(int bucket) {
        return sum(c -> c.batchBuckets, bucket);
    }

    /** Receive bursts that handled at least one frame. */
    public long rxBatches() {
        return sum(c -> c.scalars, RX_BATCHES);
    }

    /** Frames handled in those bursts (the receive histogram's sum). */
    public long rxBatchFrames() {
        return sum(c -> c.scalars, RX_BATCH_FRAMES);
    }

    /** Receive bursts that fell in bucket {@code b}, not cumulative. */
    public long rxBatchBucket(int bucket) {
        return sum(c -> c.rxBatchBuckets, bucket);
    }

    public long synProxySynAckCount() {
        return sum(c -> c.scalars, SYNPROXY_SYN_ACKS);
    }

    public long synProxyOpenedCount() {
        return sum(c -> c.scalars, SYNPROXY_OPENED);
    }

    public long synProxySplicedCount() {
        return sum(c -> c.scalars, SYNPROXY_SPLICED);
    }

    public long synProxyHeldCount() {
        return sum(c -> c.scalars, SYNPROXY_HELD);
    }

    /** Embryonic entries removed to make room for a new connection in a full table. */
    public long embryonicReclaimed() {
        return sum(c -> c.scalars, EMBRYONIC_RECLAIMED);
    }

    /** Embryonic entries removed by drop_entry's scans. */
    public long embryonicDropped() {
        return sum(c -> c.scalars, EMBRYONIC_DROPPED);
    }

    /** The defence's current levels (drop_entry, drop_packet, secure_tcp), registered by the wiring. */
    public void defenseLevels(IntSupplier dropEntry, IntSupplier dropPacket, IntSupplier secureTcp) {
        defenseLevels = new IntSupplier[] {dropEntry, dropPacket, secureTcp};
    }

    /** Level 0..3 of strategy 0 (drop_entry), 1 (drop_packet) or 2 (secure_tcp). */
    public int defenseLevel(int strategy) {
        return defenseLevels[strategy].getAsInt();
    }

    /** TCP connections opened by a segment other than a SYN (sloppy_tcp). */
    public long sloppyTcpAccepted() {
        return sum(c -> c.scalars, SLOPPY_TCP_ACCEPTED);
    }

    public long decisions(SchedulingOutcome outcome) {
        return sum(c -> c.decisions, outcome.ordinal());
    }

    /** Inclusive upper bound of bucket {@code b}, or {@link Integer#MAX_VALUE} for the last (+Inf). */
    public static int txBatchBucketBound(int bucket) {
        return bucket < BATCH_BUCKET_BOUNDS.length ? BATCH_BUCKET_BOUNDS[bucket] : Integer.MAX_VALUE;
    }

    public int neighbourEntries() {
        return neighbourEntries.getAsInt();
    }

    public int connectionTableEntries() {
        return connectionEntries.getAsInt();
    }

    public int connectionTableCapacity() {
        return connectionCapacity.getAsInt();
    }

    private long portSlot(int port, int field) {
        if (port < 0 || port >= portNames.length) {
            throw new IndexOutOfBoundsException("port " + port + " of " + portNames.length);
        }
        return sum(c -> c.ports, port * PORT_STRIDE + field);
    }

    /** Slot {@code index} of one of the arrays: this instance's own, or the sum over the parts of a total. */
    private long sum(java.util.function.Function<DataPathCounters, long[]> array, int index) {
        if (parts.length == 0) {
            return read(array.apply(this), index);
        }
        long n = 0;
        for (DataPathCounters p : parts) {
            n += read(array.apply(p), index);
        }
        return n;
    }

    private static long read(long[] array, int index) {
        return (long) LONGS.getOpaque(array, index);
    }
}
