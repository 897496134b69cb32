package io.jvs.forwarder.it;

import io.jvs.forwarder.testkit.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import io.jvs.forwarder.testkit.SelfSignedPem;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.jvs.forwarder.it.HeadlessChromium.quote;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The web console against a real director in the lab, driven by headless Chromium as an operator
 * would: log in with the control token, add a service and two real servers through the forms,
 * see the client's requests reach them in rr order, drain one while a download runs through it
 * (new connections stop reaching it, the download completes, its active count falls), remove it;
 * a change refused by jvsadm shows jvsadm's own error text. Changes without the CSRF token,
 * without login and with a forged cookie are refused (403/401) and change nothing (jvsadm -L -n);
 * the audit log lists exactly the accepted and refused changes. Screenshots in target/it-logs.
 */
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String BASE = "http://" + METRICS;
    static final String VIP_URL = "http://" + Lab.VIP + "/";
    static final String SERVICE = Lab.VIP + ":80";
    static final String LABEL = "TCP/" + SERVICE;
    static final String TOKEN = "console-it-token-7f3a";
    /** What jvsadm -S adds after the services for the config's state timeouts. */
    static final String STATE_TIMEOUTS = "--state-timeout fin_wait 2\n--state-timeout time_wait 2\n"
            + "--state-timeout close 2\n";
    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);
    static ForwarderProcess director;
    static Path logs;
    static HeadlessChromium browser;
    static Path token;

    @BeforeAll
    static void start() throws IOException {
        LAB.lab().resetDirector();
        logs = LAB.lab().repo().resolve("forwarder/target/it-logs");
        Files.createDirectories(logs);
        token = logs.resolve("console-token");
        Files.writeString(token, TOKEN + "\n");
        // short closing-state timeouts: a finished connection leaves InActConn within seconds
        Path config = logs.resolve("director-console.conf");
        Files.writeString(config, "--state-timeout time_wait 2\n--state-timeout fin_wait 2\n--state-timeout close 2\n");
        director = ForwarderProcess.start(LAB.lab(), "console", METRICS, List.of("--attach", "packet:eth0",
                "--metrics", METRICS, "--config", config.toString(), "--control-token-file", token.toString()));
        browser = HeadlessChromium.start(Lab.DIRECTOR, logs.resolve("console-chromium-profile"),
                logs.resolve("console-chromium.log"));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (director != null) {
            System.out.println("[console] forwarder stopped, exit " + director.stop() + "; log " + director.log());
        }
        LAB.lab().resetDirector();
    }

    static Exec.Result jvsadm(String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvsadm").toString()));
        cmd.addAll(List.of(args));
        return LAB.lab().exec(Duration.ofSeconds(30), Lab.DIRECTOR, cmd.toArray(String[]::new));
    }

    static String save() {
        Exec.Result r = jvsadm("-S", "-n");
        assertEquals(0, r.exitCode(), r.describe());
        return r.stdout();
    }

    static void screenshot(String name) throws IOException {
        Path png = logs.resolve("console-" + name + ".png");
        browser.screenshot(png);
        System.out.println("[console] screenshot " + png);
    }

    /** Waits for the page's last-change box to show {@code command} with {@code outcome}. */
    static void awaitResult(String command, String outcome) {
        HeadlessChromium.await("the page shows " + command + " " + outcome, Duration.ofSeconds(10),
                () -> command.equals(browser.text("#result-command"))
                        && outcome.equals(browser.text("#result-outcome")));
    }

    /** A cell of the real server's row: "weight", "active", "inactive". */
    static String cell(String server, String column) {
        return browser.text("#services tr[data-server=" + quote(server) + "] td." + column);
    }

    /** curl in the director's namespace against the console API; returns "STATUS BODY". */
    static String api(String... curlArgs) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "5", "-w", " %{http_code}"));
        cmd.addAll(List.of(curlArgs));
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(10), Lab.DIRECTOR, cmd.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.describe());
        String out = r.stdout();
        int sp = out.lastIndexOf(' ');
        return out.substring(sp + 1) + " " + out.substring(0, sp);
    }

    @Test
    @Order(1)
    void anOperatorManagesTheDirectorFromTheBrowser() throws Exception {
        // read-only until logged in
        browser.navigate(BASE + "/console");
        HeadlessChromium.await("the console loaded", Duration.ofSeconds(15),
                () -> "true".equals(browser.eval("(document.body && document.body.dataset.ready) || ''")));
        assertEquals("Read only. Log in with the control token to change the configuration.",
                browser.text("#access-state"));
        assertEquals(true, browser.eval("document.getElementById('service-submit').disabled"));
        screenshot("1-read-only");

        browser.type("#login-token", TOKEN);
        browser.pressEnter(); // the keyboard alone logs in
        HeadlessChromium.await("logged in", Duration.ofSeconds(10),
                () -> browser.text("#access-state").startsWith("Logged in"));
        assertEquals("", browser.eval("document.cookie"), "the session cookie is HttpOnly");

        // a service and two real servers, through the forms
        browser.choose("#svc-kind", "tcp");
        browser.type("#svc-service", SERVICE);
        browser.type("#svc-scheduler", "rr");
        browser.click("#service-submit");
        awaitResult("jvsadm -A -t " + SERVICE + " -s rr", "Accepted");
        for (int rs = 1; rs <= 2; rs++) {
            browser.choose("#rs-service-select", "tcp " + SERVICE);
            browser.type("#rs-server", Lab.rsIp(rs) + ":80");
            browser.choose("#rs-method", "dr");
            browser.type("#rs-weight", "1");
            browser.click("#server-submit");
            awaitResult("jvsadm -a -t " + SERVICE + " -r " + Lab.rsIp(rs) + ":80 -g -w 1", "Accepted");
        }
        // refused by jvsadm: the page shows jvsadm's own error text
        browser.choose("#rs-service-select", "tcp " + SERVICE);
        browser.type("#rs-server", Lab.rsIp(2) + ":80");
        browser.type("#rs-weight", "99999");
        browser.click("#server-submit");
        String refused = "jvsadm -a -t " + SERVICE + " -r " + Lab.rsIp(2) + ":80 -g -w 99999";
        awaitResult(refused, "Refused (HTTP 422)");
        Exec.Result cli = jvsadm("-a", "-t", SERVICE, "-r", Lab.rsIp(2) + ":80", "-g", "-w", "99999");
        assertEquals(2, cli.exitCode());
        assertEquals(cli.stderr().strip(), browser.text("#result-error"));
        screenshot("2-refused-change");
        String configured = "-A -t " + SERVICE + " -s rr\n-a -t " + SERVICE + " -r " + Lab.rsIp(1) + ":80 -g -w 1\n"
                + "-a -t " + SERVICE + " -r " + Lab.rsIp(2) + ":80 -g -w 1\n" + STATE_TIMEOUTS;
        assertEquals(configured, save());

        // the client's requests reach them in rr order: strictly alternating
        List<Lab.Transfer> ts = LAB.lab().getRepeatedly(VIP_URL, 8, Duration.ofSeconds(60), "-H", "Connection: close");
        assertEquals(8, ts.size());
        assertTrue(ts.stream().allMatch(Lab.Transfer::ok), ts.toString());
        for (int i = 1; i < ts.size(); i++) {
            assertFalse(ts.get(i).body().equals(ts.get(i - 1).body()), "rr alternates: " + ts);
        }

        // Those connections end with the client's FIN; until the director has seen it, one still
        // counts as active, and the server picked below would be that one, not the download's
        // (seen in CI on a loaded machine). So the page first shows none active.
        HeadlessChromium.await("the page shows no active connection after the GETs", Duration.ofSeconds(15),
                () -> "0".equals(cell(Lab.rsIp(1) + ":80", "active"))
                        && "0".equals(cell(Lab.rsIp(2) + ":80", "active")));
        // a download runs through one server; drain that one from the page
        CompletableFuture<Exec.Result> download = CompletableFuture.supplyAsync(() -> LAB.lab().sh(
                Duration.ofSeconds(90), Lab.CLIENT, "curl -sS --max-time 60 --limit-rate 5M " + VIP_URL
                        + "blob | sha256sum | cut -d' ' -f1"));
        String[] busy = new String[1];
        HeadlessChromium.await("the page shows the download as one active connection", Duration.ofSeconds(15), () -> {
            for (int rs = 1; rs <= 2; rs++) {
                if ("1".equals(cell(Lab.rsIp(rs) + ":80", "active"))) {
                    busy[0] = Lab.rsIp(rs) + ":80";
                    return true;
                }
            }
            return false;
        });
        String drained = busy[0];
        String other = drained.equals(Lab.rsIp(1) + ":80") ? Lab.rsIp(2) + ":80" : Lab.rsIp(1) + ":80";
        browser.click("button[aria-label=" + quote("Drain real server " + drained + " of " + LABEL + " (weight 0)") + "]");
        awaitResult("jvsadm -e -t " + SERVICE + " -r " + drained + " -g -w 0", "Accepted");
        HeadlessChromium.await("weight 0 shown", Duration.ofSeconds(5), () -> "0".equals(cell(drained, "weight")));
        assertEquals("1", cell(drained, "active"), "the download still runs through the drained server");
        screenshot("3-drained-download-running");
        assertFalse(download.isDone(), "the download outlived the drain");
        List<Lab.Transfer> after = LAB.lab().getRepeatedly(VIP_URL, 6, Duration.ofSeconds(60), "-H",
                "Connection: close");
        String otherName = other.equals(Lab.rsIp(1) + ":80") ? "rs1" : "rs2";
        assertTrue(after.size() == 6 && after.stream().allMatch(t -> t.ok() && t.body().equals(otherName)),
                "new connections reach only " + other + ": " + after);
        Exec.Result done = download.get();
        assertTrue(done.ok(), done.describe());
        assertEquals(LAB.lab().blobSha256(), done.stdout().strip(), "the download through the drained server completed");
        HeadlessChromium.await("active and inactive fall to 0", Duration.ofSeconds(20),
                () -> "0".equals(cell(drained, "active")) && "0".equals(cell(drained, "inactive")));
        screenshot("4-drained-idle");

        // put back (its last weight), and drain again
        browser.click("button[aria-label=" + quote("Put back real server " + drained + " of " + LABEL + " (weight 1)")
                + "]");
        awaitResult("jvsadm -e -t " + SERVICE + " -r " + drained + " -g -w 1", "Accepted");
        HeadlessChromium.await("weight 1 shown", Duration.ofSeconds(5), () -> "1".equals(cell(drained, "weight")));
        browser.click("button[aria-label=" + quote("Drain real server " + drained + " of " + LABEL + " (weight 0)") + "]");
        awaitResult("jvsadm -e -t " + SERVICE + " -r " + drained + " -g -w 0", "Accepted");

        // remove it
        browser.eval("window.confirm = () => true"); // the page asks before removing; the operator says yes
        browser.click("button[aria-label=" + quote("Remove real server " + drained + " of " + LABEL) + "]");
        awaitResult("jvsadm -d -t " + SERVICE + " -r " + drained, "Accepted");
        // edit the service: its form comes filled with what runs; change the scheduler
        browser.click("button[aria-label=" + quote("Edit service " + LABEL) + "]");
        assertEquals(SERVICE, browser.eval("document.getElementById('svc-service').value"));
        assertEquals("rr", browser.eval("document.getElementById('svc-scheduler').value"));
        browser.type("#svc-scheduler", "wlc");
        browser.click("#service-submit");
        awaitResult("jvsadm -E -t " + SERVICE + " -s wlc", "Accepted");
        String remaining = "-A -t " + SERVICE + " -s wlc\n-a -t " + SERVICE + " -r " + other + " -g -w 1\n"
                + STATE_TIMEOUTS;
        assertEquals(remaining, save());
        String listing = jvsadm("-L", "-n").stdout();

        // refused: no CSRF token (a logged-in session of its own), no login, a forged cookie
        String jar = "/tmp/" + Lab.PREFIX + "console-cookies";
        String login = api("-c", jar, "--data-urlencode", "token=" + TOKEN, BASE + "/api/login");
        assertTrue(login.startsWith("200 "), login);
        String del = "action=delete-service&kind=tcp&service=" + SERVICE;
        assertTrue(api("-b", jar, "--data", del, BASE + "/api/change").startsWith("403 "), "no CSRF token");
        assertTrue(api("--data", del, BASE + "/api/change").startsWith("401 "), "no login");
        assertTrue(api("-H", "Cookie: jvs_console=bm90LWEtcmVhbC1zZXNzaW9uLWlkLWF0LWFsbC0xMjM0NTY3", "-H",
                "X-CSRF-Token: x", "--data", del, BASE + "/api/change").startsWith("401 "), "forged cookie");
        LAB.lab().exec(Duration.ofSeconds(5), Lab.DIRECTOR, "rm", "-f", jar);
        assertEquals(listing, jvsadm("-L", "-n").stdout(), "nothing changed");
        assertEquals(remaining, save());

        // the audit log: exactly these changes, in order
        List<Object> entries = Json.array(Json.object(Json.parse(api(BASE + "/api/audit").substring(4)))
                .get("entries"));
        List<String> audit = entries.stream().map(Json::object)
                .map(e -> e.get("command") + " " + (Boolean.TRUE.equals(e.get("accepted")) ? "accepted"
                        : "refused " + ((Number) e.get("status")).intValue())).toList();
        String d = "jvsadm -D -t " + SERVICE;
        assertEquals(List.of(
                "jvsadm -A -t " + SERVICE + " -s rr accepted",
                "jvsadm -a -t " + SERVICE + " -r " + Lab.rsIp(1) + ":80 -g -w 1 accepted",
                "jvsadm -a -t " + SERVICE + " -r " + Lab.rsIp(2) + ":80 -g -w 1 accepted",
                refused + " refused 422",
                "jvsadm -e -t " + SERVICE + " -r " + drained + " -g -w 0 accepted",
                "jvsadm -e -t " + SERVICE + " -r " + drained + " -g -w 1 accepted",
                "jvsadm -e -t " + SERVICE + " -r " + drained + " -g -w 0 accepted",
                "jvsadm -d -t " + SERVICE + " -r " + drained + " accepted",
                "jvsadm -E -t " + SERVICE + " -s wlc accepted",
                d + " refused 403", d + " refused 401", d + " refused 401"), audit);
        for (Object e : entries) {
            assertEquals("127.0.0.1", ((String) Json.object(e).get("peer")).split(":")[0]);
        }
        String log = Files.readString(director.log());
        assertTrue(log.contains("jvs-console: audit #12 "), director.logTail(30));
        assertFalse(log.contains("jvs-console: audit #13 "), director.logTail(30));
        HeadlessChromium.await("the page's audit table lists the 12 changes", Duration.ofSeconds(5),
                () -> ((Number) browser.eval("document.querySelectorAll('#audit tbody tr').length")).intValue() == 12);
        screenshot("5-audit");
    }

    @Test
    @Order(2)
    void overTlsTheWholePortIsHttpsAndTheSessionCookieIsSecure() throws Exception {
        browser.close();
        browser = null;
        System.out.println("[console] first director stopped, exit " + director.stop());
        director = null;
        LAB.lab().resetDirector();
        Path[] pem = SelfSignedPem.write(logs.resolve("console-tls"));
        director = ForwarderProcess.start(LAB.lab(), "console-tls", "https://" + METRICS, List.of("--attach",
                "packet:eth0", "--metrics", METRICS, "--control-token-file", token.toString(),
                "--metrics-tls-cert", pem[0].toString(), "--metrics-tls-key", pem[1].toString()));
        assertTrue(Files.readString(director.log()).contains("jvs-forwarder: web console on https://" + METRICS
                + "/console (changes after login with the control token)"), director.logTail(20));
        // plain HTTP on the port gets nothing
        Exec.Result plain = LAB.lab().exec(Duration.ofSeconds(10), Lab.DIRECTOR, "curl", "-sS", "--max-time", "3",
                "http://" + METRICS + "/metrics");
        assertFalse(plain.ok() && plain.stdout().contains("jvs_"), plain.describe());

        // the certificate is self-signed: this browser is told to accept it
        browser = HeadlessChromium.start(Lab.DIRECTOR, logs.resolve("console-chromium-profile-tls"),
                logs.resolve("console-chromium-tls.log"), "--ignore-certificate-errors");
        browser.navigate("https://" + METRICS + "/console");
        HeadlessChromium.await("the console loaded over TLS", Duration.ofSeconds(15),
                () -> "true".equals(browser.eval("(document.body && document.body.dataset.ready) || ''")));
        browser.type("#login-token", TOKEN);
        browser.click("#login-button");
        HeadlessChromium.await("logged in", Duration.ofSeconds(10),
                () -> browser.text("#access-state").startsWith("Logged in"));
        Map<String, Object> cookie = browser.cookies().stream().filter(c -> "jvs_console".equals(c.get("name")))
                .findFirst().orElseThrow(() -> new AssertionError("no session cookie: " + browser.cookies()));
        assertEquals(true, cookie.get("secure"), cookie.toString());
        assertEquals(true, cookie.get("httpOnly"), cookie.toString());
        assertEquals("Strict", cookie.get("sameSite"), cookie.toString());
        browser.type("#svc-service", SERVICE);
        browser.type("#svc-scheduler", "wrr");
        browser.click("#service-submit");
        awaitResult("jvsadm -A -t " + SERVICE + " -s wrr", "Accepted");
        assertEquals("-A -t " + SERVICE + " -s wrr\n", save());
        screenshot("6-tls");
    }
}
