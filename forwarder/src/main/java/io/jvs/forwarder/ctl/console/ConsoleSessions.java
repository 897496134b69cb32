package io.jvs.forwarder.ctl.console;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The console's logins: the control token (the same one {@code --control-token-file} gives the
 * HTTP control API) is exchanged for a session — a random id the browser keeps in an
 * HttpOnly, SameSite=Strict cookie — with its own random CSRF token, which every change must
 * echo in a header. A session ends after {@code idle} without a request, on logout, or when
 * {@link #MAX_SESSIONS} newer ones push it out. Failed logins are rate-limited per peer
 * ({@link LoginLimiter}). Without a token nothing can log in: changes are off.
 *
 * <p>Secrets are compared in constant time. Thread-safe (one monitor); the monotonic
 * {@code nanoClock} and the random source are given, so tests use a fake clock.
 */
public final class ConsoleSessions {
    /** How long a session lives without a request. */
    public static final Duration DEFAULT_IDLE = Duration.ofMinutes(10);
    static final int MAX_SESSIONS = 64;

    /** One logged-in browser. */
    public static final class Session {
        private final String id;
        private final String csrf;
        private long lastUsedNanos;

        private Session(String id, String csrf, long now) {
            this.id = id;
            this.csrf = csrf;
            this.lastUsedNanos = now;
        }

        /** The cookie's value. */
        public String id() {
            return id;
        }

        /** What every change must carry in {@link Console#CSRF_HEADER}. */
        public String csrf() {
            return csrf;
        }
    }

    public enum Outcome {
        /** Logged in. */
        OK,
        /** The token was wrong (counted against the peer). */
        WRONG_TOKEN,
        /** Too many wrong tokens from this peer lately: not even checked. */
        RATE_LIMITED,
        /** No control token is configured: the console is read-only. */
        CHANGES_OFF
    }

    /** A login's outcome; {@code session} only for {@link Outcome#OK}, {@code retryAfterSeconds} for RATE_LIMITED. */
    public record Login(Outcome outcome, Session session, long retryAfterSeconds) {
    }

    private final byte[] token;
    private final LongSupplier nanoClock;
    private final SecureRandom random;
    private final long idleNanos;
    private final LoginLimiter limiter;
    private final Map<String, Session> sessions = new LinkedHashMap<>();

    /**
     * @param token     the control token, or null: changes off
     * @param nanoClock monotonic time
     * @param idle      a session's idle timeout
     */
    public ConsoleSessions(String token, LongSupplier nanoClock, SecureRandom random, Duration idle) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.nanoClock = Objects.requireNonNull(nanoClock);
        this.random = Objects.requireNonNull(random);
        this.idleNanos = idle.toNanos();
        this.limiter = new LoginLimiter(nanoClock);
    }

    /** True when a token is configured, i.e. a login (and so a change) is possible at all. */
    public boolean changesEnabled() {
        return token != null;
    }

    public long idleSeconds() {
        return idleNanos / 1_000_000_000L;
    }

    /** Checks {@code presented} for {@code peer} (an address, without port: the rate limit is per host). */
    public synchronized Login login(String peer, String presented) {
        if (token == null) {
            return new Login(Outcome.CHANGES_OFF, null, 0);
        }
        long wait = limiter.retryAfterSeconds(peer);
        if (wait > 0) {
            return new Login(Outcome.RATE_LIMITED, null, wait);
        }
        if (!MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8))) {
            limiter.failed(peer);
            return new Login(Outcome.WRONG_TOKEN, null, 0);
        }
        limiter.succeeded(peer);
        expire();
        if (sessions.size() >= MAX_SESSIONS) {
            Iterator<String> oldest = sessions.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
        Session s = new Session(secret(), secret(), nanoClock.getAsLong());
        sessions.put(s.id, s);
        return new Login(Outcome.OK, s, 0);
    }

    /** The live session with this cookie value, its idle timer restarted; empty when none (or expired). */
    public Optional<Session> find(String id) {
        return lookup(id, true);
    }

    /**
     * As {@link #find} without restarting the idle timer: the page's background polls are not an
     * operator's activity, so an open but unattended tab still logs out after the idle timeout.
     */
    public Optional<Session> peek(String id) {
        return lookup(id, false);
    }

    private synchronized Optional<Session> lookup(String id, boolean touch) {
        if (id == null || id.isEmpty()) {
            return Optional.empty();
        }
        expire();
        Session s = null;
        for (Session candidate : sessions.values()) { // constant time per candidate: no early exit on a prefix
            if (MessageDigest.isEqual(candidate.id.getBytes(StandardCharsets.US_ASCII),
                    id.getBytes(StandardCharsets.UTF_8))) {
                s = candidate;
            }
        }
        if (s != null && touch) {
            s.lastUsedNanos = nanoClock.getAsLong();
        }
        return Optional.ofNullable(s);
    }

    /** True when {@code presented} is this session's CSRF token. */
    public static boolean csrfMatches(Session s, String presented) {
        return presented != null && !presented.isEmpty()
                && MessageDigest.isEqual(s.csrf.getBytes(StandardCharsets.US_ASCII),
                presented.getBytes(StandardCharsets.UTF_8));
    }

    public synchronized void logout(Session s) {
        sessions.remove(s.id);
    }

    /** Sessions alive now (expired ones dropped first). */
    public synchronized int live() {
        expire();
        return sessions.size();
    }

    private void expire() {
        long now = nanoClock.getAsLong();
        sessions.values().removeIf(s -> now - s.lastUsedNanos >= idleNanos);
    }

    /** 256 random bits, URL-safe base64 (a cookie value and a header value as they are). */
    private String secret() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
