package io.jvs.forwarder.health;

/**
 * What one run of a checker found.
 *
 * @param up     the check passed
 * @param weight MISC_CHECK misc_dynamic: the weight the exit code asks for (exit-2), or -1 for "unchanged"
 * @param detail why it failed (or "ok"), for the log
 */
public record CheckResult(boolean up, int weight, String detail) {
    public static final int WEIGHT_UNCHANGED = -1;

    public static CheckResult ok() {
        return new CheckResult(true, WEIGHT_UNCHANGED, "ok");
    }

    public static CheckResult ok(int weight) {
        return new CheckResult(true, weight, "ok, weight " + weight);
    }

    public static CheckResult failed(String detail) {
        return new CheckResult(false, WEIGHT_UNCHANGED, detail);
    }
}
