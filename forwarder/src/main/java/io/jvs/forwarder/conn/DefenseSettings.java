package io.jvs.forwarder.conn;

/**
 * IPVS's defence sysctls (Documentation/networking/ipvs-sysctl.rst), with the kernel's defaults.
 * jvs's "memory" is the connection table: {@code amemthresh} is a number of free entries, where
 * the kernel counts free pages.
 *
 * @param dropEntry  drop_entry 0..3: 0 off, 1 automatic (on while fewer than amemthresh entries
 *                   are free), 2 automatic and currently on, 3 always on. While on, a random
 *                   1/32 of the table is scanned every second and embryonic TCP entries (SYN_RECV,
 *                   SYNACK) found there are dropped (ip_vs_random_dropentry)
 * @param dropPacket drop_packet 0..3: while on, one in {@code rate} new connections is refused,
 *                   rate = amemthresh / (amemthresh - free entries) (levels 1, 2), or am_droprate
 *                   (level 3) (update_defense_level, ip_vs_todrop)
 * @param secureTcp  secure_tcp 0..3: while on (levels 2 and 3), TCP uses the kernel's
 *                   {@code tcp_states_dos[]} tables ({@link TcpStateMachine})
 * @param amemthresh the trigger of the automatic levels: free connection-table entries
 * @param amDroprate drop_packet level 3's rate
 */
public record DefenseSettings(int dropEntry, int dropPacket, int secureTcp, int amemthresh, int amDroprate) {
    /** The kernel's defaults: every strategy off, amemthresh 1024, am_droprate 10. */
    public static final DefenseSettings OFF = new DefenseSettings(0, 0, 0, 1024, 10);

    public DefenseSettings {
        level("drop_entry", dropEntry);
        level("drop_packet", dropPacket);
        level("secure_tcp", secureTcp);
        if (amemthresh < 0) {
            throw new IllegalArgumentException("amemthresh " + amemthresh + " out of range: expected >= 0");
        }
        if (amDroprate < 0) {
            throw new IllegalArgumentException("am_droprate " + amDroprate + " out of range: expected >= 0");
        }
    }

    private static void level(String name, int v) {
        if (v < 0 || v > 3) {
            throw new IllegalArgumentException(name + " " + v + " out of range: expected 0..3");
        }
    }
}
