package io.jvs.forwarder.io;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;
import java.net.SocketAddress;

/**
 * A Netty channel over one {@link FrameSource}: its unsafe is the
 * {@link EpollIoHandle} registered on the epoll event loop, and every frame of
 * a read burst goes through this channel's {@link io.netty.channel.ChannelPipeline}
 * as the one reused {@link PacketContext} (decode -> classify -> connection ->
 * schedule -> transmit), followed by one channelReadComplete per burst, where
 * transmit flushes. Only after that does the source get its frame memory back.
 *
 * <p>Frames never leave through {@code Channel.write}: the transmit handler
 * owns the transmit queues, so nothing per packet goes through
 * ChannelOutboundBuffer.
 */
public final class PacketChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false);

    private final FrameSource source;
    private final int portId;
    private final int budget;
    private final PacketContext ctx = new PacketContext();
    private final ChannelConfig config = new DefaultChannelConfig(this);
    private final ReadListener readListener;
    private volatile boolean open = true;
    private IoRegistration registration;

    /** Told about every burst (for counters); called on the event loop. */
    public interface ReadListener {
        void frameReceived(int port, int bytes);

        void dropped(int port, DropReason reason);

        void burst(int port, int frames, long busyNanos);
    }

    /**
     * @param portId  small integer naming the port in the pipeline and in metrics
     * @param budget  most frames handled per wake-up, so one busy fd cannot starve the others
     */
    public PacketChannel(FrameSource source, int portId, int budget, ReadListener readListener) {
        super(null);
        this.source = source;
        this.portId = portId;
        this.budget = budget;
        this.readListener = readListener;
    }

    public FrameSource source() {
        return source;
    }

    public int portId() {
        return portId;
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new PacketUnsafe();
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop l && l.isCompatible(PacketUnsafe.class);
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        ((IoEventLoop) eventLoop()).register((PacketUnsafe) unsafe()).addListener(f -> {
            if (f.isSuccess()) {
                registration = (IoRegistration) f.getNow();
                registration.submit(EpollIoOps.EPOLLIN);
                promise.setSuccess();
            } else {
                promise.setFailure(f.cause());
            }
        });
    }

    @Override
    protected void doDeregister() {
        IoRegistration r = registration;
        if (r != null) {
            r.cancel();
        }
    }

    @Override
    protected SocketAddress localAddress0() {
        return null;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return null;
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        // Bound at open time to its interface.
    }

    @Override
    protected void doDisconnect() {
        // Not connection-oriented.
    }

    @Override
    protected void doClose() {
        if (open) {
            open = false;
            source.close();
        }
    }

    @Override
    protected void doBeginRead() {
        // Always reading: EPOLLIN is submitted at registration.
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        // Frames leave through the transmit handler's queues; anything written
        // here is a programming error and is failed, not silently dropped.
        while (in.current() != null) {
            in.remove(new IOException("PacketChannel frames are sent by the transmit handler, not Channel.write"));
        }
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && isRegistered();
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    private final class PacketUnsafe extends AbstractUnsafe implements EpollIoHandle, FrameSource.FrameSink {
        // Created lazily: the unsafe is built inside AbstractChannel's constructor, before source is set.
        private FileDescriptor fd;

        @Override
        public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
            promise.setFailure(new IOException("PacketChannel cannot connect"));
        }

        @Override
        public FileDescriptor fd() {
            if (fd == null) {
                fd = new FileDescriptor(source.fd());
            }
            return fd;
        }

        @Override
        public void handle(IoRegistration reg, IoEvent event) {
            long start = System.nanoTime();
            int n = source.poll(ctx, this, budget);
            if (n > 0) {
                pipeline().fireChannelReadComplete();
            }
            source.release();
            readListener.burst(portId, n, System.nanoTime() - start);
        }

        @Override
        public void frame(PacketContext c) {
            c.ingressPort = portId;
            readListener.frameReceived(portId, c.frameLen);
            pipeline().fireChannelRead(c);
        }

        @Override
        public void dropped(DropReason reason) {
            readListener.dropped(portId, reason);
        }

        @Override
        public void close() {
            close(voidPromise());
        }
    }
}
