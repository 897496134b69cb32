package io.jvs.forwarder.config;

import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.service.ServiceSpec;

import java.util.List;
import java.util.Objects;

/**
 * Everything a config file defines: the virtual services in the order they
 * were added, the fwmark rules in order (first match wins), and the
 * connection timeouts. Immutable and validated: building a table from
 * {@link #services()} and {@link #fwmarkRules()} with the same scheduler
 * factory the file was checked with does not fail.
 */
public record ServiceConfig(List<ServiceSpec> services, List<FwmarkRule> fwmarkRules, TimeoutSettings timeouts) {
    /** No services, default timeouts: what the director runs without --config. */
    public static final ServiceConfig EMPTY = new ServiceConfig(List.of(), List.of(), TimeoutSettings.DEFAULTS);

    public ServiceConfig {
        services = List.copyOf(services);
        fwmarkRules = List.copyOf(fwmarkRules);
        Objects.requireNonNull(timeouts, "timeouts");
    }

    public ServiceConfig(List<ServiceSpec> services, TimeoutSettings timeouts) {
        this(services, List.of(), timeouts);
    }
}
