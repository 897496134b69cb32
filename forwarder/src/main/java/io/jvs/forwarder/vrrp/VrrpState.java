package io.jvs.forwarder.vrrp;

/** An instance's state; {@link #gauge()} is the value of {@code jvs_vrrp_state} (keepalived's numbering). */
public enum VrrpState {
    INIT(0), BACKUP(1), MASTER(2), FAULT(3);

    private final int gauge;

    VrrpState(int gauge) {
        this.gauge = gauge;
    }

    public int gauge() {
        return gauge;
    }
}
