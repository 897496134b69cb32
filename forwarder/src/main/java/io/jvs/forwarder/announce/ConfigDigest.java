package io.jvs.forwarder.announce;

import io.jvs.forwarder.config.TimeoutSettings;
import io.jvs.forwarder.ctl.ipvsadm.RunningConfig;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Collectors;

/**
 * What directors behind one ECMP route must agree on, as one short hash: the running services,
 * schedulers, flags, real servers, weights and timeouts, in {@code jvsadm -S -n} form, in the order
 * the director holds them (mh and sh build their tables round after round over the real servers
 * in list order, so the same servers added in another order are another table, and another
 * digest), with each service's FULLNAT local addresses left out (every director has its own). Health checks change weights, so a real
 * server that one director sees down and another up shows as a difference too: that is the
 * disagreement the operator wants to see. Exported as {@code jvs_config_digest_info{digest}};
 * scripts/ecmp check compares the directors' digests by name.
 */
public final class ConfigDigest {
    private ConfigDigest() {
    }

    /** The canonical text the digest is taken over. */
    static String canonical(ServiceTable table, TimeoutSettings timeouts) {
        StringBuilder sb = new StringBuilder(RunningConfig.text(table, timeouts).lines()
                .filter(l -> !l.isBlank() && !l.startsWith("#"))
                .map(l -> l.replaceAll(" --laddr \\S+", ""))
                .collect(Collectors.joining("\n", "", "\n")));
        // -S lists the real servers in its own order; the schedulers' is the table's
        for (VirtualService s : table.services()) {
            sb.append("order ").append(s.label());
            for (RealServer d : s.dests) {
                sb.append(' ').append(d.endpoint());
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The first 16 hex digits of the SHA-256 of {@link #canonical}. */
    public static String of(ServiceTable table, TimeoutSettings timeouts) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(canonical(table, timeouts).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
