package io.jvs.forwarder.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * A small parser of the Prometheus text exposition format (version 0.0.4),
 * enough for asserting on counters and gauges.
 *
 * <p>Label selectors are written as in the exposition, e.g.
 * {@code service="TCP/10.0.0.100:80",real_server="10.0.0.11:80"}: a sample
 * matches when it carries every listed label with that value, in any order
 * and with any further labels (exposition libraries sort labels, so a plain
 * substring of the label text would depend on that order). An empty selector
 * matches every sample of the name. A selector that is not of that form is
 * matched as a substring of the sample's label text.
 */
public final class Metrics {
    private Metrics() {
    }

    /** One sample line: metric name, labels in exposition order, value. */
    public record Sample(String name, Map<String, String> labels, double value) {
        /** The labels as they would be written between braces. */
        public String labelText() {
            StringBuilder b = new StringBuilder();
            labels.forEach((k, v) -> b.append(b.isEmpty() ? "" : ",").append(k).append("=\"").append(v).append('"'));
            return b.toString();
        }
    }

    public static List<Sample> parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int i = 0;
            while (i < line.length() && line.charAt(i) != '{' && !Character.isWhitespace(line.charAt(i))) {
                i++;
            }
            String name = line.substring(0, i);
            Map<String, String> labels = new LinkedHashMap<>();
            if (i < line.length() && line.charAt(i) == '{') {
                i = parseLabels(line, i + 1, labels);
            }
            String[] rest = line.substring(i).strip().split("\\s+");
            if (rest.length == 0 || rest[0].isEmpty()) {
                throw new IllegalArgumentException("no value in metrics line: " + raw);
            }
            out.add(new Sample(name, labels, parseValue(rest[0])));
        }
        return out;
    }

    /** Parses {@code k="v",...}} from {@code pos}; returns the index after the closing brace. */
    private static int parseLabels(String line, int pos, Map<String, String> labels) {
        int i = pos;
        while (true) {
            while (i < line.length() && (line.charAt(i) == ',' || line.charAt(i) == ' ')) {
                i++;
            }
            if (i >= line.length()) {
                throw new IllegalArgumentException("unterminated labels: " + line);
            }
            if (line.charAt(i) == '}') {
                return i + 1;
            }
            int eq = line.indexOf('=', i);
            if (eq < 0 || eq + 1 >= line.length() || line.charAt(eq + 1) != '"') {
                throw new IllegalArgumentException("bad label at " + i + ": " + line);
            }
            String key = line.substring(i, eq).strip();
            StringBuilder v = new StringBuilder();
            int j = eq + 2;
            for (; j < line.length(); j++) {
                char c = line.charAt(j);
                if (c == '\\' && j + 1 < line.length()) {
                    char n = line.charAt(++j);
                    v.append(n == 'n' ? '\n' : n);
                } else if (c == '"') {
                    break;
                } else {
                    v.append(c);
                }
            }
            labels.put(key, v.toString());
            i = j + 1;
        }
    }

    private static double parseValue(String s) {
        return switch (s) {
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(s);
        };
    }

    /** Does {@code sample} match the selector (see the class comment)? */
    public static boolean matches(Sample sample, String selector) {
        if (selector == null || selector.isBlank()) {
            return true;
        }
        String s = selector.strip();
        if (s.startsWith("{") && s.endsWith("}")) {
            s = s.substring(1, s.length() - 1);
        }
        Map<String, String> want = new LinkedHashMap<>();
        try {
            parseLabels(s + "}", 0, want);
        } catch (IllegalArgumentException notASelector) {
            return sample.labelText().contains(selector);
        }
        for (Map.Entry<String, String> e : want.entrySet()) {
            if (!e.getValue().equals(sample.labels().get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Samples named exactly {@code name} that match {@code selector}. */
    public static List<Sample> select(List<Sample> samples, String name, String selector) {
        return samples.stream().filter(s -> s.name().equals(name) && matches(s, selector)).toList();
    }

    /** The sum over the matching samples, or empty when none matches. */
    public static OptionalDouble sum(List<Sample> samples, String name, String selector) {
        List<Sample> m = select(samples, name, selector);
        return m.isEmpty() ? OptionalDouble.empty()
                : OptionalDouble.of(m.stream().mapToDouble(Sample::value).sum());
    }
}
