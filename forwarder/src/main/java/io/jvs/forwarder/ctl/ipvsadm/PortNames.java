package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.service.Protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Service names of ports, as ipvsadm gets them from getservbyname/getservbyport:
 * read once from {@code /etc/services} (name, port/proto, aliases). Without
 * that file a short built-in list of common services is used, so that
 * {@code ipvsadm-save} output without {@code -n} still loads. Immutable after
 * construction; thread-safe.
 */
public final class PortNames {
    private static final List<String> BUILT_IN = List.of(
            "ftp 21/tcp", "ssh 22/tcp", "telnet 23/tcp", "smtp 25/tcp", "domain 53/tcp", "domain 53/udp",
            "http 80/tcp www", "pop3 110/tcp", "ntp 123/udp", "imap2 143/tcp imap", "snmp 161/udp",
            "ldap 389/tcp", "https 443/tcp", "submission 587/tcp", "ldaps 636/tcp", "imaps 993/tcp",
            "pop3s 995/tcp", "mysql 3306/tcp", "postgresql 5432/tcp", "http-alt 8080/tcp");

    private static volatile PortNames system;

    private final Map<String, Integer> byName = new HashMap<>();
    private final Map<Integer, String> byPort = new HashMap<>();

    PortNames(List<String> lines) {
        for (String line : lines) {
            int hash = line.indexOf('#');
            String[] f = (hash >= 0 ? line.substring(0, hash) : line).trim().split("\\s+");
            if (f.length < 2) {
                continue;
            }
            int slash = f[1].indexOf('/');
            if (slash <= 0) {
                continue;
            }
            int proto = switch (f[1].substring(slash + 1)) {
                case "tcp" -> Protocol.TCP;
                case "udp" -> Protocol.UDP;
                default -> 0;
            };
            int port;
            try {
                port = Integer.parseInt(f[1].substring(0, slash));
            } catch (NumberFormatException e) {
                continue;
            }
            if (proto == 0 || port < 0 || port > 65535) {
                continue;
            }
            byPort.putIfAbsent(proto << 16 | port, f[0]); // first entry wins, as getservbyport
            for (int i = 0; i < f.length; i++) {
                if (i != 1) {
                    byName.putIfAbsent(proto + "/" + f[i], port);
                }
            }
        }
    }

    /** The system's table ({@code /etc/services}, else the built-in list). */
    public static PortNames system() {
        PortNames p = system;
        if (p == null) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of("/etc/services"), StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                lines = BUILT_IN;
            }
            p = new PortNames(lines.isEmpty() ? BUILT_IN : lines);
            system = p;
        }
        return p;
    }

    /** The port of a service name for this protocol (any protocol when proto is 0), or -1. */
    public int port(String name, int proto) {
        Integer p = byName.get((proto == 0 ? Protocol.TCP : proto) + "/" + name);
        if (p == null && proto == 0) {
            p = byName.get(Protocol.UDP + "/" + name);
        }
        return p == null ? -1 : p;
    }

    /** The service name of a port for this protocol, or null. */
    public String name(int port, int proto) {
        return byPort.get(proto << 16 | port);
    }
}
