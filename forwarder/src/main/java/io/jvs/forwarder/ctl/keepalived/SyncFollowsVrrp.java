package io.jvs.forwarder.ctl.keepalived;

import io.jvs.forwarder.sync.SyncDaemons;
import io.jvs.forwarder.sync.SyncException;
import io.jvs.forwarder.sync.SyncRole;
import io.jvs.forwarder.vrrp.VrrpState;
import io.jvs.forwarder.vrrp.VrrpStateListener;
import io.jvs.forwarder.vrrp.VrrpStatus;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * keepalived's {@code lvs_sync_daemon IF INSTANCE}: the connection sync role follows INSTANCE's
 * VRRP state. keepalived starts the backup daemon with the instance (ipvs_syncd_cmd at init:
 * master only when the instance starts MASTER), switches to the master daemon on becoming MASTER
 * (ipvs_syncd_master: stop the backup, start the master) and back to the backup daemon whenever
 * it leaves MASTER, for BACKUP or FAULT alike (vrrp_state_leave_master: ipvs_syncd_backup). So a
 * director that is not MASTER always receives, and holds the master's table when its turn comes.
 *
 * <p>The VRRP thread tells this listener; starting and stopping a daemon opens and closes sockets
 * and threads, so the switch runs on a single thread of its own ({@code jvs-sync-role}), in the
 * order the states came. The instance may change state before the listener is added
 * ({@link #follow} reads its state after adding it; whichever comes later wins, as both go
 * through that one thread in order).
 */
public final class SyncFollowsVrrp implements VrrpStateListener, AutoCloseable {
    private final String instance;
    private final SyncDaemons daemons;
    private final Consumer<String> log;
    private final ExecutorService switcher = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("jvs-sync-role").daemon().factory());
    /** Whether the listener has been told a state (then the state read at start is older). */
    private boolean told;

    private SyncFollowsVrrp(String instance, SyncDaemons daemons, Consumer<String> log) {
        this.instance = instance;
        this.daemons = daemons;
        this.log = log;
    }

    /**
     * Gives {@code daemons} the lvs_sync_daemon settings (the instance's virtual_router_id as the
     * sync id when none is given, as keepalived does), registers the listener with
     * {@code addListener} and applies the instance's current state from {@code status}.
     */
    public static SyncFollowsVrrp follow(LvsSyncDaemon conf, SyncDaemons daemons, VrrpStatus.Source status,
                                         Consumer<VrrpStateListener> addListener, Consumer<String> log) {
        VrrpStatus.Instance inst = find(status.vrrpStatus(), conf.instance());
        daemons.keepalived(conf.settings(inst.vrid()));
        SyncFollowsVrrp f = new SyncFollowsVrrp(conf.instance(), daemons, log);
        addListener.accept(f);
        synchronized (f) {
            if (!f.told) {
                f.submit(find(status.vrrpStatus(), conf.instance()).state());
            }
        }
        return f;
    }

    private static VrrpStatus.Instance find(VrrpStatus status, String name) {
        return status.instances().stream().filter(i -> i.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("lvs_sync_daemon: no vrrp_instance " + name));
    }

    /** keepalived's mapping: MASTER sends; every other state of a started instance receives. */
    static SyncRole roleFor(VrrpState s) {
        return switch (s) {
            case MASTER -> SyncRole.MASTER;
            case BACKUP, FAULT, INIT -> SyncRole.BACKUP;
        };
    }

    @Override
    public void onMaster(String name, String group) {
        changed(name, VrrpState.MASTER);
    }

    @Override
    public void onBackup(String name, String group) {
        changed(name, VrrpState.BACKUP);
    }

    @Override
    public void onFault(String name, String group) {
        changed(name, VrrpState.FAULT);
    }

    private synchronized void changed(String name, VrrpState state) {
        if (!name.equals(instance)) {
            return;
        }
        told = true;
        submit(state);
    }

    private void submit(VrrpState state) {
        SyncRole role = roleFor(state);
        switcher.execute(() -> {
            try {
                SyncRole was = daemons.role();
                daemons.switchRole(role);
                if (was != role) {
                    log.accept("lvs_sync_daemon: VRRP instance " + instance + " " + state + ": sync " + role.word()
                            + (was == SyncRole.NONE ? "" : " (was " + was.word() + ")"));
                }
            } catch (SyncException | RuntimeException e) {
                log.accept("lvs_sync_daemon: VRRP instance " + instance + " " + state + ": cannot run the sync "
                        + role.word() + " daemon: " + e.getMessage());
            }
        });
    }

    @Override
    public void close() {
        switcher.shutdownNow();
    }
}
