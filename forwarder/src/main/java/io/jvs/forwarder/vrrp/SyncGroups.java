package io.jvs.forwarder.vrrp;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * keepalived's {@code vrrp_sync_group}: when one member instance changes state, the others
 * follow (vrrp/vrrp_sync.c): one becomes MASTER, all do; one goes BACKUP, all do; one goes to
 * FAULT, all do; one leaves FAULT, the others leave it too (each only when its own interfaces
 * are up). Starting (INIT to BACKUP or MASTER) moves no one: every member starts by itself.
 * Runs on the VRRP thread, inside the transition callback of the member that moved;
 * the moves it causes do not propagate again.
 */
final class SyncGroups {
    private final Map<String, VrrpConfig.SyncGroup> groupOf = new HashMap<>();
    private final Map<String, VrrpInstance> instances = new HashMap<>();
    private boolean propagating;

    SyncGroups(List<VrrpConfig.SyncGroup> groups) {
        for (VrrpConfig.SyncGroup g : groups) {
            for (String m : g.members()) {
                groupOf.put(m, g);
            }
        }
    }

    void add(VrrpInstance i) {
        instances.put(i.name(), i);
    }

    /** The sync group of an instance, or null. */
    VrrpConfig.SyncGroup groupOf(String instance) {
        return groupOf.get(instance);
    }

    /**
     * {@code instance} moved {@code from} -> {@code to}: moves the rest of its group. Returns the
     * group when this move led it (its notify scripts run once), null otherwise.
     */
    VrrpConfig.SyncGroup follow(String instance, VrrpState from, VrrpState to, long now) {
        VrrpConfig.SyncGroup g = groupOf.get(instance);
        if (g == null || propagating || from == VrrpState.INIT) { // each member starts on its own
            return null;
        }
        propagating = true;
        try {
            for (String name : g.members()) {
                VrrpInstance m = instances.get(name);
                if (m == null || name.equals(instance)) {
                    continue;
                }
                switch (to) {
                    case MASTER -> m.goMaster(now);
                    case BACKUP -> {
                        if (from == VrrpState.FAULT) {
                            m.leaveFault(now);
                        } else {
                            m.goBackup(now);
                        }
                    }
                    case FAULT -> m.goFault();
                    case INIT -> { }
                }
            }
        } finally {
            propagating = false;
        }
        return g;
    }
}
