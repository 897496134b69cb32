package io.jvs.forwarder.ctl.client;

import io.jvs.forwarder.ctl.ipvsadm.IpvsadmCommand;
import io.jvs.forwarder.ctl.ipvsadm.IpvsadmException;
import io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser;
import io.jvs.forwarder.ctl.ipvsadm.Jvsadm;
import io.jvs.forwarder.ctl.server.ControlProtocol;
import io.jvs.forwarder.ctl.server.ControlSocketPath;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
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
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false, StandardCharsets.UTF_8);
        int status = run(args, out, System.err);
        out.flush();
        System.exit(status);
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
                out.print(Jvsadm.usage());
                return 0;
            }
            case VERSION -> {
                out.println(Jvsadm.version());
                return 0;
            }
            default -> { }
        }
        String stdin = "";
        if (cmd.command() == IpvsadmCommand.Command.RESTORE) {
            try {
                stdin = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                err.println("jvsadm: cannot read standard input: " + e.getMessage());
                return IpvsadmException.OPERATION;
            }
        }
        Path socket = ControlSocketPath.resolve(control);
        Jvsadm.Result r;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            byte[] body = ControlProtocol.encodeRequest(argv, stdin);
            DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch)));
            o.writeInt(body.length);
            o.write(body);
            o.flush();
            DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
            in.readInt(); // frame length; the body is self-delimiting
            r = ControlProtocol.decodeResponse(in);
        } catch (IOException e) {
            err.println("Can't reach the jvs director at " + socket + ": " + e.getMessage());
            err.println("Is jvs-forwarder running? (its socket: --control PATH or JVS_CONTROL)");
            return UNREACHABLE;
        }
        out.print(r.out());
        out.flush();
        err.print(r.err());
        return r.status();
    }
}
