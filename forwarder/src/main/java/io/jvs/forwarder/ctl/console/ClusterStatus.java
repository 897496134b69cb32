package io.jvs.forwarder.ctl.console;

import java.util.List;

/**
 * The console's "High availability" section: VRRP and connection-sync state, as whatever
 * runs them reports it. This is the one place they plug into the console: implement it
 * over their status (e.g. VRRP instance name, MASTER/BACKUP/FAULT, priority, last
 * transition; sync daemon role, peers, connections sent/received) and pass it to
 * {@link Console}. The console shows each {@link Item} as a row (name, state, detail), read
 * only, escaped like everything else; {@link #NONE} shows "not configured". Called on the
 * metrics thread for every poll, so it must return quickly and never block.
 */
@FunctionalInterface
public interface ClusterStatus {
    /** Neither VRRP nor connection sync runs in this director. */
    ClusterStatus NONE = List::of;

    /**
     * One row of the section.
     *
     * @param component "vrrp", "sync"...
     * @param name      e.g. the VRRP instance or the sync daemon's role
     * @param state     e.g. "MASTER", "BACKUP", "running"
     * @param detail    free text: priority, peers, counters, the last transition's reason
     */
    record Item(String component, String name, String state, String detail) {
    }

    List<Item> items();
}
