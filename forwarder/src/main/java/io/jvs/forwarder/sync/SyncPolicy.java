package io.jvs.forwarder.sync;

/**
 * The kernel's sync sysctls the master applies (Documentation/networking/ipvs-sysctl.rst), with
 * their defaults; sync_persist_mode and sync_version are fixed at 0 and 1 (jvs speaks version 1).
 *
 * @param threshold          sync_threshold[0]: a connection is synced when its inbound packet count
 *                           reaches this (3)
 * @param period             sync_threshold[1]: and again every period packets after (50; 0 = once)
 * @param refreshPeriodMillis sync_refresh_period: when not 0, resync only when the expiry moved by
 *                           more than this or half the timeout (0)
 * @param retries            sync_retries: resends within a refresh period, 0..3 (0)
 */
public record SyncPolicy(int threshold, int period, long refreshPeriodMillis, int retries) {
    public static final SyncPolicy DEFAULTS = new SyncPolicy(3, 50, 0, 0);

    public SyncPolicy {
        if (period < 0 || threshold < 0 || (period > 0 && threshold >= period) || retries < 0 || retries > 3
                || refreshPeriodMillis < 0) {
            throw new IllegalArgumentException("sync policy out of range: threshold " + threshold + " period "
                    + period + " refresh " + refreshPeriodMillis + " retries " + retries);
        }
    }
}
