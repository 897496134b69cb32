package io.jvs.forwarder.packet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvs.packet.IpvsSync;
import io.jvs.packet.IpvsSync.Reject;
import io.jvs.packet.SyncEntry;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The sync codec against messages written byte by byte from ip_vs_sync.c's layout (struct
 * ip_vs_sync_mesg, struct ip_vs_sync_v4 and ip_vs_sync_v6, the TLV options, 4-byte padding), never from jvs's
 * encoder; and every receive-side check of ip_vs_process_message / ip_vs_proc_sync_conn.
 */
class IpvsSyncTest {
    // ---- golden pieces, in wire order (comments: the field each group of bytes is) ----

    /** Header: reserved 0, syncid 7, size (patched per message), nr_conns (patched), version 1, spare 0. */
    private static final String HEADER = "00 07 0000 00 01 0000";

    /** TCP NAT connection, ESTABLISHED, active: 36 bytes. */
    private static final String TCP_NAT =
            "00 06 0024"        // type 0 (IPv4), protocol 6, ver_size: version 0, size 36
            + "00000000"        // flags: IP_VS_CONN_F_MASQ
            + "0001"            // state 1 = ESTABLISHED
            + "9c40 0050 1f90"  // cport 40000, vport 80, dport 8080
            + "00000000"        // fwmark 0
            + "00000384"        // timeout 900 s
            + "0a000002"        // caddr 10.0.0.2
            + "0a000064"        // vaddr 10.0.0.100
            + "0a00010b";       // daddr 10.0.1.11

    /** UDP DR connection, inactive and no output seen, with IPVS_OPT_SEQ_DATA: 36 + 26 = 62 bytes, 2 of padding after. */
    private static final String UDP_DR_SEQ =
            "00 11 003e"        // IPv4, UDP, size 62
            + "00000183"        // DROUTE | NOOUTPUT | INACTIVE
            + "0000"            // state 0
            + "1388 0035 0035"  // cport 5000, vport 53, dport 53
            + "00000000"
            + "0000012c"        // timeout 300 s
            + "0a000003 0a000065 0a00010c"
            + "01 18"           // IPVS_OPT_SEQ_DATA, 24 bytes
            + "00000001 00000002 00000003"  // in_seq: init_seq, delta, previous_delta
            + "00000004 00000005 00000006"; // out_seq
    private static final String PAD2 = "0000";

    /** Persistence template (port 443, client network 10.0.0.0), DR: 36 bytes. */
    private static final String TEMPLATE =
            "00 06 0024"
            + "00001003"        // TEMPLATE | DROUTE
            + "0000"            // state 0 (IP_VS_CTPL_S_NONE)
            + "0000 01bb 01bb"  // cport 0, vport 443, dport 443
            + "00000000"
            + "00000168"        // timeout 360 s
            + "0a000000 0a000064 0a00010b";

    /** FULLNAT connection with jvs's option 24 (20 bytes): 36 + 22 = 58 bytes, 2 of padding after. */
    private static final String FULLNAT =
            "00 06 003a"        // size 58
            + "00000000"
            + "0001"
            + "9c41 0050 1f90"
            + "00000000"
            + "00000384"
            + "0a000002 0a000064 0a00010b"
            + "18 14"           // option 24, 20 bytes
            + "0a0000fa"        // local address 10.0.0.250
            + "1388"            // local port 5000
            + "0001"            // flags: seq offsets set
            + "11111111 22222222 33333333"; // seq base, seq delta, ts delta

    /** A SYN-proxied NAT connection, spliced, with jvs's option 25 (20 bytes): 36 + 22 = 58 bytes, 2 of padding after. */
    private static final String SYNPROXY =
            "00 06 003a"        // size 58
            + "00000000"
            + "0001"
            + "9c42 0050 1f90"  // cport 40002
            + "00000000"
            + "00000384"
            + "0a000002 0a000064 0a00010b"
            + "19 14"           // option 25, 20 bytes
            + "35b46a3d"        // sequence delta (cookie ISN - server ISN)
            + "ffffef1f"        // TSval delta -4321
            + "70000000"        // the client's ISN
            + "0373"            // option bits: MSS index 3, wscale 7, timestamps, SACK
            + "01f6"            // the client's window 502
            + "fe"              // window shift -2
            + "02"              // state 2: spliced
            + "0000";

