package io.jvs.forwarder.ctl.server;

import io.jvs.forwarder.ctl.ipvsadm.IpvsadmException;
import io.jvs.forwarder.ctl.ipvsadm.Jvsadm;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutorGroup;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The director's control API, served on Netty epoll by its own small event
 * loop (never the data path's): the Unix domain socket jvsadm talks to
 * ({@link ControlProtocol}) and, optionally, HTTP for remote automation.
 *
 * <p>The socket is created with mode 0600 (bound under a temporary name,
 * chmod-ed, then renamed into place, so it is never reachable with looser
 * permissions) and owned by the director's user; its directory is created
 * if missing. A stale socket left by a crashed director is replaced; a live
 * one (another director answering) is an error. {@link #close} removes the
 * socket file.
 *
 * <p>HTTP: {@code POST /v1/jvsadm} with {@code Authorization: Bearer TOKEN};
 * the body's first line is the jvsadm command line (words split on
 * whitespace), the rest is what {@code -R} reads. The answer is 200 with
 * stdout for exit status 0, else 422 with stderr; header
 * {@code X-Jvsadm-Status} carries the exit status. Without the right token:
 * 401, and one line on stderr naming the peer.
 *
 * <p>Commands run one at a time on a separate executor thread (a {@code -c}
 * waits for the data path's copy; a reverse lookup may wait for DNS), so
 * neither the event loop nor the data path ever blocks on them.
 */
public final class ControlServer implements AutoCloseable {
    private static final int HTTP_MAX_BODY = 16 << 20;
    private static final int IDLE_SECONDS = 60;

    private final Jvsadm jvsadm;
    private final MultiThreadIoEventLoopGroup group;
    private final EventExecutorGroup commands;
    private final List<Channel> channels = new ArrayList<>();
    private Path socketPath;
    /** Directories listen() created, innermost first: close() removes them again when empty. */
    private final List<Path> createdDirs = new ArrayList<>();

    public ControlServer(Jvsadm jvsadm) {
        this.jvsadm = Objects.requireNonNull(jvsadm);
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("jvs-control", true),
                EpollIoHandler.newFactory());
        this.commands = new DefaultEventExecutorGroup(1, new DefaultThreadFactory("jvs-control-cmd", true));
    }

    /** Serves the Unix domain socket at {@code path} (mode 0600). */
    public void listen(Path path) throws IOException {
        listen(path, -1);
    }

    /**
     * Serves the Unix domain socket at {@code path}: mode 0600, or with {@code gid} >= 0 owned by
     * that group and mode 0660, so the group's members may connect (--control-group).
     */
    public void listen(Path path, int gid) throws IOException {
        Path abs = path.toAbsolutePath();
        Path dir = abs.getParent();
        for (Path d = dir; d != null && !Files.exists(d); d = d.getParent()) {
            createdDirs.add(d);
        }
        Files.createDirectories(dir);
        removeStale(abs);
        Path tmp = dir.resolve("." + abs.getFileName() + "." + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        Channel ch;
        try {
            ch = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<DomainSocketChannel>() {
                        @Override
                        protected void initChannel(DomainSocketChannel c) {
                            c.pipeline().addLast(new ReadTimeoutHandler(IDLE_SECONDS));
                            socketPipeline(c.pipeline(), commands);
                        }
                    }).bind(new DomainSocketAddress(tmp.toString())).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            throw new IOException("cannot listen on " + abs + ": " + e.getMessage(), e);
        }
        try {
            if (gid >= 0) {
                Files.setAttribute(tmp, "unix:gid", gid);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-rw----"));
            } else {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            ch.close().syncUninterruptibly();
            Files.deleteIfExists(tmp);
            throw new IOException("cannot create control socket " + abs + ": " + e.getMessage(), e);
        }
        channels.add(ch);
        socketPath = abs;
    }

    /** A socket file that no director answers on is removed; a live one is an error. */
    private static void removeStale(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if ((mode & 0170000) != 0140000) {
            throw new IOException("control socket path " + path + " exists and is not a socket");
        }
        try (var probe = java.nio.channels.SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new IOException("another director is listening on " + path
                    + " (give this one its own: --control PATH or JVS_CONTROL)");
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("another director")) {
                throw e;
            }
            Files.deleteIfExists(path); // stale: left by a director that is gone
        }
    }

    /** Serves HTTP on {@code address}, requiring {@code Authorization: Bearer token}. */
    public InetSocketAddress listenHttp(InetSocketAddress address, String token) throws IOException {
        byte[] expected = ("Bearer " + Objects.requireNonNull(token)).getBytes(StandardCharsets.UTF_8);
        Channel ch;
        try {
            ch = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast(new ReadTimeoutHandler(IDLE_SECONDS));
                            httpPipeline(c.pipeline(), commands, expected);
                        }
                    }).bind(address).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            throw new IOException("cannot listen for the control API on " + address + ": " + e.getMessage(), e);
        }
        channels.add(ch);
        return (InetSocketAddress) ch.localAddress();
    }

    /**
     * The control socket's handlers after the idle timer: framing, then the command handler on
     * {@code commands} (null: on the channel's own loop, as the fuzz target drives it).
     */
    void socketPipeline(ChannelPipeline p, EventExecutorGroup commands) {
        p.addLast(new LengthFieldBasedFrameDecoder(ControlProtocol.MAX_FRAME, 0, 4, 0, 4))
                .addLast(commands, new SocketHandler());
    }

    /** The HTTP API's handlers after the idle timer ({@code expected}: the Authorization header's bytes). */
    void httpPipeline(ChannelPipeline p, EventExecutorGroup commands, byte[] expected) {
        p.addLast(new HttpServerCodec())
                .addLast(new HttpObjectAggregator(HTTP_MAX_BODY))
                .addLast(commands, new HttpHandler(expected));
    }

    public Path socketPath() {
        return socketPath;
    }

    @Override
    public void close() {
        for (Channel c : channels) {
            c.close().syncUninterruptibly();
        }
        channels.clear();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        commands.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        if (socketPath != null) {
            try {
                Files.deleteIfExists(socketPath);
            } catch (IOException e) {
                System.err.println("jvs: cannot remove control socket " + socketPath + ": " + e.getMessage());
            }
        }
        for (Path d : createdDirs) {
            try {
                Files.deleteIfExists(d);
            } catch (IOException e) {
                break; // not empty (another director's socket): leave it and its parents
            }
        }
        createdDirs.clear();
    }

    /** The idle limit is for clients that never send a whole request, not for a long command (-c of 100k rows). */
    private static void stopIdleTimer(ChannelHandlerContext ctx) {
        if (ctx.pipeline().get(ReadTimeoutHandler.class) != null) {
            ctx.pipeline().remove(ReadTimeoutHandler.class);
        }
    }

    private final class SocketHandler extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            stopIdleTimer(ctx);
            Jvsadm.Result r;
            try {
                ControlProtocol.Request req = ControlProtocol.decodeRequest(frame.nioBuffer());
                r = jvsadm.run(req.argv(), req.stdin());
            } catch (RuntimeException e) {
                r = new Jvsadm.Result(IpvsadmException.OPERATION, "", "jvs: bad control request: " + e.getMessage() + "\n");
            }
            byte[] body = ControlProtocol.encodeResponse(r.status(), r.out(), r.err());
            ByteBuf out = ctx.alloc().buffer(4 + body.length).writeInt(body.length).writeBytes(body);
            ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private final class HttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final byte[] expected;

        HttpHandler(byte[] expected) {
            this.expected = expected;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            stopIdleTimer(ctx);
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION, "");
            if (!MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8), expected)) {
                System.err.println("jvs-forwarder: control API: refused " + req.method() + " " + req.uri()
                        + " from " + ctx.channel().remoteAddress() + " (401: "
                        + (auth.isEmpty() ? "no" : "wrong") + " bearer token)");
                reply(ctx, HttpResponseStatus.UNAUTHORIZED, "401 Unauthorized: a bearer token is required\n", -1,
                        true);
                return;
            }
            if (!req.uri().equals("/v1/jvsadm")) {
                reply(ctx, HttpResponseStatus.NOT_FOUND, "not found: POST /v1/jvsadm\n", -1, false);
                return;
            }
            if (!req.method().equals(HttpMethod.POST)) {
                reply(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST /v1/jvsadm\n", -1, false);
                return;
            }
            String body = req.content().toString(StandardCharsets.UTF_8);
            int nl = body.indexOf('\n');
            String line = nl < 0 ? body : body.substring(0, nl);
            String stdin = nl < 0 ? "" : body.substring(nl + 1);
            String trimmed = line.strip();
            List<String> argv = trimmed.isEmpty() ? List.of() : List.of(trimmed.split("\\s+"));
            Jvsadm.Result r = jvsadm.run(argv, stdin);
            reply(ctx, r.status() == 0 ? HttpResponseStatus.OK : HttpResponseStatus.UNPROCESSABLE_ENTITY,
                    r.status() == 0 ? r.out() + r.err() : r.err(), r.status(), false);
        }

        private void reply(ChannelHandlerContext ctx, HttpResponseStatus status, String text, int exit,
                           boolean challenge) {
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes())
                    .set(HttpHeaderNames.CONNECTION, "close");
            if (exit >= 0) {
                resp.headers().setInt("X-Jvsadm-Status", exit);
            }
            if (challenge) {
                resp.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"jvs\"");
            }
            ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
