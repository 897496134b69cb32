package io.jvs.forwarder.health;

import java.util.List;
import java.util.Objects;

/**
 * One health checker of a real server, as configured (keepalived's
 * {@code TCP_CHECK}, {@code HTTP_GET}/{@code SSL_GET}, {@code MISC_CHECK}),
 * with the timing it runs on. Immutable.
 */
public sealed interface CheckSpec {
    /** When the checker runs and how patient it is. */
    Timing timing();

    /** "TCP_CHECK", "HTTP_GET", ... as keepalived names the checker. */
    String kind();

    /**
     * keepalived's checker timing, already resolved (checker value, else the
     * real server's, else the virtual server's, else keepalived's default).
     *
     * @param delayLoopMillis        between two checks while the checker is up or down (delay_loop, default 60 s)
     * @param connectTimeoutMillis   connect and read limit of one check (connect_timeout, default 5 s)
     * @param retry                  failed checks tolerated before the checker goes down (retry; default 1, MISC_CHECK 0)
     * @param delayBeforeRetryMillis between a failed check and its retry (delay_before_retry; default 1 s, HTTP_GET/SSL_GET 3 s)
     * @param alpha                  start down: the first success brings the server in (alpha)
     */
    record Timing(long delayLoopMillis, long connectTimeoutMillis, int retry, long delayBeforeRetryMillis,
                  boolean alpha) {
        public Timing {
            if (delayLoopMillis <= 0 || connectTimeoutMillis <= 0 || retry < 0 || delayBeforeRetryMillis < 0) {
                throw new IllegalArgumentException("illegal checker timing " + delayLoopMillis + "/"
                        + connectTimeoutMillis + "/" + retry + "/" + delayBeforeRetryMillis);
            }
        }
    }

    /** TCP_CHECK: a TCP connection to {@code addr:port} completes within the connect timeout. */
    record Tcp(int addr, int port, Timing timing, io.jvs.packet.Ipv6Address addr6) implements CheckSpec {
        public Tcp {
            checkPort(port);
            Objects.requireNonNull(timing);
        }

        /** A check of an IPv4 address. */
        public Tcp(int addr, int port, Timing timing) {
            this(addr, port, timing, null);
        }

        @Override
        public String kind() {
            return "TCP_CHECK";
        }
    }

    /** One {@code url { path; status_code; digest }} of an HTTP checker. */
    record Url(String path, List<StatusRange> statusCodes, String digest) {
        public Url {
            Objects.requireNonNull(path);
            statusCodes = List.copyOf(statusCodes);
            if (digest != null && !digest.matches("[0-9a-fA-F]{32}")) {
                throw new IllegalArgumentException("digest \"" + digest + "\" is not an MD5 hex string (32 hex digits)");
            }
            digest = digest == null ? null : digest.toLowerCase(java.util.Locale.ROOT);
        }

        /** keepalived: without status_code any 2xx is success. */
        public boolean statusOk(int status) {
            if (statusCodes.isEmpty()) {
                return status >= 200 && status <= 299;
            }
            for (StatusRange r : statusCodes) {
                if (status >= r.low() && status <= r.high()) {
                    return true;
                }
            }
            return false;
        }
    }

    /** status_code 200 or 200-299. */
    record StatusRange(int low, int high) {
        public StatusRange {
            if (low < 100 || high > 599 || low > high) {
                throw new IllegalArgumentException("status code " + low + (low == high ? "" : "-" + high)
                        + " out of range 100..599");
            }
        }
    }

    /**
     * HTTP_GET / SSL_GET: every url answers with an accepted status (and the
     * MD5 of its body equals {@code digest} when one is given). SSL_GET does
     * not verify the server's certificate, as keepalived does not by default.
     */
    record Http(boolean tls, int addr, int port, String virtualHost, List<Url> urls, Timing timing,
                io.jvs.packet.Ipv6Address addr6) implements CheckSpec {
        /** A check of an IPv4 address. */
        public Http(boolean tls, int addr, int port, String virtualHost, List<Url> urls, Timing timing) {
            this(tls, addr, port, virtualHost, urls, timing, null);
        }

        public Http {
            checkPort(port);
            urls = List.copyOf(urls);
            if (urls.isEmpty()) {
                throw new IllegalArgumentException((tls ? "SSL_GET" : "HTTP_GET") + " needs at least one url { path ... }");
            }
            Objects.requireNonNull(timing);
        }

        @Override
        public String kind() {
            return tls ? "SSL_GET" : "HTTP_GET";
        }
    }

    /**
     * MISC_CHECK: runs {@code command} (argv, no shell); exit 0 = up, any other
     * = down, except with {@code dynamic}: 2..255 = up with weight exit-2.
     * Killed (SIGTERM, SIGKILL 2 s later) when it runs longer than {@code timeoutMillis}.
     */
    record Misc(List<String> command, long timeoutMillis, boolean dynamic, Timing timing) implements CheckSpec {
        public Misc {
            command = List.copyOf(command);
            if (command.isEmpty() || command.getFirst().isBlank()) {
                throw new IllegalArgumentException("MISC_CHECK needs misc_path");
            }
            if (timeoutMillis <= 0) {
                throw new IllegalArgumentException("misc_timeout must be positive");
            }
            Objects.requireNonNull(timing);
        }

        @Override
        public String kind() {
            return "MISC_CHECK";
        }
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("checker port " + port + " out of range 1..65535");
        }
    }
}
