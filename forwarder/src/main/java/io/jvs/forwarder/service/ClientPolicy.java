package io.jvs.forwarder.service;

import java.util.List;

/**
 * Who may open connections to a service, and how many (jvs extension; DPVS's whitelist and
 * blacklist, plus per-client limits). A new connection from a client in {@code deny} is refused;
 * when {@code allow} is not empty, so is one from a client outside it (deny wins). Each client
 * address may hold at most {@code connLimit} connections of the service at once (0 = no limit)
 * and open at most {@code rate} new ones per second with bursts of {@code burst} (0 = no limit).
 * Connections already in the table are never cut by a later change.
 *
 * @param allow     prefixes allowed (empty: every client not denied)
 * @param deny      prefixes denied
 * @param connLimit 0..{@value #MAX_LIMIT}, 0 = none
 * @param rate      new connections per second per client, 0..{@value #MAX_LIMIT}, 0 = none
 * @param burst     1..{@value #MAX_LIMIT} when rate is set (new connections at once), else 0
 */
public record ClientPolicy(List<ClientPrefix> allow, List<ClientPrefix> deny, int connLimit, int rate, int burst) {
    /** Most prefixes in one list. */
    public static final int MAX_PREFIXES = 100_000;
    /** Largest connection limit, rate and burst. */
    public static final int MAX_LIMIT = 1_000_000;
    public static final ClientPolicy NONE = new ClientPolicy(List.of(), List.of(), 0, 0, 0);

    public ClientPolicy {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        if (allow.size() > MAX_PREFIXES || deny.size() > MAX_PREFIXES) {
            throw new IllegalArgumentException("more than " + MAX_PREFIXES + " prefixes in one list");
        }
        if (connLimit < 0 || connLimit > MAX_LIMIT) {
            throw new IllegalArgumentException("connection limit " + connLimit + " out of range 0.." + MAX_LIMIT);
        }
        if (rate < 0 || rate > MAX_LIMIT) {
            throw new IllegalArgumentException("rate " + rate + " out of range 0.." + MAX_LIMIT);
        }
        if (rate == 0 ? burst != 0 : burst < 1 || burst > MAX_LIMIT) {
            throw new IllegalArgumentException("burst " + burst + " out of range 1.." + MAX_LIMIT
                    + " (0 without a rate)");
        }
    }

    public boolean isNone() {
        return allow.isEmpty() && deny.isEmpty() && connLimit == 0 && rate == 0;
    }
}
