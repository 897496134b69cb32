package io.jvs.forwarder.testkit;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Properties the fuzz targets share. The fuzz targets themselves are the classes named
 * {@code *FuzzTest}, each with exactly one {@code @FuzzTest} method (Jazzer fuzzes one target per
 * JVM, and the fuzz stage of scripts/test gives each such class a JVM of its own); their seeds live
 * under {@code src/test/resources/<package>/<Class>Inputs/<method>/}. A new decoder gets a class of
 * its own in its package, following the same pattern.
 */
public final class FuzzChecks {
    /** How long scripts/test's fuzz stage fuzzes each target (Jazzer's maxDuration); replay ignores it. */
    public static final String CI_DURATION = "10s";

    private FuzzChecks() {
    }

    /** A stack frame line as Throwable.printStackTrace writes it. */
    private static final java.util.regex.Pattern FRAME = java.util.regex.Pattern.compile(
            "(?m)^\\s*at [\\w.$/]+\\((?:[\\w$]+\\.java:\\d+|Native Method|Unknown Source)\\)");
    /** An exception's header line: a qualified class name ending in Exception or Error, or the JVM's own. */
    private static final java.util.regex.Pattern HEADER = java.util.regex.Pattern.compile(
            "(?m)(?:^Exception in thread|\\b(?:java|javax|jdk|sun|io\\.jvs|io\\.netty)(?:\\.[\\w$]+)+\\.[A-Z][\\w$]*(?:Exception|Error)\\b)");

    /**
     * What jvsadm (or the director) prints for bad input: messages in ipvsadm's style, never a Java
     * stack trace or exception class name. Text the message only echoes from {@code input} does not
     * count (an error quoting a bad word must be able to quote "\tat " or "Exception", as the first
     * fuzz runs showed).
     */
    public static void noStackTrace(String what, String text, String input) {
        // The regular expressions only on text that can match them: a frame needs "at " and "(", a
        // header "Exception" or "Error". Most texts have neither, and a regex under Jazzer's hooks
        // costs more than all the rest of an input (half of IpvsadmFuzzTest's time).
        boolean frame = text.indexOf('(') >= 0 && hasFrameLine(text);
        boolean header = text.contains("Exception") || text.contains("Error");
        for (java.util.regex.Pattern p : List.of(FRAME, HEADER)) {
            if (p == FRAME ? !frame : !header) {
                continue;
            }
            java.util.regex.Matcher m = p.matcher(text);
            while (m.find()) {
                if (!input.contains(m.group().strip())) {
                    fail(what + " looks like a stack trace or exception (" + m.group() + "): " + text);
                }
            }
        }
    }

    /**
     * Whether a line of {@code text} starts (after blanks) with "at ": FRAME can match nowhere else,
     * and scanning for that is far cheaper than the regex's find over every position of an error
     * that merely says "at" somewhere (a quarter of MarkRuleFuzzTest's time).
     */
    private static boolean hasFrameLine(String text) {
        for (int at = text.indexOf("at "); at >= 0; at = text.indexOf("at ", at + 1)) {
            int i = at - 1;
            while (i >= 0 && " \t\u000B\f".indexOf(text.charAt(i)) >= 0) {
                i--; // FRAME's \\s* (its \n and \r end a line anyway)
            }
            // FRAME's ^ in MULTILINE mode: the start of the text or after any of Java's line terminators
            if (i < 0 || "\n\r\u0085\u2028\u2029".indexOf(text.charAt(i)) >= 0) {
                return true;
            }
        }
        return false;
    }

    public static void noStackTrace(String what, String text) {
        noStackTrace(what, text, "");
    }

    /** A one-line error: stack-trace free and at most {@code maxLines} lines (ipvsadm's usage hints count). */
    public static void shortError(String what, String err, int maxLines) {
        shortError(what, err, maxLines, "");
    }

    /** As {@link #shortError(String, String, int)}, ignoring what the message echoes from {@code input}. */
    public static void shortError(String what, String err, int maxLines, String input) {
        noStackTrace(what, err, input);
        // A message may quote a bad word with the line breaks it holds (argv over the control socket can).
        long echoed = input.chars().filter(c -> c == '\n' || c == '\r').count();
        long lines = err.lines().count() - echoed;
        assertFalse(lines > maxLines, what + ": " + lines + " lines of error: " + err);
    }
}
