package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads the director's own configuration: a file of ipvsadm command lines,
 * so that {@code ipvsadm -S} / {@code jvsadm -S} output is a config file as
 * it is, and the same text is what {@code jvsadm -R} restores.
 *
 * <h2>Format</h2>
 * <pre>
 * # comments (from '#' to the end of the line) and blank lines are allowed;
 * # a leading word "ipvsadm" or "jvsadm" on a line is ignored.
 * -A -t 10.0.0.100:80 -s rr                         # address service
 * -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1       # real server (-g DR, -m NAT, -i TUN, --fullnat)
 * -A -f 1 -s wlc -p 1800 -M 255.255.255.0           # fwmark service, persistent 1800 s per /24
 * --add-mark -d 10.0.0.100/32 -p tcp --dport 80 --set-mark 1   # jvs: what iptables' MARK did
 * --set 900 120 300                                 # tcp tcpfin udp timeouts (0 keeps)
 * --state-timeout time_wait 2                       # jvs: one TCP state's timeout
 * </pre>
 * Every line is parsed by {@link IpvsadmParser} (all of ipvsadm 1.31's
 * options, long forms, {@code --name=value}) and applied in order by
 * {@link ConfigEditor} to an empty configuration (or, for a restore, to the
 * running one), so a line may also edit or delete what an earlier one added.
 * Listing and other non-changing commands are rejected.
 *
 * <h2>Errors</h2>
 * The first problem stops the parse with a {@link ConfigException}
 * {@code FILE:LINE: message}, the message ipvsadm would print for that line.
 * Nothing is half-applied: the result is returned only after the whole file
 * parsed and a trial table build succeeded.
 */
public final class ConfigFile {
    private ConfigFile() {
    }

    /** Parses {@code file}, checking scheduler names with {@link Schedulers#create}. */
    public static ServiceConfig parse(Path file) throws ConfigException {
        return parse(file, Schedulers::create);
    }

    /** Parses {@code file}, checking scheduler names with {@code schedulers}. */
    public static ServiceConfig parse(Path file, SchedulerFactory schedulers) throws ConfigException {
        String source = file.toString();
        List<String> lines;
        try {
            lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new ConfigException(source, 0, "no such file", e);
        } catch (AccessDeniedException e) {
            throw new ConfigException(source, 0, "permission denied", e);
        } catch (CharacterCodingException e) {
            throw new ConfigException(source, 0, "not UTF-8 text", e);
        } catch (IOException e) {
            throw new ConfigException(source, 0, "cannot read: " + e.getMessage(), e);
        }
        return parse(source, lines, schedulers);
    }

    /**
     * Parses lines of text into a configuration of their own.
     *
     * @param source what to call them in messages (the file name)
     */
    public static ServiceConfig parse(String source, List<String> lines, SchedulerFactory schedulers)
            throws ConfigException {
        return apply(source, lines, schedulers, ServiceConfig.EMPTY);
    }

    /**
     * Applies lines of ipvsadm commands, in order, on top of {@code base}
     * (a restore onto the running configuration).
     */
    public static ServiceConfig apply(String source, List<String> lines, SchedulerFactory schedulers,
                                        ServiceConfig base) throws ConfigException {
        return apply(source, lines, schedulers, base, new IpvsadmParser("jvsadm"));
    }

    /** As {@link #apply(String, List, SchedulerFactory, ServiceConfig)}, each line parsed by {@code parser}. */
    public static ServiceConfig apply(String source, List<String> lines, SchedulerFactory schedulers,
                                        ServiceConfig base, IpvsadmParser parser) throws ConfigException {
        Objects.requireNonNull(schedulers);
        ConfigEditor.Edit edit = new ConfigEditor.Edit(base); // one edit for all lines: linear in their number
        for (int i = 0; i < lines.size(); i++) {
            String text = lines.get(i);
            if (i == 0 && text.startsWith("\uFEFF")) {
                text = text.substring(1); // a byte-order mark some editors write
            }
            List<String> words = IpvsadmParser.words(text);
            if (words.isEmpty()) {
                continue;
            }
            try {
                IpvsadmCommand cmd = parser.parse(words);
                if (!cmd.command().changesConfig()) {
                    throw IpvsadmException.usage("the '" + cmd.command().ipvsadmName
                            + "' command does not change the configuration (expected -A, -E, -D, -C, -a, -e, -d,"
                            + " --set, --state-timeout, --add-mark or --delete-mark)");
                }
                edit.apply(cmd, schedulers);
            } catch (IpvsadmException e) {
                throw new ConfigException(source, i + 1, e.getMessage(), e);
            }
        }
        ServiceConfig config = edit.result();
        try {
            // What the wiring will do with it, so that it cannot fail there.
            new ServiceTableBuilder(schedulers).build(config.services(), config.fwmarkRules(), ServiceTable.EMPTY);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source, 0, e.getMessage());
        }
        return config;
    }
}
