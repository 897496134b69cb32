package io.jvs.forwarder.ctl.client;

import io.jvs.forwarder.ctl.ipvsadm.IpvsadmCommand;
import io.jvs.forwarder.ctl.ipvsadm.IpvsadmException;
import io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser;
import io.jvs.forwarder.ctl.ipvsadm.JvsadmHelp;
import io.jvs.forwarder.ctl.server.ControlProtocol;
import io.jvs.forwarder.ctl.server.ControlSocketPath;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code jvsadm}: ipvsadm's command line for a jvs director. Checks the
 * command line itself (a malformed one never reaches the director), then
 * sends it, with standard input for {@code -R}, over the director's Unix
 * domain socket ({@link ControlSocketPath}) and prints what comes back with
 * the director's exit status. Plain java.nio: no Netty, for a quick start.
 *
 * <p>{@code --control PATH} (or {@code --control=PATH}) as the first argument
 * names the socket; {@code -h} and {@code -v} are answered locally.
 */
public final class JvsadmMain {
    /** Exit status when the director cannot be reached (ipvsadm's "Can't initialize ipvs"). */
    static final int UNREACHABLE = 2;

    private JvsadmMain() {
    }

    public static void main(String[] args) {
        // the director's answer is UTF-8 bytes, written out as they come: no decoding, no re-encoding
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        int status = run(args, out, System.err);
        out.flush();
        System.err.flush();
        // halt, not exit: everything is written and there are no shutdown hooks, and System.exit would
        // first set up the JDK's logging (it logs exits at debug level) only to find nothing to log
        Runtime.getRuntime().halt(status);
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> argv = new ArrayList<>(List.of(args));
        String control = null;
        if (!argv.isEmpty() && argv.getFirst().startsWith("--control")) {
            String first = argv.removeFirst();
            if (first.startsWith("--control=")) {
                control = first.substring("--control=".length());
            } else if (first.equals("--control") && !argv.isEmpty()) {
                control = argv.removeFirst();
            } else {
                err.println("--control: missing argument");
                return IpvsadmException.OPERATION;
            }
        }
        IpvsadmCommand cmd;
        try {
            cmd = new IpvsadmParser("jvsadm").parse(argv);
        } catch (IpvsadmException e) {
            err.println(e.getMessage());
            return e.status();
        }
        switch (cmd.command()) {
            case HELP -> {
                out.print(JvsadmHelp.usage());
                return 0;
            }
            case VERSION -> {
                out.println(JvsadmHelp.version());
                return 0;
            }
            default -> { }
        }
        byte[] stdin = new byte[0];
        if (cmd.command() == IpvsadmCommand.Command.RESTORE) {
            try {
                stdin = System.in.readAllBytes(); // UTF-8 text, decoded by the director
            } catch (IOException e) {
                err.println("jvsadm: cannot read standard input: " + e.getMessage());
                return IpvsadmException.OPERATION;
            }
        }
        Path socket = ControlSocketPath.resolve(control);
        ControlProtocol.RawResponse r;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            byte[] body = ControlProtocol.encodeRequest(argv, stdin);
            DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch)));
            o.writeInt(body.length);
            o.write(body);
            o.flush();
            r = ControlProtocol.readResponse(new DataInputStream(Channels.newInputStream(ch)));
        } catch (IOException e) {
            err.println("Can't reach the jvs director at " + socket + ": " + e.getMessage());
            err.println("Is jvs-forwarder running? (its socket: --control PATH or JVS_CONTROL)");
            return UNREACHABLE;
        }
        out.write(r.out(), 0, r.out().length);
        out.flush();
        err.write(r.err(), 0, r.err().length);
        err.flush();
        return r.status();
    }
}
