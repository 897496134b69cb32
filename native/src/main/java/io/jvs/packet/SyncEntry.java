package io.jvs.packet;

/**
 * One connection entry of an IPVS sync message (struct ip_vs_sync_v4 or ip_vs_sync_v6 and its options), as
 * {@link IpvsSync} decodes it or as a sender fills it for {@link IpvsSync.Encoder#add}. A plain
 * mutable holder of primitives: the decoder reuses one per message, so a receiver allocates
 * nothing per entry; whoever keeps an entry copies the fields it needs.
 *
 * <p>IPv4 addresses are host-order ints ({@code caddr}, {@code vaddr}, {@code daddr}); an IPv6
 * entry ({@link #ipv6()}) has its addresses as two longs each, the high and low 64 bits in
 * network order ({@code caddrHi}/{@code caddrLo}..., as {@link Ipv6Header} reads them) and its
 * int addresses 0. Ports are unsigned 16-bit values, {@code timeout} seconds.
 */
public final class SyncEntry {
    /** Entry type byte: 0 = IPv4, {@link IpvsSync#STYPE_F_INET6} = IPv6 (any type with bit 0 set is IPv6). */
    public int type;
    public int protocol;
    /** IP_VS_CONN_F_* flags as sent (host order). */
    public int flags;
    public int state;
    public int cport;
    public int vport;
    public int dport;
    public int fwmark;
    /** The connection's timeout in seconds (0: the receiver's default for the state). */
    public long timeout;
    public int caddr;
    public int vaddr;
    public int daddr;
    /** IPv6 entries: the client, virtual and real server addresses, high and low 64 bits. */
    public long caddrHi;
    public long caddrLo;
    public long vaddrHi;
    public long vaddrLo;
    public long daddrHi;
    public long daddrLo;

    /** IPVS_OPT_SEQ_DATA present: struct ip_vs_seq in and out (init_seq, delta, previous_delta). */
    public boolean hasSeq;
    public int inInitSeq;
    public int inDelta;
    public int inPrevDelta;
    public int outInitSeq;
    public int outDelta;
    public int outPrevDelta;

    /** IPVS_OPT_PE_DATA / IPVS_OPT_PE_NAME: offsets into the decoded message and lengths (0 = absent). */
    public long peDataOffset;
    public int peDataLength;
    public long peNameOffset;
    public int peNameLength;

    /** jvs's FULLNAT option ({@link IpvsSync#OPT_JVS_FULLNAT}) present. */
    public boolean hasFullNat;
    /** FULLNAT: the local address and port the real server sees as the client (IPv4 entries). */
    public int localAddr;
    /** FULLNAT over IPv6 (option {@link IpvsSync#OPT_JVS_FULLNAT6}): the local address, high and low 64 bits. */
    public long localAddrHi;
    public long localAddrLo;
    public int localPort;
    /** FULLNAT: {@link IpvsSync#FULLNAT_F_SEQ_SET} etc. */
    public int fullNatFlags;
    /** FULLNAT: the client's first data sequence number (PROXY v2 offset base). */
    public int seqBase;
    /** FULLNAT: the real server's sequence numbers are the client's plus this (ISN and PROXY v2 header). */
    public int seqDelta;
    /** FULLNAT: the real server's view of the client's TSval is the client's plus this. */
    public int tsDelta;

    /** jvs's SYN proxy option ({@link IpvsSync#OPT_JVS_SYNPROXY}) present. */
    public boolean hasSynProxy;
    /** SYN proxy: {@link IpvsSync#SYNPROXY_AWAITING} or {@link IpvsSync#SYNPROXY_SPLICED}. */
    public int spState;
    /** SYN proxy, awaiting: the cookie ISN; spliced: server-to-client sequence delta (cookie ISN - server ISN). */
    public int spSeq;
    /** SYN proxy, awaiting: the TSval of the director's SYN-ACK; spliced: the TSval delta. */
    public int spTs;
    /** SYN proxy: the client's ISN. */
    public int spClientIsn;
    /** SYN proxy: the cookie's option bits (data bits 12..21, shifted down 12). */
    public int spOptions;
    /** SYN proxy: the client's window from its cookie ACK. */
    public int spClientWindow;
    /** SYN proxy, spliced: the server's windows are shifted left by this (negative: right). */
    public int spWinShift;

    /** Clears every field (the decoder calls it before each entry). */
    public SyncEntry clear() {
        type = protocol = flags = state = cport = vport = dport = fwmark = 0;
        timeout = 0;
        caddr = vaddr = daddr = 0;
        caddrHi = caddrLo = vaddrHi = vaddrLo = daddrHi = daddrLo = 0;
        hasSeq = false;
        inInitSeq = inDelta = inPrevDelta = outInitSeq = outDelta = outPrevDelta = 0;
        peDataOffset = peNameOffset = 0;
        peDataLength = peNameLength = 0;
        hasFullNat = false;
        localAddr = localPort = fullNatFlags = seqBase = seqDelta = tsDelta = 0;
        localAddrHi = localAddrLo = 0;
        hasSynProxy = false;
        spState = spSeq = spTs = spClientIsn = spOptions = spClientWindow = spWinShift = 0;
        return this;
    }

    /** An IPv6 entry (struct ip_vs_sync_v6: the type's STYPE_F_INET6 bit). */
    public boolean ipv6() {
        return (type & IpvsSync.STYPE_F_INET6) != 0;
    }

    /** A persistence template (IP_VS_CONN_F_TEMPLATE). */
    public boolean template() {
        return (flags & IpvsSync.CONN_F_TEMPLATE) != 0;
    }

    @Override
    public String toString() {
        String c = ipv6() ? "[" + new Ipv6Address(caddrHi, caddrLo) + "]" : Ipv4Address.toString(caddr);
        String v = ipv6() ? "[" + new Ipv6Address(vaddrHi, vaddrLo) + "]" : Ipv4Address.toString(vaddr);
        String d = ipv6() ? "[" + new Ipv6Address(daddrHi, daddrLo) + "]" : Ipv4Address.toString(daddr);
        return "SyncEntry[proto=" + protocol + " flags=0x" + Integer.toHexString(flags) + " state=" + state
                + " " + c + ":" + cport + " -> " + v + ":" + vport
                + " -> " + d + ":" + dport + " fwmark=" + fwmark + " timeout=" + timeout
                + (hasFullNat ? " lip=" + (ipv6() ? "[" + new Ipv6Address(localAddrHi, localAddrLo) + "]"
                        : Ipv4Address.toString(localAddr)) + ":" + localPort : "") + "]";
    }
}
