package io.jvs.forwarder.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.CharsetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The metrics HTTP/1.1 endpoint: {@code GET /metrics} answers 200 with what the
 * {@link Exposition} writes for the request's {@code Accept} header (the
 * director's {@link PrometheusExposition}: Prometheus text 0.0.4, OpenMetrics or
 * protobuf, chosen by the Prometheus client library's content negotiation),
 * {@code GET /} a short plain-text pointer to /metrics (or, when a {@link Pages}
 * source is given, whatever it serves: the director's status page), any other
 * path 404 and any other method 405. No answer ever carries a stack trace.
 *
 * <p>Invariants: it runs on its own single-thread Netty event loop (NIO; the
 * metrics thread), never on the data path's; each scrape calls the exposition
 * on that thread. Keep-alive is honoured (Prometheus reuses
 * connections); an idle connection is closed after {@value #IDLE_SECONDS} s.
 * {@link #start()} either binds or throws and leaves nothing running;
 * {@link #close()} is idempotent.
 *
 * <p>Beyond GET pages, {@link #serve(Routes)} installs request handlers that see every
 * method, the headers, the body (at most {@value #MAX_REQUEST_BYTES} bytes: a larger one
 * is answered 413 by the aggregator before any handler runs) and the peer: the web
 * console ({@code ctl.console.Console}). GET routes answer on the metrics thread; other
 * methods (the console's changes, which may wait for DNS or the control plane's monitor)
 * run on one {@code jvs-console} thread, so a scrape never waits for them. {@link #useTls} serves HTTPS instead of HTTP
 * (a PEM certificate chain and PKCS#8 key; the JDK's TLS through Netty's {@code SslHandler}).
 */
public final class MetricsServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MetricsServer.class.getName());
    /** Largest request (headers and body) accepted; a larger body is answered 413. */
    public static final int MAX_REQUEST_BYTES = 16 * 1024;
    static final int IDLE_SECONDS = 120;
    private static final String INDEX = """
            jvs metrics exporter
            Prometheus metrics: /metrics
            """;

    private final InetSocketAddress address;
    private final Exposition exposition;
    private final Pages pages;
    /** Installed once the control side is up (the console needs jvsadm); until then only the pages answer. */
    private volatile Routes routes = Routes.NONE;
    /** Where non-GET routes run (the console's changes), off the metrics thread. */
    private volatile java.util.concurrent.ExecutorService routeThread;
    private SslContext tls;
    private EventLoopGroup group;
    private Channel serverChannel;

    /**
     * One scrape in the format the client asked for. Called on the metrics thread.
     */
    @FunctionalInterface
    public interface Exposition {
        /**
         * @param accept the request's {@code Accept} header, or null when it sent none
         * @return status 200, the Content-Type of the format written, and the scrape
         */
        Content answer(String accept);
    }

    /**
     * @param address    where to listen (port 0 picks a free one; see {@link #localAddress()})
     * @param exposition answers {@code GET /metrics}, e.g. a {@link PrometheusExposition}
     */
    public MetricsServer(InetSocketAddress address, Exposition exposition) {
        this(address, exposition, Pages.NONE);
    }

    /**
     * As {@link #MetricsServer(InetSocketAddress, Exposition)}, plus the GET paths {@code pages}
     * answers (asked first; {@code /metrics} is always the scrape).
     */
    public MetricsServer(InetSocketAddress address, Exposition exposition, Pages pages) {
        this.address = Objects.requireNonNull(address);
        this.exposition = Objects.requireNonNull(exposition);
        this.pages = Objects.requireNonNull(pages);
    }

    /**
     * A scrape that is already Prometheus text 0.0.4 whatever the client accepts
     * ({@link PrometheusExposition#CONTENT_TYPE}), e.g. the agent's; {@code body} is called on the
     * metrics thread.
     */
    public MetricsServer(InetSocketAddress address, Supplier<String> body) {
        this(address, textOnly(body), Pages.NONE);
    }

    /** As {@link #MetricsServer(InetSocketAddress, Supplier)}, plus the GET paths {@code pages} answers. */
    public MetricsServer(InetSocketAddress address, Supplier<String> body, Pages pages) {
        this(address, textOnly(body), pages);
    }

    private static Exposition textOnly(Supplier<String> body) {
        Objects.requireNonNull(body);
        return accept -> new Content(200, PrometheusExposition.CONTENT_TYPE, body.get().getBytes(CharsetUtil.UTF_8));
    }

    /** One plain-text answer of an extra path (e.g. {@code /health}: 200 "ok", or 503 and what is wrong). */
    public record Page(int status, String text) {
    }

    /**
     * As {@link #MetricsServer(InetSocketAddress, Supplier)}, plus extra GET paths answered with plain
     * text (e.g. the agent's {@code /health}); each supplier is called on the metrics thread.
     */
    public MetricsServer(InetSocketAddress address, Supplier<String> body, java.util.Map<String, Supplier<Page>> pages) {
        this(address, body, textPages(pages));
    }

    private static Pages textPages(java.util.Map<String, Supplier<Page>> pages) {
        java.util.Map<String, Supplier<Page>> copy = java.util.Map.copyOf(pages);
        return path -> {
            Supplier<Page> page = copy.get(path);
            if (page == null) {
                return null;
            }
            Page p = page.get();
            return new Content(p.status(), "text/plain; charset=utf-8", p.text().getBytes(CharsetUtil.UTF_8));
        };
    }

    /** One answer: status, Content-Type and body. */
    public record Content(int status, String contentType, byte[] body) {
        public Content {
            Objects.requireNonNull(contentType);
            Objects.requireNonNull(body);
        }
    }

    /** Extra GET paths beside /metrics, e.g. the status page ({@link StatusPage}). Called on the metrics thread. */
    @FunctionalInterface
    public interface Pages {
        Pages NONE = path -> null;

        /** The answer for {@code path} (no query string), or null when the path is not one of these pages. */
        Content get(String path);
    }

    /**
     * Requests answered before the pages and /metrics, of any method; e.g. the web console.
     * Called on the metrics thread.
     */
    @FunctionalInterface
    public interface Routes {
        Routes NONE = request -> null;

        /** The answer, or null when the request is not one of these routes. */
        Response handle(Request request);
    }

    /**
     * One request as a route sees it.
     *
     * @param method  "GET", "POST"...
     * @param path    without the query string
     * @param query   the raw query string ("" when none)
     * @param headers first value of each header, by lower-case name
     * @param body    the request body (at most {@link #MAX_REQUEST_BYTES})
     * @param peer    the client's address
     * @param secure  served over TLS
     */
    public record Request(String method, String path, String query, Map<String, String> headers, byte[] body,
                          InetSocketAddress peer, boolean secure) {
        public Request {
            headers = Map.copyOf(headers);
        }

        /** The header's first value, or "" when absent ({@code name} in any case). */
        public String header(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), "");
        }
    }

    /** A route's answer: status, Content-Type, body and extra headers (e.g. Set-Cookie). */
    public record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
        public Response {
            Objects.requireNonNull(contentType);
            Objects.requireNonNull(body);
            headers = Map.copyOf(headers);
        }
    }

    /** Installs {@code routes} (replacing any before); safe while serving. */
    public void serve(Routes routes) {
        this.routes = Objects.requireNonNull(routes);
    }

    /**
     * Serve HTTPS with this PEM certificate chain and PKCS#8 PEM private key; call before {@link #start()}.
     *
     * @throws IOException when either file cannot be read or they do not make a key pair
     */
    public synchronized void useTls(Path certificateChain, Path privateKey) throws IOException {
        if (group != null) {
            throw new IllegalStateException("TLS must be chosen before the metrics server starts");
        }
        try {
            tls = SslContextBuilder.forServer(certificateChain.toFile(), privateKey.toFile()).build();
        } catch (Exception e) { // SSLException, IllegalArgumentException for unreadable PEM
            throw new IOException("cannot use TLS certificate " + certificateChain + " with key " + privateKey + ": "
                    + e.getMessage(), e);
        }
    }

    /** True when serving HTTPS. */
    public synchronized boolean tls() {
        return tls != null;
    }

    /** Binds and starts serving. */
    public synchronized void start() throws IOException {
        if (group != null) {
            throw new IllegalStateException("metrics server already started");
        }
        SslContext ssl = tls;
        routeThread = java.util.concurrent.Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name("jvs-console").daemon().unstarted(r));
        EventLoopGroup g = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("jvs-metrics", true),
                NioIoHandler.newFactory());
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(g)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new ReadTimeoutHandler(IDLE_SECONDS));
                            if (ssl != null) {
                                ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                            }
                            ch.pipeline()
                                    .addLast(new HttpServerCodec())
                                    .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                    .addLast(new Handler(exposition, pages, MetricsServer.this, ssl != null));
                        }
                    });
            serverChannel = b.bind(address).sync().channel();
            group = g;
        } catch (Exception e) {
            g.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            routeThread.shutdownNow();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("cannot listen for metrics on " + format(address) + ": " + e.getMessage(), e);
        }
    }

    /** The bound address (the actual port when started with port 0). */
    public synchronized InetSocketAddress localAddress() {
        if (serverChannel == null) {
            throw new IllegalStateException("metrics server not started");
        }
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** Stops listening, closes open connections and stops the metrics thread. */
    @Override
    public synchronized void close() {
        if (group == null) {
            return;
        }
        serverChannel.close().awaitUninterruptibly();
        routeThread.shutdownNow();
        routeThread = null;
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
        group = null;
        serverChannel = null;
    }

    static String format(InetSocketAddress a) {
        String host = a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** One request in, one response out. */
    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Exposition exposition;
        private final Pages pages;
        private final MetricsServer server;
        private final boolean secure;

        Handler(Exposition exposition, Pages pages, MetricsServer server, boolean secure) {
            this.exposition = exposition;
            this.pages = pages;
            this.server = server;
            this.secure = secure;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (req.decoderResult().isFailure()) {
                respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "bad request\n", false);
                return;
            }
            if (route(ctx, req)) {
                return;
            }
            if (!HttpMethod.GET.equals(req.method())) {
                FullHttpResponse r = text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET is allowed\n");
                r.headers().set(HttpHeaderNames.ALLOW, "GET");
                send(ctx, req, r, true);
                return;
            }
            String path = new QueryStringDecoder(req.uri()).path();
            if (!path.equals("/metrics") && page(ctx, req, path)) {
                return;
            }
            switch (path) {
                case "/metrics" -> scrape(ctx, req);
                case "/" -> respond(ctx, req, HttpResponseStatus.OK, INDEX, true);
                default -> respond(ctx, req, HttpResponseStatus.NOT_FOUND, "not found; metrics are at /metrics\n", true);
            }
        }

        /** Answers from the installed {@link Routes}; false when none takes the request. */
        private boolean route(ChannelHandlerContext ctx, FullHttpRequest req) {
            Routes routes = server.routes;
            if (routes == Routes.NONE) {
                return false;
            }
            QueryStringDecoder uri = new QueryStringDecoder(req.uri());
            int q = req.uri().indexOf('?');
            Map<String, String> headers = new HashMap<>();
            for (Map.Entry<String, String> h : req.headers()) {
                headers.putIfAbsent(h.getKey().toLowerCase(Locale.ROOT), h.getValue());
            }
            byte[] body = new byte[req.content().readableBytes()];
            req.content().getBytes(req.content().readerIndex(), body);
            Request request = new Request(req.method().name(), uri.path(), q < 0 ? "" : req.uri().substring(q + 1),
                    headers, body, (InetSocketAddress) ctx.channel().remoteAddress(), secure);
            if (HttpMethod.GET.equals(req.method())) {
                Response answer = handle(routes, request);
                if (answer == null) {
                    return false;
                }
                answer(ctx, req, answer);
                return true;
            }
            // Anything else may change the configuration, and a host name in it means a DNS lookup: it runs on
            // the routes thread so scrapes never wait for it. The connection reads nothing more meanwhile, so
            // answers keep the order of their requests.
            ctx.channel().config().setAutoRead(false);
            try {
                java.util.concurrent.ExecutorService thread = server.routeThread;
                if (thread == null) {
                    throw new java.util.concurrent.RejectedExecutionException("closed");
                }
                thread.execute(() -> {
                    Response answer = handle(routes, request);
                    ctx.executor().execute(() -> {
                        if (answer == null) {
                            FullHttpResponse r = text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET is allowed\n");
                            r.headers().set(HttpHeaderNames.ALLOW, "GET");
                            send(ctx, req, r, true);
                        } else {
                            answer(ctx, req, answer);
                        }
                        ctx.channel().config().setAutoRead(true);
                    });
                });
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                ctx.close();
            }
            return true;
        }

        /** The route's answer; a failing route is a 500 (logged), never a stack trace to the client. */
        private static Response handle(Routes routes, Request request) {
            try {
                return routes.handle(request);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, request.method() + " " + request.path() + " failed", e);
                return new Response(500, "text/plain; charset=utf-8",
                        "request failed (see the director's log)\n".getBytes(CharsetUtil.UTF_8), Map.of());
            }
        }

        private static void answer(ChannelHandlerContext ctx, FullHttpRequest req, Response answer) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(answer.status()), Unpooled.wrappedBuffer(answer.body()));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType());
            pageHeaders(r);
            answer.headers().forEach((k, v) -> r.headers().set(k, v));
            send(ctx, req, r, true);
        }

        /** The page loads only its own script and style, and is never framed or cached. */
        private static void pageHeaders(FullHttpResponse r) {
            r.headers().set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
            r.headers().set("X-Content-Type-Options", "nosniff");
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        }

        /** Answers from {@link #pages}; false when the path is not one of them. */
        private boolean page(ChannelHandlerContext ctx, FullHttpRequest req, String path) {
            Content c;
            try {
                c = pages.get(path);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, path + " failed", e);
                respond(ctx, req, HttpResponseStatus.INTERNAL_SERVER_ERROR, path + " failed\n", true);
                return true;
            }
            if (c == null) {
                return false;
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(c.status()), Unpooled.wrappedBuffer(c.body()));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, c.contentType());
            pageHeaders(r);
            send(ctx, req, r, true);
            return true;
        }

        private void scrape(ChannelHandlerContext ctx, FullHttpRequest req) {
            Content c;
            try {
                c = exposition.answer(req.headers().get(HttpHeaderNames.ACCEPT));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "metrics scrape failed", e);
                respond(ctx, req, HttpResponseStatus.INTERNAL_SERVER_ERROR, "scrape failed (see the director's log)\n", true);
                return;
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(c.status()), Unpooled.wrappedBuffer(c.body()));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, c.contentType());
            // The format depends on the Accept header: a cache must not hand one client's format to another.
            r.headers().set(HttpHeaderNames.VARY, "Accept");
            send(ctx, req, r, true);
        }

        private static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status,
                                    String text, boolean keepAliveAllowed) {
            send(ctx, req, text(ctx, status, text), keepAliveAllowed);
        }

        private static FullHttpResponse text(ChannelHandlerContext ctx, HttpResponseStatus status, String text) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(text, CharsetUtil.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            return r;
        }

        private static void send(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse r,
                                 boolean keepAliveAllowed) {
            boolean keepAlive = keepAliveAllowed && HttpUtil.isKeepAlive(req);
            HttpUtil.setContentLength(r, r.content().readableBytes());
            if (keepAlive) {
                if (!req.protocolVersion().isKeepAliveDefault()) {
                    r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                }
                ctx.writeAndFlush(r);
            } else {
                r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Read timeouts and resets by clients are routine; nothing to answer.
            LOG.log(System.Logger.Level.DEBUG, "metrics connection closed: " + cause);
            ctx.close();
        }
    }
}
