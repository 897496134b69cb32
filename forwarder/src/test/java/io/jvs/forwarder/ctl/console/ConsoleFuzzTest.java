package io.jvs.forwarder.ctl.console;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.ctl.ipvsadm.JvsadmHarness;
import io.jvs.forwarder.metrics.MetricsServer;
import io.jvs.forwarder.testkit.FuzzChecks;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The web console's request handling ({@link Console#handle}) on requests the fuzzer writes:
 * method, path, cookies, CSRF header, content type and body. Properties: every request is
 * answered with a status the console documents (or left to the metrics server: null), never a
 * stack trace in the body; and without a session from the right token no change ever reaches the
 * configuration.
 */
class ConsoleFuzzTest {
    private static final InetSocketAddress PEER = new InetSocketAddress("10.0.1.2", 40000);
    private static final List<String> PATHS = List.of("/console", "/api/console", "/api/login", "/api/logout",
            "/api/change", "/api/audit", "/");
    private static final Set<Integer> STATUSES = Set.of(200, 204, 303, 400, 401, 403, 404, 405, 413, 415, 422, 429);

    /**
     * One director for every input, with one service: an input that changed its configuration fails
     * the property below (so the next input starts from the same one); sessions and audit log are
     * new per input.
     */
    private static final JvsadmHarness HARNESS = new JvsadmHarness();
    private static final ServiceConfig BEFORE;

    static {
        HARNESS.ok("-A -t 10.0.0.100:80 -s rr");
        BEFORE = HARNESS.control.config();
    }

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void request(FuzzedDataProvider data) {
        JvsadmHarness harness = HARNESS;
        ServiceConfig before = BEFORE;
        Console console = new Console(harness.jvsadm, harness.control::table, List::of, List::of,
                new ConsoleSessions("secret-token", System::nanoTime, new SecureRandom(), Duration.ofMinutes(10)),
                new AuditLog(8, Clock.fixed(Instant.parse("2026-12-03T03:00:00Z"), ZoneOffset.UTC), l -> { }));
        int n = data.consumeInt(1, 4);
        for (int i = 0; i < n && data.remainingBytes() > 0; i++) {
            String method = data.pickValue(List.of("GET", "POST", "PUT", "HEAD", "DELETE"));
            String path = data.consumeBoolean() ? data.pickValue(PATHS) : data.consumeString(40);
            Map<String, String> headers = new HashMap<>();
            if (data.consumeBoolean()) {
                headers.put("content-type", data.consumeBoolean() ? "application/x-www-form-urlencoded"
                        : data.consumeString(40));
            }
            if (data.consumeBoolean()) {
                headers.put("cookie", data.consumeString(80));
            }
            if (data.consumeBoolean()) {
                headers.put("x-csrf-token", data.consumeString(40));
            }
            byte[] body = data.consumeBytes(data.consumeInt(0, 600));
            MetricsServer.Response r = console.handle(new MetricsServer.Request(method, path, data.consumeString(40),
                    headers, body, PEER, data.consumeBoolean()));
            if (r == null) {
                assertTrue(!PATHS.contains(path) || path.equals("/"), "a console path is the console's: " + path);
                continue;
            }
            assertTrue(STATUSES.contains(r.status()), "a documented status: " + r.status() + " for " + method + " " + path);
            String text = new String(r.body(), StandardCharsets.UTF_8);
            if (!path.equals("/console")) {
                FuzzChecks.noStackTrace(method + " " + path, text, path + headers + new String(body, StandardCharsets.UTF_8));
            }
        }
        assertEquals(before, harness.control.config(), "no session, no change");
    }
}
