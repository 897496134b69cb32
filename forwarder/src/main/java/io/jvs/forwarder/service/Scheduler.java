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

    /**
     * Picks a real server for an IPv6 packet (addresses as two longs each, network order), or null.
     * The kernel's schedulers hash an IPv6 address as {@code addr_fold}, the XOR of its four 32-bit
     * words ({@code ip6[0]^ip6[1]^ip6[2]^ip6[3]}, then {@code ntohl}: ip_vs_sh_hashkey,
     * ip_vs_dh_hashkey, ip_vs_mh_hashkey, ip_vs_lblc(r)_hashkey) where they hash the IPv4 address,
     * so this default gives {@link #schedule} the folds. Data-path thread; allocation-free.
     */
    default RealServer schedule6(long clientHi, long clientLo, int clientPort, long destHi, long destLo,
                                 int destPort) {
        return schedule(fold6(clientHi, clientLo), clientPort, fold6(destHi, destLo), destPort);
    }

    /** The kernel's IPv6 {@code addr_fold}: the four 32-bit words XORed, in host order. */
    static int fold6(long hi, long lo) {
        return (int) (hi >>> 32) ^ (int) hi ^ (int) (lo >>> 32) ^ (int) lo;
    }
}
