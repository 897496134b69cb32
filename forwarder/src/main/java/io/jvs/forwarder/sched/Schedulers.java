package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

import java.util.List;

/**
 * Creates schedulers by their ipvsadm name.
 *
 * <p>Scheduler flags (IP_VS_SVC_F_SCHED1..3) are passed to every scheduler and only sh and mh
 * read them; the kernel stores them on any service and its other schedulers ignore them, so
 * jvs accepts them silently too. (ipvsadm's own check that "sh-port" goes with sh is a matter of
 * flag names, for the command parser.)
 *
 * <p>The mh table size is one per director, as the kernel's is (CONFIG_IP_VS_MH_TAB_INDEX, fixed
 * when the module is built): the director builds its services with {@link #factory}
 * ({@code jvs-forwarder --mh-table-size}); {@link #create} uses the kernel's default size.
 */
public final class Schedulers {
    /**
     * Every name {@link #create} knows, in the order ipvsadm's man page lists them. The benchmarks
     * and tests enumerate schedulers from this list: a new scheduler joins them by being added here.
     */
    public static final List<String> NAMES = List.of("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh",
            "sed", "nq", "fo", "ovf", "mh", "twos");

    private Schedulers() {
    }

    /** A scheduler without scheduler flags. */
    public static Scheduler create(String name, RealServer[] dests) {
        return create(name, 0, dests);
    }

    /**
     * A new scheduler instance over these destinations (IPVS list order).
     *
     * @throws IllegalArgumentException "Scheduler or persistence engine not found" for unknown names
     */
    public static Scheduler create(String name, int schedFlags, RealServer[] dests) {
        return create(name, schedFlags, dests, MaglevHashingScheduler.DEFAULT_TABLE_SIZE, false);
    }

    /**
     * A factory whose mh schedulers use {@code mhTableSize}.
     *
     * @throws IllegalArgumentException if it is not one of {@link MaglevHashingScheduler#TABLE_SIZES}
     */
    public static SchedulerFactory factory(int mhTableSize) {
        MaglevHashingScheduler.checkTableSize(mhTableSize);
        return new SchedulerFactory() {
            @Override
            public Scheduler create(String name, int flags, RealServer[] dests) {
                return Schedulers.create(name, flags, dests, mhTableSize, false);
            }

            @Override
            public Scheduler create(String name, int flags, RealServer[] dests, boolean ipv6) {
                return Schedulers.create(name, flags, dests, mhTableSize, ipv6);
            }
        };
    }

    private static Scheduler create(String name, int schedFlags, RealServer[] dests, int mhSize, boolean ipv6) {
        if (name != null) {
            switch (name) {
                case "rr":
                    return new RoundRobinScheduler(dests);
                case "wrr":
                    return new WeightedRoundRobinScheduler(dests);
                case "lc":
                    return new LeastConnectionScheduler(dests);
                case "wlc":
                    return new WeightedLeastConnectionScheduler(dests);
                case "lblc":
                    return new LocalityLeastConnectionScheduler(dests, ipv6);
                case "lblcr":
                    return new LocalityReplicatedLeastConnectionScheduler(dests, ipv6);
                case "dh":
                    return new DestinationHashingScheduler(dests);
                case "sh":
                    return new SourceHashingScheduler(schedFlags, dests);
                case "sed":
                    return new ShortestExpectedDelayScheduler(dests);
                case "nq":
                    return new NeverQueueScheduler(dests);
                case "fo":
                    return new WeightedFailoverScheduler(dests);
                case "ovf":
                    return new OverflowConnectionScheduler(dests);
                case "mh":
                    return new MaglevHashingScheduler(schedFlags, dests, mhSize);
                case "twos":
                    return new TwoChoiceScheduler(dests);
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("Scheduler or persistence engine not found");
    }
}
