package io.jvs.forwarder.io;

import io.jvs.sys.Bpf;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The XDP program's decisions, run by the kernel (BPF_PROG_TEST_RUN through bpf(); root, as CI
 * runs): the program's test variant, the same instructions up to the redirect, returns
 * {@link XdpRedirect#REDIRECTED} + the XSKMAP index it would redirect to (queue * workers +
 * worker; the test run's frames arrive on queue 0), or XDP_PASS. The expected worker comes from
 * the documented rule written out here as in FanoutProgramTest: to a VIP hash(source masked by
 * the persistence mask), a reply hash(destination), to a FULLNAT local address the worker whose
 * slice of the port range holds the port, ARP requests for an owned address to worker 0.
 */
class XdpRedirectTest {
    static final int VIP = 0x0a000064;      // 10.0.0.100
    static final int LIP = 0x0a000003;      // 10.0.0.3
    static final int RIP = 0x0a00000b;      // 10.0.0.11
    static final int OWN = 0x0a000002;      // 10.0.0.2, the director's own address
    static final int FWMARK_NET = 0x0a000500; // 10.0.5.0/24, a fwmark rule's destination
    static final int PASS = Bpf.XDP_PASS;
    static final int REDIRECTED = XdpRedirect.REDIRECTED;

    int addrs = -1;
    int xsks = -1;
    int prog = -1;

    /** The documented hash, written out independently of FanoutProgram. */
    static int expectedWorker(int addr, int mask, int workers) {
        long m = addr & mask & 0xffffffffL;
        long x = (m ^ (m >>> 16)) & 0xffffffffL;
        long h = ((x * 0x9E3779B1L) & 0xffffffffL) >>> 16;
        return (int) (h % workers);
    }

    @BeforeEach
    void maps() throws NativeException {
        addrs = Bpf.createMap(Bpf.MAP_TYPE_HASH, 4, 4, 64, "jvs_test_addrs");
        xsks = Bpf.createMap(Bpf.MAP_TYPE_XSKMAP, 4, 4, 16, "jvs_test_xsks");
        for (int a : new int[]{VIP, LIP}) {
            Bpf.updateMap(addrs, Integer.reverseBytes(a), XdpRedirect.OWNED, "test");
        }
        Bpf.updateMap(addrs, Integer.reverseBytes(OWN), XdpRedirect.LOCAL, "test");
    }

    @AfterEach
    void close() {
        for (int fd : new int[]{prog, xsks, addrs}) {
            if (fd >= 0) {
                Libc.close(fd);
            }
        }
    }

    int load(int workers, long[] fanout) throws NativeException {
        prog = Bpf.loadXdpProgram(XdpRedirect.program(addrs, xsks, workers, fanout, true).build(), "jvs_xdp_test");
        return prog;
    }

    int run(byte[] frame) throws NativeException {
        return Bpf.testRun(prog, frame);
    }

    @Test
    void fourWorkersPickedAsTheFanoutRuleSays() throws NativeException {
        int mask = 0xffffff00;  // a /24 persistence netmask: one worker per client network
        load(4, FanoutProgram.build(4, new int[]{VIP}, new int[]{LIP}, List.of(new int[]{FWMARK_NET, 24}), 1000, 1009,
                mask));
        int[] seen = new int[4];
        for (int c = 0; c < 64; c++) {
            int client = 0x0a010000 + (c << 8) + 7 + c;   // 10.1.c.(7+c): 64 client networks
            int w = expectedWorker(client, mask, 4);
            assertEquals(REDIRECTED + w, run(tcp(client, VIP, 40000 + c, 80)), "client " + c + " to the VIP");
            assertEquals(REDIRECTED + w, run(tcp(RIP, client, 80, 40000 + c)), "the NAT reply to client " + c);
            assertEquals(REDIRECTED + w, run(tcp(client, FWMARK_NET + 9, 40000 + c, 443)), "client " + c
                    + " to a fwmark rule's destination");
            assertEquals(REDIRECTED + w, run(tcp(client ^ 0x55, VIP, 40000 + c, 80)),
                    "another client of the same /24");
            seen[w]++;
        }
        for (int w = 0; w < 4; w++) {
            assertTrue(seen[w] > 5, "64 client networks over 4 workers: " + java.util.Arrays.toString(seen));
        }
        // FULLNAT replies to LIP:port: 10 ports over 4 workers, floor((port - 1000) * 4 / 10)
        int[] owner = {0, 0, 0, 1, 1, 2, 2, 2, 3, 3};
        for (int p = 1000; p <= 1009; p++) {
            assertEquals(REDIRECTED + owner[p - 1000], run(tcp(RIP, LIP, 80, p)), "reply to LIP port " + p);
        }
        // outside the range: hash(destination), the LIP
        assertEquals(REDIRECTED + expectedWorker(LIP, mask, 4), run(tcp(RIP, LIP, 80, 999)), "LIP port 999");
        assertEquals(REDIRECTED + expectedWorker(LIP, mask, 4), run(tcp(RIP, LIP, 80, 1010)), "LIP port 1010");
        // a frame cut before the ports: classic BPF's load fails and the program returns 0, worker 0
        byte[] cut = java.util.Arrays.copyOf(tcp(RIP, LIP, 80, 1009), 14 + 20 + 1);
        assertEquals(REDIRECTED, run(cut), "a reply to the LIP without its ports");
    }

    @Test
    void arpAndTheHostsOwnTrafficAsWithOneWorker() throws NativeException {
        load(3, FanoutProgram.build(3, new int[]{VIP}, new int[]{LIP}, List.of(), 1024, 65535, -1));
        assertEquals(REDIRECTED, run(arpRequest(VIP)), "an ARP request for the VIP: worker 0 answers");
        assertEquals(PASS, run(arpRequest(RIP)), "an ARP request for another address: the kernel's");
        assertEquals(PASS, run(tcp(0x0a000101, OWN, 5000, 22)), "to the director's own address");
        assertEquals(PASS, run(tcp(0x0a000101, 0xe0000012, 5000, 22)), "multicast (VRRP)");
        byte[] v6 = tcp(0x0a000101, VIP, 5000, 80);
        v6[12] = (byte) 0x86;
        v6[13] = (byte) 0xdd;
        assertEquals(PASS, run(v6), "IPv6 (refused in XDP mode): the kernel's");
    }

    @Test
    void oneWorkerRedirectsToTheQueueAsBefore() throws NativeException {
        load(1, null);
        assertEquals(REDIRECTED, run(tcp(0x0a000101, VIP, 5000, 80)));
        assertEquals(REDIRECTED, run(tcp(RIP, 0x0a000101, 80, 5000)));
        assertEquals(PASS, run(tcp(0x0a000101, OWN, 5000, 22)));
    }

    /**
     * A VIP whose last service is gone is released: ARP requests for it go to the kernel again (TCP
     * to it is redirected as any other address that is not the host's), and a VIP that was also one
     * of the host's addresses is the host's again, passed.
     */
    @Test
    void aReleasedVipIsTheKernelsAgainAndAReleasedHostAddressTheHosts() throws NativeException {
        try (XdpRedirect x = XdpRedirect.load("test", 1, 1, null)) {
            x.put(OWN, XdpRedirect.LOCAL);
            x.put(VIP, XdpRedirect.OWNED);
            x.put(OWN, XdpRedirect.OWNED); // a VIP on one of the host's own addresses
            assertEquals(REDIRECTED, x.decision(arpRequest(VIP)), "an ARP request for the VIP");
            assertEquals(REDIRECTED, x.decision(arpRequest(OWN)), "an ARP request for the host's address, a VIP");
            assertEquals(REDIRECTED, x.decision(tcp(0x0a000101, OWN, 5000, 80)), "to the host's address, a VIP");
            x.release(VIP);
            x.release(OWN);
            x.release(LIP); // never owned: nothing to do
            assertEquals(PASS, x.decision(arpRequest(VIP)), "an ARP request for the released VIP: the kernel's");
            assertEquals(REDIRECTED, x.decision(tcp(0x0a000101, VIP, 5000, 80)),
                    "to the released VIP: as any unicast not the host's");
            assertEquals(PASS, x.decision(arpRequest(OWN)), "an ARP request for the host's address: the kernel's");
            assertEquals(PASS, x.decision(tcp(0x0a000101, OWN, 5000, 22)), "to the host's address: the kernel's");
        }
    }

    /** Ethernet + IPv4 (20 bytes) + the first 20 bytes of a TCP header. */
    static byte[] tcp(int src, int dst, int sport, int dport) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 20);
        b.put(new byte[]{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 40).putInt(0).put((byte) 64).put((byte) 6).putShort((short) 0);
        b.putInt(src).putInt(dst);
        b.putShort((short) sport).putShort((short) dport).putInt(1).putInt(0).put((byte) 0x50).put((byte) 2)
                .putShort((short) 65535).putInt(0);
        return b.array();
    }

    static byte[] arpRequest(int target) {
        ByteBuffer b = ByteBuffer.allocate(14 + 28);
        b.put(new byte[]{-1, -1, -1, -1, -1, -1, 2, 0, 0, 0, 0, 1}).putShort((short) 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        b.put(new byte[]{2, 0, 0, 0, 0, 1}).putInt(0x0a000001).put(new byte[6]).putInt(target);
        return b.array();
    }
}
