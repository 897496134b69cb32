package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * IPVS's connection sync protocol, version 1, as net/netfilter/ipvs/ip_vs_sync.c lays it out.
 *
 * <pre>
 * message header (struct ip_vs_sync_mesg, 8 bytes):
 *   u8 reserved (0) | u8 syncid | be16 size (whole message) | u8 nr_conns | s8 version (1) | u16 spare (0)
 * then nr_conns entries, each starting on a 4-byte boundary of the message:
 *   struct ip_vs_sync_v4 (36 bytes):
 *     u8 type (0 = IPv4) | u8 protocol | be16 ver_size (version in the top 4 bits, 0; size of the entry
 *     with its options, unpadded, in the low 12) | be32 flags | be16 state | be16 cport | be16 vport |
 *     be16 dport | be32 fwmark | be32 timeout (seconds) | be32 caddr | be32 vaddr | be32 daddr
 *   struct ip_vs_sync_v6 (72 bytes): the same 24 bytes with type 1 (STYPE_F_INET6; the kernel reads
 *     any type with bit 0 set as IPv6), then struct in6_addr caddr | vaddr | daddr (16 bytes each)
 *   options, each u8 type | u8 length (of the data, never 0) | data:
 *     1 IPVS_OPT_SEQ_DATA  24 bytes: in_seq and out_seq (be32 init_seq, delta, previous_delta each)
 *     2 IPVS_OPT_PE_DATA   persistence-engine data (at most 255 bytes)
 *     3 IPVS_OPT_PE_NAME   persistence-engine name (at most 16 bytes)
 *     type | 0x40 (IPVS_OPT_F_PARAM): optional; an unknown type without it is mandatory and the
 *     receiver drops the entry
 *     24 (jvs's own, mandatory) 20 bytes: FULLNAT be32 local address | be16 local port | be16 flags |
 *     be32 seq base | be32 seq delta | be32 ts delta
 *     25 (jvs's own, mandatory) 20 bytes: SYN proxy be32 seq | be32 ts | be32 client ISN | be16 option
 *     bits | be16 client window | s8 window shift | u8 state (1 awaiting the server, 2 spliced) | be16 0
 *     26 (jvs's own, mandatory; IPv6 entries) 32 bytes: FULLNAT over IPv6, option 24's fields with the
 *     local address as a struct in6_addr: in6_addr local address | be16 local port | be16 flags |
 *     be32 seq base | be32 seq delta | be32 ts delta
 *   zero padding to the next 4-byte boundary (not counted in ver_size, counted in the header's size)
 * </pre>
 *
 * <p>jvs's FULLNAT option: IPVS has no FULLNAT, so a FULLNAT connection is useless to a receiver
 * that cannot read the local address and port it was given. The option is therefore sent
 * mandatory (0x40 clear), so a kernel IPVS backup drops such entries instead of installing them
 * as plain NAT connections. Type 24 is unused by the kernel (which defines 1, 2, 3 and the 0x40
 * flag) and far from the types it has used so far. An IPv6 FULLNAT entry carries the same state
 * with a 128-bit local address as option 26, a type of its own rather than a longer option 24, so
 * a jvs backup that does not know it skips that entry alone (an unknown mandatory option) where a
 * wrong-length option 24 would cost it the whole message. Option 24 in an IPv6 entry, or 26 in an
 * IPv4 one, is malformed (FULLNAT_OPTION).
 *
 * <p>jvs's SYN proxy option (25), for the same reason mandatory, and the same 20 bytes in an IPv4
 * or an IPv6 entry (it holds no address): a proxied connection's client
 * sees the director's cookie ISN and timestamps, its real server its own; a backup that takes the
 * connection over must translate them as the master did. Spliced: the sequence delta (cookie ISN -
 * server ISN), the TSval delta and the window shift. Awaiting the server: what the proxy keeps
 * until the server's SYN-ACK (the cookie ISN, the SYN-ACK's TSval, the client's ISN, the cookie's
 * option bits and the client's window), so the backup can send the server the SYN again and
 * splice. IPVS_OPT_SEQ_DATA cannot carry this: the kernel applies it only through an application
 * helper (FTP's), has no timestamp or window field, and a kernel backup would install such an
 * entry and then reset the connection with untranslated sequence numbers.
 *
 * <p>The receiver ({@link #decode}) applies every check ip_vs_process_message and
 * ip_vs_proc_sync_conn make. Unlike the kernel, which installs the entries before a bad one and
 * then drops the rest, it validates the whole message first and delivers nothing from a
 * message that fails a message-level check: a malformed message never touches the table.
 * Entry-level checks (an unknown mandatory option, an unsupported protocol or state, a
 * persistence engine) skip that entry only, as the kernel does. IPv6 entries are read as a
 * kernel built with CONFIG_IP_VS_IPV6 reads them: the fixed part is 72 bytes, the options and
 * checks are the IPv4 entry's.
 *
 * <p>Allocation-free: decoding reads the segment in place and fills a caller-owned
 * {@link SyncEntry}; encoding writes into a caller-owned segment.
 */
public final class IpvsSync {
    public static final int HEADER_LEN = 8;
    /** struct ip_vs_sync_v4. */
    public static final int V4_LEN = 36;
    /** struct ip_vs_sync_v6. */
    public static final int V6_LEN = 72;
    /** struct ip_vs_sync_mesg_v0: the shortest message the kernel looks at. */
    public static final int V0_HEADER_LEN = 4;
    public static final int VERSION = 1;
    /** 224.0.0.81. */
    public static final int DEFAULT_GROUP = 0xE0000051;
    public static final int DEFAULT_PORT = 8848;
    public static final int DEFAULT_TTL = 1;
    /** IP (20) and UDP (8) headers: sync_maxlen = MTU - this. */
    public static final int IP_UDP_HEADERS = 28;

    public static final int STYPE_F_INET6 = 1;
    public static final int SVER_SHIFT = 12;
    public static final int SVER_MASK = 0x0fff;

    public static final int OPT_SEQ_DATA = 1;
    public static final int OPT_PE_DATA = 2;
    public static final int OPT_PE_NAME = 3;
    /** IPVS_OPT_F_PARAM (1 &lt;&lt; (IPVS_OPT_PARAM - 1)): set = optional, an unknown one is skipped. */
    public static final int OPT_F_PARAM = 1 << (7 - 1);
    /** jvs's FULLNAT option (mandatory). */
    public static final int OPT_JVS_FULLNAT = 24;
    /** jvs's SYN proxy option (mandatory). */
    public static final int OPT_JVS_SYNPROXY = 25;
    /** jvs's FULLNAT option of an IPv6 entry (mandatory): option 24 with a 128-bit local address. */
    public static final int OPT_JVS_FULLNAT6 = 26;
    public static final int JVS_FULLNAT6_LEN = 32;
    public static final int JVS_SYNPROXY_LEN = 20;
    /** SYN proxy option states (ConnectionTable's SP_AWAITING_SERVER, SP_SPLICED). */
    public static final int SYNPROXY_AWAITING = 1;
    public static final int SYNPROXY_SPLICED = 2;
    /** struct ip_vs_sync_conn_options: two struct ip_vs_seq. */
    public static final int SEQ_DATA_LEN = 24;
    public static final int JVS_FULLNAT_LEN = 20;
    /** IP_VS_PEDATA_MAXLEN, IP_VS_PENAME_MAXLEN. */
    public static final int PE_DATA_MAXLEN = 255;
    public static final int PE_NAME_MAXLEN = 16;

    // IP_VS_CONN_F_* (include/uapi/linux/ip_vs.h)
    public static final int CONN_F_FWD_MASK = 0x0007;
    public static final int CONN_F_MASQ = 0x0000;
    public static final int CONN_F_LOCALNODE = 0x0001;
    public static final int CONN_F_TUNNEL = 0x0002;
    public static final int CONN_F_DROUTE = 0x0003;
    public static final int CONN_F_BYPASS = 0x0004;
    public static final int CONN_F_SYNC = 0x0020;
    public static final int CONN_F_HASHED = 0x0040;
    public static final int CONN_F_NOOUTPUT = 0x0080;
    public static final int CONN_F_INACTIVE = 0x0100;
    public static final int CONN_F_OUT_SEQ = 0x0200;
    public static final int CONN_F_IN_SEQ = 0x0400;
    public static final int CONN_F_SEQ_MASK = 0x0600;
    public static final int CONN_F_NO_CPORT = 0x0800;
    public static final int CONN_F_TEMPLATE = 0x1000;
    public static final int CONN_F_ONE_PACKET = 0x2000;
    /** IP_VS_CONN_F_BACKUP_MASK: the flags a backup takes from a sync entry. */
    public static final int CONN_F_BACKUP_MASK = CONN_F_FWD_MASK | CONN_F_NOOUTPUT | CONN_F_INACTIVE
            | CONN_F_SEQ_MASK | CONN_F_NO_CPORT | CONN_F_TEMPLATE;

    /** jvs FULLNAT option flags. */
    public static final int FULLNAT_F_SEQ_SET = 1;
    public static final int FULLNAT_F_PROXY_ACKED = 2;
    public static final int FULLNAT_F_TOA_ON_ACK = 4;

    /** IPPROTO_TCP / IPPROTO_UDP and their state counts (IP_VS_TCP_S_LAST, IP_VS_UDP_S_LAST). */
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int TCP_STATES = 11;
    private static final int UDP_STATES = 2;

    /** Why a message or an entry was not taken; {@link #label} names the metric's reason. */
    public enum Reject {
        // ---- the whole message (nothing of it is used) ----
        /** Shorter than the 4-byte version 0 header ("message header too short"). */
        TOO_SHORT("too_short", true),
        /** The header's size differs from the datagram's length ("bogus message size"). */
        SIZE_MISMATCH("size_mismatch", true),
        /** The backup has a syncid other than 0 and the message another one. */
        SYNCID_MISMATCH("syncid_mismatch", true),
        /** Not version 1 with reserved and spare 0 (a version 0 message: jvs speaks version 1 only). */
        BAD_VERSION("bad_version", true),
        /** An entry's 36 bytes or its ver_size run past the message ("Dropping buffer, too small / msg &gt; buffer"). */
        TRUNCATED_ENTRY("truncated_entry", true),
        /** An entry's ver_size carries a version other than 0. */
        ENTRY_VERSION("entry_version", true),
        /** An entry type other than IPv4 or IPv6 (-10). */
        BAD_TYPE("bad_type", true),
        /** ver_size shorter than the entry's fixed part (-20). */
        ENTRY_SIZE("entry_size", true),
        /** An option header cut by the entry's end (-30). */
        OPTION_TRUNCATED("option_truncated", true),
        /** An option of length 0 or running past the entry (-40). */
        OPTION_LENGTH("option_length", true),
        /** IPVS_OPT_SEQ_DATA not 24 bytes long (-50). */
        SEQ_OPTION_LENGTH("seq_option_length", true),
        /** IPVS_OPT_SEQ_DATA twice in one entry (-50). */
        DUPLICATE_SEQ_OPTION("duplicate_seq_option", true),
        /** PE data or name longer than its maximum or given twice (-60, -70). */
        PE_OPTION("pe_option", true),
        /** jvs's FULLNAT option (24, or 26 in an IPv6 entry) of the wrong length, of the other family, or given twice. */
        FULLNAT_OPTION("fullnat_option", true),
        /** jvs's SYN proxy option of the wrong length, with an unknown state, or given twice. */
        SYNPROXY_OPTION("synproxy_option", true),
        // ---- one entry (the others of the message are used) ----
        /** An option type the receiver does not know without IPVS_OPT_F_PARAM (retc 20). */
        UNKNOWN_MANDATORY_OPTION("unknown_mandatory_option", false),
        /** A protocol other than TCP or UDP (retc 30). */
        BAD_PROTOCOL("bad_protocol", false),
        /** A state outside the protocol's states (retc 40). */
        BAD_STATE("bad_state", false),
        /** Persistence-engine data: jvs has no persistence engines (retc 50). */
        PE_UNSUPPORTED("pe_unsupported", false);

        private final String label;
        private final boolean wholeMessage;

        Reject(String label, boolean wholeMessage) {
            this.label = label;
            this.wholeMessage = wholeMessage;
        }

        public String label() {
            return label;
        }

        /** True when the reason drops the whole message. */
        public boolean wholeMessage() {
            return wholeMessage;
        }
    }

    /** Receives what {@link #decode} accepts. */
    public interface Visitor {
        /** A valid entry; e is reused for the next one. */
        void entry(SyncEntry e);

        /** An entry skipped for an entry-level reason; e holds what was read of it. */
        void rejected(SyncEntry e, Reject why);
    }

    private IpvsSync() {
    }

    /**
     * Checks and decodes one received message of len bytes at off. When a message-level check
     * fails, returns its reason and calls nothing. Otherwise calls the visitor once per entry
     * (accepted or rejected) in message order and returns null.
     *
     * @param syncId the backup's syncid: 0 accepts any, else only messages carrying it
     * @param e      scratch entry, filled anew for each callback
     */
    public static Reject decode(MemorySegment seg, long off, int len, int syncId, SyncEntry e, Visitor v) {
        Reject r = walk(seg, off, len, syncId, e, null);
        if (r == null) {
            walk(seg, off, len, syncId, e, v);
        }
        return r;
    }

    /** One pass over the message: a check pass (v null) or the delivering pass. */
    private static Reject walk(MemorySegment seg, long off, int len, int syncId, SyncEntry e, Visitor v) {
        if (len < V0_HEADER_LEN) {
            return Reject.TOO_SHORT;
        }
        if (len != Bytes.u16(seg, off + 2)) {
            return Reject.SIZE_MISMATCH;
        }
        if (syncId != 0 && Bytes.u8(seg, off + 1) != syncId) {
            return Reject.SYNCID_MISMATCH;
        }
        if (len < HEADER_LEN || Bytes.u8(seg, off) != 0 || Bytes.u8(seg, off + 5) != VERSION
                || Bytes.u16(seg, off + 6) != 0) {
            return Reject.BAD_VERSION;
        }
        final long end = off + len;
        final int n = Bytes.u8(seg, off + 4);
        long p = off + HEADER_LEN;
        for (int i = 0; i < n; i++) {
            if (p + V4_LEN > end) {
                return Reject.TRUNCATED_ENTRY;
            }
            final int verSize = Bytes.u16(seg, p + 2);
            final int size = verSize & SVER_MASK;
            final long entryEnd = p + size;
            if (entryEnd > end) {
                return Reject.TRUNCATED_ENTRY;
            }
            if (verSize >>> SVER_SHIFT != 0) {
                return Reject.ENTRY_VERSION;
            }
            Reject r = entry(seg, p, entryEnd, e, v);
            if (r != null) {
                return r;
            }
            p += (size + 3) & ~3;
        }
        return null;
    }

    /** ip_vs_proc_sync_conn: a message-level reason, or null (the entry delivered or skipped). */
    private static Reject entry(MemorySegment seg, long p, long end, SyncEntry e, Visitor v) {
        e.clear();
        final int type = Bytes.u8(seg, p);
        e.type = type;
        e.protocol = Bytes.u8(seg, p + 1);
        e.flags = Bytes.i32(seg, p + 4);
        e.state = Bytes.u16(seg, p + 8);
        e.cport = Bytes.u16(seg, p + 10);
        e.vport = Bytes.u16(seg, p + 12);
        e.dport = Bytes.u16(seg, p + 14);
        e.fwmark = Bytes.i32(seg, p + 16);
        e.timeout = Integer.toUnsignedLong(Bytes.i32(seg, p + 20));
        long q;
        if ((type & STYPE_F_INET6) != 0) {
            // "if (s->v6.type & STYPE_F_INET6)": p += sizeof(struct ip_vs_sync_v6), checked against
            // the entry's end before the addresses are read
            q = p + V6_LEN;
            if (q > end) {
                return Reject.ENTRY_SIZE;
            }
            e.caddrHi = seg.get(Bytes.BE64, p + 24);
            e.caddrLo = seg.get(Bytes.BE64, p + 32);
            e.vaddrHi = seg.get(Bytes.BE64, p + 40);
            e.vaddrLo = seg.get(Bytes.BE64, p + 48);
            e.daddrHi = seg.get(Bytes.BE64, p + 56);
            e.daddrLo = seg.get(Bytes.BE64, p + 64);
        } else if (type != 0) {
            return Reject.BAD_TYPE;
        } else {
            e.caddr = Bytes.i32(seg, p + 24);
            e.vaddr = Bytes.i32(seg, p + 28);
            e.daddr = Bytes.i32(seg, p + 32);
            q = p + V4_LEN;
            if (q > end) {
                return Reject.ENTRY_SIZE;
            }
        }
        Reject skip = null;
        while (q < end) {
            if (q + 2 > end) {
                return Reject.OPTION_TRUNCATED;
            }
            final int ptype = Bytes.u8(seg, q);
            final int plen = Bytes.u8(seg, q + 1);
            q += 2;
            if (plen == 0 || q + plen > end) {
                return Reject.OPTION_LENGTH;
            }
            switch (ptype & ~OPT_F_PARAM) {
                case OPT_SEQ_DATA -> {
                    if (plen != SEQ_DATA_LEN) {
                        return Reject.SEQ_OPTION_LENGTH;
                    }
                    if (e.hasSeq) {
                        return Reject.DUPLICATE_SEQ_OPTION;
                    }
                    e.hasSeq = true;
                    e.inInitSeq = Bytes.i32(seg, q);
                    e.inDelta = Bytes.i32(seg, q + 4);
                    e.inPrevDelta = Bytes.i32(seg, q + 8);
                    e.outInitSeq = Bytes.i32(seg, q + 12);
                    e.outDelta = Bytes.i32(seg, q + 16);
                    e.outPrevDelta = Bytes.i32(seg, q + 20);
                }
                case OPT_PE_DATA -> {
                    if (plen > PE_DATA_MAXLEN || e.peDataLength != 0) {
                        return Reject.PE_OPTION;
                    }
                    e.peDataOffset = q;
                    e.peDataLength = plen;
                }
                case OPT_PE_NAME -> {
                    if (plen > PE_NAME_MAXLEN || e.peNameLength != 0) {
                        return Reject.PE_OPTION;
                    }
                    e.peNameOffset = q;
                    e.peNameLength = plen;
                }
                case OPT_JVS_FULLNAT -> {
                    if (plen != JVS_FULLNAT_LEN || e.hasFullNat || e.ipv6()) {
                        return Reject.FULLNAT_OPTION;
                    }
                    e.hasFullNat = true;
                    e.localAddr = Bytes.i32(seg, q);
                    e.localPort = Bytes.u16(seg, q + 4);
                    e.fullNatFlags = Bytes.u16(seg, q + 6);
                    e.seqBase = Bytes.i32(seg, q + 8);
                    e.seqDelta = Bytes.i32(seg, q + 12);
                    e.tsDelta = Bytes.i32(seg, q + 16);
                }
                case OPT_JVS_FULLNAT6 -> {
                    if (plen != JVS_FULLNAT6_LEN || e.hasFullNat || !e.ipv6()) {
                        return Reject.FULLNAT_OPTION;
                    }
                    e.hasFullNat = true;
                    e.localAddrHi = seg.get(Bytes.BE64, q);
                    e.localAddrLo = seg.get(Bytes.BE64, q + 8);
                    e.localPort = Bytes.u16(seg, q + 16);
                    e.fullNatFlags = Bytes.u16(seg, q + 18);
                    e.seqBase = Bytes.i32(seg, q + 20);
                    e.seqDelta = Bytes.i32(seg, q + 24);
                    e.tsDelta = Bytes.i32(seg, q + 28);
                }
                case OPT_JVS_SYNPROXY -> {
                    int state = plen == JVS_SYNPROXY_LEN ? Bytes.u8(seg, q + 17) : -1;
                    if (e.hasSynProxy || state != SYNPROXY_AWAITING && state != SYNPROXY_SPLICED) {
                        return Reject.SYNPROXY_OPTION;
                    }
                    e.hasSynProxy = true;
                    e.spSeq = Bytes.i32(seg, q);
                    e.spTs = Bytes.i32(seg, q + 4);
                    e.spClientIsn = Bytes.i32(seg, q + 8);
                    e.spOptions = Bytes.u16(seg, q + 12);
                    e.spClientWindow = Bytes.u16(seg, q + 14);
                    e.spWinShift = (byte) Bytes.u8(seg, q + 16);
                    e.spState = state;
                }
                default -> {
                    if ((ptype & OPT_F_PARAM) == 0) {
                        // the kernel stops reading the entry here ("goto out"): later options unchecked
                        if (v != null) {
                            v.rejected(e, Reject.UNKNOWN_MANDATORY_OPTION);
                        }
                        return null;
                    }
                }
            }
            q += plen;
        }
        if ((e.flags & CONN_F_TEMPLATE) == 0) {
            int states = e.protocol == TCP ? TCP_STATES : e.protocol == UDP ? UDP_STATES : -1;
            if (states < 0) {
                skip = Reject.BAD_PROTOCOL;
            } else if (e.state >= states) {
                skip = Reject.BAD_STATE;
            }
        }
        if (skip == null && e.peDataLength != 0) {
            // ip_vs_conn_fill_param_sync: a named engine jvs does not have, or data without a name
            skip = Reject.PE_UNSUPPORTED;
        }
        if (v != null) {
            if (skip != null) {
                v.rejected(e, skip);
            } else {
                v.entry(e);
            }
        }
        return null;
    }

    /**
     * Builds one message in a caller-owned segment of at least maxLen bytes: the header on
     * {@link #begin}, then entries while they fit, each padded to 4 bytes before the next
     * (ip_vs_sync_conn). Allocation-free; not thread-safe.
     */
    public static final class Encoder {
        private MemorySegment seg;
        private long base;
        private int maxLen;
        /** Bytes written so far, padding of the last entry excluded (the kernel's m-&gt;size). */
        private int size;
        private int count;

        /** The longest entry this encoder writes: the IPv6 fixed part, the sequence, FULLNAT (IPv6's) and SYN proxy options. */
        public static final int MAX_ENTRY_LEN = V6_LEN + 2 + SEQ_DATA_LEN + 2 + JVS_FULLNAT6_LEN + 2 + JVS_SYNPROXY_LEN;

        /**
         * Starts a message with this syncid in seg at off, at most maxLen bytes long except that
         * its first entry always goes in (the kernel sizes a buffer max(entry + header, maxlen)):
         * seg needs room for max(maxLen, HEADER_LEN + MAX_ENTRY_LEN) bytes from off.
         */
        public Encoder begin(MemorySegment seg, long off, int maxLen, int syncId) {
            if (seg.byteSize() - off < Math.max(maxLen, HEADER_LEN + MAX_ENTRY_LEN)) {
                throw new IllegalArgumentException("sync message buffer of " + (seg.byteSize() - off)
                        + " bytes is smaller than max(" + maxLen + ", " + (HEADER_LEN + MAX_ENTRY_LEN) + ")");
            }
            this.seg = seg;
            this.base = off;
            this.maxLen = maxLen;
            Bytes.u8(seg, off, 0);
            Bytes.u8(seg, off + 1, syncId);
            Bytes.u16(seg, off + 2, HEADER_LEN);
            Bytes.u8(seg, off + 4, 0);
            Bytes.u8(seg, off + 5, VERSION);
            Bytes.u16(seg, off + 6, 0);
            size = HEADER_LEN;
            count = 0;
            return this;
        }

        /** The entry's length on the wire, options included, padding excluded. */
        public static int entryLength(SyncEntry e) {
            int len = e.ipv6() ? V6_LEN : V4_LEN;
            if (e.hasSeq) {
                len += 2 + SEQ_DATA_LEN;
            }
            if (e.hasFullNat) {
                len += 2 + (e.ipv6() ? JVS_FULLNAT6_LEN : JVS_FULLNAT_LEN);
            }
            if (e.hasSynProxy) {
                len += 2 + JVS_SYNPROXY_LEN;
            }
            return len;
        }

        /**
         * Appends e (struct ip_vs_sync_v6 when {@link SyncEntry#ipv6()}, else ip_vs_sync_v4; the
         * sequence, FULLNAT (24, or 26 for IPv6) and SYN proxy options when set) and returns true, or
         * returns false and writes nothing when it does not fit behind the entries already there
         * or the message holds 255 entries (nr_conns is one byte).
         */
        public boolean add(SyncEntry e) {
            final int len = entryLength(e);
            final int pad = (4 - size) & 3;
            if (count > 0 && size + pad + len > maxLen || count == 255) {
                return false;
            }
            long p = base + size;
            for (int i = 0; i < pad; i++) {
                Bytes.u8(seg, p++, 0);
            }
            final boolean v6 = e.ipv6();
            Bytes.u8(seg, p, v6 ? STYPE_F_INET6 : 0);
            Bytes.u8(seg, p + 1, e.protocol);
            Bytes.u16(seg, p + 2, len & SVER_MASK);
            Bytes.i32(seg, p + 4, e.flags & ~CONN_F_HASHED);
            Bytes.u16(seg, p + 8, e.state);
            Bytes.u16(seg, p + 10, e.cport);
            Bytes.u16(seg, p + 12, e.vport);
            Bytes.u16(seg, p + 14, e.dport);
            Bytes.i32(seg, p + 16, e.fwmark);
            Bytes.i32(seg, p + 20, (int) Math.min(e.timeout, 0xFFFF_FFFFL));
            long q;
            if (v6) {
                seg.set(Bytes.BE64, p + 24, e.caddrHi);
                seg.set(Bytes.BE64, p + 32, e.caddrLo);
                seg.set(Bytes.BE64, p + 40, e.vaddrHi);
                seg.set(Bytes.BE64, p + 48, e.vaddrLo);
                seg.set(Bytes.BE64, p + 56, e.daddrHi);
                seg.set(Bytes.BE64, p + 64, e.daddrLo);
                q = p + V6_LEN;
            } else {
                Bytes.i32(seg, p + 24, e.caddr);
                Bytes.i32(seg, p + 28, e.vaddr);
                Bytes.i32(seg, p + 32, e.daddr);
                q = p + V4_LEN;
            }
            if (e.hasSeq) {
                Bytes.u8(seg, q, OPT_SEQ_DATA);
                Bytes.u8(seg, q + 1, SEQ_DATA_LEN);
                Bytes.i32(seg, q + 2, e.inInitSeq);
                Bytes.i32(seg, q + 6, e.inDelta);
                Bytes.i32(seg, q + 10, e.inPrevDelta);
                Bytes.i32(seg, q + 14, e.outInitSeq);
                Bytes.i32(seg, q + 18, e.outDelta);
                Bytes.i32(seg, q + 22, e.outPrevDelta);
                q += 2 + SEQ_DATA_LEN;
            }
            if (e.hasFullNat && v6) {
                Bytes.u8(seg, q, OPT_JVS_FULLNAT6);
                Bytes.u8(seg, q + 1, JVS_FULLNAT6_LEN);
                seg.set(Bytes.BE64, q + 2, e.localAddrHi);
                seg.set(Bytes.BE64, q + 10, e.localAddrLo);
                Bytes.u16(seg, q + 18, e.localPort);
                Bytes.u16(seg, q + 20, e.fullNatFlags);
                Bytes.i32(seg, q + 22, e.seqBase);
                Bytes.i32(seg, q + 26, e.seqDelta);
                Bytes.i32(seg, q + 30, e.tsDelta);
                q += 2 + JVS_FULLNAT6_LEN;
            } else if (e.hasFullNat) {
                Bytes.u8(seg, q, OPT_JVS_FULLNAT);
                Bytes.u8(seg, q + 1, JVS_FULLNAT_LEN);
                Bytes.i32(seg, q + 2, e.localAddr);
                Bytes.u16(seg, q + 6, e.localPort);
                Bytes.u16(seg, q + 8, e.fullNatFlags);
                Bytes.i32(seg, q + 10, e.seqBase);
                Bytes.i32(seg, q + 14, e.seqDelta);
                Bytes.i32(seg, q + 18, e.tsDelta);
                q += 2 + JVS_FULLNAT_LEN;
            }
            if (e.hasSynProxy) {
                Bytes.u8(seg, q, OPT_JVS_SYNPROXY);
                Bytes.u8(seg, q + 1, JVS_SYNPROXY_LEN);
                Bytes.i32(seg, q + 2, e.spSeq);
                Bytes.i32(seg, q + 6, e.spTs);
                Bytes.i32(seg, q + 10, e.spClientIsn);
                Bytes.u16(seg, q + 14, e.spOptions);
                Bytes.u16(seg, q + 16, e.spClientWindow);
                Bytes.u8(seg, q + 18, e.spWinShift & 0xFF);
                Bytes.u8(seg, q + 19, e.spState);
                Bytes.u16(seg, q + 20, 0);
            }
            size += pad + len;
            count++;
            Bytes.u16(seg, base + 2, size);
            Bytes.u8(seg, base + 4, count);
            return true;
        }

        /** The message's length so far (what goes on the wire). */
        public int size() {
            return size;
        }

        public int count() {
            return count;
        }
    }
}