    /** struct ip_vs_sync_v6: TCP NAT connection, ESTABLISHED, active: 72 bytes. */
    private static final String TCP_NAT6 =
            "01 06 0048"        // type 1 (STYPE_F_INET6), protocol 6, ver_size: version 0, size 72
            + "00000000"        // flags: IP_VS_CONN_F_MASQ
            + "0001"            // state 1 = ESTABLISHED
            + "9c40 0050 1f90"  // cport 40000, vport 80, dport 8080
            + "00000000"        // fwmark 0
            + "00000384"        // timeout 900 s
            + "20010db8 00010000 00000000 00000002"  // caddr 2001:db8:1::2
            + "20010db8 00000000 00000000 00000100"  // vaddr 2001:db8::100
            + "20010db8 00000000 00000000 00000011"; // daddr 2001:db8::11

    /** struct ip_vs_sync_v6, UDP DR, inactive, no output, IPVS_OPT_SEQ_DATA: 72 + 26 = 98 bytes, 2 of padding after. */
    private static final String UDP_DR6_SEQ =
            "01 11 0062"        // IPv6, UDP, size 98
            + "00000183"        // DROUTE | NOOUTPUT | INACTIVE
            + "0000"
            + "1388 0035 0035"  // cport 5000, vport 53, dport 53
            + "0000002a"        // fwmark 42
            + "0000012c"        // timeout 300 s
            + "fd000000 00000000 00000000 00000003"  // caddr fd00::3
            + "20010db8 00000000 00000000 00000101"  // vaddr 2001:db8::101
            + "20010db8 00000000 00000000 00000012"  // daddr 2001:db8::12
            + "01 18"
            + "00000001 00000002 00000003"
            + "00000004 00000005 00000006";

    /**
     * struct ip_vs_sync_v6, a FULLNAT connection (sent as MASQ) with jvs's option 26 (32 bytes,
     * type 0x1a: the 0x40 IPVS_OPT_F_PARAM bit clear, so a kernel backup drops the entry):
     * 72 + 34 = 106 bytes, 2 of padding after.
     */
    private static final String FULLNAT6 =
            "01 06 006a"        // IPv6, TCP, size 106
            + "00000000"        // IP_VS_CONN_F_MASQ
            + "0001"            // ESTABLISHED
            + "9c43 0050 1f90"  // cport 40003, vport 80, dport 8080
            + "00000000"
            + "00000384"        // 900 s
            + "20010db8 00010000 00000000 00000002"  // caddr 2001:db8:1::2
            + "20010db8 00000000 00000000 00000100"  // vaddr 2001:db8::100
            + "20010db8 00000000 00000000 00000011"  // daddr 2001:db8::11
            + "1a 20"           // option 26, 32 bytes
            + "20010db8 00000000 00000000 00000003"  // local address 2001:db8::3
            + "1389"            // local port 5001
            + "0007"            // flags: seq offsets set, PROXY v2 header acked, TOA sent on the ACK
            + "44444444 55555555 fffffff6";          // seq base, seq delta, ts delta -10

    /** struct ip_vs_sync_v6, a persistence template (port 443, client network 2001:db8:1::/64), NAT: 72 bytes. */
    private static final String TEMPLATE6 =
            "01 06 0048"
            + "00001000"        // TEMPLATE | MASQ
            + "0000"            // IP_VS_CTPL_S_NONE
            + "0000 01bb 01bb"  // cport 0, vport 443, dport 443
            + "00000000"
            + "00000168"        // 360 s
            + "20010db8 00010000 00000000 00000000"  // the client network 2001:db8:1::
            + "20010db8 00000000 00000000 00000100"
            + "20010db8 00000000 00000000 00000012";

