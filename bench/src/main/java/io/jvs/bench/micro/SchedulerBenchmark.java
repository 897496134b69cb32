package io.jvs.bench.micro;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * One scheduler pick ({@link Scheduler#schedule}) for a new connection. The {@code scheduler}
 * parameter is overridden by {@link MicroMain} with every name in {@link Schedulers#NAMES}, so a
 * scheduler added there is benchmarked without touching this class. Real servers have weights
 * 1..4 (cycling) and varied connection counts, and clients vary in address and port (for the
 * hashing schedulers).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SchedulerBenchmark {
    @Param({"rr"})
    public String scheduler;

    @Param({"2", "16", "256"})
    public int servers;

    Scheduler s;
    int client;

    @Setup(Level.Trial)
    public void setup() {
        RealServer[] dests = new RealServer[servers];
        for (int i = 0; i < servers; i++) {
            DestStats stats = new DestStats();
            stats.addActive(i % 7);
            stats.addInactive(i % 3);
            dests[i] = new RealServer(0x0a00_0100 + i, 80, 1 + i % 4, ForwardMethod.DR, 0, 0, stats);
        }
        s = Schedulers.create(scheduler, dests);
        if (s.schedule(0x0a00_0102, 40000, 0x0a00_0064, 80) == null) {
            throw new IllegalStateException(scheduler + " picked no server");
        }
    }

    @Benchmark
    public RealServer pick() {
        int c = client++;
        return s.schedule(0x0a00_0000 | (c & 0xffff), 1024 + (c >>> 4 & 0x7fff), 0x0a00_0064, 80);
    }
}
