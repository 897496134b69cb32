package io.jvs.forwarder.ctl.console;

import io.jvs.forwarder.metrics.StatusPage;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Every change asked of the console, accepted or refused (by the login, the CSRF check or
 * jvsadm itself): who (the request's peer address), when, the jvsadm-equivalent command and
 * the outcome. Each entry is one line in the director's log and stays in memory for
 * {@code /api/audit}, the newest {@code capacity} of them (older ones are still in the log).
 * Thread-safe.
 */
public final class AuditLog {
    public static final int DEFAULT_CAPACITY = 1000;

    /**
     * One change.
     *
     * @param seq        1 for the first change since the director started
     * @param httpStatus what the console answered: 200 accepted, 422 refused by jvsadm, 401/403/400 refused before
     * @param outcome    "accepted", or why not (jvsadm's error text, or the console's)
     */
    public record Entry(long seq, Instant time, String peer, String command, boolean accepted, int httpStatus,
                        String outcome) {
    }

    private final int capacity;
    private final Clock clock;
    private final Consumer<String> log;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private long seq;

    /** @param log where each entry goes as one line (the director's log) */
    public AuditLog(int capacity, Clock clock, Consumer<String> log) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.capacity = capacity;
        this.clock = Objects.requireNonNull(clock);
        this.log = Objects.requireNonNull(log);
    }

    public Entry record(String peer, String command, boolean accepted, int httpStatus, String outcome) {
        Entry e;
        synchronized (this) {
            e = new Entry(++seq, clock.instant(), peer, command, accepted, httpStatus, outcome.strip());
            if (entries.size() == capacity) {
                entries.removeFirst();
            }
            entries.addLast(e);
        }
        log.accept("jvs-console: audit #" + e.seq() + " " + e.time() + " from " + e.peer() + ": " + oneLine(e.command())
                + " -> " + (e.accepted() ? "accepted" : "refused " + e.httpStatus() + ": " + oneLine(e.outcome())));
        return e;
    }

    public synchronized List<Entry> entries() {
        return new ArrayList<>(entries);
    }

    /** {"capacity":N,"entries":[{"seq":..,"time":"..Z","peer":..,"command":..,"accepted":..,"status":..,"outcome":..}]} */
    public String json() {
        StringBuilder b = new StringBuilder(256).append("{\"capacity\":").append(capacity).append(",\"entries\":[");
        boolean first = true;
        for (Entry e : entries()) {
            b.append(first ? "" : ",").append("{\"seq\":").append(e.seq()).append(",\"time\":");
            first = false;
            StatusPage.string(b, e.time().toString()).append(",\"peer\":");
            StatusPage.string(b, e.peer()).append(",\"command\":");
            StatusPage.string(b, e.command()).append(",\"accepted\":").append(e.accepted())
                    .append(",\"status\":").append(e.httpStatus()).append(",\"outcome\":");
            StatusPage.string(b, e.outcome()).append('}');
        }
        return b.append("]}").toString();
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