    private static byte[] message(int count, String... parts) {
        byte[] b = hex(HEADER + String.join("", parts));
        b[2] = (byte) (b.length >>> 8);
        b[3] = (byte) b.length;
        b[4] = (byte) count;
        return b;
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    private static MemorySegment seg(byte[] b) {
        MemorySegment s = Arena.ofAuto().allocate(b.length + 16, 1);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 16, b.length); // at an offset: offsets are honoured
        return s;
    }

    private static final class Recorder implements IpvsSync.Visitor {
        final List<String> accepted = new ArrayList<>();
        final List<String> rejected = new ArrayList<>();
        final List<SyncEntry> entries = new ArrayList<>();

        @Override
        public void entry(SyncEntry e) {
            accepted.add(e.toString());
            entries.add(copy(e));
        }

        @Override
        public void rejected(SyncEntry e, Reject why) {
            rejected.add(why.label());
        }
    }

    private static SyncEntry copy(SyncEntry e) {
        SyncEntry c = new SyncEntry();
        c.type = e.type; c.protocol = e.protocol; c.flags = e.flags; c.state = e.state;
        c.cport = e.cport; c.vport = e.vport; c.dport = e.dport; c.fwmark = e.fwmark; c.timeout = e.timeout;
        c.caddr = e.caddr; c.vaddr = e.vaddr; c.daddr = e.daddr;
        c.caddrHi = e.caddrHi; c.caddrLo = e.caddrLo; c.vaddrHi = e.vaddrHi; c.vaddrLo = e.vaddrLo;
        c.daddrHi = e.daddrHi; c.daddrLo = e.daddrLo;
        c.hasSeq = e.hasSeq; c.inInitSeq = e.inInitSeq; c.inDelta = e.inDelta; c.inPrevDelta = e.inPrevDelta;
        c.outInitSeq = e.outInitSeq; c.outDelta = e.outDelta; c.outPrevDelta = e.outPrevDelta;
        c.hasFullNat = e.hasFullNat; c.localAddr = e.localAddr; c.localPort = e.localPort;
        c.localAddrHi = e.localAddrHi; c.localAddrLo = e.localAddrLo;
        c.fullNatFlags = e.fullNatFlags; c.seqBase = e.seqBase; c.seqDelta = e.seqDelta; c.tsDelta = e.tsDelta;
        c.hasSynProxy = e.hasSynProxy; c.spState = e.spState; c.spSeq = e.spSeq; c.spTs = e.spTs;
        c.spClientIsn = e.spClientIsn; c.spOptions = e.spOptions; c.spClientWindow = e.spClientWindow;
        c.spWinShift = e.spWinShift;
        return c;
    }

    private static Recorder decode(byte[] msg, int syncId, Reject expected) {
        Recorder r = new Recorder();
        Reject got = IpvsSync.decode(seg(msg), 16, msg.length, syncId, new SyncEntry(), r);
        assertEquals(expected, got);
        if (expected != null) {
            assertTrue(r.accepted.isEmpty() && r.rejected.isEmpty(), "a rejected message delivers nothing");
        }
        return r;
    }

    // ---- golden messages ----

    @Test
    void goldenMessageDecodesFieldByField() {
        byte[] msg = message(3, TCP_NAT, UDP_DR_SEQ, PAD2, TEMPLATE);
        assertEquals(8 + 36 + 62 + 2 + 36, msg.length);
        Recorder r = decode(msg, 7, null);
        assertEquals(3, r.entries.size());
        SyncEntry a = r.entries.get(0);
        assertEquals(6, a.protocol);
        assertEquals(0, a.flags);
        assertEquals(1, a.state);
        assertEquals(40000, a.cport);
        assertEquals(80, a.vport);
        assertEquals(8080, a.dport);
        assertEquals(900, a.timeout);
        assertEquals(0x0a000002, a.caddr);
        assertEquals(0x0a000064, a.vaddr);
        assertEquals(0x0a00010b, a.daddr);
        assertFalse(a.hasSeq);
        SyncEntry b = r.entries.get(1);
        assertEquals(17, b.protocol);
        assertEquals(0x183, b.flags);
        assertEquals(5000, b.cport);
        assertEquals(53, b.dport);
        assertTrue(b.hasSeq);
        assertEquals(1, b.inInitSeq);
        assertEquals(2, b.inDelta);
        assertEquals(3, b.inPrevDelta);
        assertEquals(4, b.outInitSeq);
        assertEquals(5, b.outDelta);
        assertEquals(6, b.outPrevDelta);
        SyncEntry t = r.entries.get(2);
        assertTrue(t.template());
        assertEquals(0, t.cport);
        assertEquals(443, t.vport);
        assertEquals(360, t.timeout);
        assertEquals(0x0a000000, t.caddr);
    }

