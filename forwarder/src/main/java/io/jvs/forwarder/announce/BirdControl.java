package io.jvs.forwarder.announce;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;

/**
 * A client of BIRD's control socket (the protocol birdc speaks: a greeting line
 * {@code 0001 BIRD 2.0.12 ready.}, then per command reply lines {@code NNNN-text}, continuation
 * lines starting with a space, and a last line {@code NNNN text}; codes 8xxx and 9xxx are errors).
 * jvs only reads BIRD's state through it ({@code show protocols}, {@code show bfd sessions});
 * what BIRD announces it learns from the kernel table ({@link VipRoutes}), so the BIRD an
 * operator already runs needs nothing from jvs but a kernel protocol on that table.
 * One connection per command: BIRD serves many, and a restarted BIRD is picked up.
 */
public final class BirdControl {
    private static final int MAX_REPLY_LINES = 10_000;
    private final Path socket;

    public BirdControl(Path socket) {
        this.socket = socket;
    }

    public Path socket() {
        return socket;
    }

    /**
     * Connects and reads the greeting; returns it ("BIRD 2.0.12 ready."). Throws a one-line
     * IOException naming the socket and why (BIRD not installed, not running, not BIRD).
     */
    public String check() throws IOException {
        if (!Files.exists(socket)) {
            throw new IOException(birdMissing() + " (no control socket " + socket + ")");
        }
        try (SocketChannel ch = open()) {
            BufferedReader in = reader(ch);
            String greeting = in.readLine();
            if (greeting == null || !greeting.startsWith("0001 ")) {
                throw new IOException("BIRD's control socket " + socket + " did not greet as BIRD does (got "
                        + (greeting == null ? "nothing" : "\"" + greeting + "\"") + ")");
            }
            return greeting.substring(5);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("BIRD")) {
                throw e;
            }
            throw new IOException("BIRD is not running (control socket " + socket + ": " + e.getMessage() + ")");
        }
    }

    /** "BIRD is not installed" when no bird is on PATH, else "BIRD is not running". */
    private static String birdMissing() {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "bird"))) {
                    return "BIRD is not running";
                }
            }
        }
        return "BIRD is not installed (no bird on PATH)";
    }

    /** Runs one command; the reply's text lines, codes stripped. An error reply is an IOException. */
    public List<String> command(String command) throws IOException {
        try (SocketChannel ch = open()) {
            BufferedReader in = reader(ch);
            String greeting = in.readLine();
            if (greeting == null || !greeting.startsWith("0001 ")) {
                throw new IOException("no greeting from " + socket);
            }
            ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
            return reply(in, command);
        }
    }

    /** Reads one reply up to its last line (a code followed by a space). */
    static List<String> reply(BufferedReader in, String command) throws IOException {
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null && lines.size() < MAX_REPLY_LINES) {
            if (line.startsWith(" ")) {
                lines.add(line.substring(1));
                continue;
            }
            if (line.length() < 5 || !Character.isDigit(line.charAt(0))) {
                throw new IOException("BIRD's reply to \"" + command + "\": unexpected line \"" + line + "\"");
            }
            char code = line.charAt(0);
            String text = line.substring(5);
            if (code == '8' || code == '9') {
                throw new IOException("BIRD refused \"" + command + "\": " + text);
            }
            if (line.charAt(4) == ' ') {
                if (!line.startsWith("0000")) {
                    lines.add(text);
                }
                return lines;
            }
            lines.add(text);
        }
        throw new IOException("BIRD's reply to \"" + command + "\" ended early");
    }

    private SocketChannel open() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return ch;
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    private static BufferedReader reader(SocketChannel ch) {
        return new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.US_ASCII));
    }
}
