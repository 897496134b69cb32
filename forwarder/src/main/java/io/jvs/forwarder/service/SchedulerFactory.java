package io.jvs.forwarder.service;


/**
 * Makes a service's scheduler when a snapshot is built (control thread).
 * Must accept an empty destination array (a service without real servers is
 * legal; config parsers check a name that way) and throw
 * IllegalArgumentException("Scheduler or persistence engine not found") for
 * an unknown name.
 */
@FunctionalInterface
public interface SchedulerFactory {
    /**
     * @param name       ipvsadm scheduler name
     * @param schedFlags the service's IP_VS_SVC_F_SCHED* bits (ServiceSpec.SCHED_FLAG_*)
     * @param dests      destinations in IPVS list order
     */
    Scheduler create(String name, int schedFlags, RealServer[] dests);

    /**
     * As {@link #create(String, int, RealServer[])}, for a service of the given family: a factory
     * whose schedulers keep per-address state (lblc, lblcr) sizes it for 128-bit addresses when
     * {@code ipv6}. By default the family makes no difference.
     */
    default Scheduler create(String name, int schedFlags, RealServer[] dests, boolean ipv6) {
        return create(name, schedFlags, dests);
    }
}