    @Test
    void goldenMessageReEncodesByteForByte() {
        for (byte[] msg : List.of(message(3, TCP_NAT, UDP_DR_SEQ, PAD2, TEMPLATE),
                message(2, FULLNAT, PAD2, TCP_NAT), message(1, TCP_NAT), message(2, SYNPROXY, PAD2, FULLNAT),
                message(4, TCP_NAT6, UDP_DR6_SEQ, PAD2, TCP_NAT, TCP_NAT6))) {
            Recorder r = decode(msg, 0, null);
            MemorySegment out = Arena.ofAuto().allocate(1500, 1);
            IpvsSync.Encoder enc = new IpvsSync.Encoder().begin(out, 0, 1472, 7);
            for (SyncEntry e : r.entries) {
                assertTrue(enc.add(e));
            }
            assertEquals(msg.length, enc.size());
            byte[] got = out.asSlice(0, enc.size()).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(msg, got, HexFormat.of().formatHex(got));
        }
    }

    @Test
    void jvsFullNatOptionDecodes() {
        Recorder r = decode(message(2, FULLNAT, PAD2, TCP_NAT), 7, null);
        SyncEntry f = r.entries.get(0);
        assertTrue(f.hasFullNat);
        assertEquals(0x0a0000fa, f.localAddr);
        assertEquals(5000, f.localPort);
        assertEquals(IpvsSync.FULLNAT_F_SEQ_SET, f.fullNatFlags);
        assertEquals(0x11111111, f.seqBase);
        assertEquals(0x22222222, f.seqDelta);
        assertEquals(0x33333333, f.tsDelta);
        assertEquals(40000, r.entries.get(1).cport);
    }

    @Test
    void jvsSynProxyOptionDecodes() {
        Recorder r = decode(message(2, SYNPROXY, PAD2, TCP_NAT), 7, null);
        SyncEntry f = r.entries.get(0);
        assertTrue(f.hasSynProxy);
        assertEquals(IpvsSync.SYNPROXY_SPLICED, f.spState);
        assertEquals(0x35b46a3d, f.spSeq);
        assertEquals(-4321, f.spTs);
        assertEquals(0x70000000, f.spClientIsn);
        assertEquals(0x373, f.spOptions);
        assertEquals(502, f.spClientWindow);
        assertEquals(-2, f.spWinShift);
        assertFalse(r.entries.get(1).hasSynProxy);
        // wrong length, unknown state, twice: the whole message is refused
        decode(message(1, "00 06 0036" + TCP_NAT.substring(10) + "19 10" + "00".repeat(16) + "0000"),
                0, Reject.SYNPROXY_OPTION);
        decode(message(1, SYNPROXY.replace("01f6fe020000", "01f6fe030000")), 0, Reject.SYNPROXY_OPTION);
        String opt = SYNPROXY.substring(SYNPROXY.indexOf("19 14"));
        decode(message(1, "00 06 0050" + TCP_NAT.substring(10) + opt + opt), 0, Reject.SYNPROXY_OPTION);
    }

