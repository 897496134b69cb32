package io.jvs.forwarder.packet;

/** Skeleton, replaced by the codec work. */
public final class Ipv4Header {
}
