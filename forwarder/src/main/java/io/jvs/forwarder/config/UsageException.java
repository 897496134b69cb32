package io.jvs.forwarder.config;

/**
 * A command line that cannot be run. The message is one line naming the bad
 * flag or value and what was expected; the caller prints it with a pointer to
 * {@code --help} and exits with status 2.
 */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
