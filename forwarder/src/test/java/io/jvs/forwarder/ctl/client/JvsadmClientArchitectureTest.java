package io.jvs.forwarder.ctl.client;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin/jvsadm starts a JVM for every command, as ipvsadm is run: by hand and
 * in scripts. Its class path is the forwarder jar and the jvs-native jar
 * (no Netty, no other library) and it must start in milliseconds, so the client's classes, and
 * every class they use in turn, stay within the JDK and jvs's own code, and
 * never reach Netty. A server-side type that creeps into the client (say,
 * through a shared constant) fails here, not at run time with a
 * NoClassDefFoundError.
 *
 * <p>Plain JUnit tests calling {@code ArchRule.check}: surefire 3.5.3 neither
 * runs {@code @ArchTest} fields nor reports their failures (TNG/ArchUnit#1442, #1524).
 */
class JvsadmClientArchitectureTest {
    private static final String CLIENT = "io.jvs.forwarder.ctl.client..";

    static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.jvs.forwarder", "io.jvs.packet", "io.jvs.sys");
        assertTrue(classes.contain(JvsadmMain.class), "the client's classes were imported");
    }

    @Test
    void clientNeverReachesNetty() {
        noClasses().that().resideInAPackage(CLIENT)
                .should().transitivelyDependOnClassesThat().resideInAPackage("io.netty..")
                .because("jvsadm runs without Netty on its class path and must start quickly (ipvsadm answers in"
                        + " ~1 ms)")
                .check(classes);
    }

    @Test
    void clientNeedsNothingButTheJdkAndJvs() {
        noClasses().that().resideInAPackage(CLIENT)
                .should().transitivelyDependOnClassesThat()
                .resideOutsideOfPackages("io.jvs.forwarder..", "io.jvs.packet..", "io.jvs.sys..", "java..", "jdk..",
                        "sun..")
                .because("bin/jvsadm's class path is the forwarder jar and jvs-native's (io.jvs.packet, io.jvs.sys)")
                .check(classes);
    }
}
