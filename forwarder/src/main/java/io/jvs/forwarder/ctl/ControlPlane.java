package io.jvs.forwarder.ctl;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.config.TimeoutSettings;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The one place configuration changes: the director's current
 * {@link ServiceConfig} and the {@link ServiceTable} built from it. Every
 * change (a jvsadm command, a restore, a health-check weight change, a
 * keepalived reload) is a function from the old config to the new one; the
 * result is validated whole (a full table build plus the data path's own
 * checks) and only then published as one new immutable snapshot. A change
 * that fails leaves config, table and data path exactly as they were.
 *
 * <p>Thread-safe: changes are serialized on this object's monitor; the data
 * path never takes it (it reads the published snapshot).
 */
public final class ControlPlane {
    /** Where a validated change goes: the data path's registry and connection timeouts. */
    public interface Sink {
        void publish(ServiceTable table);

        void timeouts(Timeouts timeouts);
    }

    private final ServiceTableBuilder builder;
    private final Consumer<ServiceTable> dataPathCheck;
    private Sink sink;
    private ServiceConfig config;
    private ServiceTable table;
    private final List<Consumer<ServiceConfig>> listeners = new CopyOnWriteArrayList<>();

    /**
     * @param initial       the configuration to start with (validated here)
     * @param dataPathCheck throws IllegalArgumentException for what the data path cannot carry
     */
    public ControlPlane(ServiceConfig initial, ServiceTableBuilder builder, Consumer<ServiceTable> dataPathCheck) {
        this.builder = Objects.requireNonNull(builder);
        this.dataPathCheck = Objects.requireNonNull(dataPathCheck);
        this.table = build(initial, ServiceTable.EMPTY);
        this.table.commitDestStates(ServiceTable.EMPTY);
        this.config = initial;
    }

    /** Connects the data path; publishes the current state to it at once. */
    public synchronized void attach(Sink sink) {
        this.sink = Objects.requireNonNull(sink);
        sink.timeouts(timeouts(config.timeouts()));
        sink.publish(table);
    }

    /**
     * Calls {@code listener} with every new configuration after it is
     * published, in order, under this object's monitor (so a saver sees
     * changes in the order they happened).
     */
    public void onChange(Consumer<ServiceConfig> listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    public synchronized ServiceConfig config() {
        return config;
    }

    public synchronized ServiceTable table() {
        return table;
    }

    /**
     * Applies a change: validates the whole resulting configuration and
     * publishes it, or throws with nothing changed.
     *
     * @return the new configuration
     * @throws IllegalArgumentException the change's own error or the validation error (ipvsadm wording)
     */
    public synchronized ServiceConfig apply(UnaryOperator<ServiceConfig> change) {
        ServiceConfig next = Objects.requireNonNull(change.apply(config), "change returned null");
        ServiceTable nextTable = build(next, table);
        boolean timeoutsChanged = !next.timeouts().equals(config.timeouts());
        nextTable.commitDestStates(table);
        config = next;
        table = nextTable;
        if (sink != null) {
            if (timeoutsChanged) {
                sink.timeouts(timeouts(next.timeouts()));
            }
            sink.publish(nextTable);
        }
        for (Consumer<ServiceConfig> l : listeners) {
            try {
                l.accept(next);
            } catch (RuntimeException e) {
                // a listener (e.g. saving the running config) must not undo a published change
                System.err.println("jvs: configuration change listener failed: " + e);
            }
        }
        return next;
    }

    private ServiceTable build(ServiceConfig c, ServiceTable previous) {
        ServiceTable t = builder.build(c.services(), c.fwmarkRules(), previous);
        dataPathCheck.accept(t);
        return t;
    }

    /** A config's timeouts applied over the IPVS defaults. */
    public static Timeouts timeouts(TimeoutSettings s) {
        Timeouts t = Timeouts.DEFAULTS.withUdp(s.udp());
        for (Map.Entry<String, Integer> e : s.tcpStateTimeouts().entrySet()) {
            t = t.withState(Timeouts.stateByName(e.getKey()), e.getValue());
        }
        return t;
    }
}
