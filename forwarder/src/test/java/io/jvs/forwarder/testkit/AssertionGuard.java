package io.jvs.forwarder.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.classfile.Annotation;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.MethodModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.constant.ConstantDesc;
import java.lang.constant.DirectMethodHandleDesc;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Finds tests that cannot fail, so a suite keeps proving what it claims:
 * <ul>
 *   <li>{@link #testsWithoutAssertions}: a test method ({@code @Test}, {@code @ParameterizedTest},
 *       {@code @RepeatedTest}, {@code @TestFactory}, {@code @TestTemplate}) that reaches no
 *       assertion. Read from the compiled test classes (the JDK's {@code java.lang.classfile}),
 *       so a helper that asserts counts wherever it lives among the test classes: a method
 *       asserts when it calls {@code org.junit.jupiter.api.Assertions} or creates an
 *       {@code AssertionError} (opentest4j's failures included) or checks an ArchUnit rule,
 *       directly or through calls, lambdas and overrides of other test-class methods.</li>
 *   <li>{@link #skips}: a test class that can skip instead of failing (JUnit's
 *       {@code Assumptions}, {@code TestAbortedException}, {@code @Disabled...}/{@code @Enabled...}):
 *       the project's rule is that no test skips itself.</li>
 *   <li>{@link #selfComparisons}: {@code assertEquals}/{@code assertSame}/{@code assertArrayEquals}/
 *       {@code assertIterableEquals}/{@code assertLinesMatch} whose first two arguments are the
 *       same expression (whitespace aside), read from the test sources.</li>
 * </ul>
 */
public final class AssertionGuard {
    private static final Set<String> TEST_ANNOTATIONS = Set.of(
            "Lorg/junit/jupiter/api/Test;",
            "Lorg/junit/jupiter/params/ParameterizedTest;",
            "Lorg/junit/jupiter/api/RepeatedTest;",
            "Lorg/junit/jupiter/api/TestFactory;",
            "Lorg/junit/jupiter/api/TestTemplate;",
            "Lcom/code_intelligence/jazzer/junit/FuzzTest;");
    private static final String ASSERTIONS = "org/junit/jupiter/api/Assertions";
    /** Library methods that assert too (they throw AssertionError): ArchUnit's rule check. */
    private static final Set<String> ASSERTING_METHODS = Set.of(
            "com/tngtech/archunit/lang/ArchRule.check");
    private static final Set<String> FAILURES = Set.of(
            "java/lang/AssertionError",
            "org/opentest4j/AssertionFailedError",
            "org/opentest4j/MultipleFailuresError");
    private static final Set<String> SKIPPING_TYPES = Set.of(
            "org/junit/jupiter/api/Assumptions",
            "org/opentest4j/TestAbortedException",
            "org/opentest4j/TestSkippedException");
    private static final String CONDITION_PACKAGE = "Lorg/junit/jupiter/api/condition/";
    private static final String DISABLED = "Lorg/junit/jupiter/api/Disabled;";
    private static final List<String> SAME_ARGUMENT_ASSERTIONS = List.of("assertEquals", "assertSame",
            "assertArrayEquals", "assertIterableEquals", "assertLinesMatch");

    private AssertionGuard() {
    }

    /** The directory (or jar) {@code type} was loaded from: a module's {@code target/test-classes}. */
    public static Path classesOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ bytecode: tests without assertions

    private record Method(String owner, String name, String desc) {
        @Override
        public String toString() {
            return owner.replace('/', '.') + "." + name;
        }
    }

    private static final class Scan {
        final Map<String, String> superOf = new HashMap<>();
        final Map<String, List<String>> interfacesOf = new HashMap<>();
        final Map<Method, List<Method>> calls = new LinkedHashMap<>();
        final Set<Method> assertsDirectly = new HashSet<>();
        final List<Method> tests = new ArrayList<>();
        final Set<String> skipping = new TreeSet<>();
    }

    private static Scan scan(Path classes) {
        Scan s = new Scan();
        List<Path> files;
        try (Stream<Path> w = Files.walk(classes)) {
            files = w.filter(p -> p.toString().endsWith(".class")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (files.isEmpty()) {
            throw new AssertionError("no class files under " + classes);
        }
        for (Path f : files) {
            ClassModel cm;
            try {
                cm = ClassFile.of().parse(Files.readAllBytes(f));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            read(s, cm);
        }
        return s;
    }

    private static void read(Scan s, ClassModel cm) {
        String owner = cm.thisClass().asInternalName();
        cm.superclass().ifPresent(c -> s.superOf.put(owner, c.asInternalName()));
        s.interfacesOf.put(owner, cm.interfaces().stream().map(ClassEntry::asInternalName).toList());
        if (annotations(cm.findAttribute(Attributes.runtimeVisibleAnnotations())
                .map(a -> a.annotations()).orElse(List.of())).anyMatch(AssertionGuard::skipsByAnnotation)) {
            s.skipping.add(owner.replace('/', '.') + " (annotation)");
        }
        for (MethodModel m : cm.methods()) {
            Method self = new Method(owner, m.methodName().stringValue(), m.methodType().stringValue());
            List<Annotation> anns = m.findAttribute(Attributes.runtimeVisibleAnnotations())
                    .map(a -> a.annotations()).orElse(List.of());
            if (annotations(anns).anyMatch(TEST_ANNOTATIONS::contains)) {
                s.tests.add(self);
            }
            if (annotations(anns).anyMatch(AssertionGuard::skipsByAnnotation)) {
                s.skipping.add(self + " (annotation)");
            }
            List<Method> out = s.calls.computeIfAbsent(self, k -> new ArrayList<>());
            if (m.code().isEmpty()) {
                continue;
            }
            for (CodeElement e : m.code().get()) {
                switch (e) {
                    case InvokeInstruction i -> {
                        String o = i.owner().asInternalName();
                        if (o.equals(ASSERTIONS) || ASSERTING_METHODS.contains(o + "." + i.name().stringValue())) {
                            s.assertsDirectly.add(self);
                        }
                        if (SKIPPING_TYPES.contains(o)) {
                            s.skipping.add(self.toString());
                        }
                        out.add(new Method(o, i.name().stringValue(), i.type().stringValue()));
                    }
                    case NewObjectInstruction n -> {
                        String o = n.className().asInternalName();
                        if (FAILURES.contains(o)) {
                            s.assertsDirectly.add(self);
                        }
                        if (SKIPPING_TYPES.contains(o)) {
                            s.skipping.add(self.toString());
                        }
                    }
                    case InvokeDynamicInstruction d -> {
                        for (ConstantDesc arg : d.bootstrapArgs()) {
                            if (arg instanceof DirectMethodHandleDesc h) {
                                String o = h.owner().descriptorString();
                                out.add(new Method(o.substring(1, o.length() - 1), h.methodName(),
                                        h.lookupDescriptor()));
                            }
                        }
                    }
                    default -> {
                    }
                }
            }
        }
    }

    private static Stream<String> annotations(List<Annotation> anns) {
        return anns.stream().map(a -> a.className().stringValue());
    }

    private static boolean skipsByAnnotation(String descriptor) {
        return descriptor.equals(DISABLED) || descriptor.startsWith(CONDITION_PACKAGE);
    }

    /** Every class that is {@code type} or extends/implements it, among the scanned ones. */
    private static boolean isSubtype(Scan s, String cls, String type) {
        Deque<String> todo = new ArrayDeque<>(List.of(cls));
        Set<String> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            String c = todo.pop();
            if (c.equals(type)) {
                return true;
            }
            if (!seen.add(c)) {
                continue;
            }
            String sup = s.superOf.get(c);
            if (sup != null) {
                todo.push(sup);
            }
            todo.addAll(s.interfacesOf.getOrDefault(c, List.of()));
        }
        return false;
    }

    /**
     * The scanned methods a call to {@code m} may run: the declaration found from {@code m.owner}
     * up its superclasses, and every override in a subclass (virtual dispatch).
     */
    private static List<Method> targets(Scan s, Method m, Map<String, Set<Method>> byNameDesc) {
        List<Method> out = new ArrayList<>();
        for (String c = m.owner(); c != null; c = s.superOf.get(c)) {
            Method decl = new Method(c, m.name(), m.desc());
            if (s.calls.containsKey(decl)) {
                out.add(decl);
                break;
            }
        }
        for (Method other : byNameDesc.getOrDefault(m.name() + m.desc(), Set.of())) {
            if (!other.owner().equals(m.owner()) && isSubtype(s, other.owner(), m.owner())) {
                out.add(other);
            }
        }
        return out;
    }

    /**
     * Test methods under {@code classes} (a {@code target/test-classes} directory) that reach no
     * assertion, as "pkg.Class.method"; empty when every test can fail.
     */
    public static List<String> testsWithoutAssertions(Path classes) {
        Scan s = scan(classes);
        Map<String, Set<Method>> byNameDesc = new HashMap<>();
        for (Method m : s.calls.keySet()) {
            byNameDesc.computeIfAbsent(m.name() + m.desc(), k -> new HashSet<>()).add(m);
        }
        // reverse edges, then everything that reaches a direct assertion
        Map<Method, List<Method>> callers = new HashMap<>();
        for (Map.Entry<Method, List<Method>> e : s.calls.entrySet()) {
            for (Method callee : e.getValue()) {
                for (Method t : targets(s, callee, byNameDesc)) {
                    callers.computeIfAbsent(t, k -> new ArrayList<>()).add(e.getKey());
                }
            }
        }
        Set<Method> asserting = new HashSet<>(s.assertsDirectly);
        Deque<Method> todo = new ArrayDeque<>(s.assertsDirectly);
        while (!todo.isEmpty()) {
            for (Method caller : callers.getOrDefault(todo.pop(), List.of())) {
                if (asserting.add(caller)) {
                    todo.push(caller);
                }
            }
        }
        return s.tests.stream().filter(t -> !asserting.contains(t)).map(Method::toString).sorted().toList();
    }

    /** Test classes or methods under {@code classes} that can skip themselves instead of failing. */
    public static List<String> skips(Path classes) {
        return List.copyOf(scan(classes).skipping);
    }

    // ------------------------------------------------------------------ sources: self-comparisons

    /** Test sources of every module under {@code repo}: {@code *}{@code /src/test/java/**}{@code /*.java}. */
    public static List<Path> testSources(Path repo) {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> modules = Files.list(repo)) {
            for (Path module : modules.sorted().toList()) {
                Path src = module.resolve("src/test/java");
                if (Files.isDirectory(src)) {
                    try (Stream<Path> w = Files.walk(src)) {
                        w.filter(p -> p.toString().endsWith(".java")).sorted().forEach(out::add);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** "file:line: assertEquals(x, x)" for every self-comparison in {@code files}. */
    public static List<String> selfComparisons(List<Path> files) {
        List<String> out = new ArrayList<>();
        for (Path f : files) {
            try {
                for (String hit : selfComparisons(Files.readString(f))) {
                    out.add(f.getFileName() + ":" + hit);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** "line: call" for every self-comparison in one source text. */
    public static List<String> selfComparisons(String source) {
        String code = blankCommentsAndLiterals(source);
        List<String> out = new ArrayList<>();
        for (String name : SAME_ARGUMENT_ASSERTIONS) {
            int from = 0;
            for (int at; (at = code.indexOf(name, from)) >= 0; from = at + name.length()) {
                if (at > 0 && Character.isJavaIdentifierPart(code.charAt(at - 1))) {
                    continue;
                }
                int open = at + name.length();
                while (open < code.length() && Character.isWhitespace(code.charAt(open))) {
                    open++;
                }
                if (open >= code.length() || code.charAt(open) != '(') {
                    continue; // an import, a method reference, another identifier
                }
                List<int[]> args = arguments(code, open);
                if (args.size() < 2) {
                    continue;
                }
                String first = squeeze(source, code, args.get(0));
                String second = squeeze(source, code, args.get(1));
                if (first.equals(second)) {
                    int line = (int) source.substring(0, at).chars().filter(c -> c == '\n').count() + 1;
                    out.add(line + ": " + name + "(" + first + ", " + second + ")");
                }
            }
        }
        out.sort((a, b) -> Integer.compare(Integer.parseInt(a.substring(0, a.indexOf(':'))),
                Integer.parseInt(b.substring(0, b.indexOf(':')))));
        return out;
    }

    /**
     * The argument's text without comments and without whitespace outside literals; literals as
     * written ({@code "a b"} and {@code "ab"} differ).
     */
    private static String squeeze(String source, String code, int[] span) {
        StringBuilder b = new StringBuilder();
        for (int k = span[0]; k < span[1]; k++) {
            char c = code.charAt(k);
            if (c == LITERAL) {
                b.append(source.charAt(k));
            } else if (!Character.isWhitespace(c)) {
                b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * Spans of the top-level arguments of the call whose '(' is at {@code open} in {@code code}
     * (comments and literals already blanked, so brackets and commas in them do not count).
     */
    private static List<int[]> arguments(String code, int open) {
        List<int[]> out = new ArrayList<>();
        int depth = 0;
        int start = open + 1;
        for (int i = open; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
                if (depth == 0) {
                    out.add(new int[] {start, i});
                    return out;
                }
            } else if (c == ',' && depth == 1) {
                out.add(new int[] {start, i});
                start = i + 1;
            }
        }
        return out; // unbalanced: the file does not compile anyway
    }

    /** What the insides of literals become in {@link #blankCommentsAndLiterals}. */
    private static final char LITERAL = '\0';

    /**
     * The source with comments replaced by blanks and the insides of string, text-block and char
     * literals by {@link #LITERAL} (same length, newlines kept), so that positions still match
     * the original and nothing inside a comment or literal looks like code.
     */
    static String blankCommentsAndLiterals(String src) {
        StringBuilder b = new StringBuilder(src);
        int i = 0;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                int end = src.indexOf('\n', i);
                end = end < 0 ? n : end;
                blank(b, i, end, ' ');
                i = end;
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                blank(b, i, end, ' ');
                i = end;
            } else if (src.startsWith("\"\"\"", i)) {
                int j = i + 3;
                while (j < n && !(src.startsWith("\"\"\"", j) && src.charAt(j - 1) != '\\')) {
                    j++;
                }
                blank(b, i + 3, j, LITERAL);
                i = Math.min(n, j + 3);
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && src.charAt(j) != c) {
                    j += src.charAt(j) == '\\' ? 2 : 1;
                }
                blank(b, i + 1, Math.min(j, n), LITERAL);
                i = Math.min(n, j + 1);
            } else {
                i++;
            }
        }
        return b.toString();
    }

    private static void blank(StringBuilder b, int from, int to, char with) {
        for (int k = from; k < to; k++) {
            if (b.charAt(k) != '\n') {
                b.setCharAt(k, with);
            }
        }
    }
}
