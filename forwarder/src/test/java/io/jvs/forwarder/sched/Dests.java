package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;

import java.util.IdentityHashMap;
import java.util.Map;

/** Test helpers: named real servers and sequence rendering. */
final class Dests {
    private final RealServer[] servers;
    private final Map<RealServer, Character> names = new IdentityHashMap<>();

    /** Servers named a, b, c... in the given (IPVS list) order with these weights. */
    Dests(int... weights) {
        servers = new RealServer[weights.length];
        for (int i = 0; i < weights.length; i++) {
            char name = (char) ('a' + i);
            servers[i] = new RealServer(0x0a000001 + i, 80, weights[i], ForwardMethod.DR, 0, 0, new DestStats());
            names.put(servers[i], name);
        }
    }

    /** Servers with explicit one-letter names, e.g. names "cba" for a list built newest first. */
    Dests(String letters, int... weights) {
        servers = new RealServer[weights.length];
        for (int i = 0; i < weights.length; i++) {
            servers[i] = new RealServer(0x0a000001 + i, 80, weights[i], ForwardMethod.DR, 0, 0, new DestStats());
            names.put(servers[i], letters.charAt(i));
        }
    }

    /**
     * 1..8 servers with random weights (0 in one case of five), random active/inactive counts and
     * the overload flag on one server in eight: the scripted loads the model tests run over.
     */
    static Dests randomLoads(java.util.SplittableRandom rnd) {
        int n = 1 + rnd.nextInt(8);
        int[] w = new int[n];
        for (int i = 0; i < n; i++) {
            w[i] = rnd.nextInt(5) == 0 ? 0 : 1 + rnd.nextInt(rnd.nextBoolean() ? 5 : 300);
        }
        Dests d = new Dests(w);
        for (int i = 0; i < n; i++) {
            char c = (char) ('a' + i);
            d.load(c, rnd.nextInt(rnd.nextBoolean() ? 4 : 2000), rnd.nextInt(rnd.nextBoolean() ? 4 : 5000));
            d.overload(c, rnd.nextInt(8) == 0);
        }
        return d;
    }

    RealServer[] array() {
        return servers.clone();
    }

    RealServer get(char name) {
        for (Map.Entry<RealServer, Character> e : names.entrySet()) {
            if (e.getValue() == name) {
                return e.getKey();
            }
        }
        throw new IllegalArgumentException("no server " + name);
    }

    /** Adds connections to a server's counts (as the connection table would). */
    void load(char name, int active, int inactive) {
        get(name).stats.addActive(active);
        get(name).stats.addInactive(inactive);
    }

    /** The letter of a server (or '-' for null). */
    char nameOf(RealServer r) {
        return r == null ? '-' : names.get(r);
    }

    void overload(char name, boolean overloaded) {
        get(name).stats.setOverloaded(overloaded);
    }

    /** n picks rendered as letters, '-' for null. */
    String run(Scheduler s, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            RealServer r = s.schedule(0, 0, 0, 0);
            sb.append(r == null ? '-' : names.get(r));
        }
        return sb.toString();
    }

    static String repeat(String s, int times) {
        return s.repeat(times);
    }
}
