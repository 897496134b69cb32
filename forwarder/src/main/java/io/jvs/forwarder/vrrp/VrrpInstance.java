package io.jvs.forwarder.vrrp;

/**
 * One VRRP instance's state machine (RFC 3768 section 6.4 / RFC 5798 section 6.4, with
 * keepalived's choices), driven by a clock it is given: {@link #start}, {@link #receive},
 * {@link #tick}, {@link #interfaceDown}/{@link #interfaceUp} and {@link #shutdown}, all called
 * on one thread. What it does goes out through {@link Actions}: advertisements to send and
 * state changes.
 *
 * <ul>
 * <li>Start: the address owner (priority 255) configured {@code state MASTER} becomes MASTER at
 *     once; everything else starts as BACKUP and becomes MASTER when no better advertisement
 *     arrives within the master-down interval (keepalived's vrrp_init_state).</li>
 * <li>Master-down interval: 3 × Master_Adver_Interval + Skew_Time. Skew_Time is
 *     (256 − priority) / 256 s in v2 (RFC 3768; equal to the (256 − priority) / 256 × advert_int
 *     of v3 when advert_int is 1 s) and (256 − priority) × Master_Adver_Interval / 256 in v3,
 *     where a BACKUP learns Master_Adver_Interval from the master's advertisements.</li>
 * <li>BACKUP: priority 0 (the master is leaving) sets the timer to Skew_Time; a higher or equal
 *     priority, or any when {@code nopreempt}, restarts the master-down timer; a lower one is
 *     ignored (the timer runs out: preemption), after {@code preempt_delay} when one is set.</li>
 * <li>MASTER: priority 0 is answered by an advertisement at once; a higher priority, or an
 *     equal one from a higher source address, makes it BACKUP; a lower one is answered by an
 *     advertisement at once (keepalived does the same so the other side backs off quickly).</li>
 * <li>FAULT while a tracked interface (or the instance's own) is down: no advertisements; a
 *     MASTER leaving for FAULT sends priority 0 first. Back to BACKUP when all are up.</li>
 * <li>Shutdown: a MASTER sends priority 0, so a BACKUP takes over after Skew_Time.</li>
 * </ul>
 */
public final class VrrpInstance {
    /** What the instance does to the world. */
    public interface Actions {
        /** Send an advertisement with this priority (the instance's own, or 0 when leaving). */
        void send(VrrpInstance instance, int priority);

        /** The instance changed state (called after the state field changed). */
        void transition(VrrpInstance instance, VrrpState from, VrrpState to);
    }

    private static final long CENTI = 10_000_000L;
    private static final long NONE = Long.MAX_VALUE;

    private final VrrpConfig.Instance config;
    private final int localAddr;
    private final long localHi;
    private final long localLo;
    private final Actions actions;
    private VrrpState state = VrrpState.INIT;
    private long masterAdverIntNanos;
    private long advertAt = NONE;
    private long masterDownAt = NONE;
    private long preemptAt;
    private int downInterfaces;
    private int masterAddr;
    private long masterHi;
    private long masterLo;

    /**
     * @param localAddr this router's address in its advertisements (the tie-break between equal
     *                  priorities)
     */
    public VrrpInstance(VrrpConfig.Instance config, int localAddr, Actions actions) {
        this(config, localAddr, 0, localAddr & 0xffff_ffffL, actions);
    }

    /**
     * An IPv6 instance: this router's address in its advertisements is (localHi, localLo), the
     * interface's link-local address (RFC 5798 compares it, unsigned, between equal priorities).
     */
    public VrrpInstance(VrrpConfig.Instance config, long localHi, long localLo, Actions actions) {
        this(config, 0, localHi, localLo, actions);
    }

    private VrrpInstance(VrrpConfig.Instance config, int localAddr, long localHi, long localLo, Actions actions) {
        this.config = config;
        this.localAddr = localAddr;
        this.localHi = localHi;
        this.localLo = localLo;
        this.actions = actions;
        this.masterAdverIntNanos = config.advertIntCentis() * CENTI;
    }

    public VrrpConfig.Instance config() {
        return config;
    }

    public String name() {
        return config.name();
    }

    public VrrpState state() {
        return state;
    }

    /** The address the current master advertises from (this router's own when MASTER; 0 unknown). */
    public int masterAddr() {
        return masterAddr;
    }

    /** The current master's address as (hi, lo): IPv4 as 0 and its 32 bits; (0, 0) unknown. */
    public long masterHi() {
        return masterHi;
    }

    public long masterLo() {
        return masterLo;
    }

    private void master(VrrpPacket.Advert a) {
        masterAddr = a.srcAddr();
        masterHi = a.srcHi();
        masterLo = a.srcLo();
    }

    public long skewNanos() {
        int prio = config.priority();
        if (config.version() == 2) {
            return (256L - prio) * 1_000_000_000L / 256;
        }
        return (256L - prio) * masterAdverIntNanos / 256;
    }

    /** 3 × Master_Adver_Interval + Skew_Time, in nanoseconds. */
    public long masterDownIntervalNanos() {
        return 3 * masterAdverIntNanos + skewNanos();
    }

    /** The earliest time {@link #tick} has something to do (Long.MAX_VALUE: nothing pending). */
    public long nextDeadline() {
        return Math.min(advertAt, masterDownAt);
    }

