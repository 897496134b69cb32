package io.jvs.forwarder.ctl;

import io.jvs.forwarder.service.ServiceSpec;

import java.util.List;
import java.util.Objects;

/**
 * Everything a config file defines: the virtual services in the order they
 * were added, and the connection timeouts. Immutable and validated: building
 * a table from {@link #services()} with the same scheduler factory the file
 * was checked with does not fail.
 */
public record ForwarderConfig(List<ServiceSpec> services, TimeoutSettings timeouts) {
    /** No services, default timeouts: what the director runs without --config. */
    public static final ForwarderConfig EMPTY = new ForwarderConfig(List.of(), TimeoutSettings.DEFAULTS);

    public ForwarderConfig {
        services = List.copyOf(services);
        Objects.requireNonNull(timeouts, "timeouts");
    }
}
