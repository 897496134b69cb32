package io.jvs.forwarder.announce;

import java.util.ArrayList;
import java.util.List;

/**
 * BIRD's BGP sessions and BFD sessions as jvs last read them (immutable).
 *
 * @param reachable whether the last poll of BIRD's control socket answered
 */
public record BirdStatus(boolean reachable, List<BgpSession> bgp, List<BfdSession> bfd) {
    public static final BirdStatus UNKNOWN = new BirdStatus(false, List.of(), List.of());

    /** One BGP protocol of {@code show protocols}: its name, BIRD state (up/start/down...) and info. */
    public record BgpSession(String protocol, String state, String info) {
        public boolean established() {
            return state.equals("up") && info.startsWith("Established");
        }
    }

    /** One row of {@code show bfd sessions}. */
    public record BfdSession(String neighbor, String iface, String state) {
        public boolean up() {
            return state.equalsIgnoreCase("Up");
        }
    }

    /**
     * Parses the text lines of {@code show protocols} (header "Name Proto Table State Since Info",
     * then one row per protocol) and {@code show bfd sessions} (per BFD protocol a "name:" line,
     * a header, rows "ADDRESS IFACE STATE SINCE INTERVAL TIMEOUT").
     */
    public static BirdStatus parse(List<String> protocols, List<String> bfdSessions) {
        List<BgpSession> bgp = new ArrayList<>();
        for (String line : protocols) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 5 && f[1].equals("BGP")) {
                // Info follows the Since column, which may be one token (time) or two (date time)
                int infoFrom = f.length > 6 && f[5].matches("\\d\\d:\\d\\d:\\d\\d.*") ? 6 : 5;
                String info = String.join(" ", java.util.Arrays.asList(f).subList(Math.min(infoFrom, f.length), f.length));
                bgp.add(new BgpSession(f[0], f[3], info));
            }
        }
        List<BfdSession> bfd = new ArrayList<>();
        for (String line : bfdSessions) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[0].matches("\\d+\\.\\d+\\.\\d+\\.\\d+")) {
                bfd.add(new BfdSession(f[0], f[1], f[2]));
            }
        }
        return new BirdStatus(true, List.copyOf(bgp), List.copyOf(bfd));
    }
}
