package io.jvs.forwarder.health;

/**
 * One kind of health check, run once. Blocking, bounded in time by its own
 * limits (connect timeout, script timeout); called on a checker thread, never
 * on the data path. Never throws for a failed check: that is a failed
 * {@link CheckResult}.
 */
@FunctionalInterface
public interface Probe {
    CheckResult run();

    /** The probe that carries out {@code spec}. */
    static Probe of(CheckSpec spec) {
        return switch (spec) {
            case CheckSpec.Tcp t -> new TcpProbe(t);
            case CheckSpec.Http h -> new HttpProbe(h);
            case CheckSpec.Misc m -> new MiscProbe(m);
        };
    }
}