    @Test
    void encoderStopsAtMaxLenAndPadsBetweenEntries() {
        SyncEntry e = copy(decode(message(1, FULLNAT), 0, null).entries.get(0));
        MemorySegment out = Arena.ofAuto().allocate(200, 1);
        // 8 + 58 = 66; the next needs 2 bytes of padding + 58 = 126 > 125
        IpvsSync.Encoder enc = new IpvsSync.Encoder().begin(out, 0, 125, 1);
        assertTrue(enc.add(e));
        assertFalse(enc.add(e));
        assertEquals(66, enc.size());
        assertEquals(1, enc.count());
        enc.begin(out, 0, 126, 1);
        assertTrue(enc.add(e));
        assertTrue(enc.add(e));
        assertEquals(126, enc.size());
    }

    // ---- message-level checks: nothing delivered ----

    @Test
    void tooShort() {
        decode(hex("000700"), 0, Reject.TOO_SHORT);
    }

    @Test
    void sizeMismatch() {
        byte[] m = message(1, TCP_NAT);
        m[3]++;
        decode(m, 0, Reject.SIZE_MISMATCH);
        byte[] longer = new byte[m.length + 4];
        System.arraycopy(message(1, TCP_NAT), 0, longer, 0, m.length);
        decode(longer, 0, Reject.SIZE_MISMATCH);
    }

    @Test
    void syncIdMismatchUnlessBackupSyncIdIsZero() {
        byte[] m = message(1, TCP_NAT);
        decode(m, 8, Reject.SYNCID_MISMATCH);
        assertEquals(1, decode(m, 0, null).entries.size());
        assertEquals(1, decode(m, 7, null).entries.size());
    }

    @Test
    void versionReservedSpare() {
        byte[] v0 = message(1, TCP_NAT);
        v0[5] = 0;
        decode(v0, 0, Reject.BAD_VERSION);
        byte[] reserved = message(1, TCP_NAT);
        reserved[0] = 1;
        decode(reserved, 0, Reject.BAD_VERSION);
        byte[] spare = message(1, TCP_NAT);
        spare[7] = 1;
        decode(spare, 0, Reject.BAD_VERSION);
    }

    @Test
    void truncatedEntry() {
        // nr_conns 2, one entry present
        decode(message(2, TCP_NAT), 0, Reject.TRUNCATED_ENTRY);
        // fewer than 36 bytes left
        decode(message(1, TCP_NAT.substring(0, TCP_NAT.length() - 8)), 0, Reject.TRUNCATED_ENTRY);
        // ver_size runs past the message
        decode(message(1, "00 06 0028" + TCP_NAT.substring(10)), 0, Reject.TRUNCATED_ENTRY);
    }

    @Test
    void entryVersionNotZero() {
        decode(message(1, "00 06 1024" + TCP_NAT.substring(10)), 0, Reject.ENTRY_VERSION);
    }

    @Test
    void unknownEntryType() {
        decode(message(1, "02 06 0024" + TCP_NAT.substring(10)), 0, Reject.BAD_TYPE);
    }

    @Test
    void entrySizeBelowFixedPart() {
        decode(message(1, "00 06 0020" + TCP_NAT.substring(10)), 0, Reject.ENTRY_SIZE);
    }

    @Test
    void optionHeaderTruncated() {
        // size 37: one byte of an option header
        decode(message(1, "00 06 0025" + TCP_NAT.substring(10) + "01 000000"), 0, Reject.OPTION_TRUNCATED);
    }

    @Test
    void zeroLengthOption() {
        decode(message(1, "00 06 0026" + TCP_NAT.substring(10) + "41 00 0000"), 0, Reject.OPTION_LENGTH);
    }

    @Test
    void optionOverflowingEntry() {
        decode(message(1, "00 06 0028" + TCP_NAT.substring(10) + "41 03 abcd"), 0, Reject.OPTION_LENGTH);
    }

    @Test
    void seqOptionOfWrongLength() {
        decode(message(1, "00 06 003a" + TCP_NAT.substring(10) + "01 14" + "00".repeat(20) + "0000"),
                0, Reject.SEQ_OPTION_LENGTH);
    }

    @Test
    void duplicateSeqOption() {
        String seq = "01 18" + "00".repeat(24);
        decode(message(1, "00 06 0058" + TCP_NAT.substring(10) + seq + seq), 0, Reject.DUPLICATE_SEQ_OPTION);
    }

