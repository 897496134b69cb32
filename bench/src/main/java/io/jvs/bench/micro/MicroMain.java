package io.jvs.bench.micro;

import io.jvs.forwarder.sched.Schedulers;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs the JMH suite with the GC profiler (so B/op is measured for every benchmark) and writes a
 * markdown table. Scheduler benchmarks take every name in {@link Schedulers#NAMES}.
 *
 * <pre>java -cp bench/target/classes:bench/target/lib/* io.jvs.bench.micro.MicroMain [--quick] [--out FILE.md] [--json FILE]</pre>
 */
public final class MicroMain {
    private MicroMain() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        Path out = null;
        String json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--out" -> out = Path.of(args[++i]);
                case "--json" -> json = args[++i];
                default -> {
                    System.err.println("MicroMain: unknown argument " + args[i]
                            + " (expected --quick, --out FILE.md, --json FILE)");
                    System.exit(2);
                }
            }
        }
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include(PacketPathBenchmark.class.getName())
                .include(SchedulerBenchmark.class.getName())
                .include(ConnectionTableBenchmark.class.getName())
                .param("scheduler", Schedulers.NAMES.toArray(String[]::new))
                .addProfiler(GCProfiler.class)
                .shouldFailOnError(true);
        if (quick) {
            b.warmupIterations(2).warmupTime(TimeValue.milliseconds(500))
                    .measurementIterations(3).measurementTime(TimeValue.milliseconds(500));
        }
        if (json != null) {
            b.resultFormat(org.openjdk.jmh.results.format.ResultFormatType.JSON).result(json);
        }
        Collection<RunResult> results = new Runner(b.build()).run();
        String md = table(results);
        System.out.println();
        System.out.print(md);
        if (out != null) {
            Files.writeString(out, md);
        }
    }

    /** Markdown: benchmark, params, ns/op (score +- error), B/op. */
    static String table(Collection<RunResult> results) {
        List<String> rows = new ArrayList<>();
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            bench = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1);
            Map<String, String> params = new TreeMap<>();
            for (String k : r.getParams().getParamsKeys()) {
                params.put(k, r.getParams().getParam(k));
            }
            Result<?> primary = r.getPrimaryResult();
            Result<?> norm = r.getSecondaryResults().get("gc.alloc.rate.norm");
            rows.add(String.format(Locale.ROOT, "| %s | %s | %.1f ± %.1f | %s |",
                    bench.replace("Benchmark.", "."),
                    params.isEmpty() ? "" : params.toString().replaceAll("[{}]", ""),
                    primary.getScore(), Double.isNaN(primary.getScoreError()) ? 0.0 : primary.getScoreError(),
                    norm == null ? "n/a" : String.format(Locale.ROOT, "%.3f", norm.getScore())));
        }
        StringBuilder sb = new StringBuilder();
        sb.append("| benchmark | params | ns/op | B/op (gc.alloc.rate.norm) |\n|---|---|---|---|\n");
        for (String row : rows) {
            sb.append(row).append('\n');
        }
        return sb.toString();
    }

    static void write(Path p, String s) throws IOException {
        Files.writeString(p, s);
    }
}
