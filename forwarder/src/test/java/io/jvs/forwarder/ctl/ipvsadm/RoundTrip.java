package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.service.ServiceSpec;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The fuzz targets' print-and-re-parse property: {@code -S -n} of a configuration reads back as that configuration. */
public final class RoundTrip {
    private RoundTrip() {
    }

    /**
     * What a configuration means: services and each one's real servers are sets (-S prints them in
     * the table's order, as ipvsadm prints the kernel's hash order, found by RestoreFuzzTest); the
     * fwmark rules keep their order (the first match wins), and the timeouts.
     */
    static List<Object> normalised(ServiceConfig c) {
        java.util.Set<ServiceSpec> services = new java.util.HashSet<>();
        for (ServiceSpec s : c.services()) {
            services.add(s.withDests(List.copyOf(new java.util.LinkedHashSet<>(s.dests().stream()
                    .sorted(java.util.Comparator.comparing(Object::toString)).toList()))));
        }
        return List.of(services, c.fwmarkRules(), c.timeouts());
    }

    /** {@code h}'s configuration, printed by {@code -S -n}, parsed as a file and restored by {@code -R}. */
    public static void check(JvsadmHarness h) {
        ServiceConfig config = h.control.config();
        String saved = h.out("-S -n");
        ServiceConfig parsed;
        try {
            parsed = ConfigFile.parse("-S", saved.lines().toList(), JvsadmHarness.SCHEDULERS);
        } catch (ConfigException e) {
            fail("-S -n does not parse back: " + e.getMessage() + "\n" + saved);
            return;
        }
        assertEquals(normalised(config), normalised(parsed), "-S -n parses back to the same configuration:\n" + saved);
        JvsadmHarness fresh = new JvsadmHarness();
        Jvsadm.Result r = fresh.jvsadm.run(List.of("-R"), saved);
        assertEquals(0, r.status(), () -> "-R of -S -n: " + r.err() + "\n" + saved);
        assertEquals(saved, fresh.out("-S -n"), "restored and saved again: the same text");
    }
}
