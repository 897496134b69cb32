package io.jvs.forwarder;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package structure of the forwarder's main code, read bottom-up: io.jvs.sys and
 * io.jvs.packet (the jvs-native module: FFM bindings, codecs) -&gt; counters -&gt; service -&gt;
 * sched, conn -&gt; frame -&gt; io -&gt; neigh -&gt; xmit -&gt; pipeline -&gt; ctl, health, metrics -&gt;
 * Director, Main.
 * Two rules keep it that way: no package depends on itself through others (each
 * package is a node, subpackages included: ctl.keepalived is not ctl), and the data
 * path never reaches the control side (the jvsadm server, configuration, health
 * checks, the metrics server) or the director that assembles it all.
 *
 * <p>The rules run from plain JUnit tests, not from archunit-junit5's {@code @ArchTest}
 * fields: Surefire 3.5.3 silently skips those (TNG/ArchUnit#1442).
 */
class ArchitectureTest {
    /** The forwarder's main classes (target/classes) and jvs-native's (its jar), without tests. */
    static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.jvs.forwarder", "io.jvs.sys", "io.jvs.packet");

    /** The packages whose code runs per packet on the event loop, and what it is built from. */
    static final String[] DATA_PATH = {
            "io.jvs.sys..", "io.jvs.packet..", "io.jvs.forwarder.counters..",
            "io.jvs.forwarder.service..", "io.jvs.forwarder.sched..", "io.jvs.forwarder.conn..",
            "io.jvs.forwarder.frame..", "io.jvs.forwarder.io..", "io.jvs.forwarder.neigh..",
            "io.jvs.forwarder.xmit..", "io.jvs.forwarder.pipeline.."};

    /** The control side: what the data path must not import (the last entry is Director's and Main's package). */
    static final String[] CONTROL_SIDE = {
            "io.jvs.forwarder.ctl..", "io.jvs.forwarder.config..", "io.jvs.forwarder.health..",
            "io.jvs.forwarder.metrics..", "io.jvs.forwarder.vrrp..", "io.jvs.forwarder"};

    @Test
    void noPackageCycles() {
        ArchRule rule = slices().matching("io.jvs.(**)").as("forwarder packages").should().beFreeOfCycles();
        rule.check(MAIN);
    }

    @Test
    void dataPathDoesNotReachTheControlSide() {
        noClasses().that().resideInAnyPackage(DATA_PATH)
                .should().dependOnClassesThat().resideInAnyPackage(CONTROL_SIDE)
                .because("the data path is built from below (DataPath) and publishes counters the control side"
                        + " reads; it never calls up into jvsadm, configuration, health checks, the metrics server"
                        + " or the Director")
                .check(MAIN);
    }
}
