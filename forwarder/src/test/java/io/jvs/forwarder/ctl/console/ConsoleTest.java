package io.jvs.forwarder.ctl.console;

import io.jvs.forwarder.ctl.ipvsadm.JvsadmHarness;
import io.jvs.forwarder.metrics.HealthSource;
import io.jvs.forwarder.metrics.MetricsServer;
import io.jvs.forwarder.testkit.Json;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's routes over an in-process jvsadm: access rules, the commands they run, the audit, escaping. */
class ConsoleTest {
    static final InetSocketAddress PEER = new InetSocketAddress("10.0.1.2", 40000);
    final AtomicLong nanos = new AtomicLong();
    final JvsadmHarness harness = new JvsadmHarness();
    final List<String> logLines = new ArrayList<>();
    final AuditLog audit = new AuditLog(3, Clock.fixed(Instant.parse("2026-12-03T02:00:00Z"), ZoneOffset.UTC),
            logLines::add);
    final Console console = console("tok");

    Console console(String token) {
        return new Console(harness.jvsadm, harness.control::table, () -> List.of(new HealthSource.RealServerHealth(
                "TCP/10.0.0.100:80", "10.0.0.11:80", false, 1, 2, "down (TCP_CHECK: connection refused)")),
                () -> List.of(new ClusterStatus.Item("vrrp", "VI_1", "MASTER", "priority 150 <b>")),
                new ConsoleSessions(token, nanos::get, new SecureRandom(), Duration.ofMinutes(10)), audit);
    }

    static MetricsServer.Response post(Console c, String path, Map<String, String> form, String cookie,
                                       String csrf) {
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(URLEncoder.encode(k, StandardCharsets.UTF_8))
                .append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        Map<String, String> headers = new HashMap<>();
        headers.put("content-type", "application/x-www-form-urlencoded");
        if (cookie != null) {
            headers.put("cookie", "theme=dark; " + Console.COOKIE + "=" + cookie);
        }
        if (csrf != null) {
            headers.put("x-csrf-token", csrf);
        }
        return c.handle(new MetricsServer.Request("POST", path, "", headers,
                body.toString().getBytes(StandardCharsets.UTF_8), PEER, false));
    }

    static MetricsServer.Response get(Console c, String path, String cookie) {
        return c.handle(new MetricsServer.Request("GET", path, "", cookie == null ? Map.of()
                : Map.of("cookie", Console.COOKIE + "=" + cookie), new byte[0], PEER, false));
    }

    static Map<String, Object> json(MetricsServer.Response r) {
        return Json.object(Json.parse(new String(r.body(), StandardCharsets.UTF_8)));
    }

    /** Logs in; returns {cookie value, csrf token}. */
    String[] login() {
        MetricsServer.Response r = post(console, "/api/login", Map.of("token", "tok"), null, null);
        assertEquals(200, r.status());
        String setCookie = r.headers().get("Set-Cookie");
        assertTrue(setCookie.matches(Console.COOKIE + "=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict"),
                setCookie);
        return new String[]{setCookie.substring(Console.COOKIE.length() + 1, setCookie.indexOf(';')),
                (String) json(r).get("csrf")};
    }

