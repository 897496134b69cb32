package io.jvs.forwarder.service;


import java.util.Set;

/** A stand-in scheduler factory for tests: knows a few names, picks the first available server. */
public final class TestSchedulers {
    private TestSchedulers() {
    }

    /** Knows "rr", "wrr" and "wlc"; any other name fails as Schedulers.create does. */
    public static final SchedulerFactory FACTORY = (name, flags, dests) -> create(name, dests);

    private static final Set<String> KNOWN = Set.of("rr", "wrr", "wlc");

    public static Scheduler create(String name, RealServer[] dests) {
        if (!KNOWN.contains(name)) {
            throw new IllegalArgumentException("Scheduler or persistence engine not found");
        }
        return new FirstAvailable(name, dests);
    }

    /** Remembers what it was built over, so tests can check it. */
    public record FirstAvailable(String name, RealServer[] dests) implements Scheduler {
        @Override
        public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
            for (RealServer d : dests) {
                if (d.available()) {
                    return d;
                }
            }
            return null;
        }
    }
}
