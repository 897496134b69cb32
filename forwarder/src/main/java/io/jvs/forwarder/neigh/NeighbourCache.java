package io.jvs.forwarder.neigh;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.packet.ArpPacket;
import io.jvs.packet.EthernetHeader;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;

import java.util.function.Consumer;

/**
 * jvs's own ARP: next-hop IPv4 -> MAC on one port, resolved by jvs itself
 * (it owns the wire in packet mode; the kernel's cache is not consulted). One cache
 * per port: a neighbour is resolved on the interface its route leaves by, with that
 * interface's MAC and address as sender, and learnt only from ARP arriving there.
 * The states, retransmission, give-up and the bounded queue of frames waiting for a
 * next hop are {@link NeighbourTable}'s (shared with NDP); this class writes the ARP
 * requests and gratuitous ARP and decides which addresses may be learnt.
 *
 * <p>Invariants: single-threaded (the data-path event loop), allocation-free.
 */
public final class NeighbourCache extends NeighbourTable {
    public NeighbourCache(LanPort port, Consumer<DropReason> drops) {
        super(port, drops);
    }

    /** The table's key of an IPv4 address: (0, its 32 bits unsigned). */
    private static long key(int addr) {
        return Integer.toUnsignedLong(addr);
    }

    /**
     * The MAC for a next hop, or -1 when it is not resolved yet (a request is
     * then on its way). A REACHABLE entry past its time turns STALE: still
     * used, and refreshed with a new request.
     */
    public long resolve(int addr, long now) {
        return resolveKey(0, key(addr), now);
    }

    /**
     * Holds a frame until its next hop answers. Returns false (and counts
     * nothing: the caller counts) when the queue is full.
     */
    public boolean enqueue(int addr, PacketContext ctx) {
        return enqueueKey(0, key(addr), ctx);
    }

    /**
     * An ARP message told us addr is at hw. Updates an existing entry (and
     * releases its waiting frames); creates one only when {@code create} (the
     * sender asked us something, as the kernel learns from requests to it).
     */
    public void learn(int addr, long hw, boolean create, long now) {
        if (addr == 0) {
            return;
        }
        learnKey(0, key(addr), hw, create, now);
    }

    /** A broadcast ARP request for the next hop (0, lo), from this port's MAC and address. */
    @Override
    void solicit(long hi, long lo) {
        LanPort port = port();
        long off = port.allocScratch();
        int len = ArpPacket.writeFrame(port.scratch(), off + 10, EthernetHeader.BROADCAST, port.mac,
                ArpPacket.OP_REQUEST, port.mac, port.addr, 0L, (int) lo);
        port.send(port.scratch(), off, len);
    }

    /** Sends a gratuitous ARP announcing that addr is at this port's MAC. */
    public void announce(int addr) {
        LanPort port = port();
        long off = port.allocScratch();
        int len = ArpPacket.writeFrame(port.scratch(), off + 10, EthernetHeader.BROADCAST, port.mac,
                ArpPacket.OP_REQUEST, port.mac, addr, 0L, addr);
        port.send(port.scratch(), off, len);
    }
}
