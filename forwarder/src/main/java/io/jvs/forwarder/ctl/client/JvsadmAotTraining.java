package io.jvs.forwarder.ctl.client;

import io.jvs.forwarder.ctl.server.ControlProtocol;
import io.jvs.forwarder.ctl.server.ControlSocketPath;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The training run for jvsadm's AOT cache (JDK 25, JEP 483/514): run by
 * {@code bin/jvsadm --make-aot-cache} under {@code -XX:AOTCacheOutput}, at
 * build time, so that every later jvsadm starts with the classes it uses
 * already loaded and linked. It runs the client ({@link JvsadmMain#run}) over
 * the command lines people type most, against a stand-in director on a Unix
 * domain socket of its own in a temporary directory that answers each request
 * with a fixed listing: the client's real code path end to end (parse, socket
 * lookup, connect, request, response, print) without a director and without
 * touching any real control socket.
 */
public final class JvsadmAotTraining {
    private static final String LISTING = """
            IP Virtual Server version 1.2.1 (size=1048576)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
            TCP  10.0.0.100:80 rr
              -> 10.0.0.11:80                 Route   1      0          0         \s
            """;

    /** What people run: listings, changes, a save, a zero, a bad line (local error), help. */
    private static final List<List<String>> COMMANDS = List.of(
            List.of("-L", "-n"), List.of("-Ln", "--stats"), List.of("-L", "-n", "--rate"), List.of("-L", "-n", "-c"),
            List.of("-A", "-t", "10.0.0.100:80", "-s", "rr"),
            List.of("-a", "-t", "10.0.0.100:80", "-r", "10.0.0.11:80", "-g", "-w", "1"),
            List.of("-e", "-t", "10.0.0.100:http", "-r", "10.0.0.11", "-m", "-w", "2"),
            List.of("-d", "-t", "10.0.0.100:80", "-r", "10.0.0.11"), List.of("-D", "-u", "10.0.0.100:53"),
            List.of("--add-mark", "-d", "10.0.0.100/32", "-p", "tcp", "--dport", "21", "--set-mark", "1"),
            List.of("--set", "900", "120", "300"), List.of("-S", "-n"), List.of("-Z"), List.of("-C"),
            List.of("-a", "-t", "10.0.0.100:80", "-r", "10.0.0.11", "-w", "x"), List.of("-h"), List.of("-v"));

    private JvsadmAotTraining() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jvsadm-aot-");
        Path socket = dir.resolve("control.sock");
        ControlSocketPath.resolve(null); // what a jvsadm without --control does first (no connection here)
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread director = Thread.ofPlatform().daemon().name("jvsadm-aot-director").start(() -> answer(server));
            PrintStream discard = new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8);
            for (int round = 0; round < 3; round++) {
                for (List<String> command : COMMANDS) {
                    String[] argv = new String[command.size() + 2];
                    argv[0] = "--control";
                    argv[1] = socket.toString();
                    for (int i = 0; i < command.size(); i++) {
                        argv[i + 2] = command.get(i);
                    }
                    JvsadmMain.run(argv, discard, discard);
                }
            }
            server.close();
            director.join(5_000);
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /** The stand-in director: one request, one answer per connection, as the control server does. */
    private static void answer(ServerSocketChannel server) {
        while (server.isOpen()) {
            try (SocketChannel ch = server.accept()) {
                ByteBuffer length = ByteBuffer.allocate(4);
                readFully(ch, length);
                ByteBuffer body = ByteBuffer.allocate(length.flip().getInt());
                readFully(ch, body);
                ControlProtocol.Request req = ControlProtocol.decodeRequest(body.flip());
                boolean listing = req.argv().contains("-L") || req.argv().contains("-Ln") || req.argv().contains("-S");
                byte[] reply = ControlProtocol.encodeResponse(0, listing ? LISTING : "", "");
                ch.write(ByteBuffer.allocate(4 + reply.length).putInt(reply.length).put(reply).flip());
            } catch (IOException e) {
                return; // closed: training is over
            }
        }
    }

    private static void readFully(SocketChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                throw new IOException("client closed early");
            }
        }
    }
}
