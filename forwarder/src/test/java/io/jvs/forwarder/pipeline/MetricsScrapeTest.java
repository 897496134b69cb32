package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.metrics.MetricsServer;
import io.jvs.forwarder.metrics.PrometheusExposition;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.VirtualService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.jvs.forwarder.pipeline.PipelineTest.ACK;
import static io.jvs.forwarder.pipeline.PipelineTest.CLIENT;
import static io.jvs.forwarder.pipeline.PipelineTest.DR_PORT;
import static io.jvs.forwarder.pipeline.PipelineTest.OTHER;
import static io.jvs.forwarder.pipeline.PipelineTest.PORT_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.ROUTER_MAC;
import static io.jvs.forwarder.pipeline.PipelineTest.SYN;
import static io.jvs.forwarder.pipeline.PipelineTest.VIP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Known frames through the data-path pipeline, then {@code GET /metrics} on a real
 * {@link MetricsServer} in each format the Prometheus client offers (text 0.0.4,
 * OpenMetrics, protobuf): every format shows the counts worked out by hand from
 * the frames, and those are what the data path's own counters hold.
 */
class MetricsScrapeTest {
    static final String WEB = "TCP/10.0.0.100:80";
    static final String RS1 = "10.0.0.11:80";
    static final String RS2 = "10.0.0.12:80";
    static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    static final String PROTOBUF =
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

