package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * A cursor over the options of one TCP header (RFC 9293 3.1), the one option walk of the data
 * path: the SYN proxy reads MSS, window scale, SACK-permitted and timestamps and moves SACK edges
 * and TSecr; FULLNAT moves TSval, SACK edges and TSecr. Allocation-free: make one per user (a
 * field, event-loop thread only) and point it at each segment with {@link #wrap}.
 *
 * <pre>{@code
 * opts.wrap(ctx.seg, ctx.l4Off, ctx.tcp.dataOffset());
 * while (opts.next()) {
 *     switch (opts.kind()) {
 *         case TcpOptions.MSS -> mss = opts.length() == TcpOptions.MSS_LEN ? opts.u16(2) : mss;
 *         case TcpOptions.SACK -> { for (int e = 2; e + 4 <= opts.length(); e += 4) edge(opts.offset() + e); }
 *         default -> { }
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #next} steps over NOPs and stops, returning false, at End of Option List, at the end
 * of the header, or at the first malformed option (its length byte past the header, below 2, or
 * reaching past the header): what follows a malformed option is left to the end host, as the
 * kernel's tcp_parse_options does. An option's {@link #length} is as the segment says; whether
 * it is right for the kind (e.g. {@link #TIMESTAMPS_LEN}) is the caller's check.
 * {@link #offset} counts from the start of the TCP header, the offset
 * {@code Rewrite.setTcp32} takes.
 *
 * <p>Kinds are IANA's; {@link #TOA} is the TOA option FULLNAT adds ({@link #toaHead}): kind 254,
 * length 8 over IPv4 (port, IPv4 address), 20 over IPv6 (port, IPv6 address), as the toa kernel
 * modules of LVS FULLNAT and DPVS read it.
 */
public final class TcpOptions {
    public static final int EOL = 0;
    public static final int NOP = 1;
    public static final int MSS = 2;
    public static final int WSCALE = 3;
    public static final int SACK_PERMITTED = 4;
    public static final int SACK = 5;
    public static final int TIMESTAMPS = 8;
    public static final int TOA = 254;

    public static final int MSS_LEN = 4;
    public static final int WSCALE_LEN = 3;
    public static final int SACK_PERMITTED_LEN = 2;
    public static final int TIMESTAMPS_LEN = 10;
    /** TOA over IPv4: kind, length, port, IPv4 address. */
    public static final int TOA_LEN = 8;
    /** NOP, NOP, timestamps: how Linux lays out the timestamps on every segment but the SYN. */
    public static final int NOP_NOP_TIMESTAMPS = NOP << 24 | NOP << 16 | TIMESTAMPS << 8 | TIMESTAMPS_LEN;

    private MemorySegment seg;
    private long l4;
    private int dataOffset;
    private int at;
    private int kind;
    private int length;

    /**
     * Points the cursor before the first option of the TCP header at {@code l4} in seg, whose
     * data offset (header length in bytes, options included) is {@code dataOffset}.
     */
    public TcpOptions wrap(MemorySegment seg, long l4, int dataOffset) {
        this.seg = seg;
        this.l4 = l4;
        this.dataOffset = dataOffset;
        this.at = TcpHeader.MIN_HEADER_LEN;
        this.kind = EOL;
        this.length = 0;
        return this;
    }

    /** Moves to the next option other than NOP; false when there is none (see the class comment). */
    public boolean next() {
        int i = at + length;
        while (i < dataOffset) {
            int k = Bytes.u8(seg, l4 + i);
            if (k == EOL) {
                break;
            }
            if (k == NOP) {
                i++;
                continue;
            }
            if (i + 1 >= dataOffset) {
                break;
            }
            int len = Bytes.u8(seg, l4 + i + 1);
            if (len < 2 || i + len > dataOffset) {
                break;
            }
            at = i;
            kind = k;
            length = len;
            return true;
        }
        at = dataOffset;
        kind = EOL;
        length = 0;
        return false;
    }

    /** The current option's kind. */
    public int kind() {
        return kind;
    }

    /** The current option's length byte: kind and length bytes included. */
    public int length() {
        return length;
    }

    /** The current option's first byte (its kind), counted from the start of the TCP header. */
    public int offset() {
        return at;
    }

    /** The byte at {@code pos} within the current option (2 is the first after kind and length). */
    public int u8(int pos) {
        return Bytes.u8(seg, l4 + at + pos);
    }

    /** The big-endian 16 bits at {@code pos} within the current option. */
    public int u16(int pos) {
        return Bytes.u16(seg, l4 + at + pos);
    }

    /** The big-endian 32 bits at {@code pos} within the current option. */
    public int i32(int pos) {
        return Bytes.i32(seg, l4 + at + pos);
    }

    /**
     * Offset from the start of the TCP header of the first timestamps option if it is well formed
     * ({@link #TIMESTAMPS_LEN} bytes), else -1; TSval is at offset + 2, TSecr at offset + 6. Linux's
     * layout ({@link #NOP_NOP_TIMESTAMPS} first) is checked before walking. Walks from the first
     * option, whatever {@link #next} had reached.
     */
    public int timestamps() {
        if (dataOffset >= TcpHeader.MIN_HEADER_LEN + 12
                && Bytes.i32(seg, l4 + TcpHeader.MIN_HEADER_LEN) == NOP_NOP_TIMESTAMPS) {
            return TcpHeader.MIN_HEADER_LEN + 2;
        }
        wrap(seg, l4, dataOffset);
        while (next()) {
            if (kind == TIMESTAMPS) {
                return length == TIMESTAMPS_LEN ? at : -1;
            }
        }
        return -1;
    }

    /** The first 32 bits of a TOA option: kind {@link #TOA}, {@code length}, the client's port. */
    public static int toaHead(int length, int port) {
        return TOA << 24 | length << 16 | port & 0xFFFF;
    }
}
