package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

/**
 * A connection table's per-entry SYN proxy state, as {@link io.jvs.forwarder.xmit.SynProxy}
 * reads and writes it for both families ({@link ConnectionTable} for IPv4, {@link ConnectionTable6}
 * for IPv6), with what else of an entry the proxy touches: liveness, the per-packet update, the
 * service and real server, FULLNAT's TOA mark ({@link FullNatState}). Event-loop thread only.
 */
public interface SynProxyState extends FullNatState {
    /** SYN proxy state: not a proxied connection. */
    byte SP_NONE = 0;
    /** SYN proxy state: the client's cookie ACK opened the entry; the real server has not answered the SYN. */
    byte SP_AWAITING_SERVER = 1;
    /** SYN proxy state: the server's SYN-ACK was spliced; sequence numbers are translated both ways. */
    byte SP_SPLICED = 2;

    boolean isLive(int id);

    /** One packet of a live entry: TCP state transition, expiry, counters. */
    void update(int id, boolean output, int tcpFlags, int bytes, long nowNanos);

    VirtualService service(int id);

    RealServer dest(int id);

    byte synProxyState(int id);

    /**
     * The entry was opened by a client ACK with a valid cookie; the director's ISN towards the
     * client (the cookie), the TSval it sent in its SYN-ACK, the client's ISN, the cookie's
     * option bits and the client's window are kept until the real server answers.
     */
    void startSynProxy(int id, int cookieIsn, int synAckTsval, int clientIsn, int opts, int clientWin);

    /**
     * The real server answered; from now on the client's view of the server's stream is the
     * server's plus {@code seqDelta} (cookie ISN minus server ISN), its timestamps (TSval) the
     * server's plus {@code tsDelta}, and the server's windows are shifted left by {@code winShift}
     * (negative: right) into the window scale the director gave the client.
     */
    void spliceSynProxy(int id, int seqDelta, int tsDelta, int winShift);

    /** Awaiting: the cookie ISN; spliced: the sequence delta. */
    int synProxySeq(int id);

    /** Awaiting: the SYN-ACK's TSval; spliced: the timestamp delta. */
    int synProxyTs(int id);

    int synProxyClientIsn(int id);

    int synProxyOpts(int id);

    int synProxyClientWindow(int id);

    int synProxyWinShift(int id);

    /** The slot of the client segment held for this entry, or -1. */
    int synProxyHeld(int id);

    void setSynProxyHeld(int id, int slot);
}