    @Test
    void peNameTooLongOrTwice() {
        decode(message(1, "00 06 0037" + TCP_NAT.substring(10) + "03 11" + "61".repeat(17) + "00"),
                0, Reject.PE_OPTION);
        decode(message(1, "00 06 002c" + TCP_NAT.substring(10) + "03 02 7369 03 02 7369"), 0, Reject.PE_OPTION);
    }

    @Test
    void fullNatOptionOfWrongLengthOrTwice() {
        decode(message(1, "00 06 0036" + TCP_NAT.substring(10) + "18 10" + "00".repeat(16) + "0000"),
                0, Reject.FULLNAT_OPTION);
        String opt = FULLNAT.substring(FULLNAT.indexOf("18 14"));
        decode(message(1, "00 06 0050" + TCP_NAT.substring(10) + opt + opt), 0, Reject.FULLNAT_OPTION);
    }

    @Test
    void goodEntryBeforeMalformedOneIsNotDelivered() {
        decode(message(2, TCP_NAT, "00 06 0026" + TCP_NAT.substring(10) + "41 00 0000"), 0, Reject.OPTION_LENGTH);
    }

    // ---- entry-level checks: that entry skipped, the others delivered ----

    @Test
    void unknownMandatoryOptionSkipsTheEntry() {
        Recorder r = decode(message(2, "00 06 0028" + TCP_NAT.substring(10) + "09 02 abcd", TCP_NAT), 0, null);
        assertEquals(List.of("unknown_mandatory_option"), r.rejected);
        assertEquals(1, r.entries.size());
    }

    @Test
    void unknownOptionalOptionIsIgnored() {
        Recorder r = decode(message(1, "00 06 0028" + TCP_NAT.substring(10) + "49 02 abcd"), 0, null);
        assertTrue(r.rejected.isEmpty());
        assertEquals(1, r.entries.size());
        assertEquals(40000, r.entries.get(0).cport);
    }

    @Test
    void unsupportedProtocolSkipsTheEntry() {
        Recorder r = decode(message(2, "00 01" + TCP_NAT.substring(5), TCP_NAT), 0, null);
        assertEquals(List.of("bad_protocol"), r.rejected);
        assertEquals(1, r.entries.size());
    }

    @Test
    void stateOutOfRangeSkipsTheEntry() {
        // TCP has states 0..10, UDP 0..1
        String tcp11 = TCP_NAT.substring(0, 18) + "000b" + TCP_NAT.substring(22);
        String tcp10 = TCP_NAT.substring(0, 18) + "000a" + TCP_NAT.substring(22);
        String udp2 = "00 11" + TCP_NAT.substring(5, 18) + "0002" + TCP_NAT.substring(22);
        Recorder r = decode(message(3, tcp11, tcp10, udp2), 0, null);
        assertEquals(List.of("bad_state", "bad_state"), r.rejected);
        assertEquals(1, r.entries.size());
        assertEquals(10, r.entries.get(0).state);
    }

    @Test
    void templateStateIsNotChecked() {
        String tpl = TEMPLATE.substring(0, 18) + "00ff" + TEMPLATE.substring(22);
        assertEquals(1, decode(message(1, tpl), 0, null).entries.size());
    }

    @Test
    void persistenceEngineDataSkipsTheEntry() {
        Recorder r = decode(message(1, "00 06 002d" + TCP_NAT.substring(10) + "02 02 abcd 03 03 736970 000000"),
                0, null);
        assertEquals(List.of("pe_unsupported"), r.rejected);
    }

    // ---- IPv6 entries (struct ip_vs_sync_v6) ----

