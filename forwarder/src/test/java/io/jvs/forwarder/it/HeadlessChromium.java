package io.jvs.forwarder.it;

import io.jvs.forwarder.testkit.Json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Debian's headless Chromium in a lab namespace, driven over the DevTools protocol so a test
 * can type and click as an operator does (MonitoringIT's one-shot --dump-dom/--screenshot
 * cannot log in or submit a form). The protocol runs over {@code --remote-debugging-pipe}
 * (NUL-terminated JSON on the browser's fds 3 and 4, wired to this process's pipes): no
 * debugging port, no websocket client, and nothing has to cross from the test JVM's network
 * namespace into the lab's. Typing is {@code Input.insertText} into the focused field, a
 * click is a real mouse press and release at the element's centre.
 */
public final class HeadlessChromium implements AutoCloseable {
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private final Process process;
    private final OutputStream toBrowser;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();
    private final Thread reader;
    private String session;

    private HeadlessChromium(Process process) {
        this.process = process;
        this.toBrowser = process.getOutputStream();
        this.reader = Thread.ofPlatform().name("chromium-devtools").daemon().start(this::readLoop);
    }

    /**
     * Starts Chromium in namespace {@code ns} with the profile under {@code profile}, one blank tab attached.
     *
     * @param flags more Chromium flags (e.g. --ignore-certificate-errors for a self-signed test certificate)
     */
    public static HeadlessChromium start(String ns, Path profile, Path log, String... flags) throws IOException {
        Files.createDirectories(profile);
        String cmd = "exec chromium --headless --no-sandbox --disable-gpu --no-first-run --window-size=1280,1000"
                + " --user-data-dir='" + profile + "' " + String.join(" ", flags)
                + " --remote-debugging-pipe 3<&0 4>&1 0</dev/null 1>&2";
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "sh", "-c", cmd)
                .redirectError(log.toFile()).start();
        HeadlessChromium c = new HeadlessChromium(p);
        try {
            String target = (String) c.call(null, "Target.createTarget", "{\"url\":\"about:blank\"}").get("targetId");
            c.session = (String) c.call(null, "Target.attachToTarget",
                    "{\"targetId\":" + quote(target) + ",\"flatten\":true}").get("sessionId");
            c.call("Emulation.setDeviceMetricsOverride",
                    "{\"width\":1280,\"height\":1000,\"deviceScaleFactor\":1,\"mobile\":false}");
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void readLoop() {
        try (InputStream in = process.getInputStream()) {
            ByteArrayOutputStream msg = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                if (b != 0) {
                    msg.write(b);
                    continue;
                }
                Map<String, Object> m = Json.object(Json.parse(msg.toString(StandardCharsets.UTF_8)));
                msg.reset();
                Object id = m.get("id");
                if (id != null) {
                    CompletableFuture<Map<String, Object>> f = pending.remove(((Number) id).intValue());
                    if (f != null) {
                        f.complete(m);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            pending.values().forEach(f -> f.completeExceptionally(e));
        }
        pending.values().forEach(f -> f.completeExceptionally(new IOException("chromium exited")));
    }

    /** One DevTools call in the page's session; returns its result, fails on a protocol error. */
    public Map<String, Object> call(String method, String params) {
        return call(session, method, params);
    }

    private synchronized Map<String, Object> call(String sessionId, String method, String params) {
        int id = ids.incrementAndGet();
        CompletableFuture<Map<String, Object>> f = new CompletableFuture<>();
        pending.put(id, f);
        String msg = "{\"id\":" + id + ",\"method\":" + quote(method) + ",\"params\":" + params
                + (sessionId == null ? "" : ",\"sessionId\":" + quote(sessionId)) + "}";
        Map<String, Object> answer;
        try {
            toBrowser.write(msg.getBytes(StandardCharsets.UTF_8));
            toBrowser.write(0);
            toBrowser.flush();
            answer = f.get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("DevTools " + method + " failed: " + e, e);
        }
        if (answer.containsKey("error")) {
            throw new AssertionError("DevTools " + method + ": " + answer.get("error"));
        }
        return Json.object(answer.get("result"));
    }

    /** Evaluates a JavaScript expression in the page (promises awaited); returns its JSON value. */
    public Object eval(String expression) {
        Map<String, Object> r = call("Runtime.evaluate", "{\"expression\":" + quote(expression)
                + ",\"returnByValue\":true,\"awaitPromise\":true}");
        if (r.containsKey("exceptionDetails")) {
            throw new AssertionError("page script failed: " + r.get("exceptionDetails") + "\n" + expression);
        }
        return Json.object(r.get("result")).get("value");
    }

    /** The browser's cookies (name, value, secure, httpOnly, sameSite...), as Chromium stores them. */
    public List<Map<String, Object>> cookies() {
        return Json.array(call(null, "Storage.getCookies", "{}").get("cookies")).stream().map(Json::object).toList();
    }

    public void navigate(String url) {
        call("Page.navigate", "{\"url\":" + quote(url) + "}");
    }

    /** Clicks the element {@code selector} names as a mouse would: scrolled into view, pressed and released. */
    public void click(String selector) {
        List<Object> at = Json.array(eval("(() => { const e = document.querySelector(" + quote(selector) + ");"
                + " if (!e) throw new Error('no element ' + " + quote(selector) + ");"
                + " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                + " return [r.x + r.width / 2, r.y + r.height / 2]; })()"));
        double x = ((Number) at.get(0)).doubleValue();
        double y = ((Number) at.get(1)).doubleValue();
        for (String type : List.of("mousePressed", "mouseReleased")) {
            call("Input.dispatchMouseEvent", "{\"type\":\"" + type + "\",\"x\":" + x + ",\"y\":" + y
                    + ",\"button\":\"left\",\"clickCount\":1}");
        }
    }

    /** Presses and releases Enter on the focused element, as a keyboard does (submits a form from a field). */
    public void pressEnter() {
        for (String type : List.of("keyDown", "keyUp")) {
            call("Input.dispatchKeyEvent", "{\"type\":\"" + type + "\",\"key\":\"Enter\",\"code\":\"Enter\","
                    + "\"windowsVirtualKeyCode\":13,\"nativeVirtualKeyCode\":13"
                    + (type.equals("keyDown") ? ",\"text\":\"\\r\"" : "") + "}");
        }
    }

    /** Focuses the field {@code selector} names, clears it and types {@code text} into it. */
    public void type(String selector, String text) {
        eval("(() => { const e = document.querySelector(" + quote(selector) + "); e.focus(); e.select(); })()");
        call("Input.insertText", "{\"text\":" + quote(text) + "}");
    }

    /** Chooses the option with value {@code value} of the select {@code selector} names (as a keyboard choice). */
    public void choose(String selector, String value) {
        // the page fills some selects from its polls: wait for the option to be there
        await("option " + value + " in " + selector, Duration.ofSeconds(10), () -> Boolean.TRUE.equals(eval(
                "Array.from(document.querySelector(" + quote(selector) + ").options).some(o => o.value === "
                        + quote(value) + ")")));
        eval("(() => { const e = document.querySelector(" + quote(selector) + "); e.focus(); e.value = "
                + quote(value) + "; if (e.value !== " + quote(value) + ") throw new Error('no option');"
                + " e.dispatchEvent(new Event('change', {bubbles: true})); })()");
    }

    /** The element's text, or null when there is none. */
    public String text(String selector) {
        return (String) eval("(() => { const e = document.querySelector(" + quote(selector) + ");"
                + " return e ? e.textContent : null; })()");
    }

    /** Waits until {@code condition} holds, checking every 100 ms; fails with {@code what} after {@code timeout}. */
    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what);
            }
            Lab.pause(100);
        }
    }

    /** A PNG of the whole page. */
    public void screenshot(Path png) throws IOException {
        String data = (String) call("Page.captureScreenshot",
                "{\"format\":\"png\",\"captureBeyondViewport\":true}").get("data");
        Files.write(png, Base64.getDecoder().decode(data));
    }

    /** A JSON string literal. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    @Override
    public void close() {
        try {
            toBrowser.close(); // Chromium exits when its pipe closes
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reader.interrupt();
    }
}
