package io.jvs.forwarder.ctl.keepalived;

import io.jvs.forwarder.config.ConfigException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.PatternSyntaxException;

/**
 * keepalived.conf's grammar, read into a tree of {@link Node}s: one statement
 * per line ({@code keyword arg arg ...}), a statement followed by {@code {}
 * owns the statements up to the matching {@code }}; {@code #} and {@code !}
 * start a comment (at the start of a word, as keepalived sees them); double
 * quotes make one word of text with spaces; braces are words of their own even
 * when written against another word. {@code include PATTERN} (anywhere, as
 * keepalived allows) is replaced by the files its glob matches, in name order,
 * relative to the directory of the file that includes them; a pattern that
 * matches nothing is an error (keepalived only logs it; silently losing a
 * virtual server is worse). Includes nest at most {@value #MAX_INCLUDE_DEPTH}
 * deep, which also stops include loops.
 *
 * <p>Every node remembers its file and line; every error names them.
 */
final class KeepalivedReader {
    static final int MAX_INCLUDE_DEPTH = 8;

    /** One statement: keyword, arguments, children (null: no block). */
    record Node(String keyword, List<String> args, List<Node> children, String file, int line) {
        String where() {
            return file + ":" + line;
        }

        boolean hasBlock() {
            return children != null;
        }
    }

    private record Token(String text, boolean quoted, String file, int line, int lineId) {
        boolean is(String s) {
            return !quoted && text.equals(s);
        }
    }

    private final List<Token> tokens = new ArrayList<>();
    private int lineIds;
    private int pos;

    private KeepalivedReader() {
    }

    /** Reads {@code file} and everything it includes. */
    static List<Node> read(Path file) throws ConfigException {
        KeepalivedReader r = new KeepalivedReader();
        r.lex(file, file.toString(), 0, null, 0);
        List<Node> top = r.block(null);
        return top;
    }

    // ---------------------------------------------------------------- lexing

    private void lex(Path file, String name, int depth, String fromFile, int fromLine) throws ConfigException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw fromFile == null ? new ConfigException(name, 0, "no such file")
                    : new ConfigException(fromFile, fromLine, "include: no such file " + name);
        } catch (IOException e) {
            throw fromFile == null ? new ConfigException(name, 0, "cannot read: " + e.getMessage(), e)
                    : new ConfigException(fromFile, fromLine, "include: cannot read " + name + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            List<Token> words = words(lines.get(i), name, lineNo, ++lineIds);
            if (!words.isEmpty() && words.getFirst().is("include")) {
                if (words.size() != 2) {
                    throw new ConfigException(name, lineNo, "include needs one file name or glob pattern");
                }
                if (depth >= MAX_INCLUDE_DEPTH) {
                    throw new ConfigException(name, lineNo, "includes nested deeper than " + MAX_INCLUDE_DEPTH
                            + " (an include loop?)");
                }
                for (Path inc : expand(file, words.get(1).text(), name, lineNo)) {
                    lex(inc, inc.toString(), depth + 1, name, lineNo);
                }
                continue;
            }
            tokens.addAll(words);
        }
    }

    private static List<Token> words(String line, String file, int lineNo, int lineId) throws ConfigException {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (i < n) {
            char c = line.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#' || c == '!') {
                break;
            } else if (c == '{' || c == '}') {
                out.add(new Token(String.valueOf(c), false, file, lineNo, lineId));
                i++;
            } else if (c == '"') {
                int end = line.indexOf('"', i + 1);
                if (end < 0) {
                    throw new ConfigException(file, lineNo, "unterminated quoted string");
                }
                out.add(new Token(line.substring(i + 1, end), true, file, lineNo, lineId));
                i = end + 1;
            } else {
                int start = i;
                while (i < n && !Character.isWhitespace(line.charAt(i)) && line.charAt(i) != '{'
                        && line.charAt(i) != '}' && line.charAt(i) != '"') {
                    i++;
                }
                out.add(new Token(line.substring(start, i), false, file, lineNo, lineId));
            }
        }
        return out;
    }

    private static List<Path> expand(Path including, String pattern, String file, int lineNo) throws ConfigException {
        Path base = including.toAbsolutePath().getParent();
        Path p;
        try {
            p = base.resolve(pattern).normalize();
        } catch (InvalidPathException e) {
            // e.g. a NUL byte in the pattern (found by KeepalivedFuzzTest): a config error, not a crash
            throw new ConfigException(file, lineNo, "include \"" + pattern + "\": not a path: " + e.getReason());
        }
        Path dir = p.getParent();
        String glob = p.getFileName().toString();
        if (dir.toString().matches(".*[*?\\[{].*")) {
            throw new ConfigException(file, lineNo, "include \"" + pattern
                    + "\": wildcards are supported in the file name only");
        }
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
                for (Path f : ds) {
                    if (Files.isRegularFile(f)) {
                        found.add(f);
                    }
                }
            } catch (PatternSyntaxException e) {
                // getMessage() adds the pattern and a caret on lines of their own (KeepalivedFuzzTest: "[")
                throw new ConfigException(file, lineNo, "include \"" + pattern + "\": not a glob pattern: "
                        + e.getDescription() + (e.getIndex() >= 0 ? " at index " + e.getIndex() : ""));
            } catch (IOException | IllegalArgumentException e) {
                throw new ConfigException(file, lineNo, "include \"" + pattern + "\": " + e.getMessage());
            }
        }
        if (found.isEmpty()) {
            throw new ConfigException(file, lineNo, "include \"" + pattern + "\" matches no file (looked in " + dir + ")");
        }
        found.sort(null);
        return found;
    }

    // ---------------------------------------------------------------- tree

    /** Statements up to the '}' closing {@code opener} (null: up to the end of input). */
    private List<Node> block(Token opener) throws ConfigException {
        List<Node> nodes = new ArrayList<>();
        while (pos < tokens.size()) {
            Token t = tokens.get(pos++);
            if (t.is("}")) {
                if (opener == null) {
                    throw new ConfigException(t.file(), t.line(), "unexpected '}' (no block is open)");
                }
                return nodes;
            }
            if (t.is("{")) {
                throw new ConfigException(t.file(), t.line(), "'{' without a keyword before it");
            }
            List<String> args = new ArrayList<>();
            while (pos < tokens.size() && tokens.get(pos).lineId() == t.lineId()
                    && !tokens.get(pos).is("{") && !tokens.get(pos).is("}")) {
                args.add(tokens.get(pos++).text());
            }
            List<Node> children = null;
            if (pos < tokens.size() && tokens.get(pos).is("{")) {
                Token open = tokens.get(pos++);
                children = block(open);
            }
            nodes.add(new Node(t.text(), List.copyOf(args), children == null ? null : List.copyOf(children),
                    t.file(), t.line()));
        }
        if (opener != null) {
            throw new ConfigException(opener.file(), opener.line(), "'{' is never closed (missing '}')");
        }
        return nodes;
    }
}
