package io.jvs.forwarder.ctl.console;

import io.jvs.forwarder.ctl.ipvsadm.IpvsadmCommand.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One console form turned into the jvsadm command line it stands for. Nothing here
 * validates a value: each filled field becomes the jvsadm option it is labelled with and
 * its text the option's argument, verbatim (one argv word, whatever it contains), and the
 * line goes to {@code Jvsadm.runOnly} — the one ipvsadm parser, then
 * {@code ControlPlane.apply} — which accepts it or answers with ipvsadm's error. Empty
 * fields are left out (jvsadm's defaults apply). The only choices made here are the
 * closed lists of the form's selects (service kind, forwarding method, tunnel checksum),
 * each naming an option; a value outside them is {@link IllegalArgumentException}.
 *
 * @param action what the form does
 * @param argv   the jvsadm arguments (without "jvsadm")
 */
public record ConsoleCommand(Action action, List<String> argv) {
    /** The forms, each one jvsadm command. */
    public enum Action {
        ADD_SERVICE("add-service", Command.ADD_SERVICE, "-A"),
        EDIT_SERVICE("edit-service", Command.EDIT_SERVICE, "-E"),
        DELETE_SERVICE("delete-service", Command.DELETE_SERVICE, "-D"),
        ADD_SERVER("add-server", Command.ADD_SERVER, "-a"),
        EDIT_SERVER("edit-server", Command.EDIT_SERVER, "-e"),
        DELETE_SERVER("delete-server", Command.DELETE_SERVER, "-d");

        /** The form's {@code action} value (jvsadm's long command name). */
        public final String formName;
        public final Command command;
        final String flag;

        Action(String formName, Command command, String flag) {
            this.formName = formName;
            this.command = command;
            this.flag = flag;
        }

        static Action of(String formName) {
            for (Action a : values()) {
                if (a.formName.equals(formName)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("unknown console action \"" + formName + "\"");
        }
    }

    public ConsoleCommand {
        argv = List.copyOf(argv);
    }

    private static final Map<String, String> KINDS = Map.of("tcp", "-t", "udp", "-u", "fwmark", "-f");
    private static final Map<String, String> METHODS = Map.of(
            "dr", "-g", "tun", "-i", "nat", "-m", "fullnat", "--fullnat");
    private static final Map<String, String> TUN_CSUM = Map.of(
            "nocsum", "--tun-nocsum", "csum", "--tun-csum", "remcsum", "--tun-remcsum");
    /** Service options of -A/-E: form field, jvsadm option. */
    private static final String[][] SERVICE_OPTIONS = {
            {"scheduler", "-s"}, {"sched-flags", "-b"}, {"netmask", "-M"}, {"laddr", "--laddr"},
            {"client-addr", "--client-addr"}, {"svc-timeout", "--svc-timeout"}};
    /** Real-server options of -a/-e. */
    private static final String[][] SERVER_OPTIONS = {
            {"weight", "-w"}, {"u-threshold", "-x"}, {"l-threshold", "-y"}, {"tun-type", "--tun-type"},
            {"tun-port", "--tun-port"}};

    /**
     * The command of a submitted form: field {@code action} says which, the others fill it.
     *
     * @throws IllegalArgumentException for an unknown action or a select value outside its list
     */
    public static ConsoleCommand of(Map<String, String> form) {
        Action action = Action.of(field(form, "action"));
        List<String> argv = new ArrayList<>();
        argv.add(action.flag);
        String kind = field(form, "kind");
        if (!kind.isEmpty()) {
            argv.add(choice("service kind", KINDS, kind));
        }
        argv.add(field(form, "service"));
        if (kind.equals("fwmark") && field(form, "ipv6").equals("on")) {
            argv.add("-6"); // an IPv6 fwmark service: ipvsadm takes -6 after -f (and -M then as a prefix length)
        }
        switch (action) {
            case ADD_SERVICE, EDIT_SERVICE -> {
                options(form, argv, SERVICE_OPTIONS);
                if (field(form, "persistent").equals("on")) {
                    argv.add("-p");
                    String timeout = field(form, "persistence-timeout");
                    if (!timeout.isEmpty()) {
                        argv.add(timeout);
                    }
                }
                if (field(form, "ops").equals("on")) {
                    argv.add("-o");
                }
                // A ticked box turns the proxy on; an unticked one (sent as "") on an edit turns it
                // off; a form without the field leaves it as it is (jvsadm -E keeps it).
                if (field(form, "synproxy").equals("on")) {
                    argv.add("--synproxy");
                } else if (action == Action.EDIT_SERVICE && form.containsKey("synproxy")) {
                    argv.add("--no-synproxy");
                }
            }
            case ADD_SERVER, EDIT_SERVER -> {
                argv.add("-r");
                argv.add(field(form, "server"));
                String method = field(form, "method");
                if (!method.isEmpty()) {
                    argv.add(choice("forwarding method", METHODS, method));
                }
                options(form, argv, SERVER_OPTIONS);
                String csum = field(form, "tun-csum");
                if (!csum.isEmpty()) {
                    argv.add(choice("tunnel checksum", TUN_CSUM, csum));
                }
            }
            case DELETE_SERVER -> {
                argv.add("-r");
                argv.add(field(form, "server"));
            }
            case DELETE_SERVICE -> { }
        }
        return new ConsoleCommand(action, argv);
    }

    private static void options(Map<String, String> form, List<String> argv, String[][] options) {
        for (String[] o : options) {
            String v = field(form, o[0]);
            if (!v.isEmpty()) {
                argv.add(o[1]);
                argv.add(v);
            }
        }
    }

    private static String field(Map<String, String> form, String name) {
        return form.getOrDefault(name, "").strip();
    }

    private static String choice(String what, Map<String, String> choices, String value) {
        String option = choices.get(value);
        if (option == null) {
            throw new IllegalArgumentException("unknown " + what + " \"" + value + "\" (expected one of "
                    + String.join(", ", new java.util.TreeSet<>(choices.keySet())) + ")");
        }
        return option;
    }

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    /** The line as an operator would type it in a POSIX shell: "jvsadm -A -t 10.0.0.100:80 -s rr". */
    public String commandLine() {
        return commandLine(argv);
    }

    /** {@code argv} after "jvsadm", each word single-quoted unless it is plain. */
    public static String commandLine(List<String> argv) {
        StringBuilder b = new StringBuilder("jvsadm");
        for (String a : argv) {
            b.append(' ');
            if (PLAIN.matcher(a).matches()) {
                b.append(a);
            } else {
                b.append('\'').append(a.replace("'", "'\\''")).append('\'');
            }
        }
        return b.toString();
    }
}
