package io.jvs.packet;

/**
 * What {@link Ipv6Header#walk(int)} found: the chain of extension headers reached
 * the upper-layer header ({@link #OK}), or why it did not. Each failure is a
 * distinct reason so a data path can count it under its own name; an enum
 * constant, so reporting one allocates nothing.
 */
public enum Ipv6Chain {
    /** The chain ended at an upper-layer protocol (or at a non-first fragment, or at No Next Header). */
    OK,
    /** Fewer than 40 bytes: not even the fixed header. */
    TRUNCATED_HEADER,
    /** The version nibble is not 6. */
    BAD_VERSION,
    /** The payload length reaches past the bytes captured. */
    PAYLOAD_BEYOND_FRAME,
    /**
     * An extension header's own fixed part (2 bytes; 8 for a fragment header) or the
     * length it declares reaches past the payload length. In a first fragment this is
     * RFC 7112's "the first fragment does not hold the whole header chain".
     */
    TRUNCATED_EXTENSION,
    /** A Hop-by-Hop Options header anywhere but right after the fixed header (RFC 8200 section 4.1). */
    HOP_BY_HOP_NOT_FIRST,
    /** A second fragment header in one chain: a fragment of a fragment. */
    NESTED_FRAGMENT
}
