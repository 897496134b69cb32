package io.jvs.forwarder.conn;

/** Receives the live entries of a {@link ConnectionTable} (listings such as ipvsadm -c). */
@FunctionalInterface
public interface ConnVisitor {
    /**
     * Called once per live entry, on the table's owning thread. The visitor reads the entry
     * through the table's accessors; it may {@link ConnectionTable#remove remove} the entry it
     * is visiting, but must not insert.
     */
    void visit(ConnectionTable table, int id);
}
