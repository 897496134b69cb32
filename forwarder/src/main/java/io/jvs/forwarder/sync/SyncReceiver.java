package io.jvs.forwarder.sync;

import io.jvs.packet.IpvsSync;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.Executor;

/**
 * The backup's receiver thread ({@code jvs-sync-backup}, the kernel's sync_thread_backup): a
 * kernel UDP socket bound to group:port that joined the group on the mcast interface only (so
 * the kernel delivers the group's datagrams from that interface and no unicast ones). The
 * protocol has no authentication; a datagram whose source is not in one of the interface's own
 * IPv4 subnets is dropped ({@code foreign_source}) before it is read. Each message is checked
 * whole by {@link IpvsSync#decode} ({@link SyncIntake}); accepted entries go into the
 * {@link SyncQueue} and the event loop is asked to install them ({@link SyncInstaller}).
 */
final class SyncReceiver implements AutoCloseable {
    private final DatagramChannel channel;
    private final SyncQueue queue;
    private final SyncCounters counters;
    private final SyncInstaller installer;
    private final Executor loop;
    private final int syncId;
    private final int maxLen;
    /** The interface's IPv4 networks: address &amp; mask, and mask. */
    private final int[] nets;
    private final int[] masks;
    private final Thread thread;

    SyncReceiver(SyncQueue queue, SyncCounters counters, SyncInstaller installer, Executor loop, SyncSettings s,
                 NetworkInterface ni, int[] nets, int[] masks, int maxLen) throws IOException {
        this.queue = queue;
        this.counters = counters;
        this.installer = installer;
        this.loop = loop;
        this.syncId = s.syncId();
        this.maxLen = maxLen;
        this.nets = nets;
        this.masks = masks;
        InetAddress group = SyncDaemons.inet(s.groupOrDefault());
        DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET);
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(new InetSocketAddress(group, s.portOrDefault()));
            ch.join(group, ni);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        this.channel = ch;
        this.thread = Thread.ofPlatform().name("jvs-sync-backup").daemon().unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    private void run() {
        ByteBuffer buf = ByteBuffer.allocateDirect(maxLen);
        MemorySegment seg = MemorySegment.ofBuffer(buf);
        SyncIntake intake = new SyncIntake(queue, counters, syncId);
        for (;;) {
            SocketAddress from;
            try {
                buf.clear();
                from = channel.receive(buf);
            } catch (ClosedChannelException closed) {
                return;
            } catch (IOException io) {
                if (!channel.isOpen()) {
                    return;
                }
                continue;
            }
            counters.receivedMessage();
            if (!(from instanceof InetSocketAddress isa) || !(isa.getAddress() instanceof Inet4Address a)
                    || !inSubnet(a)) {
                counters.dropped(SyncDrop.FOREIGN_SOURCE);
                continue;
            }
            // a datagram longer than maxLen arrives cut and fails the size check, as in the kernel
            if (intake.take(seg, buf.position()) && installer.scheduled.compareAndSet(false, true)) {
                loop.execute(installer);
            }
        }
    }

    private boolean inSubnet(Inet4Address a) {
        int addr = a.hashCode(); // Inet4Address.hashCode() is the address itself (host order)
        for (int i = 0; i < nets.length; i++) {
            if ((addr & masks[i]) == nets[i]) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        try {
            channel.close(); // ends a blocked receive
        } catch (IOException ignored) {
            // closing a UDP socket: nothing to recover
        }
        try {
            thread.join(2000);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }
}