    static Map<String, String> addService() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("action", "add-service");
        f.put("kind", "tcp");
        f.put("service", "10.0.0.100:80");
        f.put("scheduler", "rr");
        return f;
    }

    String save() {
        return harness.out("-S -n");
    }

    @Test
    void aLoggedInChangeWithItsCsrfTokenRunsTheJvsadmCommandItShows() {
        String[] s = login();
        MetricsServer.Response r = post(console, "/api/change", addService(), s[0], s[1]);
        assertEquals(200, r.status());
        assertEquals(Map.of("command", "jvsadm -A -t 10.0.0.100:80 -s rr", "accepted", true, "exitStatus", 0.0,
                "error", ""), json(r));
        Map<String, String> rs = new LinkedHashMap<>(Map.of("action", "add-server", "kind", "tcp",
                "service", "10.0.0.100:80", "server", "10.0.0.11:80", "method", "nat", "weight", "3",
                "u-threshold", "100", "l-threshold", "10"));
        assertEquals(200, post(console, "/api/change", rs, s[0], s[1]).status());
        assertEquals("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -m -w 3 -x 100 -y 10\n", save());
        assertEquals(List.of("jvs-console: audit #1 2026-12-03T02:00:00Z from 10.0.1.2:40000: jvsadm -A -t"
                + " 10.0.0.100:80 -s rr -> accepted", "jvs-console: audit #2 2026-12-03T02:00:00Z from 10.0.1.2:40000:"
                + " jvsadm -a -t 10.0.0.100:80 -r 10.0.0.11:80 -m -w 3 -x 100 -y 10 -> accepted"), logLines);
    }

    @Test
    void aRefusedChangeAnswersWithIpvsadmsErrorTextAndChangesNothing() {
        String[] s = login();
        post(console, "/api/change", addService(), s[0], s[1]);
        Map<String, String> bad = new LinkedHashMap<>(Map.of("action", "add-server", "kind", "tcp",
                "service", "10.0.0.100:80", "server", "10.0.0.11", "weight", "99999"));
        MetricsServer.Response r = post(console, "/api/change", bad, s[0], s[1]);
        assertEquals(422, r.status());
        String expected = harness.jvsadm.run(List.of("-a", "-t", "10.0.0.100:80", "-r", "10.0.0.11", "-w", "99999"),
                "").err().strip();
        assertTrue(expected.startsWith("illegal weight specified"), expected);
        assertEquals(expected, json(r).get("error"), "jvsadm's own words");
        assertEquals(false, json(r).get("accepted"));
        assertEquals("-A -t 10.0.0.100:80 -s rr\n", save());
        // a value that parses as another command is refused, not run
        Map<String, String> sneaky = new LinkedHashMap<>(addService());
        sneaky.put("action", "delete-service");
        sneaky.put("kind", "");
        sneaky.put("service", "--clear");
        MetricsServer.Response clear = post(console, "/api/change", sneaky, s[0], s[1]);
        assertEquals(422, clear.status(), json(clear).toString());
        assertEquals("-A -t 10.0.0.100:80 -s rr\n", save());
    }

    @Test
    void withoutLoginWithAForgedCookieOrWithoutTheCsrfTokenNothingChanges() {
        String[] s = login();
        assertEquals(401, post(console, "/api/change", addService(), null, null).status(), "no login");
        assertEquals(401, post(console, "/api/change", addService(), "AAAAforged", s[1]).status(), "forged cookie");
        assertEquals(403, post(console, "/api/change", addService(), s[0], null).status(), "no CSRF token");
        assertEquals(403, post(console, "/api/change", addService(), s[0], s[1] + "x").status(), "wrong CSRF token");
        assertEquals("", save());
        assertEquals(List.of(false, false, false), audit.entries().stream().map(AuditLog.Entry::accepted).toList(),
                "bounded: the newest 3 of 4");
        assertEquals(List.of(401, 403, 403), audit.entries().stream().map(AuditLog.Entry::httpStatus).toList());
        assertEquals(List.of(2L, 3L, 4L), audit.entries().stream().map(AuditLog.Entry::seq).toList());
        assertEquals("jvsadm -A -t 10.0.0.100:80 -s rr", audit.entries().getFirst().command());
    }

    @Test
    void anExpiredSessionIsRefusedEvenIfThePageKeptPolling() {
        String[] s = login();
        for (int i = 0; i < 10; i++) {
            nanos.addAndGet(Duration.ofMinutes(1).toNanos());
            assertEquals(i < 9, json(get(console, "/api/console", s[0])).get("loggedIn"), "minute " + (i + 1));
        }
        assertEquals(401, post(console, "/api/change", addService(), s[0], s[1]).status());
        assertEquals("", save());
    }

    @Test
    void withoutATokenChangesAreOff() {
        Console off = console(null);
        assertEquals(403, post(off, "/api/login", Map.of("token", ""), null, null).status());
        assertEquals(403, post(off, "/api/change", addService(), "x", "y").status());
        assertEquals(false, json(get(off, "/api/console", null)).get("changesEnabled"));
        assertEquals("", save());
    }

    @Test
    void failedLoginsAreRateLimited() {
        for (int i = 0; i < 5; i++) {
            assertEquals(401, post(console, "/api/login", Map.of("token", "no"), null, null).status());
        }
        MetricsServer.Response r = post(console, "/api/login", Map.of("token", "tok"), null, null);
        assertEquals(429, r.status());
        assertEquals("60", r.headers().get("Retry-After"));
    }

    @Test
    void onlyFormBodiesAreRead() {
        String[] s = login();
        MetricsServer.Response r = console.handle(new MetricsServer.Request("POST", "/api/change", "",
                Map.of("content-type", "application/json", "cookie", Console.COOKIE + "=" + s[0], "x-csrf-token", s[1]),
                "{\"action\":\"add-service\"}".getBytes(StandardCharsets.UTF_8), PEER, false));
        assertEquals(415, r.status());
        assertEquals(405, get(console, "/api/change", null).status());
        assertNull(get(console, "/elsewhere", null), "not the console's: the status page's or a 404");
    }

    @Test
    void overTlsTheCookieIsSecure() {
        MetricsServer.Response r = console.handle(new MetricsServer.Request("POST", "/api/login", "",
                Map.of("content-type", "application/x-www-form-urlencoded"),
                "token=tok".getBytes(StandardCharsets.UTF_8), PEER, true));
        assertTrue(r.headers().get("Set-Cookie").endsWith("; HttpOnly; SameSite=Strict; Secure"));
    }

    @Test
    void everyStringIsEscapedSoNothingShownCanBeMarkup() {
        String[] s = login();
        Map<String, String> evil = new LinkedHashMap<>(addService());
        evil.put("scheduler", "<img src=x onerror=alert(1)>");
        MetricsServer.Response r = post(console, "/api/change", evil, s[0], s[1]);
        String raw = new String(r.body(), StandardCharsets.UTF_8);
        assertFalse(raw.contains("<") || raw.contains(">"), raw);
        assertEquals("jvsadm -A -t 10.0.0.100:80 -s '<img src=x onerror=alert(1)>'", json(r).get("command"));
        String auditJson = new String(get(console, "/api/audit", null).body(), StandardCharsets.UTF_8);
        assertFalse(auditJson.contains("<"), auditJson);
        assertTrue(auditJson.contains("\\u003cimg src=x onerror=alert(1)\\u003e"), auditJson);
        String state = new String(get(console, "/api/console", null).body(), StandardCharsets.UTF_8);
        assertTrue(state.contains("\"detail\":\"priority 150 \\u003cb\\u003e\""), state);
    }

    @Test
    void theStateCarriesEveryFormFieldHealthAndTheCsrfTokenOnlyForTheSession() {
        harness.ok("-A -t 10.0.0.100:80 -s sh -b sh-port -p 60 -M 255.255.255.0 --svc-timeout 10,20,30");
        harness.ok("-a -t 10.0.0.100:80 -r 10.0.0.11:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 4");
        harness.ok("-e -t 10.0.0.100:80 -r 10.0.0.11:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 0");
        Map<String, Object> anon = json(get(console, "/api/console", null));
        assertEquals(false, anon.get("loggedIn"));
        assertFalse(anon.containsKey("csrf"));
        String[] s = login();
        Map<String, Object> st = json(get(console, "/api/console", s[0]));
        assertEquals(s[1], st.get("csrf"));
        Map<String, Object> svc = Json.object(Json.array(st.get("services")).getFirst());
        Map<String, Object> expectedService = new HashMap<>(Map.of("kind", "tcp", "service", "10.0.0.100:80",
                "scheduler", "sh", "sched-flags", "sh-port", "persistent", "on", "persistence-timeout", "60",
                "netmask", "255.255.255.0", "ops", "", "laddr", "", "client-addr", ""));
        expectedService.put("svc-timeout", "10,20,30");
        expectedService.put("synproxy", "");
        expectedService.put("ipv6", ""); // an IPv4 service: no -6
        assertEquals(expectedService, svc.get("form"));
        Map<String, Object> rs = Json.object(Json.array(svc.get("realServers")).getFirst());
        assertEquals(Map.of("server", "10.0.0.11:80", "method", "tun", "weight", "0", "u-threshold", "",
                "l-threshold", "", "tun-type", "gue", "tun-port", "6080", "tun-csum", "csum"), rs.get("form"));
        assertEquals(4.0, rs.get("lastWeight"), "what put back restores");
        assertEquals("down", rs.get("health"));
        assertEquals("down (TCP_CHECK: connection refused)", rs.get("lastTransition"));
        // the form fields, sent back as an edit, are the same configuration
        String before = save();
        Map<String, String> edit = new HashMap<>();
        Json.object(svc.get("form")).forEach((k, v) -> edit.put(k, (String) v));
        edit.put("action", "edit-service");
        assertEquals(200, post(console, "/api/change", edit, s[0], s[1]).status());
        Map<String, String> editRs = new HashMap<>();
        Json.object(rs.get("form")).forEach((k, v) -> editRs.put(k, (String) v));
        editRs.putAll(Map.of("action", "edit-server", "kind", "tcp", "service", "10.0.0.100:80"));
        assertEquals(200, post(console, "/api/change", editRs, s[0], s[1]).status());
        assertEquals(before, save());
    }
}
