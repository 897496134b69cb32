package io.jvs.forwarder.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The suite's guard against tests that cannot fail ({@link AssertionGuard}): every test method of
 * this module reaches an assertion, none skips itself, and no assertion of any module's tests
 * compares an expression with itself. The last test shows the guard catching each kind on
 * classes compiled for the purpose.
 */
class AssertionGuardTest {

    static Path repoRoot() {
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("mvnw")) && Files.isDirectory(d.resolve("forwarder"))) {
                return d;
            }
        }
        throw new AssertionError("no repository root above " + System.getProperty("user.dir"));
    }

    @Test
    void everyTestMethodOfTheForwarderReachesAnAssertion() {
        Path classes = AssertionGuard.classesOf(AssertionGuardTest.class);
        assertEquals(List.of(), AssertionGuard.testsWithoutAssertions(classes),
                "test methods in " + classes + " that call no assertion (directly or through a helper)");
    }

    @Test
    void noTestOfTheForwarderSkipsItself() {
        Path classes = AssertionGuard.classesOf(AssertionGuardTest.class);
        assertEquals(List.of(), AssertionGuard.skips(classes), "tests that can skip instead of failing");
    }

    @Test
    void noAssertionInAnyModulesTestsComparesAnExpressionWithItself() {
        List<Path> sources = AssertionGuard.testSources(repoRoot());
        assertTrue(sources.size() > 50, "test sources found: " + sources.size());
        assertEquals(List.of(), AssertionGuard.selfComparisons(sources));
    }

    @Test
    void findsSelfComparisonsButNotLookAlikes() {
        String src = """
                class X {
                    void t() {
                        assertEquals(a, a);
                        assertEquals("-- marks\\n", "-- marks\\n");
                        assertEquals(h.out("-L -n"),
                                h.out( "-L -n" ));
                        assertEquals(h.out("-L -n"), h.out("-l -n"));
                        Assertions.assertSame(f(a, b), f(a,b), "message");
                        assertEquals("a, a", x);
                        assertEquals("a b", "ab");
                        assertEquals(g(1, 2), g(1, 3));
                        assertEquals(',', ',');
                        // assertEquals(a, a) in a comment
                        myassertEquals(a, a);
                        assertArrayEquals(new int[] {1, 2}, new int[] {1, 2});
                        assertTrue(a == a);
                        assertEquals(list.get(0), list.get(1));
                    }
                }
                """;
        assertEquals(List.of(
                "3: assertEquals(a, a)",
                "4: assertEquals(\"-- marks\\n\", \"-- marks\\n\")",
                "5: assertEquals(h.out(\"-L -n\"), h.out(\"-L -n\"))",
                "8: assertSame(f(a,b), f(a,b))",
                "12: assertEquals(',', ',')",
                "15: assertArrayEquals(newint[]{1,2}, newint[]{1,2})"), AssertionGuard.selfComparisons(src));
    }

    @Test
    void findsTestsWithoutAssertionsAndTestsThatSkip(@TempDir Path dir) throws IOException {
        Path src = dir.resolve("src/fx");
        Files.createDirectories(src);
        Files.writeString(src.resolve("Fixture.java"), """
                package fx;
                import org.junit.jupiter.api.Test;
                import static org.junit.jupiter.api.Assertions.*;
                class Fixture {
                    @Test void noAssertion() { int x = 1 + 1; }
                    @Test void callsAHelperThatAssertsNothing() { helper(); }
                    @Test void direct() { assertEquals(2, 1 + 1); }
                    @Test void throughHelper() { check(2); }
                    @Test void throughTwoHelpers() { outer(); }
                    @Test void throughLambda() { Runnable r = () -> assertTrue(true); r.run(); }
                    @Test void throwsAssertionError() { if (System.nanoTime() < 0) throw new AssertionError("x"); }
                    @Test void throughAnotherClass() { Helpers.verify(1); }
                    void check(int v) { assertEquals(2, v); }
                    void outer() { check(2); }
                    void helper() { }
                }
                class Helpers {
                    static void verify(int v) { if (v != 1) fail("not 1"); }
                }
                abstract class Base {
                    abstract void verify();
                    @Test void throughAnOverride() { verify(); }
                }
                class Impl extends Base {
                    void verify() { assertNotNull(this); }
                }
                class Skips {
                    @Test void assumes() { org.junit.jupiter.api.Assumptions.assumeTrue(false); assertTrue(true); }
                    @Test @org.junit.jupiter.api.Disabled void disabled() { assertTrue(true); }
                }
                """);
        Path out = dir.resolve("classes");
        Files.createDirectories(out);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "a JDK (javac) runs the tests");
        String cp = String.join(java.io.File.pathSeparator,
                AssertionGuard.classesOf(Test.class).toString(),
                AssertionGuard.classesOf(org.opentest4j.AssertionFailedError.class).toString());
        List<String> args = new ArrayList<>(List.of("-d", out.toString(), "-cp", cp, "-proc:none", "-nowarn"));
        args.add(src.resolve("Fixture.java").toString());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, err, err, args.toArray(String[]::new));
        assertEquals(0, rc, err.toString());

        assertEquals(List.of("fx.Fixture.callsAHelperThatAssertsNothing", "fx.Fixture.noAssertion"),
                AssertionGuard.testsWithoutAssertions(out));
        assertEquals(List.of("fx.Skips.assumes", "fx.Skips.disabled (annotation)"), AssertionGuard.skips(out));
    }
}
