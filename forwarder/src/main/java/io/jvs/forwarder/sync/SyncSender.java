package io.jvs.forwarder.sync;

import io.jvs.packet.IpvsSync;
import io.jvs.packet.SyncEntry;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The master's sender thread ({@code jvs-sync-master}, the kernel's sync_thread_master): drains
 * the data path's {@link SyncQueue} into version 1 messages of at most maxLen bytes, sends a
 * message as soon as the next entry does not fit, and a partial one 2 seconds after its first
 * entry (IPVS_SYNC_FLUSH_TIME). When idle it looks again every 10 ms.
 *
 * <p>The socket is an ordinary kernel UDP socket in the director's namespace
 * ({@link DatagramChannel}), as make_send_sock sets it up: multicast interface, TTL, no loopback,
 * bound to the interface's address, connected to group:port. Sync traffic is a few datagrams a
 * second on a dedicated or management interface, not data-path traffic: the kernel's UDP
 * multicast, IGMP and routing are exactly what it needs, and the data path's AF_PACKET ring
 * stays out of it.
 */
final class SyncSender implements AutoCloseable {
    static final long FLUSH_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final SyncQueue queue;
    private final SyncCounters counters;
    private final DatagramChannel channel;
    private final int syncId;
    private final int maxLen;
    private final Thread thread;
    private volatile boolean running = true;

    SyncSender(SyncQueue queue, SyncCounters counters, SyncSettings s, NetworkInterface ni, InetAddress bindAddr,
               int maxLen) throws IOException {
        this.queue = queue;
        this.counters = counters;
        this.syncId = s.syncId();
        this.maxLen = maxLen;
        DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET);
        try {
            ch.setOption(StandardSocketOptions.IP_MULTICAST_IF, ni);
            ch.setOption(StandardSocketOptions.IP_MULTICAST_TTL, s.ttlOrDefault());
            ch.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, false);
            ch.bind(new InetSocketAddress(bindAddr, 0));
            ch.connect(new InetSocketAddress(SyncDaemons.inet(s.groupOrDefault()), s.portOrDefault()));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        this.channel = ch;
        this.thread = Thread.ofPlatform().name("jvs-sync-master").daemon().unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    private void run() {
        // one message buffer, big enough for one entry whatever maxLen says (ip_vs_sync_buff_create)
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(maxLen, IpvsSync.HEADER_LEN + IpvsSync.Encoder.MAX_ENTRY_LEN));
        MemorySegment seg = MemorySegment.ofBuffer(buf);
        IpvsSync.Encoder enc = new IpvsSync.Encoder().begin(seg, 0, maxLen, syncId);
        SyncEntry e = new SyncEntry();
        long firstUse = 0;
        while (running) {
            boolean any = false;
            while (queue.poll(e)) {
                any = true;
                if (!enc.add(e)) {
                    send(buf, enc);
                    enc.begin(seg, 0, maxLen, syncId);
                    enc.add(e); // always fits an empty message
                }
                if (enc.count() == 1) {
                    firstUse = System.nanoTime();
                }
            }
            if (enc.count() > 0 && System.nanoTime() - firstUse >= FLUSH_NANOS) {
                send(buf, enc);
                enc.begin(seg, 0, maxLen, syncId);
            }
            if (!any) {
                LockSupport.parkNanos(IDLE_PARK_NANOS);
            }
        }
    }

    private void send(ByteBuffer buf, IpvsSync.Encoder enc) {
        buf.clear().limit(enc.size());
        try {
            channel.write(buf);
            counters.sent(enc.count());
        } catch (IOException e) {
            counters.dropped(SyncDrop.SEND_ERROR);
        }
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a UDP socket: nothing to recover
        }
    }
}
