package io.jvs.forwarder.sync;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.LocalPorts;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TestSchedulers;
import io.jvs.forwarder.testkit.FuzzChecks;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.packet.IpvsSync;
import io.jvs.packet.SyncEntry;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backup's receive path on what the fuzzer writes: {@link IpvsSync#decode} on a message in a
 * segment exactly its size (any read past it throws), then {@link SyncIntake} and
 * {@link SyncInstaller} into small connection tables (IPv4 and IPv6) of a director with NAT,
 * FULLNAT, persistent DR and UDP services and IPv6 NAT, DR, FULLNAT and persistent NAT ones
 * (IPv6 FULLNAT entries carry jvs's option 26, IPv6 templates go to PersistenceTable6). Entries are IPv4 (struct
 * ip_vs_sync_v4) or IPv6 (ip_vs_sync_v6). Two kinds of input: raw bytes, and messages the {@link IpvsSync.Encoder}
 * builds from fuzzed entries (addresses and ports mostly the configured ones, so they reach the
 * table), then maybe mutated. Properties:
 * <ul>
 *   <li>a message is refused whole (a message-level reason, nothing delivered) or every one of
 *       its nr_conns entries is delivered once, accepted or with an entry-level reason;</li>
 *   <li>decode, encode, decode gives the same accepted entries;</li>
 *   <li>an encoded, unmutated message decodes to exactly the entries put in, each accepted or
 *       refused as an independent reading of ip_vs_proc_sync_conn's checks says, unless the
 *       backup has a syncid and the message another (then it is refused whole for that);</li>
 *   <li>entries received = installed + updated + refused and dropped entries by reason (every
 *       received entry is accounted once), and one message counted per message.</li>
 * </ul>
 */
class IpvsSyncFuzzTest {
    private static final long S = 1_000_000_000L;
    private static final int VIP = Ipv4Address.parse("10.0.0.100");
    private static final int RS1 = Ipv4Address.parse("10.0.1.11");
    private static final int RS2 = Ipv4Address.parse("10.0.1.12");
    private static final int LIP = Ipv4Address.parse("10.0.0.250");
    private static final int[] ADDRS = {VIP, RS1, RS2, LIP, Ipv4Address.parse("192.168.1.5")};
    private static final int[] PORTS = {80, 81, 443, 53, 8080, 8081, 0};
    private static final int[] PROTOS = {Protocol.TCP, Protocol.UDP};
    private static final Ipv6Address VIP6 = Ipv6Address.parse("2001:db8::100");
    private static final Ipv6Address RS6A = Ipv6Address.parse("2001:db8::11");
    private static final Ipv6Address RS6B = Ipv6Address.parse("2001:db8::12");
    private static final Ipv6Address LIP6 = Ipv6Address.parse("2001:db8::3");
    private static final Ipv6Address[] ADDRS6 = {VIP6, RS6A, RS6B, Ipv6Address.parse("2001:db8:1::2"), LIP6,
        Ipv6Address.parse("2001:db8:1::")};

    /** The backup's services, built once (an immutable snapshot; the connection table is new per input). */
    private static final ServiceRegistry REGISTRY = new ServiceRegistry();

