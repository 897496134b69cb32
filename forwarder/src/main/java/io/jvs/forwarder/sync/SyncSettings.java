package io.jvs.forwarder.sync;

import io.jvs.packet.IpvsSync;

import java.util.Objects;

/**
 * One sync daemon's configuration, as ipvsadm's {@code --start-daemon} options or keepalived's
 * {@code lvs_sync_daemon} give it; 0 means "not given" (the kernel's start_sync_thread then uses
 * its default: group 224.0.0.81, port 8848, ttl 1, maxlen from the MTU).
 *
 * @param iface  --mcast-interface (ipvsadm's default "eth0")
 * @param syncId --syncid, 0..255 (a backup with 0 accepts every syncid)
 * @param group  --mcast-group, host order, 0 = default
 * @param port   --mcast-port, 0 = default
 * @param ttl    --mcast-ttl, 0 = default
 * @param maxLen --sync-maxlen, 0 = default
 */
public record SyncSettings(String iface, int syncId, int group, int port, int ttl, int maxLen) {
    /** ipvsadm's DEF_MCAST_IFN. */
    public static final String DEFAULT_INTERFACE = "eth0";

    public SyncSettings {
        Objects.requireNonNull(iface, "iface");
    }

    public int groupOrDefault() {
        return group != 0 ? group : IpvsSync.DEFAULT_GROUP;
    }

    public int portOrDefault() {
        return port != 0 ? port : IpvsSync.DEFAULT_PORT;
    }

    public int ttlOrDefault() {
        return ttl != 0 ? ttl : IpvsSync.DEFAULT_TTL;
    }

    /** These settings with the kernel's defaults filled in, as -L --daemon reports a running daemon. */
    public SyncSettings effective(SyncRole role, int mtu) {
        return new SyncSettings(iface, syncId, groupOrDefault(), portOrDefault(), ttlOrDefault(),
                effectiveMaxLen(role, mtu));
    }

    /**
     * start_sync_thread's sync_maxlen: given, clamped to [1 (master) or 1024 (backup), 65535 - 28];
     * else 1500 - 28 for a master (whatever the MTU: a backup on a smaller MTU still receives)
     * and the interface's MTU clamped to [1500, 65535], minus 28, for a backup.
     */
    public int effectiveMaxLen(SyncRole role, int mtu) {
        int max = 65535 - IpvsSync.IP_UDP_HEADERS;
        if (maxLen != 0) {
            int min = role == SyncRole.BACKUP ? 1024 : 1;
            return Math.clamp(maxLen, min, max);
        }
        int m = role == SyncRole.BACKUP ? Math.clamp(mtu, 1500, 65535) : 1500;
        return m - IpvsSync.IP_UDP_HEADERS;
    }
}
