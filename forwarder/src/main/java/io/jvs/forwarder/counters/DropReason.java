package io.jvs.forwarder.counters;

/**
 * Why the data path dropped a frame. Every drop increments exactly one of these
 * (exported as {@code jvs_dropped_packets_total{reason="<label>"}}).
 */
public enum DropReason {
    /** Shorter than its headers claim, or captured shorter than it was (snaplen < len). */
    TRUNCATED("truncated"),
    /** Header fields that cannot be right: IP version, IHL, total length, TCP data offset. */
    MALFORMED("malformed"),
    /** Received with its 802.1Q tag moved out of the frame by the kernel (re-inserting it is not supported). */
    VLAN_OFFLOADED("vlan_offloaded"),
    /**
     * IPv6: an extension header (its first two bytes, a fragment header's eight, or the
     * length it declares) reaches past the payload length; in a first fragment, RFC 7112's
     * header chain that does not fit the first fragment.
     */
    IPV6_EXTENSION_TRUNCATED("ipv6_extension_truncated"),
    /**
     * IPv6: an extension-header chain RFC 8200 forbids: a Hop-by-Hop Options header not
     * right after the fixed header, or a second fragment header.
     */
    IPV6_BAD_EXTENSION_CHAIN("ipv6_bad_extension_chain"),
    /**
     * IPv6: a Neighbor Solicitation or Advertisement that fails RFC 4861's receive checks (hop
     * limit not 255, code not 0, shorter than 24 bytes, a multicast target, an option of length 0
     * or past the end, a DAD probe not to a solicited-node group or with a source link-layer
     * option, a solicited advertisement to multicast), silently discarded as a node must.
     */
    NDP_INVALID("ndp_invalid"),
    /** Larger than the largest frame the path can carry. */
    OVERSIZED("oversized"),
    /**
     * IPv4 header checksum wrong (L4 checksums are the end host's business, as in IPVS), or the
     * ICMP (ICMPv6) checksum of an echo request to a VIP, which jvs answers itself, or of a
     * Neighbor Solicitation or Advertisement.
     */
    BAD_CHECKSUM("bad_checksum"),
    /** TTL (IPv6: hop limit) would reach zero on forwarding. */
    TTL_EXPIRED("ttl_expired"),
    /** A non-first fragment (IPv4 or IPv6) to a VIP: no ports to classify it by (jvs does not reassemble). */
    FRAGMENT_UNTRACKED("fragment_untracked"),
    /** Addressed to a VIP, but to a protocol/port no virtual service listens on. */
    NO_SERVICE("no_service"),
    /** A TCP segment other than SYN for which no connection exists. */
    NO_CONNECTION("no_connection"),
    /** The scheduler found no available real server (all weight 0 or overloaded). */
    NO_DESTINATION("no_destination"),
    /**
     * The connection table is full and holds no embryonic entry to reclaim: new connections are
     * refused, existing ones keep flowing.
     */
    TABLE_FULL("table_full"),
    /** drop_packet (the flood defence) refused this new connection: one in every drop_rate is. */
    DEFENSE_DROP_PACKET("defense_drop_packet"),
    /** A new connection from a client the service's deny list names, or its allow list does not. */
    ACL_DENIED("acl_denied"),
    /** A new connection from a client that holds the service's per-client connection limit already. */
    CLIENT_CONN_LIMIT("client_conn_limit"),
    /** A new connection from a client over the service's per-client new-connection rate. */
    CLIENT_RATE_LIMIT("client_rate_limit"),
    /** A new connection under a per-client connection limit, with the table of clients full. */
    CLIENT_TABLE_FULL("client_table_full"),
    /** A packet of a connection whose real server was removed (IPVS drops these; expire_nodest_conn expires the connection). */
    DEST_REMOVED("dest_removed"),
    /** No route to the next hop in the director's routing table. */
    NO_ROUTE("no_route"),
    /** The queue of frames waiting for ARP resolution is full. */
    NEIGH_QUEUE_FULL("neigh_queue_full"),
    /** ARP resolution of the next hop failed (no reply before the retries ran out). */
    NEIGH_UNRESOLVED("neigh_unresolved"),
    /** A bug in a pipeline stage threw; the frame was lost, the event loop lives on. */
    INTERNAL_ERROR("internal_error"),
    /** The transmit batch was full or the kernel refused the frame. */
    TX_ERROR("tx_error"),
    /**
     * TUN: the encapsulated packet would exceed the LAN MTU and DF is set; an ICMP
     * fragmentation-needed (next-hop MTU = MTU - encapsulation) went back to the client,
     * as IPVS does (rate-limited like the kernel's icmp_send).
     */
    FRAG_NEEDED("frag_needed"),
    /**
     * IPv6 (DR, NAT): the packet is larger than the MTU of the port it would leave by (IPv6
     * routers do not fragment); an ICMPv6 Packet Too Big carrying that MTU went back to its
     * source, as IPVS's ensure_mtu_is_adequate does (rate-limited like Time Exceeded).
     */
    PACKET_TOO_BIG("packet_too_big"),
    /** FULLNAT: every port of every local address of the service is in use; the new connection is refused. */
    LOCAL_PORT_EXHAUSTED("local_port_exhausted"),
    /** An ICMP error to a VIP or local address that quotes no tracked connection. */
    ICMP_UNTRACKED("icmp_untracked"),
    /** Addressed to a VIP of a VRRP instance this director is not MASTER of (BACKUP or FAULT): the master forwards it. */
    VRRP_BACKUP("vrrp_backup"),
    /**
     * SYN proxy: an ACK to a --synproxy service that opens no connection and whose
     * acknowledgement is not a valid SYN cookie (forged, from another time slice, or for
     * another tuple). It never reaches a real server.
     */
    SYNPROXY_BAD_COOKIE("synproxy_bad_cookie"),
    /**
     * SYN proxy: a client segment while the real server has not yet answered the proxy's SYN,
     * beyond the one segment held per connection and not usable to send that SYN again (a
     * RST, or no room to rewrite it); the client's retransmission carries it later.
     */
    SYNPROXY_PENDING("synproxy_pending");

    private final String label;

    DropReason(String label) {
        this.label = label;
    }

    /** The Prometheus label value. */
    public String label() {
        return label;
    }
}
