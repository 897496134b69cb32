package io.jvs.forwarder.xmit;

import io.jvs.forwarder.frame.PacketContext;

/** One forwarding method (IPVS's ip_vs_*_xmit): rewrites the frame in place and sends it on. */
public interface Xmit {
    /** A client -> VIP packet of a connection bound to ctx.dest. */
    void inbound(PacketContext ctx);

    /** A real server -> client packet (only methods that see replies get these). */
    void outbound(PacketContext ctx);
}
