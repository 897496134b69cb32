package io.jvs.forwarder.service;

/**
 * What the IPv6 data path asks of the published services, with addresses as two longs (the
 * high and low 64 bits of the 128-bit address, as {@link io.jvs.packet.Ipv6Header} reads them).
 * Implemented by the published snapshot once the model carries IPv6 services (read once per
 * packet through a supplier, like {@link ServiceRegistry#current()}); until then the data path
 * gets {@link #NONE}. Every method is called on the event loop per packet: allocation-free,
 * no lock.
 */
public interface Ipv6ServiceLookup {
    /**
     * The service an IPv6 packet to (VIP, port) belongs to, as ip_vs_service_find does for
     * AF_INET6: the address service for (proto, VIP, port), else the VIP's port-0 service; null
     * when there is none.
     */
    VirtualService classify6(int proto, long addrHi, long addrLo, int port);

    /**
     * The service an IPv6 packet from src to (VIP, port) belongs to: an IPv6 fwmark service when
     * one of jvs's IPv6 mark rules marks the packet and the mark has a service, else
     * {@link #classify6(int, long, long, int)} (what a lookup without mark rules does).
     */
    default VirtualService classify6(int proto, long srcHi, long srcLo, long addrHi, long addrLo, int port) {
        return classify6(proto, addrHi, addrLo, port);
    }

    /** A VIP of some IPv6 service (echo requests answered, NS answered, NO_SERVICE counted). */
    boolean isVip6(long addrHi, long addrLo);

    /** A FULLNAT local address (LIP) of some IPv6 service: NS for it is answered too. */
    boolean isLocalAddr6(long addrHi, long addrLo);

    /** The high 64 bits of real server {@code dest}'s IPv6 address (a real server of a service this returned). */
    long destHi(RealServer dest);

    /** The low 64 bits of real server {@code dest}'s IPv6 address. */
    long destLo(RealServer dest);

    /**
     * Every VIP and local address, as hi/lo pairs (even index hi, odd index lo): for the
     * solicited-node memberships and unsolicited Neighbor Advertisements at publication, not
     * per packet (it may allocate).
     */
    long[] ownedAddresses6();

    /** No IPv6 service at all: every lookup misses. */
    Ipv6ServiceLookup NONE = new Ipv6ServiceLookup() {
        @Override
        public VirtualService classify6(int proto, long addrHi, long addrLo, int port) {
            return null;
        }

        @Override
        public boolean isVip6(long addrHi, long addrLo) {
            return false;
        }

        @Override
        public boolean isLocalAddr6(long addrHi, long addrLo) {
            return false;
        }

        @Override
        public long destHi(RealServer dest) {
            throw new IllegalStateException("no IPv6 service: no IPv6 real server " + dest);
        }

        @Override
        public long destLo(RealServer dest) {
            throw new IllegalStateException("no IPv6 service: no IPv6 real server " + dest);
        }

        @Override
        public long[] ownedAddresses6() {
            return new long[0];
        }
    };
}
