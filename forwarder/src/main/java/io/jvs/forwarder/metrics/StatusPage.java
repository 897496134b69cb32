package io.jvs.forwarder.metrics;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.vrrp.VrrpStatus;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The director's status page (what HAProxy's stats page and Piranha were to
 * LVS): {@code GET /} is a static HTML page whose script polls
 * {@code GET /api/status} and redraws the services and real servers in place,
 * with live rates computed in the browser from two successive polls.
 *
 * <p>Invariants: read-only — nothing here changes configuration (the control
 * API and its token are another component's; the page does not offer writes).
 * The JSON is built on the metrics thread from one {@link ServiceRegistry#current()}
 * snapshot and the runtime counters' acquire reads, so it is safe next to the
 * data path and never blocks it. The page's files ship in the jar (no CDN) and
 * are read once, at construction. Every string in the JSON is escaped (JSON
 * escapes plus {@code < > &} as {@code \\u003c}..., so it is inert even if
 * mistaken for HTML), and the script writes names only through
 * {@code textContent}, never as markup.
 */
public final class StatusPage implements MetricsServer.Pages {
    /** Path of the JSON document the page polls. */
    public static final String API_PATH = "/api/status";
    private static final String RESOURCES = "/io/jvs/forwarder/metrics/status/";
    private static final Map<String, String> FILES = Map.of(
            "/", "index.html",
            "/status.js", "status.js",
            "/status.css", "status.css");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8");
    private static final String JSON = "application/json; charset=utf-8";
    private static final DropReason[] REASONS = DropReason.values();

    private final ServiceRegistry registry;
    private final DataPathCounters counters;
    private final HealthSource health;
    private final VrrpStatus.Source vrrp;
    private final LongSupplier nanoClock;
    private final long startNanos;
    private final Map<String, MetricsServer.Content> files;

    public StatusPage(ServiceRegistry registry, DataPathCounters counters) {
        this(registry, counters, HealthSource.NONE, System::nanoTime);
    }

    /**
     * @param health    the health checker's verdicts (servers it does not check show {@code "up": null})
     * @param nanoClock monotonic clock for {@code uptimeMillis}
     */
    public StatusPage(ServiceRegistry registry, DataPathCounters counters, HealthSource health, LongSupplier nanoClock) {
        this(registry, counters, health, VrrpStatus.Source.NONE, nanoClock);
    }

    /** @param vrrp the VRRP instances' states (the {@code vrrp} array; empty without VRRP) */
    public StatusPage(ServiceRegistry registry, DataPathCounters counters, HealthSource health,
                      VrrpStatus.Source vrrp, LongSupplier nanoClock) {
        this.vrrp = Objects.requireNonNull(vrrp);
        this.registry = Objects.requireNonNull(registry);
        this.counters = Objects.requireNonNull(counters);
        this.health = Objects.requireNonNull(health);
        this.nanoClock = Objects.requireNonNull(nanoClock);
        this.startNanos = nanoClock.getAsLong();
        this.files = FILES.entrySet().stream()
                .collect(java.util.stream.Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> load(e.getValue())));
    }

    private static MetricsServer.Content load(String name) {
        try (InputStream in = StatusPage.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("status page resource " + RESOURCES + name + " missing from the jar");
            }
            String ext = name.substring(name.lastIndexOf('.') + 1);
            return new MetricsServer.Content(200, TYPES.get(ext), in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("reading status page resource " + name, e);
        }
    }

    @Override
    public MetricsServer.Content get(String path) {
        if (API_PATH.equals(path)) {
            return new MetricsServer.Content(200, JSON, json().getBytes(StandardCharsets.UTF_8));
        }
        return files.get(path);
    }

    /**
     * The status document: {@code uptimeMillis} (monotonic: rates divide counter
     * deltas by its delta), {@code readOnly}, data-path totals, and each service
     * with its real servers in IPVS list order (newest first, as ipvsadm -L shows).
     */
    public String json() {
        StringBuilder b = new StringBuilder(4096);
        b.append("{\"uptimeMillis\":").append((nanoClock.getAsLong() - startNanos) / 1_000_000);
        b.append(",\"readOnly\":true");
        b.append(",\"connectionTable\":{\"entries\":").append(counters.connectionTableEntries())
                .append(",\"capacity\":").append(counters.connectionTableCapacity()).append('}');
        b.append(",\"neighbourEntries\":").append(counters.neighbourEntries());
        b.append(",\"eventLoopBusyNanos\":").append(counters.busyNanos());
        b.append(",\"drops\":{");
        for (int i = 0; i < REASONS.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            string(b, REASONS[i].label()).append(':').append(counters.drops(REASONS[i]));
        }
        b.append("},\"ports\":[");
        for (int p = 0; p < counters.portCount(); p++) {
            if (p > 0) {
                b.append(',');
            }
            b.append("{\"name\":");
            string(b, counters.portName(p));
            b.append(",\"rxFrames\":").append(counters.rxFrames(p))
                    .append(",\"rxBytes\":").append(counters.rxBytes(p))
                    .append(",\"txFrames\":").append(counters.txFrames(p))
                    .append(",\"txBytes\":").append(counters.txBytes(p))
                    .append(",\"kernelDrops\":").append(counters.kernelDrops(p)).append('}');
        }
        b.append("],\"vrrp\":[");
        boolean firstVrrp = true;
        for (VrrpStatus.Instance i : vrrp.vrrpStatus().instances()) {
            if (!firstVrrp) {
                b.append(',');
            }
            firstVrrp = false;
            b.append("{\"instance\":");
            string(b, i.name());
            b.append(",\"group\":");
            string(b, i.group());
            b.append(",\"interface\":");
            string(b, i.iface());
            b.append(",\"vrid\":").append(i.vrid()).append(",\"version\":").append(i.version())
                    .append(",\"priority\":").append(i.priority()).append(",\"state\":");
            string(b, i.state().name());
            b.append(",\"master\":");
            string(b, i.master());
            b.append(",\"addresses\":[");
            java.util.List<String> addresses = i.addresses();
            for (int k = 0; k < addresses.size(); k++) {
                if (k > 0) {
                    b.append(',');
                }
                string(b, addresses.get(k));
            }
            b.append("],\"transitions\":").append(i.transitions()).append(",\"advertsSent\":")
                    .append(i.advertsSent()).append(",\"advertsReceived\":").append(i.advertsReceived()).append('}');
        }
        b.append("],\"services\":[");
        Map<String, Boolean> up = new HashMap<>();
        for (HealthSource.RealServerHealth h : health.realServerHealth()) {
            up.put(h.service() + " " + h.realServer(), h.up());
        }
        boolean first = true;
        for (VirtualService s : registry.current().services()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            service(b, s, up);
        }
        return b.append("]}").toString();
    }

    private static void service(StringBuilder b, VirtualService s, Map<String, Boolean> health) {
        String label = s.label();
        b.append("{\"name\":");
        string(b, label);
        b.append(",\"protocol\":");
        string(b, s.fwmark != 0 ? "FWM" : Protocol.name(s.proto));
        b.append(",\"address\":");
        string(b, s.fwmark != 0 ? Integer.toUnsignedString(s.fwmark) + (s.ipv6 ? " IPv6" : "")
                : io.jvs.forwarder.service.ServiceSpec.hostPort(s.addr, s.spec.addr6(), s.port));
        b.append(",\"scheduler\":");
        string(b, s.schedulerName);
        b.append(",\"flags\":");
        string(b, flags(s));
        b.append(",\"persistSeconds\":").append(s.persistTimeoutNanos / 1_000_000_000L);
        stats(b, s.stats);
        b.append(",\"realServers\":[");
        for (int i = 0; i < s.dests.length; i++) {
            RealServer d = s.dests[i];
            if (i > 0) {
                b.append(',');
            }
            b.append("{\"address\":");
            string(b, d.endpoint());
            b.append(",\"forward\":");
            string(b, d.method.ipvsadmName());
            b.append(",\"weight\":").append(d.weight)
                    .append(",\"active\":").append(d.stats.activeConnsVolatile())
                    .append(",\"inactive\":").append(d.stats.inactConnsVolatile())
                    .append(",\"persistent\":").append(d.stats.persistConnsVolatile())
                    .append(",\"overloaded\":").append(d.stats.overloadedVolatile());
            Boolean up = health.get(label + " " + d.endpoint());
            b.append(",\"up\":").append(up == null ? "null" : up.toString());
            stats(b, d.stats);
            b.append('}');
        }
        b.append("]}");
    }

    /** ipvsadm's service flags column: scheduler flags, persistence and one-packet scheduling. */
    private static String flags(VirtualService s) {
        StringBuilder f = new StringBuilder();
        if ((s.schedFlags & ServiceSpec.SCHED_FLAG_1) != 0) {
            f.append("flag-1,");
        }
        if ((s.schedFlags & ServiceSpec.SCHED_FLAG_2) != 0) {
            f.append("flag-2,");
        }
        if ((s.schedFlags & ServiceSpec.SCHED_FLAG_3) != 0) {
            f.append("flag-3,");
        }
        if (s.persistent()) {
            f.append("persistent ").append(s.persistTimeoutNanos / 1_000_000_000L).append(',');
        }
        if (s.onePacket) {
            f.append("ops,");
        }
        return f.isEmpty() ? "" : f.substring(0, f.length() - 1);
    }

    private static void stats(StringBuilder b, DestStats st) {
        b.append(",\"conns\":").append(st.conns())
                .append(",\"inPkts\":").append(st.inPkts())
                .append(",\"outPkts\":").append(st.outPkts())
                .append(",\"inBytes\":").append(st.inBytes())
                .append(",\"outBytes\":").append(st.outBytes());
    }

    /** A JSON string literal; {@code < > &} are escaped too, so no text can close a script or open a tag. */
    public static StringBuilder string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"');
    }
}
