package io.jvs.forwarder.sync;

import java.util.List;

/** What jvsadm may do with the sync daemons ({@link SyncDaemons} on a director). */
public interface SyncControl {
    /** ipvsadm --start-daemon; the message of a failure is libipvs's answer. */
    void start(SyncRole role, SyncSettings settings) throws SyncException;

    /** ipvsadm --stop-daemon. */
    void stop(SyncRole role) throws SyncException;

    /** The running daemons, master first, with the kernel's defaults filled in (ipvsadm -L --daemon). */
    List<SyncDaemons.Daemon> list();
}
