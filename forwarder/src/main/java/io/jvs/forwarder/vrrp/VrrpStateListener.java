package io.jvs.forwarder.vrrp;

/**
 * Told of every state change of a VRRP instance, and of each sync group as a whole, on the
 * VRRP thread, after the data path's gate has been switched. Keep it short (it delays the
 * next advertisement); hand longer work to another thread.
 *
 * <p>This is how a role follows VRRP: keepalived's {@code lvs_sync_daemon IF INSTANCE} ties the
 * IPVS connection sync role to INSTANCE's state (MASTER: send, BACKUP or FAULT: receive).
 * {@code group} is the instance's sync group name, or null when it has none; for a sync group
 * each member instance is reported.
 */
public interface VrrpStateListener {
    void onMaster(String instance, String group);

    void onBackup(String instance, String group);

    void onFault(String instance, String group);

    /** Dispatches by state. */
    default void on(VrrpState state, String instance, String group) {
        switch (state) {
            case MASTER -> onMaster(instance, group);
            case BACKUP -> onBackup(instance, group);
            case FAULT -> onFault(instance, group);
            case INIT -> { }
        }
    }
}
