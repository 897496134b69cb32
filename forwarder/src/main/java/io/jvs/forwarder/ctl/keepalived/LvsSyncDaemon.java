package io.jvs.forwarder.ctl.keepalived;

import io.jvs.forwarder.sync.SyncSettings;

import java.util.Objects;

/**
 * keepalived's {@code global_defs { lvs_sync_daemon INTERFACE VRRP_INSTANCE [id SYNC_ID]
 * [maxlen LEN] [port PORT] [ttl TTL] [group IP] }}: the sync daemon keepalived runs as master
 * while the named VRRP instance is MASTER and as backup while it is BACKUP (ipvs_syncd_master /
 * ipvs_syncd_backup). 0 = not given for maxlen, port, ttl and group.
 *
 * @param syncId the id, or -1 when not given: keepalived then uses the VRRP instance's
 *               virtual_router_id ({@link #settings(int)})
 */
public record LvsSyncDaemon(String iface, String instance, int syncId, int maxLen, int port, int ttl, int group) {
    public LvsSyncDaemon {
        Objects.requireNonNull(iface, "iface");
        Objects.requireNonNull(instance, "instance");
    }

    /** The daemon's settings, the instance's virtual_router_id standing in for an id not given. */
    public SyncSettings settings(int vrid) {
        return new SyncSettings(iface, syncId >= 0 ? syncId : vrid, group, port, ttl, maxLen);
    }
}
