package io.jvs.forwarder.ctl.server;

import org.junit.jupiter.api.Test;

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
    void theDefaultFollowsTheNetworkNamespaceAsIpNetnsIdentifySeesIt() throws Exception {
        // iproute2's own answer for this process (empty in a namespace without a name, e.g. the initial one)
        Process p = new ProcessBuilder("ip", "netns", "identify", Long.toString(ProcessHandle.current().pid()))
                .redirectErrorStream(true).start();
        String identify = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), identify);
        assertEquals(identify.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(identify),
                ControlSocketPath.namespaceName());
        assertEquals(identify.isEmpty() ? Path.of("/run/jvs/control.sock") : Path.of("/run/jvs", identify,
                "control.sock"), ControlSocketPath.resolve(null, Map.of()));
    }
}
