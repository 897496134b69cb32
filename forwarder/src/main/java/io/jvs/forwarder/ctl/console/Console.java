package io.jvs.forwarder.ctl.console;

import io.jvs.forwarder.ctl.ipvsadm.IpvsadmFormat;
import io.jvs.forwarder.ctl.ipvsadm.Jvsadm;
import io.jvs.forwarder.metrics.HealthSource;
import io.jvs.forwarder.metrics.MetricsServer;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.packet.Ipv4Address;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The web console (what Piranha was to LVS), on the director's HTTP port beside the status
 * page: {@code GET /console} is a static page whose script polls {@code GET /api/console}
 * (the services with every setting a form needs, real servers with connections and health,
 * the high-availability section) and {@code GET /api/audit}; it logs in with
 * {@code POST /api/login} and changes the configuration with {@code POST /api/change}.
 *
 * <p>Access: reading needs no login. A change needs (1) a control token configured at all
 * (else 403, changes off), (2) the session cookie of a login (else 401) and (3) the
 * session's CSRF token in {@value #CSRF_HEADER} (else 403). A change is one form: field
 * {@code action} (add-service, edit-service, delete-service, add-server, edit-server,
 * delete-server) and the form's fields, turned into a jvsadm command line by
 * {@link ConsoleCommand} and run by {@link Jvsadm#runOnly}: the one ipvsadm parser and the
 * one {@code ControlPlane.apply}. The answer carries that command line and, when refused,
 * ipvsadm's error text. Every change, refused or not, goes to the {@link AuditLog}.
 *
 * <p>Bodies are form-encoded ({@code application/x-www-form-urlencoded}; anything else is
 * 415) and at most {@link MetricsServer#MAX_REQUEST_BYTES} (the server answers 413 to
 * larger ones). Every string of the JSON is escaped ({@code StatusPage.string}: also
 * {@code < > &}) and the script writes text only through {@code textContent}.
 */
public final class Console implements MetricsServer.Routes {
    public static final String PAGE = "/console";
    public static final String COOKIE = "jvs_console";
    public static final String CSRF_HEADER = "X-CSRF-Token";
    private static final String RESOURCES = "/io/jvs/forwarder/ctl/console/";
    private static final String JSON = "application/json; charset=utf-8";
    private static final String FORM = "application/x-www-form-urlencoded";

    private final Jvsadm jvsadm;
    private final Supplier<ServiceTable> table;
    private final HealthSource health;
    private final ClusterStatus cluster;
    private final ConsoleSessions sessions;
    private final AuditLog audit;
    /** The page and its script and style, read from the jar once (they never change; a fuzz input built a Console each). */
    private static final Map<String, MetricsServer.Response> FILES = Map.of(
            PAGE, load("console.html", "text/html; charset=utf-8"),
            "/console.js", load("console.js", "text/javascript; charset=utf-8"),
            "/console.css", load("console.css", "text/css; charset=utf-8"));

    /**
     * @param jvsadm  runs every change (the director's: the control socket's own)
     * @param table   the published table (ControlPlane.table)
     * @param health  the health checker's verdicts and last transitions
     * @param cluster the high-availability section (VRRP, sync)
     */
    public Console(Jvsadm jvsadm, Supplier<ServiceTable> table, HealthSource health, ClusterStatus cluster,
                   ConsoleSessions sessions, AuditLog audit) {
        this.jvsadm = Objects.requireNonNull(jvsadm);
        this.table = Objects.requireNonNull(table);
        this.health = Objects.requireNonNull(health);
        this.cluster = Objects.requireNonNull(cluster);
        this.sessions = Objects.requireNonNull(sessions);
        this.audit = Objects.requireNonNull(audit);
    }

    private static MetricsServer.Response load(String name, String type) {
        try (InputStream in = Console.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("console resource " + RESOURCES + name + " missing from the jar");
            }
            return new MetricsServer.Response(200, type, in.readAllBytes(), Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException("reading console resource " + name, e);
        }
    }

    public AuditLog audit() {
        return audit;
    }

    @Override
    public MetricsServer.Response handle(MetricsServer.Request r) {
        MetricsServer.Response file = FILES.get(r.path());
        if (file != null) {
            return r.method().equals("GET") ? file : notAllowed("GET");
        }
        return switch (r.path()) {
            case "/api/console" -> r.method().equals("GET") ? json(200, state(r)) : notAllowed("GET");
            case "/api/audit" -> r.method().equals("GET") ? json(200, audit.json()) : notAllowed("GET");
            case "/api/login" -> r.method().equals("POST") ? login(r) : notAllowed("POST");
            case "/api/logout" -> r.method().equals("POST") ? logout(r) : notAllowed("POST");
            case "/api/change" -> r.method().equals("POST") ? change(r) : notAllowed("POST");
            default -> null;
        };
    }

    // ------------------------------------------------------------------ login

    private MetricsServer.Response login(MetricsServer.Request r) {
        Map<String, String> form;
        try {
            form = form(r);
        } catch (IllegalArgumentException e) {
            return message(e.getMessage().startsWith("415") ? 415 : 400, e.getMessage());
        }
        String host = r.peer().getAddress().getHostAddress();
        ConsoleSessions.Login login = sessions.login(host, form.getOrDefault("token", ""));
        return switch (login.outcome()) {
            case OK -> {
                System.out.println("jvs-console: login from " + peer(r));
                String cookie = COOKIE + "=" + login.session().id() + "; Path=/; HttpOnly; SameSite=Strict"
                        + (r.secure() ? "; Secure" : "");
                StringBuilder b = new StringBuilder("{\"csrf\":");
                io.jvs.forwarder.metrics.StatusPage.string(b, login.session().csrf());
                b.append(",\"idleSeconds\":").append(sessions.idleSeconds()).append('}');
                yield new MetricsServer.Response(200, JSON, bytes(b.toString()), Map.of("Set-Cookie", cookie));
            }
            case WRONG_TOKEN -> {
                System.err.println("jvs-console: failed login from " + peer(r) + " (wrong token)");
                yield message(401, "wrong token");
            }
            case RATE_LIMITED -> {
                System.err.println("jvs-console: login from " + peer(r) + " refused: too many failed logins");
                yield new MetricsServer.Response(429, JSON, bytes(messageJson("too many failed logins; try again in "
                        + login.retryAfterSeconds() + " s")), Map.of("Retry-After",
                        Long.toString(login.retryAfterSeconds())));
            }
            case CHANGES_OFF -> message(403, "changes are off: the director has no control token"
                    + " (--control-token-file or JVS_CONTROL_TOKEN)");
        };
    }

    private MetricsServer.Response logout(MetricsServer.Request r) {
        Optional<ConsoleSessions.Session> s = sessions.find(cookie(r));
        if (s.isEmpty()) {
            return message(401, "not logged in");
        }
        if (!ConsoleSessions.csrfMatches(s.get(), r.header(CSRF_HEADER))) {
            return message(403, "missing or wrong CSRF token");
        }
        sessions.logout(s.get());
        return new MetricsServer.Response(200, JSON, bytes(messageJson("logged out")),
                Map.of("Set-Cookie", COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
                        + (r.secure() ? "; Secure" : "")));
    }

    // ------------------------------------------------------------------ changes

    private MetricsServer.Response change(MetricsServer.Request r) {
        Map<String, String> form;
        try {
            form = form(r);
        } catch (IllegalArgumentException e) {
            int status = e.getMessage().startsWith("415") ? 415 : 400;
            return refused(r, "(unreadable form)", status, e.getMessage());
        }
        ConsoleCommand cmd;
        try {
            cmd = ConsoleCommand.of(form);
        } catch (IllegalArgumentException e) {
            return refused(r, "(" + e.getMessage() + ")", 400, e.getMessage());
        }
        String line = cmd.commandLine();
        if (!sessions.changesEnabled()) {
            return refused(r, line, 403, "changes are off: the director has no control token");
        }
        Optional<ConsoleSessions.Session> s = sessions.find(cookie(r));
        if (s.isEmpty()) {
            return refused(r, line, 401, "not logged in (or the session expired)");
        }
        if (!ConsoleSessions.csrfMatches(s.get(), r.header(CSRF_HEADER))) {
            return refused(r, line, 403, "missing or wrong CSRF token");
        }
        Jvsadm.Result result = jvsadm.runOnly(cmd.action().command, cmd.argv());
        boolean accepted = result.status() == 0;
        int status = accepted ? 200 : 422;
        audit.record(peer(r), line, accepted, status, accepted ? "accepted" : result.err());
        return json(status, changeJson(line, accepted, result.status(), accepted ? "" : result.err()));
    }

    private MetricsServer.Response refused(MetricsServer.Request r, String line, int status, String why) {
        audit.record(peer(r), line, false, status, why);
        return json(status, changeJson(line, false, -1, why));
    }

    private static String changeJson(String line, boolean accepted, int exit, String error) {
        StringBuilder b = new StringBuilder("{\"command\":");
        io.jvs.forwarder.metrics.StatusPage.string(b, line).append(",\"accepted\":").append(accepted)
                .append(",\"exitStatus\":").append(exit).append(",\"error\":");
        io.jvs.forwarder.metrics.StatusPage.string(b, error.strip());
        return b.append('}').toString();
    }

    // ------------------------------------------------------------------ state

    /** Everything the page shows and its forms need, from one snapshot. */
    String state(MetricsServer.Request r) {
        Optional<ConsoleSessions.Session> s = sessions.changesEnabled() ? sessions.peek(cookie(r)) : Optional.empty();
        StringBuilder b = new StringBuilder(4096);
        b.append("{\"changesEnabled\":").append(sessions.changesEnabled())
                .append(",\"loggedIn\":").append(s.isPresent());
        if (s.isPresent()) {
            b.append(",\"csrf\":");
            str(b, s.get().csrf());
        }
        b.append(",\"idleSeconds\":").append(sessions.idleSeconds()).append(",\"tls\":").append(r.secure());
        Map<String, HealthSource.RealServerHealth> checked = new HashMap<>();
        for (HealthSource.RealServerHealth h : health.realServerHealth()) {
            checked.put(h.service() + " " + h.realServer(), h);
        }
        b.append(",\"services\":[");
        boolean first = true;
        for (VirtualService vs : table.get().services()) {
            b.append(first ? "" : ",");
            first = false;
            service(b, vs, checked);
        }
        b.append("],\"cluster\":[");
        first = true;
        for (ClusterStatus.Item i : cluster.items()) {
            b.append(first ? "{" : ",{").append("\"component\":");
            first = false;
            str(b, i.component()).append(",\"name\":");
            str(b, i.name()).append(",\"state\":");
            str(b, i.state()).append(",\"detail\":");
            str(b, i.detail()).append('}');
        }
        return b.append("]}").toString();
    }

    private static void service(StringBuilder b, VirtualService vs, Map<String, HealthSource.RealServerHealth> checked) {
        ServiceSpec spec = vs.spec;
        Map<String, String> f = new LinkedHashMap<>();
        f.put("kind", spec.isFwmark() ? "fwmark" : spec.proto() == io.jvs.forwarder.service.Protocol.UDP ? "udp" : "tcp");
        f.put("service", spec.isFwmark() ? Integer.toUnsignedString(spec.fwmark())
                : ServiceSpec.hostPort(spec.addr(), spec.addr6(), spec.port()));
        f.put("ipv6", spec.isFwmark() && spec.isIpv6() ? "on" : ""); // -f N -6 (an address says its family)
        f.put("scheduler", spec.scheduler());
        f.put("sched-flags", IpvsadmFormat.schedFlags(spec));
        f.put("persistent", spec.persistent() ? "on" : "");
        f.put("persistence-timeout", spec.persistent() ? Integer.toString(spec.persistTimeout()) : "");
        f.put("netmask", !spec.persistent() ? "" : spec.isIpv6() ? (spec.persistMask() != 128
                ? Integer.toString(spec.persistMask()) : "") // an IPv6 prefix length, as -M takes it
                : spec.persistMask() != -1 ? Ipv4Address.toString(spec.persistMask()) : "");
        f.put("ops", spec.onePacket() ? "on" : "");
        f.put("synproxy", spec.synProxy() ? "on" : "");
        StringBuilder laddr = new StringBuilder();
        for (int a : spec.localAddrs()) {
            laddr.append(laddr.isEmpty() ? "" : ",").append(Ipv4Address.toString(a));
        }
        for (io.jvs.packet.Ipv6Address a : spec.localAddrs6()) {
            laddr.append(laddr.isEmpty() ? "" : ",").append(a);
        }
        f.put("laddr", laddr.toString());
        f.put("client-addr", spec.localAddrs().isEmpty() && spec.localAddrs6().isEmpty() ? ""
                : spec.clientAddress().configName());
        f.put("svc-timeout", spec.timeouts().isGlobal() ? "" : spec.timeouts().tcp() + "," + spec.timeouts().tcpFin()
                + "," + spec.timeouts().udp());
        b.append("{\"label\":");
        str(b, vs.label()).append(",\"form\":");
        fields(b, f);
        b.append(",\"conns\":").append(vs.stats.conns()).append(",\"realServers\":[");
        for (int i = 0; i < vs.dests.length; i++) {
            RealServer d = vs.dests[i];
            b.append(i == 0 ? "" : ",");
            Map<String, String> df = new LinkedHashMap<>();
            df.put("server", d.endpoint());
            df.put("method", switch (d.method) {
                case DR -> "dr";
                case TUN -> "tun";
                case NAT -> "nat";
                case FULLNAT -> "fullnat";
            });
            df.put("weight", Integer.toString(d.weight));
            df.put("u-threshold", d.upperThreshold == 0 ? "" : Integer.toString(d.upperThreshold));
            df.put("l-threshold", d.lowerThreshold == 0 ? "" : Integer.toString(d.lowerThreshold));
            boolean tun = d.method == ForwardMethod.TUN;
            df.put("tun-type", tun ? d.tunType.ipvsadmName() : "");
            df.put("tun-port", tun && d.tunType == TunnelType.GUE ? Integer.toString(d.tunPort) : "");
            df.put("tun-csum", tun && d.tunType != TunnelType.IPIP ? switch (d.tunFlags) {
                case TunnelType.FLAG_CSUM -> "csum";
                case TunnelType.FLAG_REMCSUM -> "remcsum";
                default -> "nocsum";
            } : "");
            b.append("{\"form\":");
            fields(b, df);
            b.append(",\"lastWeight\":").append(d.lastWeight)
                    .append(",\"active\":").append(d.stats.activeConnsVolatile())
                    .append(",\"inactive\":").append(d.stats.inactConnsVolatile())
                    .append(",\"persistent\":").append(d.stats.persistConnsVolatile())
                    .append(",\"conns\":").append(d.stats.conns())
                    .append(",\"health\":");
            HealthSource.RealServerHealth h = checked.get(vs.label() + " " + d.endpoint());
            str(b, h == null ? "unchecked" : h.up() ? "up" : "down").append(",\"lastTransition\":");
            str(b, h == null ? "" : h.lastTransition()).append('}');
        }
        b.append("]}");
    }

    private static void fields(StringBuilder b, Map<String, String> f) {
        b.append('{');
        boolean first = true;
        for (Map.Entry<String, String> e : f.entrySet()) {
            b.append(first ? "" : ",");
            first = false;
            str(b, e.getKey()).append(':');
            str(b, e.getValue());
        }
        b.append('}');
    }

    // ------------------------------------------------------------------ helpers

    /**
     * The form-encoded body as name to value (the first of repeated names).
     *
     * @throws IllegalArgumentException "415 ..." for another content type, else for bad encoding
     */
    static Map<String, String> form(MetricsServer.Request r) {
        String type = r.header("Content-Type");
        int semi = type.indexOf(';');
        if (!(semi < 0 ? type : type.substring(0, semi)).strip().equalsIgnoreCase(FORM)) {
            throw new IllegalArgumentException("415 the body must be " + FORM);
        }
        Map<String, String> out = new HashMap<>();
        String body = new String(r.body(), StandardCharsets.UTF_8);
        if (body.isEmpty()) {
            return out;
        }
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.putIfAbsent(name, value);
        }
        return out;
    }

    /** The session cookie's value from the Cookie header, or "". */
    static String cookie(MetricsServer.Request r) {
        for (String c : r.header("Cookie").split(";")) {
            String t = c.strip();
            if (t.startsWith(COOKIE + "=")) {
                return t.substring(COOKIE.length() + 1);
            }
        }
        return "";
    }

    private static String peer(MetricsServer.Request r) {
        InetSocketAddress p = r.peer();
        String host = p.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + p.getPort();
    }

    private static StringBuilder str(StringBuilder b, String s) {
        return io.jvs.forwarder.metrics.StatusPage.string(b, s);
    }

    private static MetricsServer.Response json(int status, String body) {
        return new MetricsServer.Response(status, JSON, bytes(body), Map.of());
    }

    private static MetricsServer.Response message(int status, String text) {
        return json(status, messageJson(text));
    }

    private static String messageJson(String text) {
        StringBuilder b = new StringBuilder("{\"message\":");
        return str(b, text).append('}').toString();
    }

    private static MetricsServer.Response notAllowed(String allow) {
        return new MetricsServer.Response(405, JSON, bytes(messageJson("use " + allow)), Map.of("Allow", allow));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