    @Test
    void ipv6GoldenMessageDecodesFieldByField() {
        byte[] msg = message(3, TCP_NAT6, UDP_DR6_SEQ, PAD2, TCP_NAT);
        assertEquals(8 + 72 + 98 + 2 + 36, msg.length);
        Recorder r = decode(msg, 7, null);
        assertEquals(List.of(), r.rejected);
        assertEquals(3, r.entries.size());
        SyncEntry a = r.entries.get(0);
        assertTrue(a.ipv6());
        assertEquals(1, a.type);
        assertEquals(6, a.protocol);
        assertEquals(0, a.flags);
        assertEquals(1, a.state);
        assertEquals(40000, a.cport);
        assertEquals(80, a.vport);
        assertEquals(8080, a.dport);
        assertEquals(900, a.timeout);
        assertEquals(0x20010db800010000L, a.caddrHi);
        assertEquals(0x0000000000000002L, a.caddrLo);
        assertEquals(0x20010db800000000L, a.vaddrHi);
        assertEquals(0x0000000000000100L, a.vaddrLo);
        assertEquals(0x20010db800000000L, a.daddrHi);
        assertEquals(0x0000000000000011L, a.daddrLo);
        assertEquals(0, a.caddr | a.vaddr | a.daddr);
        assertFalse(a.hasSeq);
        SyncEntry b = r.entries.get(1);
        assertTrue(b.ipv6());
        assertEquals(17, b.protocol);
        assertEquals(0x183, b.flags);
        assertEquals(5000, b.cport);
        assertEquals(53, b.vport);
        assertEquals(53, b.dport);
        assertEquals(42, b.fwmark);
        assertEquals(300, b.timeout);
        assertEquals(0xfd00000000000000L, b.caddrHi);
        assertEquals(3L, b.caddrLo);
        assertEquals(0x101L, b.vaddrLo);
        assertEquals(0x12L, b.daddrLo);
        assertTrue(b.hasSeq);
        assertEquals(1, b.inInitSeq);
        assertEquals(6, b.outPrevDelta);
        SyncEntry c = r.entries.get(2);
        assertFalse(c.ipv6());
        assertEquals(0x0a000002, c.caddr);
        assertEquals(0, c.caddrHi | c.caddrLo | c.daddrHi | c.daddrLo);
    }

    @Test
    void ipv6EntryEncodesAsTheKernelLaysItOut() {
        SyncEntry e = new SyncEntry();
        e.type = IpvsSync.STYPE_F_INET6;
        e.protocol = 6;
        e.state = 1;
        e.cport = 40000;
        e.vport = 80;
        e.dport = 8080;
        e.timeout = 900;
        e.caddrHi = 0x20010db800010000L;
        e.caddrLo = 2;
        e.vaddrHi = 0x20010db800000000L;
        e.vaddrLo = 0x100;
        e.daddrHi = 0x20010db800000000L;
        e.daddrLo = 0x11;
        MemorySegment out = Arena.ofAuto().allocate(1500, 1);
        IpvsSync.Encoder enc = new IpvsSync.Encoder().begin(out, 0, 1472, 7);
        assertTrue(enc.add(e));
        byte[] got = out.asSlice(0, enc.size()).toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals(message(1, TCP_NAT6), got, HexFormat.of().formatHex(got));
    }

    @Test
    void ipv6FullNatOptionAndTemplateDecodeAndReEncodeByteForByte() {
        byte[] msg = message(3, FULLNAT6, PAD2, TEMPLATE6, TCP_NAT6);
        assertEquals(8 + 106 + 2 + 72 + 72, msg.length);
        Recorder r = decode(msg, 7, null);
        assertEquals(List.of(), r.rejected);
        SyncEntry f = r.entries.get(0);
        assertTrue(f.ipv6());
        assertTrue(f.hasFullNat);
        assertEquals(0x20010db800000000L, f.localAddrHi);
        assertEquals(3L, f.localAddrLo);
        assertEquals(0, f.localAddr);
        assertEquals(5001, f.localPort);
        assertEquals(IpvsSync.FULLNAT_F_SEQ_SET | IpvsSync.FULLNAT_F_PROXY_ACKED | IpvsSync.FULLNAT_F_TOA_ON_ACK,
                f.fullNatFlags);
        assertEquals(0x44444444, f.seqBase);
        assertEquals(0x55555555, f.seqDelta);
        assertEquals(-10, f.tsDelta);
        assertEquals(40003, f.cport);
        assertEquals(0x11L, f.daddrLo);
        SyncEntry t = r.entries.get(1);
        assertTrue(t.ipv6());
        assertTrue(t.template());
        assertFalse(t.hasFullNat);
        assertEquals(0, t.cport);
        assertEquals(443, t.vport);
        assertEquals(360, t.timeout);
        assertEquals(0x20010db800010000L, t.caddrHi);
        assertEquals(0L, t.caddrLo);
        assertEquals(0x12L, t.daddrLo);
        assertFalse(r.entries.get(2).hasFullNat);
        MemorySegment out = Arena.ofAuto().allocate(1500, 1);
        IpvsSync.Encoder enc = new IpvsSync.Encoder().begin(out, 0, 1472, 7);
        for (SyncEntry e : r.entries) {
            assertTrue(enc.add(e));
        }
        byte[] got = out.asSlice(0, enc.size()).toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals(msg, got, HexFormat.of().formatHex(got));
    }

