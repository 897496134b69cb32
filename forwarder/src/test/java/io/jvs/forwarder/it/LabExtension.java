package io.jvs.forwarder.it;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Brings the namespace lab up before a test class and down after it:
 * {@code @RegisterExtension static final LabExtension LAB = LabExtension.up(2);}, then {@code LAB.lab()}.
 * A class that uses the TUN real servers (jvs-ts1, jvs-ts2 and their agents) asks for them:
 * {@code LabExtension.up(2, "--tun-servers", "2")}; without that option the lab has none ({@link Lab#up(int, String...)}).
 *
 * <p>Once per class, not once per JVM: classes ask for different labs (SchedulerIT three real
 * servers, MonitoringIT {@code --monitoring}) and change it (client addresses, neighbour entries),
 * so each class starts from the lab {@code scripts/lab up} builds, as it did with its own
 * {@code @BeforeAll}. A lab that cannot start fails every test of the class ({@link Lab#up}
 * throws an AssertionError with the script's output); nothing is skipped. Registered in a static
 * field, it runs before the class's own {@code @BeforeAll} methods and after its {@code @AfterAll}
 * methods, so those can add to and clean up the lab. {@code @Nested} classes inherit the
 * registration and share the outer class's lab.
 */
public final class LabExtension implements BeforeAllCallback, AfterAllCallback {
    private final int realServers;
    private final String[] options;
    private Lab lab;
    private Class<?> owner;

    private LabExtension(int realServers, String[] options) {
        this.realServers = realServers;
        this.options = options.clone();
    }

    /** A lab with {@code realServers} real servers and extra {@code scripts/lab up} options. */
    public static LabExtension up(int realServers, String... options) {
        return new LabExtension(realServers, options);
    }

    /** The lab; only between the class's start and end. */
    public Lab lab() {
        if (lab == null) {
            throw new IllegalStateException("the lab is not up (LabExtension must be a static @RegisterExtension field)");
        }
        return lab;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (owner != null) {
            return; // a @Nested class inside the owner: same lab
        }
        owner = context.getRequiredTestClass();
        lab = Lab.up(realServers, options);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (context.getRequiredTestClass() != owner) {
            return;
        }
        try {
            if (lab != null) {
                lab.down();
            }
        } finally {
            lab = null;
            owner = null;
        }
    }
}
