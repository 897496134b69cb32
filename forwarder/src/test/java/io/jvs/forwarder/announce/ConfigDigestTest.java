package io.jvs.forwarder.announce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.ctl.ipvsadm.ConfigFile;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;

import java.util.List;

import org.junit.jupiter.api.Test;

class ConfigDigestTest {
    static String digest(String... lines) throws Exception {
        ServiceConfig c = ConfigFile.parse("test", List.of(lines), io.jvs.forwarder.sched.Schedulers.factory(4093));
        ServiceTable t = new ServiceTableBuilder(io.jvs.forwarder.sched.Schedulers.factory(4093)).build(c.services(), c.fwmarkRules(), ServiceTable.EMPTY);
        return ConfigDigest.of(t, c.timeouts());
    }

    static final String[] DR = {
            "-A -t 10.0.0.100:80 -s mh -b mh-port",
            "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1",
            "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 1"};

    @Test
    void theSameLinesTheSameDigestRealServersInAnotherOrderAnother() throws Exception {
        assertEquals(digest(DR), digest(DR.clone()));
        assertEquals(16, digest(DR).length());
        // mh populates its table over the servers in list order: another order, another table
        assertNotEquals(digest(DR), digest(DR[0], DR[2], DR[1]));
    }

    @Test
    void aDifferentRealServerSetOrWeightOrSchedulerIsADifferentDigest() throws Exception {
        String base = digest(DR);
        assertNotEquals(base, digest(DR[0], DR[1]));
        assertNotEquals(base, digest(DR[0], DR[1], "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 2"));
        assertNotEquals(base, digest("-A -t 10.0.0.100:80 -s sh", DR[1], DR[2]));
        assertNotEquals(base, digest(DR[0], DR[1], DR[2], "--set 900 120 300"));
    }

    @Test
    void eachDirectorsOwnLocalAddressesAreNoDifference() throws Exception {
        String rs = "-a -t 10.0.0.100:81 -r 10.0.0.11:80 --fullnat -w 1";
        assertEquals(digest("-A -t 10.0.0.100:81 -s mh --laddr 10.0.0.51", rs),
                digest("-A -t 10.0.0.100:81 -s mh --laddr 10.0.0.52,10.0.0.53", rs));
        assertNotEquals(digest("-A -t 10.0.0.100:81 -s mh --laddr 10.0.0.51", rs),
                digest("-A -t 10.0.0.100:81 -s rr --laddr 10.0.0.51", rs));
    }
}