    @Test
    void fullNatOptionsOfTheOtherFamilyOrTwiceAreMalformed() {
        String opt6 = FULLNAT6.substring(FULLNAT6.indexOf("1a 20"));
        String opt4 = FULLNAT.substring(FULLNAT.indexOf("18 14"));
        String fixed6 = TCP_NAT6.substring(10);
        // option 26 in an IPv4 entry, option 24 in an IPv6 one
        decode(message(1, "00 06 0046" + TCP_NAT.substring(10) + opt6), 0, Reject.FULLNAT_OPTION);
        decode(message(1, "01 06 005e" + fixed6 + opt4), 0, Reject.FULLNAT_OPTION);
        // option 26 of option 24's length, and given twice
        decode(message(1, "01 06 005e" + fixed6 + "1a 14" + "00".repeat(20)), 0, Reject.FULLNAT_OPTION);
        decode(message(1, "01 06 008c" + fixed6 + opt6 + opt6), 0, Reject.FULLNAT_OPTION);
    }

    @Test
    void anyTypeWithBitZeroIsIpv6AsInTheKernel() {
        // "if (s->v6.type & STYPE_F_INET6)": type 3 is read as IPv6; type 2 is -10 (bad_type)
        Recorder r = decode(message(1, "03 06 0048" + TCP_NAT6.substring(10)), 0, null);
        assertEquals(1, r.entries.size());
        assertEquals(0x11L, r.entries.get(0).daddrLo);
        decode(message(1, "02 06 0048" + TCP_NAT6.substring(10)), 0, Reject.BAD_TYPE);
    }

    @Test
    void ipv6EntrySizeBelowItsFixedPartOrPastTheMessage() {
        // ver_size 36 (an IPv4 entry's) on an IPv6 entry: p + sizeof(ip_vs_sync_v6) > msg_end (-20)
        decode(message(1, "01 06 0024" + TCP_NAT.substring(10)), 0, Reject.ENTRY_SIZE);
        decode(message(1, "01 06 0047" + TCP_NAT6.substring(10, TCP_NAT6.length() - 2)), 0, Reject.ENTRY_SIZE);
        // ver_size 72 with only 40 bytes left in the message
        decode(message(1, TCP_NAT6.replace(" ", "").substring(0, 2 * 40)), 0, Reject.TRUNCATED_ENTRY);
    }

    @Test
    void ipv6EntriesGetTheEntryLevelChecks() {
        Recorder r = decode(message(3, "01 01 0048" + TCP_NAT6.substring(10),  // ICMP
                "01 06 0048 00000000 000b" + TCP_NAT6.substring(22),            // TCP state 11
                TCP_NAT6), 0, null);
        assertEquals(List.of("bad_protocol", "bad_state"), r.rejected);
        assertEquals(1, r.entries.size());
        r = decode(message(1, "01 06 004c" + TCP_NAT6.substring(10) + "09 02 abcd"), 0, null);
        assertEquals(List.of("unknown_mandatory_option"), r.rejected);
    }
}
