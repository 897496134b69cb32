package io.jvs.forwarder.sync;

/**
 * Which sync daemon runs: ipvsadm's {@code --start-daemon master|backup}, or for keepalived's
 * {@code lvs_sync_daemon} the role its VRRP instance's state gives (MASTER sends, BACKUP
 * receives, anything else runs neither).
 */
public enum SyncRole {
    NONE, MASTER, BACKUP;

    /** ipvsadm's word for the role ("master", "backup"). */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
