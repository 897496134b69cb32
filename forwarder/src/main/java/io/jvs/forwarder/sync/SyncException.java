package io.jvs.forwarder.sync;

/**
 * A daemon could not be started or stopped; the message is libipvs's answer for the kernel's
 * errno (ipvs_strerror: EEXIST "Daemon has already run", ESRCH "No daemon is running", ENODEV
 * strerror's "No such device").
 */
public final class SyncException extends Exception {
    public SyncException(String message) {
        super(message);
    }

    public SyncException(String message, Throwable cause) {
        super(message, cause);
    }
}
