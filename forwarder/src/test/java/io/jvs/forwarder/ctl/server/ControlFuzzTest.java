package io.jvs.forwarder.ctl.server;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.ctl.ipvsadm.JvsadmHarness;
import io.jvs.forwarder.testkit.FuzzChecks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control protocol as a client (or anyone who can reach it) sends it: the Unix socket's
 * length-framed requests and the HTTP API ({@code POST /v1/jvsadm}), each through the very
 * handlers {@link ControlServer} installs, on an EmbeddedChannel. Properties: a request the
 * protocol's own encoder wrote decodes to what was encoded; whatever arrives, the server answers
 * with one well-formed response (status, then jvsadm's text; an HTTP status line with the
 * X-Jvsadm-Status of a command that ran) whose text is never a stack trace, or closes the
 * connection when the request never completes.
 */
class ControlFuzzTest {
    private static final JvsadmHarness HARNESS = new JvsadmHarness();
    private static final ControlServer SERVER = new ControlServer(HARNESS.jvsadm);
    private static final byte[] BEARER = "Bearer t0ken".getBytes(StandardCharsets.UTF_8);

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void control(FuzzedDataProvider data) {
        switch (data.consumeInt(0, 2)) {
            case 0 -> roundTrip(data);
            case 1 -> socket(data.consumeBoolean(), data.consumeRemainingAsBytes());
            default -> http(data.consumeBoolean(), data.consumeRemainingAsBytes());
        }
    }

    private static void roundTrip(FuzzedDataProvider data) {
        List<String> argv = List.of(data.consumeString(40), data.consumeString(40));
        String stdin = data.consumeRemainingAsString();
        byte[] body = ControlProtocol.encodeRequest(argv, stdin.getBytes(StandardCharsets.UTF_8));
        ControlProtocol.Request req = ControlProtocol.decodeRequest(ByteBuffer.wrap(body));
        // Strings the fuzzer makes may hold lone surrogates, which UTF-8 turns into '?'.
        assertEquals(utf8(argv.get(0)), req.argv().get(0));
        assertEquals(utf8(argv.get(1)), req.argv().get(1));
        assertEquals(utf8(stdin), req.stdin());
        socket(false, framed(body));
    }

    private static String utf8(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }

    private static byte[] framed(byte[] body) {
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    /** Bytes on the control socket; {@code prefix}: with a length prefix that matches them. */
    private static void socket(boolean prefix, byte[] bytes) {
        EmbeddedChannel ch = new EmbeddedChannel();
        SERVER.socketPipeline(ch.pipeline(), null);
        ch.writeInbound(Unpooled.wrappedBuffer(prefix ? framed(bytes) : bytes));
        String sent = new String(bytes, StandardCharsets.UTF_8);
        ch.runPendingTasks();
        ByteBuf out = ch.readOutbound();
        if (out != null) {
            int length = out.readInt();
            assertEquals(length, out.readableBytes(), "one response frame");
            int status = out.readInt();
            String stdout = string(out);
            String stderr = string(out);
            out.release();
            assertTrue(status >= 0 && status <= 255, "an exit status: " + status);
            FuzzChecks.noStackTrace("control socket stdout", stdout, sent);
            if (status != 0) {
                FuzzChecks.shortError("control socket stderr", stderr, 2, sent);
            }
            assertTrue(ch.readOutbound() == null, "one response per connection");
        }
        ch.finishAndReleaseAll();
    }

    private static String string(ByteBuf b) {
        int n = b.readInt();
        return b.readCharSequence(n, StandardCharsets.UTF_8).toString();
    }

    /** Bytes on the HTTP API; {@code wellFormed}: a valid request line and headers around a fuzzed body. */
    private static void http(boolean wellFormed, byte[] bytes) {
        byte[] request = bytes;
        if (wellFormed) {
            String head = "POST /v1/jvsadm HTTP/1.1\r\nHost: d\r\nAuthorization: Bearer t0ken\r\nContent-Length: "
                    + bytes.length + "\r\n\r\n";
            byte[] h = head.getBytes(StandardCharsets.US_ASCII);
            request = new byte[h.length + bytes.length];
            System.arraycopy(h, 0, request, 0, h.length);
            System.arraycopy(bytes, 0, request, h.length, bytes.length);
        }
        EmbeddedChannel ch = new EmbeddedChannel();
        SERVER.httpPipeline(ch.pipeline(), null, BEARER);
        ch.writeInbound(Unpooled.wrappedBuffer(request));
        ch.runPendingTasks();
        StringBuilder text = new StringBuilder();
        for (Object o = ch.readOutbound(); o != null; o = ch.readOutbound()) {
            if (o instanceof ByteBuf b) {
                text.append(b.toString(StandardCharsets.UTF_8));
                b.release();
            }
        }
        String response = text.toString();
        if (!response.isEmpty()) {
            assertTrue(response.startsWith("HTTP/1.1 "), "an HTTP response: " + response);
            int status = Integer.parseInt(response.substring(9, 12));
            assertTrue(status == 200 || status == 422 || status == 400 || status == 401 || status == 404
                    || status == 405 || status == 413 || status == 417, "a status the API documents: " + status);
            if (status == 200 || status == 422) {
                assertTrue(response.contains("X-Jvsadm-Status: ") || response.contains("x-jvsadm-status: "),
                        "a command ran: its exit status is in a header");
            }
            int body = response.indexOf("\r\n\r\n");
            FuzzChecks.noStackTrace("HTTP body", body < 0 ? response : response.substring(body + 4),
                    new String(request, StandardCharsets.UTF_8));
        }
        if (wellFormed) {
            assertTrue(!response.isEmpty(), "a well-formed request is answered");
        }
        ch.finishAndReleaseAll();
    }
}
