package io.jvs.forwarder.service;


/**
 * An IPVS scheduler. One instance per virtual service per snapshot, built over
 * that service's destinations in IPVS list order. Called only from the
 * data-path thread that owns the service; must not allocate.
 */
public interface Scheduler {
    /** The ipvsadm name: "rr", "wrr", ... */
    String name();

    /**
     * Picks the real server for a new connection, or null when none is
     * available (all weight 0 or overloaded).
     *
     * @param clientAddr client IPv4 address (host order): sh, mh, twos...
     * @param clientPort client port: sh/mh with the port flag
     * @param destAddr   the packet's destination address (the VIP, or for a
     *                   fwmark service whatever address was marked): dh, lblc, lblcr
     * @param destPort   the packet's destination port
     */
    RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort);
}
