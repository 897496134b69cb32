package io.jvs.forwarder.conn;

/**
 * IPVS's defence against floods, as ip_vs_ctl.c's {@code update_defense_level} and
 * ip_vs_conn.c's {@code ip_vs_todrop} do it, with the connection table's free entries as the
 * kernel's available memory.
 *
 * <p>{@link #update(int)} runs once a second on the event loop (the kernel's defense_work,
 * DEFENSE_TIMER_PERIOD = 1 s). It moves the automatic levels exactly as the kernel moves the
 * sysctls: level 1 becomes 2 when fewer than amemthresh entries are free ("nomem"), level 2
 * goes back to 1 when enough are; levels 0 and 3 never change. From the levels it derives:
 * <ul>
 *   <li>drop_entry on (level 2 under nomem, or 3): the caller then runs
 *       {@link ConnectionTable#randomDropEntry};</li>
 *   <li>drop_packet's rate: 0 (off), {@code amemthresh / (amemthresh - free)} (levels 1 and 2 under
 *       nomem, integer division as the kernel's) or am_droprate (level 3); {@link #todrop()}
 *       then refuses one new connection in every {@code rate};</li>
 *   <li>secure_tcp on (level 2 or 3): the caller switches the TCP state tables
 *       ({@link ConnectionTable#setSecureTcp}).</li>
 * </ul>
 *
 * <p>Single-threaded: the event loop writes everything; the levels are volatile only so that
 * metrics may read them.
 */
public final class Defense {
    private final int amemthresh;
    private final int amDroprate;
    private volatile int dropEntryLevel;
    private volatile int dropPacketLevel;
    private volatile int secureTcpLevel;
    private int oldSecureTcp;
    private boolean dropEntry;
    private int dropRate;
    private int dropCounter;
    private boolean secureTcp;

    public Defense(DefenseSettings s) {
        this.amemthresh = s.amemthresh();
        this.amDroprate = s.amDroprate();
        this.dropEntryLevel = s.dropEntry();
        this.dropPacketLevel = s.dropPacket();
        this.secureTcpLevel = s.secureTcp();
        // as writing the sysctls does (proc_do_defense_mode calls update_defense_level): level 3
        // takes effect at once; the table is empty, so the automatic levels stay off
        update(Integer.MAX_VALUE);
    }

    /**
     * update_defense_level with {@code availmem} free connection-table entries.
     *
     * @return true when secure_tcp switched on or off (the caller changes the state tables)
     */
    public boolean update(int availmem) {
        final boolean nomem = availmem < Math.max(amemthresh, 0);
        switch (dropEntryLevel) {
            case 0 -> dropEntry = false;
            case 1 -> {
                if (nomem) {
                    dropEntry = true;
                    dropEntryLevel = 2;
                } else {
                    dropEntry = false;
                }
            }
            case 2 -> {
                if (nomem) {
                    dropEntry = true;
                } else {
                    dropEntry = false;
                    dropEntryLevel = 1;
                }
            }
            default -> dropEntry = true;
        }
        switch (dropPacketLevel) {
            case 0 -> dropRate = 0;
            case 1 -> {
                if (nomem) {
                    dropCounter = dropRate = amemthresh / (amemthresh - availmem);
                    dropPacketLevel = 2;
                } else {
                    dropRate = 0;
                }
            }
            case 2 -> {
                if (nomem) {
                    dropCounter = dropRate = amemthresh / (amemthresh - availmem);
                } else {
                    dropRate = 0;
                    dropPacketLevel = 1;
                }
            }
            default -> dropRate = amDroprate;
        }
        int toChange = -1;
        switch (secureTcpLevel) {
            case 0 -> {
                if (oldSecureTcp >= 2) {
                    toChange = 0;
                }
            }
            case 1 -> {
                if (nomem) {
                    if (oldSecureTcp < 2) {
                        toChange = 1;
                    }
                    secureTcpLevel = 2;
                } else if (oldSecureTcp >= 2) {
                    toChange = 0;
                }
            }
            case 2 -> {
                if (nomem) {
                    if (oldSecureTcp < 2) {
                        toChange = 1;
                    }
                } else {
                    if (oldSecureTcp >= 2) {
                        toChange = 0;
                    }
                    secureTcpLevel = 1;
                }
            }
            default -> {
                if (oldSecureTcp < 2) {
                    toChange = 1;
                }
            }
        }
        oldSecureTcp = secureTcpLevel;
        if (toChange >= 0) {
            // ip_vs_protocol_timeout_change(ipvs, sysctl_secure_tcp > 1)
            boolean on = secureTcpLevel > 1;
            boolean changed = on != secureTcp;
            secureTcp = on;
            return changed;
        }
        return false;
    }

    /** ip_vs_todrop: true for one new connection in every drop_rate while drop_packet is on. */
    public boolean todrop() {
        if (dropRate == 0) {
            return false;
        }
        if (--dropCounter > 0) {
            return false;
        }
        dropCounter = dropRate;
        return true;
    }

    /** drop_entry is on: drop embryonic entries this second. */
    public boolean dropEntry() {
        return dropEntry;
    }

    /** drop_packet's current rate (0 = off): one new connection in this many is refused. */
    public int dropRate() {
        return dropRate;
    }

    /** The TCP state tables are {@code tcp_states_dos[]}. */
    public boolean secureTcp() {
        return secureTcp;
    }

    /** The current sysctl values, as the kernel rewrites them (1 &lt;-&gt; 2): drop_entry. */
    public int dropEntryLevel() {
        return dropEntryLevel;
    }

    public int dropPacketLevel() {
        return dropPacketLevel;
    }

    public int secureTcpLevel() {
        return secureTcpLevel;
    }
}
