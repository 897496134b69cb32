package io.jvs.forwarder.service;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Holds the published {@link ServiceTable}. The control plane builds a whole
 * new table and swaps it in with one volatile write; the data path reads
 * {@link #current()} once per packet burst and never sees a half-applied change.
 */
public final class ServiceRegistry {
    private volatile ServiceTable current = ServiceTable.EMPTY;
    private final CopyOnWriteArrayList<Consumer<ServiceTable>> listeners = new CopyOnWriteArrayList<>();

    public ServiceTable current() {
        return current;
    }

    /** Publishes a new snapshot and tells listeners (e.g. gratuitous ARP for new VIPs). */
    public void publish(ServiceTable next) {
        current = next;
        for (Consumer<ServiceTable> l : listeners) {
            l.accept(next);
        }
    }

    public void onPublish(Consumer<ServiceTable> listener) {
        listeners.add(listener);
    }
}