    final PipelineTest.Pipe pipe = new PipelineTest.Pipe(1024);
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    MetricsServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
        client.close();
        assertEquals(0, pipe.counters.drops(DropReason.INTERNAL_ERROR), "no exception inside the pipeline");
        pipe.close();
    }

    /** The known traffic; each frame's length is fixed by Frames.tcp: max(60, 14 + 20 + 20 + payload). */
    void knownTraffic() {
        pipe.one(PipelineTest.syn(CLIENT, 40000, DR_PORT));  // 60 bytes; new connection, rr: RS2 (newest) first
        pipe.one(PipelineTest.syn(CLIENT, 40001, DR_PORT));  // 60 bytes; new connection to RS1
        pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, DR_PORT, ACK, 64, 10)); // 64 bytes, to RS2
        pipe.none(PipelineTest.syn(CLIENT, 40002, 81), DropReason.NO_SERVICE);  // VIP, no service on port 81
        pipe.none(PipelineTest.syn(CLIENT, 40003, 82), DropReason.NO_SERVICE);
        pipe.ignored(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40004, OTHER, 80, SYN, 64, 0)); // not a VIP
    }

    /** Series -> value, worked out from {@link #knownTraffic}. */
    static Map<String, Double> expected() {
        Map<String, Double> e = new TreeMap<>();
        e.put("jvs_service_connections_total{service=" + WEB + "}", 2.0);
        e.put("jvs_service_packets_total{direction=in,service=" + WEB + "}", 3.0);
        e.put("jvs_service_bytes_total{direction=in,service=" + WEB + "}", 60.0 + 60 + 64);
        e.put("jvs_service_packets_total{direction=out,service=" + WEB + "}", 0.0);
        e.put("jvs_real_server_connections_total{real_server=" + RS2 + ",service=" + WEB + "}", 1.0);
        e.put("jvs_real_server_connections_total{real_server=" + RS1 + ",service=" + WEB + "}", 1.0);
        e.put("jvs_real_server_packets_total{direction=in,real_server=" + RS2 + ",service=" + WEB + "}", 2.0);
        e.put("jvs_real_server_bytes_total{direction=in,real_server=" + RS2 + ",service=" + WEB + "}", 60.0 + 64);
        e.put("jvs_real_server_bytes_total{direction=in,real_server=" + RS1 + ",service=" + WEB + "}", 60.0);
        e.put("jvs_scheduler_decisions_total{outcome=scheduled}", 2.0);
        e.put("jvs_dropped_packets_total{reason=no_service}", 2.0);
        e.put("jvs_dropped_packets_total{reason=no_connection}", 0.0);
        e.put("jvs_sloppy_accepted_total{protocol=tcp}", 0.0);
        e.put("jvs_ignored_frames_total", 1.0);
        return e;
    }

    @Test
    void everyFormatShowsTheCountsOfKnownTraffic() throws Exception {
        knownTraffic();
        // The data path's own counters hold the hand-computed counts ...
        VirtualService web = pipe.registry.current().services().stream()
                .filter(s -> s.label().equals(WEB)).findFirst().orElseThrow();
        DestStats rs2 = web.dest(Ipv4Address.parse("10.0.0.12"), 80).stats;
        assertEquals(2, web.stats.conns());
        assertEquals(184, web.stats.inBytes());
        assertEquals(124, rs2.inBytes());
        assertEquals(2, pipe.counters.drops(DropReason.NO_SERVICE));
        assertEquals(2, pipe.counters.decisions(DataPathCounters.SchedulingOutcome.SCHEDULED));
        assertEquals(1, pipe.counters.ignoredFrames());

        // ... and so does every format the scrape is read in.
        server = new MetricsServer(new InetSocketAddress("127.0.0.1", 0),
                new PrometheusExposition(pipe.registry, pipe.counters));
        server.start();

        HttpResponse<byte[]> text = get(null);
        assertEquals("text/plain; version=0.0.4; charset=utf-8", contentType(text));
        String body = new String(text.body(), StandardCharsets.UTF_8);
        assertTrue(body.contains("# TYPE jvs_service_bytes_total counter\n"), body);
        assertSeries(expected(), textSeries(body), "text 0.0.4");
        assertEquals(contentType(text), contentType(get("text/plain;version=0.0.4;q=0.5,*/*;q=0.1")));

        // What Prometheus 2.x sends first.
        HttpResponse<byte[]> om = get("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                + "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        assertEquals(OPENMETRICS, contentType(om));
        String omBody = new String(om.body(), StandardCharsets.UTF_8);
        assertTrue(omBody.endsWith("# EOF\n"), "OpenMetrics ends with # EOF: ..."
                + omBody.substring(Math.max(0, omBody.length() - 200)));
        // OpenMetrics names the counter family without _total; its samples keep it.
        assertTrue(omBody.contains("# TYPE jvs_service_bytes counter\n"), omBody);
        assertTrue(omBody.contains("# TYPE jvs_service info\n"), omBody);
        assertSeries(expected(), textSeries(omBody), "OpenMetrics");

        HttpResponse<byte[]> proto = get(PROTOBUF);
        assertEquals(PROTOBUF, contentType(proto));
        assertSeries(expected(), protobufSeries(proto.body()), "protobuf");

        // A second scrape after one more frame: fresh values, not a cached copy.
        pipe.none(PipelineTest.syn(CLIENT, 40005, 83), DropReason.NO_SERVICE);
        Map<String, Double> more = expected();
        more.put("jvs_dropped_packets_total{reason=no_service}", 3.0);
        assertSeries(more, protobufSeries(get(PROTOBUF).body()), "protobuf, second scrape");
        assertSeries(more, textSeries(new String(get(null).body(), StandardCharsets.UTF_8)), "text, second scrape");
    }

    HttpResponse<byte[]> get(String accept) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.localAddress().getPort() + "/metrics"))
                .timeout(Duration.ofSeconds(10));
        if (accept != null) {
            b.header("Accept", accept);
        }
        HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertEquals("Accept", r.headers().firstValue("vary").orElse(""));
        return r;
    }

    static String contentType(HttpResponse<?> r) {
        return r.headers().firstValue("content-type").orElseThrow();
    }

    static void assertSeries(Map<String, Double> expected, Map<String, Double> scraped, String format) {
        expected.forEach((series, value) -> assertEquals(value, scraped.get(series), format + ": " + series));
    }

    // ---------------------------------------------------------------- readers written here, not the client's

    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** Sample lines of the text format or OpenMetrics as "name{k=v,...}" (labels sorted, unquoted) -> value. */
    static Map<String, Double> textSeries(String body) {
        Map<String, Double> out = new HashMap<>();
        for (String line : body.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), line);
            Map<String, String> labels = new TreeMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            out.put(key(m.group(1), labels), Double.parseDouble(m.group(3).replace("+Inf", "Infinity")));
        }
        return out;
    }

    static String key(String name, Map<String, String> sortedLabels) {
        if (sortedLabels.isEmpty()) {
            return name;
        }
        StringBuilder b = new StringBuilder(name).append('{');
        sortedLabels.forEach((k, v) -> b.append(b.charAt(b.length() - 1) == '{' ? "" : ",").append(k).append('=').append(v));
        return b.append('}').toString();
    }

    /**
     * Counter and gauge samples of the delimited protobuf format (io.prometheus.client.MetricFamily,
     * client_model's metrics.proto), read with a wire-format reader of its own: MetricFamily
     * {1 name, 4 metric}, Metric {1 label {1 name, 2 value}, 2 gauge {1 value}, 3 counter {1 value}}.
     */
    static Map<String, Double> protobufSeries(byte[] body) {
        Map<String, Double> out = new HashMap<>();
        Wire families = new Wire(body);
        while (families.more()) {
            Wire family = new Wire(families.bytes());
            String name = null;
            while (family.more()) {
                int tag = (int) family.varint();
                if (tag == (1 << 3 | 2)) {
                    name = new String(family.bytes(), StandardCharsets.UTF_8);
                } else if (tag == (4 << 3 | 2)) {
                    Wire metric = new Wire(family.bytes());
                    Map<String, String> labels = new TreeMap<>();
                    Double value = null;
                    while (metric.more()) {
                        int mtag = (int) metric.varint();
                        if (mtag == (1 << 3 | 2)) {
                            Wire pair = new Wire(metric.bytes());
                            String k = null;
                            String v = null;
                            while (pair.more()) {
                                int ptag = (int) pair.varint();
                                if (ptag == (1 << 3 | 2)) {
                                    k = new String(pair.bytes(), StandardCharsets.UTF_8);
                                } else if (ptag == (2 << 3 | 2)) {
                                    v = new String(pair.bytes(), StandardCharsets.UTF_8);
                                } else {
                                    pair.skip(ptag);
                                }
                            }
                            labels.put(k, v);
                        } else if (mtag == (2 << 3 | 2) || mtag == (3 << 3 | 2)) {
                            Wire v = new Wire(metric.bytes());
                            while (v.more()) {
                                int vtag = (int) v.varint();
                                if (vtag == (1 << 3 | 1)) {
                                    value = v.double64();
                                } else {
                                    v.skip(vtag);
                                }
                            }
                            if (value == null) {
                                value = 0.0; // proto3: a zero double is not written
                            }
                        } else {
                            metric.skip(mtag);
                        }
                    }
                    if (value != null) {
                        out.put(key(name, labels), value);
                    }
                } else {
                    family.skip(tag);
                }
            }
        }
        return out;
    }

    /** A protobuf wire-format reader over one message (or, at the top, the length-delimited stream). */
    static final class Wire {
        private final ByteBuffer buf;

        Wire(byte[] b) {
            buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        }

        boolean more() {
            return buf.hasRemaining();
        }

        long varint() {
            long v = 0;
            for (int shift = 0; ; shift += 7) {
                byte b = buf.get();
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return v;
                }
            }
        }

        byte[] bytes() {
            byte[] b = new byte[(int) varint()];
            buf.get(b);
            return b;
        }

        double double64() {
            return buf.getDouble();
        }

        void skip(int tag) {
            switch (tag & 7) {
                case 0 -> varint();
                case 1 -> buf.position(buf.position() + 8);
                case 2 -> bytes();
                case 5 -> buf.position(buf.position() + 4);
                default -> throw new IllegalArgumentException("wire type " + (tag & 7));
            }
        }
    }

    /** The protobuf reader above against a message written by hand: family "x", one counter of 5. */
    @Test
    void protobufReaderReadsAHandWrittenFamily() {
        byte[] family = {0x0A, 0x01, 'x', 0x22, 0x0B, 0x1A, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0x14, 0x40};
        byte[] stream = new byte[family.length + 1];
        stream[0] = (byte) family.length;
        System.arraycopy(family, 0, stream, 1, family.length);
        assertEquals(Map.of("x", 5.0), protobufSeries(stream));
    }
}
