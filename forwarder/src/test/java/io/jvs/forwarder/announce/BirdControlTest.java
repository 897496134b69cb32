package io.jvs.forwarder.announce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control-socket client against a stand-in that speaks BIRD's protocol (bytes as BIRD 2.0.12 sends them). */
class BirdControlTest {
    @TempDir
    Path dir;

    @Test
    void replyLinesWithTheirCodesStrippedUpToTheLastLine() throws IOException {
        String reply = "2002-Name       Proto\n1002-device1    Device\n director1  BGP  up  Established\n0000 \n";
        assertEquals(List.of("Name       Proto", "device1    Device", "director1  BGP  up  Established"),
                BirdControl.reply(new BufferedReader(new StringReader(reply)), "show protocols"));
    }

    @Test
    void anErrorCodeIsAnErrorNamingTheCommand() {
        IOException e = assertThrows(IOException.class, () -> BirdControl.reply(
                new BufferedReader(new StringReader("9001 syntax error, unexpected CF_SYM_UNDEFINED\n")), "show nothing"));
        assertEquals("BIRD refused \"show nothing\": syntax error, unexpected CF_SYM_UNDEFINED", e.getMessage());
    }

    @Test
    void aReplyThatStopsEarlyIsAnError() {
        assertThrows(IOException.class, () -> BirdControl.reply(
                new BufferedReader(new StringReader("1002-device1 Device\n")), "show protocols"));
    }

    @Test
    void noSocketIsBirdNotRunningOrNotInstalled() {
        Path missing = dir.resolve("bird.ctl");
        IOException e = assertThrows(IOException.class, () -> new BirdControl(missing).check());
        assertTrue(e.getMessage().equals("BIRD is not running (no control socket " + missing + ")")
                || e.getMessage().equals("BIRD is not installed (no bird on PATH) (no control socket " + missing + ")"),
                e.getMessage());
    }

    @Test
    void aSocketNobodyListensOnIsBirdNotRunning() throws IOException {
        Path sock = dir.resolve("stale.ctl");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(sock));
        } // closed: the file stays, nobody listens (a BIRD that died)
        IOException e = assertThrows(IOException.class, () -> new BirdControl(sock).check());
        assertTrue(e.getMessage().startsWith("BIRD is not running (control socket " + sock + ": "), e.getMessage());
    }

    @Test
    void greetingAndOneCommandAgainstAStandIn() throws Exception {
        Path sock = dir.resolve("bird.ctl");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(sock));
            Thread server = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 2; i++) {
                    try (SocketChannel c = s.accept()) {
                        c.write(ByteBuffer.wrap("0001 BIRD 2.0.12 ready.\n".getBytes(StandardCharsets.US_ASCII)));
                        if (i == 1) {
                            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
                                    StandardCharsets.US_ASCII));
                            String cmd = in.readLine();
                            c.write(ByteBuffer.wrap(("1020-" + cmd + "\n 10.0.0.1 eth0 Up\n0000 \n")
                                    .getBytes(StandardCharsets.US_ASCII)));
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            BirdControl bird = new BirdControl(sock);
            assertEquals("BIRD 2.0.12 ready.", bird.check());
            assertEquals(List.of("show bfd sessions", "10.0.0.1 eth0 Up"), bird.command("show bfd sessions"));
            server.join(5000);
        }
        assertTrue(Files.exists(sock));
    }

    @Test
    void somethingElseOnTheSocketIsNamed() throws Exception {
        Path sock = dir.resolve("other.ctl");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(sock));
            Thread server = Thread.ofVirtual().start(() -> {
                try (SocketChannel c = s.accept()) {
                    c.write(ByteBuffer.wrap("HELLO\n".getBytes(StandardCharsets.US_ASCII)));
                } catch (IOException e) {
                    // the test reports
                }
            });
            IOException e = assertThrows(IOException.class, () -> new BirdControl(sock).check());
            assertEquals("BIRD's control socket " + sock + " did not greet as BIRD does (got \"HELLO\")", e.getMessage());
            server.join(5000);
        }
    }
}