    static {
        REGISTRY.publish(new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(
                new ServiceSpec(Protocol.TCP, VIP, 80, "rr")
                        .withDest(new ServiceSpec.Dest(RS1, 8080, 1, ForwardMethod.NAT))
                        .withDest(new ServiceSpec.Dest(RS2, 8080, 1, ForwardMethod.NAT)),
                new ServiceSpec(Protocol.TCP, VIP, 81, "rr").withFullNat(List.of(LIP), ClientAddressMode.PROXY_V2)
                        .withDest(new ServiceSpec.Dest(RS1, 8081, 1, ForwardMethod.FULLNAT)),
                new ServiceSpec(Protocol.TCP, VIP, 443, "rr").withPersistence(360, -1)
                        .withDest(new ServiceSpec.Dest(RS1, 443, 1, ForwardMethod.DR)),
                new ServiceSpec(Protocol.UDP, VIP, 53, "rr")
                        .withDest(new ServiceSpec.Dest(RS1, 53, 1, ForwardMethod.NAT)),
                ServiceSpec.ipv6(Protocol.TCP, VIP6, 80, "rr", List.of(
                        ServiceSpec.Dest.ipv6(RS6A, 8080, 1, ForwardMethod.NAT),
                        ServiceSpec.Dest.ipv6(RS6B, 8080, 1, ForwardMethod.NAT))),
                ServiceSpec.ipv6(Protocol.UDP, VIP6, 53, "rr", List.of(
                        ServiceSpec.Dest.ipv6(RS6A, 53, 1, ForwardMethod.DR))),
                ServiceSpec.ipv6(Protocol.TCP, VIP6, 81, "rr", List.of())
                        .withFullNat6(List.of(LIP6), ClientAddressMode.PROXY_V2)
                        .withDests(List.of(ServiceSpec.Dest.ipv6(RS6A, 8081, 1, ForwardMethod.FULLNAT))),
                ServiceSpec.ipv6(Protocol.TCP, VIP6, 443, "rr", List.of(
                        ServiceSpec.Dest.ipv6(RS6B, 443, 1, ForwardMethod.NAT))).withPersistence(360, 64)),
                REGISTRY.current()));
    }

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void receive(FuzzedDataProvider data) {
        int syncId = data.consumeBoolean() ? 0 : data.consumeInt(0, 255);
        List<SyncEntry> put = null;
        byte[] msg;
        int sentSyncId = -1;
        if (data.consumeBoolean()) {
            put = new ArrayList<>();
            sentSyncId = data.consumeInt(0, 255);
            msg = encode(data, put, sentSyncId);
            int flips = data.consumeInt(0, 3);
            for (int i = 0; i < flips && msg.length > 0; i++) {
                msg[data.consumeInt(0, msg.length - 1)] ^= (byte) data.consumeInt(1, 255);
                put = null; // mutated: only the general properties hold
            }
        } else {
            msg = data.consumeRemainingAsBytes();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, msg.length), 1);
            MemorySegment.copy(msg, 0, seg, ValueLayout.JAVA_BYTE, 0, msg.length);
            seg = seg.asSlice(0, msg.length);
            MemorySegment out = arena.allocate(65535, 4);
            IpvsSync.Encoder reenc = new IpvsSync.Encoder().begin(out, 0, 65535, 0);
            Delivered d = decode(seg, msg.length, syncId, reenc);
            if (d.reject != null) {
                assertTrue(d.reject.wholeMessage(), "a message-level reason: " + d.reject);
                assertTrue(d.accepted.isEmpty() && d.refused.isEmpty(), "a refused message delivers nothing");
            } else {
                assertEquals(msg[4] & 0xff, d.accepted.size() + d.refused.size(), "each of nr_conns entries once");
                for (IpvsSync.Reject r : d.refusedWhy) {
                    assertFalse(r.wholeMessage(), "an entry-level reason: " + r);
                }
                // decode -> encode -> decode: the accepted entries again, in order, all accepted
                Delivered again = decode(out.asSlice(0, reenc.size()), reenc.size(), 0, null);
                assertNull(again.reject, "a re-encoded message is accepted whole");
                assertEquals(d.accepted, again.accepted, "decode -> encode -> decode gives the same entries");
                assertTrue(again.refused.isEmpty(), "nothing accepted once is refused the second time");
            }
            if (put != null && syncId != 0 && sentSyncId != syncId) {
                assertEquals(IpvsSync.Reject.SYNCID_MISMATCH, d.reject, "another director group's message");
            } else if (put != null) {
                assertNull(d.reject, "an encoded message is accepted whole");
                checkAsPut(put, d);
            }
            install(seg, msg.length, syncId, d);
        }
    }

    // ------------------------------------------------------------------ decode

    private record Delivered(IpvsSync.Reject reject, List<Wire> accepted, List<Wire> refused,
                             List<IpvsSync.Reject> refusedWhy) {
    }

    /** Decodes, collecting what is delivered; each accepted entry also goes into {@code reenc} (when given). */
    private static Delivered decode(MemorySegment seg, int len, int syncId, IpvsSync.Encoder reenc) {
        List<Wire> accepted = new ArrayList<>();
        List<Wire> refused = new ArrayList<>();
        List<IpvsSync.Reject> why = new ArrayList<>();
        IpvsSync.Reject r = IpvsSync.decode(seg, 0, len, syncId, new SyncEntry(), new IpvsSync.Visitor() {
            @Override
            public void entry(SyncEntry e) {
                assertTrue(e.type == 0 || e.ipv6(), "an accepted entry is IPv4 (type 0) or IPv6 (bit 0)");
                accepted.add(wire(e));
                if (reenc != null) {
                    assertTrue(reenc.add(e), "every accepted entry of one message fits a 64 KiB message");
                }
            }

            @Override
            public void rejected(SyncEntry e, IpvsSync.Reject reason) {
                refused.add(wire(e));
                why.add(reason);
            }
        });
        return new Delivered(r, accepted, refused, why);
    }

    /**
     * What the encoder carries of an entry, field by field (CONN_F_HASHED is local state, never
     * sent; the seq, FULLNAT and SYN-proxy fields only when the entry has them). A record rather than text: the
     * comparison is the same and formatting addresses was a quarter of the target's time.
     */
    private record Wire(boolean ipv6, long caddrHi, long caddrLo, long vaddrHi, long vaddrLo, long daddrHi,
                        long daddrLo, int protocol, int flags, int state, int cport, int vport, int dport, int fwmark, long timeout,
                        int caddr, int vaddr, int daddr, boolean hasSeq, int inInitSeq, int inDelta, int inPrevDelta,
                        int outInitSeq, int outDelta, int outPrevDelta, boolean hasFullNat, int localAddr,
                        long localAddrHi, long localAddrLo, int localPort, int fullNatFlags, int seqBase, int seqDelta, int tsDelta,
                        boolean hasSynProxy, int spState, int spSeq, int spTs, int spClientIsn, int spOptions,
                        int spClientWindow, int spWinShift) {
    }

    private static Wire wire(SyncEntry e) {
        boolean seq = e.hasSeq;
        boolean fn = e.hasFullNat;
        boolean sp = e.hasSynProxy;
        return new Wire(e.ipv6(), e.caddrHi, e.caddrLo, e.vaddrHi, e.vaddrLo, e.daddrHi, e.daddrLo, e.protocol, e.flags & ~IpvsSync.CONN_F_HASHED, e.state, e.cport, e.vport, e.dport, e.fwmark,
                e.timeout, e.caddr, e.vaddr, e.daddr, seq, seq ? e.inInitSeq : 0, seq ? e.inDelta : 0,
                seq ? e.inPrevDelta : 0, seq ? e.outInitSeq : 0, seq ? e.outDelta : 0, seq ? e.outPrevDelta : 0, fn,
                fn ? e.localAddr : 0, fn ? e.localAddrHi : 0, fn ? e.localAddrLo : 0, fn ? e.localPort : 0, fn ? e.fullNatFlags : 0, fn ? e.seqBase : 0,
                fn ? e.seqDelta : 0, fn ? e.tsDelta : 0, sp, sp ? e.spState : 0, sp ? e.spSeq : 0, sp ? e.spTs : 0,
                sp ? e.spClientIsn : 0, sp ? e.spOptions : 0, sp ? e.spClientWindow : 0, sp ? e.spWinShift : 0);
    }

    // ------------------------------------------------------------------ encode from fuzzed entries

    private static byte[] encode(FuzzedDataProvider data, List<SyncEntry> put, int syncId) {
        int maxLen = data.consumeInt(IpvsSync.HEADER_LEN, 1500);
        int cap = Math.max(maxLen, IpvsSync.HEADER_LEN + IpvsSync.Encoder.MAX_ENTRY_LEN);
        MemorySegment seg = Arena.ofAuto().allocate(cap, 4);
        IpvsSync.Encoder enc = new IpvsSync.Encoder().begin(seg, 0, maxLen, syncId);
        int n = data.consumeInt(0, 300);
        for (int i = 0; i < n; i++) {
            SyncEntry e = entry(data);
            if (!enc.add(e)) {
                assertTrue(enc.count() == 255 || enc.size() + ((4 - enc.size()) & 3)
                        + IpvsSync.Encoder.entryLength(e) > maxLen, "refused only when full");
                break;
            }
            put.add(e);
        }
        assertEquals(put.size(), enc.count());
        assertTrue(enc.count() <= 255);
        assertTrue(enc.size() <= cap);
        byte[] b = seg.asSlice(0, enc.size()).toArray(ValueLayout.JAVA_BYTE);
        return b;
    }

    private static SyncEntry entry(FuzzedDataProvider data) {
        SyncEntry e = new SyncEntry();
        boolean wild = data.consumeBoolean();
        e.protocol = wild ? data.consumeInt(0, 255) : data.pickValue(PROTOS);
        e.flags = data.consumeBoolean() ? data.consumeInt() : data.pickValue(new int[] {IpvsSync.CONN_F_MASQ,
                IpvsSync.CONN_F_DROUTE, IpvsSync.CONN_F_TEMPLATE | IpvsSync.CONN_F_DROUTE,
                IpvsSync.CONN_F_INACTIVE | IpvsSync.CONN_F_MASQ});
        e.state = wild ? data.consumeInt(0, 0xffff) : data.consumeInt(0, 11);
        e.cport = data.consumeInt(0, 0xffff);
        e.vport = wild ? data.consumeInt(0, 0xffff) : data.pickValue(PORTS);
        e.dport = wild ? data.consumeInt(0, 0xffff) : data.pickValue(PORTS);
        e.fwmark = data.consumeBoolean() ? 0 : data.consumeInt();
        e.timeout = data.consumeBoolean() ? data.consumeLong(0, 0xFFFF_FFFFL) : data.consumeInt(0, 600);
        if (data.consumeBoolean()) {
            // struct ip_vs_sync_v6: any type with bit 0 (the encoder writes STYPE_F_INET6)
            e.type = data.consumeBoolean() ? IpvsSync.STYPE_F_INET6 : data.consumeInt(0, 127) * 2 + 1;
            Ipv6Address c = data.consumeBoolean() ? new Ipv6Address(data.consumeLong(), data.consumeLong())
                    : data.pickValue(ADDRS6);
            Ipv6Address v = wild ? new Ipv6Address(data.consumeLong(), data.consumeLong()) : data.pickValue(ADDRS6);
            Ipv6Address d = wild ? new Ipv6Address(data.consumeLong(), data.consumeLong()) : data.pickValue(ADDRS6);
            e.caddrHi = c.hi();
            e.caddrLo = c.lo();
            e.vaddrHi = v.hi();
            e.vaddrLo = v.lo();
            e.daddrHi = d.hi();
            e.daddrLo = d.lo();
        } else {
            e.caddr = data.consumeBoolean() ? data.consumeInt() : data.pickValue(ADDRS);
            e.vaddr = wild ? data.consumeInt() : data.pickValue(ADDRS);
            e.daddr = wild ? data.consumeInt() : data.pickValue(ADDRS);
        }
        if (data.consumeBoolean()) {
            e.hasSeq = true;
            e.inInitSeq = data.consumeInt();
            e.inDelta = data.consumeInt();
            e.inPrevDelta = data.consumeInt();
            e.outInitSeq = data.consumeInt();
            e.outDelta = data.consumeInt();
            e.outPrevDelta = data.consumeInt();
        }
        if (data.consumeBoolean()) {
            e.hasFullNat = true;
            if (e.ipv6()) {
                // option 26: a 128-bit local address (the int one stays 0, as the decoder leaves it)
                Ipv6Address l = data.consumeBoolean() ? LIP6 : new Ipv6Address(data.consumeLong(), data.consumeLong());
                e.localAddrHi = l.hi();
                e.localAddrLo = l.lo();
            } else {
                e.localAddr = data.consumeBoolean() ? LIP : data.consumeInt();
            }
            e.localPort = data.consumeInt(0, 0xffff);
            e.fullNatFlags = data.consumeInt(0, 0xffff);
            e.seqBase = data.consumeInt();
            e.seqDelta = data.consumeInt();
            e.tsDelta = data.consumeInt();
        }
        if (data.consumeBoolean()) {
            e.hasSynProxy = true;
            e.spState = data.consumeBoolean() ? IpvsSync.SYNPROXY_SPLICED : IpvsSync.SYNPROXY_AWAITING;
            e.spSeq = data.consumeInt();
            e.spTs = data.consumeInt();
            e.spClientIsn = data.consumeInt();
            e.spOptions = data.consumeInt(0, 0xffff);
            e.spClientWindow = data.consumeInt(0, 0xffff);
            e.spWinShift = data.consumeInt(-128, 127);
        }
        return e;
    }

    /** ip_vs_proc_sync_conn's entry checks read independently, the same for both families: template, protocol, state. */
    private static IpvsSync.Reject expected(SyncEntry e) {
        if ((e.flags & IpvsSync.CONN_F_TEMPLATE) != 0) {
            return null;
        }
        if (e.protocol != 6 && e.protocol != 17) {
            return IpvsSync.Reject.BAD_PROTOCOL;
        }
        int states = e.protocol == 6 ? 11 : 2; // IP_VS_TCP_S_LAST, IP_VS_UDP_S_LAST
        return e.state >= states ? IpvsSync.Reject.BAD_STATE : null;
    }

    private static void checkAsPut(List<SyncEntry> put, Delivered d) {
        List<Wire> acc = new ArrayList<>();
        List<Wire> ref = new ArrayList<>();
        List<IpvsSync.Reject> why = new ArrayList<>();
        for (SyncEntry e : put) {
            IpvsSync.Reject r = expected(e);
            if (r == null) {
                acc.add(wire(e));
            } else {
                ref.add(wire(e));
                why.add(r);
            }
        }
        assertEquals(acc, d.accepted, "the entries put in, accepted");
        assertEquals(ref, d.refused, "the entries put in, refused");
        assertEquals(why, d.refusedWhy, "why each was refused");
    }

    // ------------------------------------------------------------------ intake and install

    private static void install(MemorySegment seg, int len, int syncId, Delivered d) {
        long[] now = {1_000 * S};
        ConnectionTable conns = new ConnectionTable(16, Timeouts.DEFAULTS, () -> now[0], new LocalPorts(1024, 1040));
        SyncCounters counters = new SyncCounters();
        SyncQueue queue = new SyncQueue(32);
        SyncIntake intake = new SyncIntake(queue, counters, syncId);
        ConnectionTable6 conns6 = new ConnectionTable6(16, Timeouts.DEFAULTS);
        SyncInstaller installer = new SyncInstaller(conns, conns6, REGISTRY, queue, counters, () -> now[0]);
        // the same message twice: the second time updates what the first installed
        for (int round = 0; round < 2; round++) {
            counters.receivedMessage();
            intake.take(seg, len);
            installer.run();
            now[0] += S;
        }
        long accounted = counters.installedConnections() + counters.updatedConnections();
        for (IpvsSync.Reject r : IpvsSync.Reject.values()) {
            if (!r.wholeMessage()) {
                accounted += counters.rejects(r);
            }
        }
        for (SyncDrop x : SyncDrop.values()) {
            accounted += counters.drops(x);
        }
        assertEquals(counters.receivedConnections(), accounted,
                "entries received = installed + updated + refused and dropped by reason");
        long whole = 0;
        for (IpvsSync.Reject r : IpvsSync.Reject.values()) {
            if (r.wholeMessage()) {
                whole += counters.rejects(r);
            }
        }
        assertEquals(2, counters.receivedMessages());
        assertEquals(d.reject == null ? 0 : 2, whole, "a refused message is counted under its reason");
        assertEquals(d.reject == null ? 2L * (d.accepted.size() + d.refused.size()) : 0, counters.receivedConnections());
        assertTrue(conns.size() <= 16 && conns6.size() <= 16, "the tables never grow past their capacity");
    }
}
