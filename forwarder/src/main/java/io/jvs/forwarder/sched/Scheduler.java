package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;

/**
 * An IPVS scheduler. One instance per virtual service per snapshot, built over
 * that service's destinations in IPVS list order. Called only from the
 * data-path thread that owns the service; must not allocate.
 */
public interface Scheduler {
    /** The ipvsadm name: "rr", "wrr", ... */
    String name();

    /**
     * Picks the real server for a new connection from a client, or null when
     * none is available (all weight 0 or overloaded).
     *
     * @param clientAddr client IPv4 address (host order), for hashing schedulers
     * @param clientPort client port, for hashing schedulers with the port flag
     */
    RealServer schedule(int clientAddr, int clientPort);
}
