package io.jvs.forwarder.ctl.mark;

/**
 * A fwmark rule that cannot be read, with one line naming the bad word or
 * value and what was expected. The ipvsadm front end reports it as a
 * malformed command line (exit status 2).
 */
public final class MarkRuleException extends Exception {
    public MarkRuleException(String message) {
        super(message);
    }
}
