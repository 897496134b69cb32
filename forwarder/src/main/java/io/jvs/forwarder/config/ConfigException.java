package io.jvs.forwarder.config;

/**
 * A configuration file that cannot be used, with one line of explanation in
 * the compiler's format: {@code jvs.conf:3: unknown scheduler "rrr" (...)}, or
 * {@code jvs.conf: no such file} for problems with the file as a whole.
 */
public final class ConfigException extends Exception {
    private final String source;
    private final int line;

    /**
     * @param source the file as the operator named it
     * @param line   1-based line number, or 0 for the file as a whole
     * @param detail what is wrong, naming the bad item
     */
    public ConfigException(String source, int line, String detail) {
        this(source, line, detail, null);
    }

    public ConfigException(String source, int line, String detail, Throwable cause) {
        super(line > 0 ? source + ":" + line + ": " + detail : source + ": " + detail, cause);
        this.source = source;
        this.line = line;
    }

    public String source() {
        return source;
    }

    /** 1-based line number, or 0 when the error is about the whole file. */
    public int line() {
        return line;
    }
}
