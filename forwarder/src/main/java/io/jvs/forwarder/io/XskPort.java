package io.jvs.forwarder.io;

import java.lang.foreign.MemorySegment;

/**
 * One worker's transmit side of an XDP-attached interface bound on several rx queues: the
 * worker's socket of each queue. A frame is queued on the socket whose UMEM it lies in
 * (sent in place, from the queue it arrived on); a frame from elsewhere (scratch, another
 * port) on the first socket, which copies it. With one queue this is that queue's socket.
 */
public final class XskPort implements TxQueue {
    private final XskSocket[] sockets;
    private final long[] umemAddress;

    public XskPort(XskSocket[] sockets) {
        if (sockets.length == 0) {
            throw new IllegalArgumentException("an XDP port without a socket");
        }
        this.sockets = sockets.clone();
        this.umemAddress = new long[sockets.length];
        for (int i = 0; i < sockets.length; i++) {
            umemAddress[i] = sockets[i].umem().address();
        }
    }

    /** The worker's sockets, one per bound queue. */
    public XskSocket[] sockets() {
        return sockets.clone();
    }

    @Override
    public void add(MemorySegment seg, long off, int len) {
        long at = seg.address();
        for (int i = 0; i < sockets.length; i++) {
            if (umemAddress[i] == at) {
                sockets[i].add(seg, off, len);
                return;
            }
        }
        sockets[0].add(seg, off, len);
    }

    @Override
    public void flush() {
        for (XskSocket s : sockets) {
            s.flush();
        }
    }

    @Override
    public void close() {
        for (XskSocket s : sockets) {
            s.close();
        }
    }
}
