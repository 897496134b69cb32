package io.jvs.forwarder.ctl;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ControlSocketPathTest {
    @Test
    void flagThenEnvironmentThenDefault() {
        assertEquals(Path.of("/tmp/a.sock"), ControlSocketPath.resolve("/tmp/a.sock", Map.of("JVS_CONTROL", "/x")));
        assertEquals(Path.of("/x"), ControlSocketPath.resolve(null, Map.of("JVS_CONTROL", "/x")));
        // (inside a named namespace the default is /run/jvs/NAME/control.sock: JvsadmIT runs jvsadm there)
    }

    @Test
    void theDefaultFollowsTheNetworkNamespace() throws Exception {
        Object self = Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:ino");
        Object init = Files.getAttribute(Path.of("/proc/1/ns/net"), "unix:ino");
        if (self.equals(init)) { // the initial namespace has no name under /run/netns
            assertEquals(java.util.Optional.empty(), ControlSocketPath.namespaceName());
            assertEquals(Path.of("/run/jvs/control.sock"), ControlSocketPath.resolve(null, Map.of()));
        } else {
            String name = ControlSocketPath.namespaceName().orElseThrow();
            assertEquals(self, Files.getAttribute(Path.of("/run/netns", name), "unix:ino"));
            assertEquals(Path.of("/run/jvs", name, "control.sock"), ControlSocketPath.resolve(null, Map.of()));
        }
    }
}
