package io.jvs.forwarder.config;

/**
 * ipvsadm's {@code string_to_number}: a whole decimal with an optional sign, at most 12
 * characters. Shared by the ipvsadm grammar and the mark-rule grammar, which report a bad
 * number each in their own words.
 */
public final class StringToNumber {
    private StringToNumber() {
    }

    /** The value, or null when {@code s} is not such a number. */
    public static Long parse(String s) {
        if (s == null || s.isEmpty() || s.length() > 12) {
            return null;
        }
        int start = s.charAt(0) == '+' || s.charAt(0) == '-' ? 1 : 0;
        if (start == s.length()) {
            return null;
        }
        for (int i = start; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return null;
            }
        }
        return Long.parseLong(s);
    }
}
