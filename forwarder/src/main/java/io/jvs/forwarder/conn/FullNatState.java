package io.jvs.forwarder.conn;

/**
 * A connection table's per-entry FULLNAT TCP state, as {@link io.jvs.forwarder.xmit.FullNatTcp}
 * reads and writes it for both families ({@link ConnectionTable} for IPv4, {@link ConnectionTable6}
 * for IPv6): the sequence and timestamp offsets towards the real server, PROXY v2's first data
 * sequence number and acknowledgement, TOA's handshake-ACK mark. Event-loop thread only.
 */
public interface FullNatState {
    /** PROXY v2: the client's first data sequence number (SYN's seq + 1), 0 until set. */
    int seqBase(int id);

    void setSeqBase(int id, int seq);

    /** Whether {@link #seqDelta} and {@link #tsDelta} are set (by the connection's first SYN). */
    boolean seqSet(int id);

    /** The real server's view of the client's sequence numbers / TSvals is the client's plus these. */
    void setSeqOffsets(int id, int seqDelta, int tsDelta);

    int seqDelta(int id);

    int tsDelta(int id);

    /** PROXY v2: the real server has acknowledged the injected header. */
    boolean proxyAcked(int id);

    void markProxyAcked(int id);

    /** TOA: the option went out on the client's handshake ACK. */
    boolean toaOnAckSent(int id);

    void markToaOnAckSent(int id);
}
