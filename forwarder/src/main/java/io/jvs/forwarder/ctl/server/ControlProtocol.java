package io.jvs.forwarder.ctl.server;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The control socket's wire format, shared by the director and jvsadm. One
 * request and one response per connection, each one frame: a 4-byte
 * big-endian length, then the body.
 * <pre>
 * request:  int argc, argc x (int n, n bytes UTF-8), int n, n bytes of stdin (UTF-8)
 * response: int exit status, int n, n bytes of stdout, int n, n bytes of stderr
 * </pre>
 */
public final class ControlProtocol {
    /** Largest frame accepted (a restore of a few hundred thousand lines). */
    public static final int MAX_FRAME = 64 << 20;

    private ControlProtocol() {
    }

    public record Request(List<String> argv, String stdin) {
    }

    /**
     * A response as jvsadm prints it: the director's stdout and stderr bytes
     * as they came (UTF-8), written out without decoding.
     */
    public record RawResponse(int status, byte[] out, byte[] err) {
    }

    /**
     * The request body (without the length prefix).
     *
     * @param stdin what {@code -R} reads, UTF-8 text as jvsadm read it (the director decodes it)
     */
    public static byte[] encodeRequest(List<String> argv, byte[] stdin) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + stdin.length);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(argv.size());
            for (String a : argv) {
                writeString(out, a);
            }
            out.writeInt(stdin.length);
            out.write(stdin);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    public static Request decodeRequest(ByteBuffer body) {
        int argc = body.getInt();
        if (argc < 0 || argc > 4096) {
            throw new IllegalArgumentException("bad argument count " + argc);
        }
        List<String> argv = new ArrayList<>(argc);
        for (int i = 0; i < argc; i++) {
            argv.add(readString(body));
        }
        return new Request(argv, readString(body));
    }

    /** The response body (without the length prefix): jvsadm's exit status, stdout and stderr. */
    public static byte[] encodeResponse(int status, String stdout, String stderr) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(status);
            writeString(out, stdout);
            writeString(out, stderr);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** Reads one response frame (length prefix included), leaving its text undecoded. */
    public static RawResponse readResponse(DataInputStream in) throws IOException {
        in.readInt(); // frame length; the body is self-delimiting
        int status = in.readInt();
        return new RawResponse(status, readBytes(in), readBytes(in));
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining()) {
            throw new IllegalArgumentException("bad string length " + n);
        }
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_FRAME) {
            throw new IOException("bad string length " + n);
        }
        return in.readNBytes(n);
    }
}