    public void start(long now) {
        if (downInterfaces > 0) {
            to(VrrpState.FAULT);
            return;
        }
        if (config.state() == VrrpConfig.InitialState.MASTER && config.priority() == 255) {
            becomeMaster(now);
        } else {
            becomeBackup(now);
        }
    }

    public void tick(long now) {
        if (state == VrrpState.MASTER && now >= advertAt) {
            actions.send(this, config.priority());
            advertAt = now + config.advertIntCentis() * CENTI;
        } else if (state == VrrpState.BACKUP && now >= masterDownAt) {
            becomeMaster(now);
        }
    }

    /** An advertisement for this instance's VRID that passed the packet and instance checks. */
    public void receive(VrrpPacket.Advert a, long now) {
        if (state == VrrpState.BACKUP) {
            if (a.priority() == 0) {
                masterDownAt = now + skewNanos();
                return;
            }
            boolean better = a.priority() >= config.priority();
            if (!better && !config.nopreempt() && config.preemptDelayMs() > 0) {
                if (preemptAt == 0) {
                    preemptAt = now + config.preemptDelayMs() * 1_000_000L;
                }
                better = now < preemptAt; // still waiting: the lower master stays master
            }
            if (better || config.nopreempt()) {
                if (config.version() == 3) {
                    masterAdverIntNanos = a.advertIntCentis() * CENTI;
                }
                master(a);
                masterDownAt = now + masterDownIntervalNanos();
            }
        } else if (state == VrrpState.MASTER) {
            if (a.priority() == 0) {
                actions.send(this, config.priority());
                advertAt = now + config.advertIntCentis() * CENTI;
            } else if (a.priority() > config.priority()
                    || a.priority() == config.priority() && higherSource(a)) {
                if (config.version() == 3) {
                    masterAdverIntNanos = a.advertIntCentis() * CENTI;
                }
                master(a);
                advertAt = NONE;
                masterDownAt = now + masterDownIntervalNanos();
                to(VrrpState.BACKUP);
            } else {
                actions.send(this, config.priority());
                advertAt = now + config.advertIntCentis() * CENTI;
            }
        }
    }

    /** A tracked interface (or the instance's own) went down. */
    public void interfaceDown(long now) {
        if (++downInterfaces == 1) {
            goFault();
        }
    }

    /** A tracked interface came back. */
    public void interfaceUp(long now) {
        if (downInterfaces > 0 && --downInterfaces == 0 && state == VrrpState.FAULT) {
            becomeBackup(now);
        }
    }

    public boolean faulty() {
        return downInterfaces > 0;
    }

    /** Stops: a MASTER sends priority 0 (the backup takes over after its skew time). */
    public void shutdown() {
        if (state == VrrpState.MASTER) {
            actions.send(this, 0);
        }
        advertAt = NONE;
        masterDownAt = NONE;
    }

    // ---------------------------------------------------- forced moves (sync groups)

    /** A sync group member became MASTER: so does this one (unless it is in FAULT). */
    public void goMaster(long now) {
        if (state == VrrpState.BACKUP) {
            becomeMaster(now);
        }
    }

    /** A sync group member became BACKUP: so does this one. */
    public void goBackup(long now) {
        if (state == VrrpState.MASTER) {
            advertAt = NONE;
            masterDownAt = now + masterDownIntervalNanos();
            to(VrrpState.BACKUP);
        }
    }

    /** A sync group member went to FAULT: so does this one. */
    public void goFault() {
        if (state == VrrpState.FAULT) {
            return;
        }
        if (state == VrrpState.MASTER) {
            actions.send(this, 0);
        }
        advertAt = NONE;
        masterDownAt = NONE;
        to(VrrpState.FAULT);
    }

    /** A sync group member left FAULT: so does this one, when its own interfaces are up. */
    public void leaveFault(long now) {
        if (state == VrrpState.FAULT && downInterfaces == 0) {
            becomeBackup(now);
        }
    }

    // ---------------------------------------------------------------- internals

    private void becomeMaster(long now) {
        masterDownAt = NONE;
        masterAddr = localAddr;
        masterHi = localHi;
        masterLo = localLo;
        masterAdverIntNanos = config.advertIntCentis() * CENTI;
        preemptAt = 0;
        actions.send(this, config.priority());
        advertAt = now + config.advertIntCentis() * CENTI;
        to(VrrpState.MASTER);
    }

    private void becomeBackup(long now) {
        advertAt = NONE;
        masterAddr = 0;
        masterHi = 0;
        masterLo = 0;
        masterAdverIntNanos = config.advertIntCentis() * CENTI;
        masterDownAt = now + masterDownIntervalNanos();
        preemptAt = config.preemptDelayMs() > 0 ? now + config.preemptDelayMs() * 1_000_000L : 0;
        to(VrrpState.BACKUP);
    }

    /** The advertisement's source, as an unsigned 128-bit number, is above this router's. */
    private boolean higherSource(VrrpPacket.Advert a) {
        int c = Long.compareUnsigned(a.srcHi(), localHi);
        return c > 0 || c == 0 && Long.compareUnsigned(a.srcLo(), localLo) > 0;
    }

    private void to(VrrpState next) {
        VrrpState from = state;
        if (from == next) {
            return;
        }
        state = next;
        actions.transition(this, from, next);
    }
}
