package io.jvs.forwarder.ctl.ipvsadm;

/**
 * An ipvsadm command that failed, with ipvsadm's message and exit status:
 * {@value #USAGE} for a malformed command line (ipvsadm's {@code fail(2, ...)}),
 * {@value #OPERATION} for an operation the kernel refused ("Service already
 * exists", "No such destination"; ipvsadm returns -1 from main) or a popt
 * error, {@value #LIST} for a listing of something missing.
 */
public final class IpvsadmException extends Exception {
    public static final int USAGE = 2;
    public static final int OPERATION = 255;
    public static final int LIST = 1;

    private final int status;

    public IpvsadmException(int status, String message) {
        super(message);
        this.status = status;
    }

    public static IpvsadmException usage(String message) {
        return new IpvsadmException(USAGE, message);
    }

    public static IpvsadmException operation(String message) {
        return new IpvsadmException(OPERATION, message);
    }

    /** The process exit status ipvsadm gives for this error. */
    public int status() {
        return status;
    }
}
