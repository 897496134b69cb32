package io.jvs.forwarder.service;

/** Encapsulation of a TUN real server (ipvsadm 1.31 {@code --tun-type}). */
public enum TunnelType {
    /** IP-in-IP (protocol 4), IPVS's default. */
    IPIP("ipip"),
    /** Generic UDP Encapsulation: UDP to {@code --tun-port}, 4-byte GUE header, then the IPv4 packet. */
    GUE("gue"),
    /** GRE (protocol 47); accepted by ipvsadm, not transmitted by jvs yet (see README). */
    GRE("gre");

    /** ipvsadm's {@code --tun-csum}/{@code --tun-remcsum} bits (IP_VS_TUNNEL_ENCAP_FLAG_*). */
    public static final int FLAG_NOCSUM = 0;
    public static final int FLAG_CSUM = 1;
    public static final int FLAG_REMCSUM = 2;

    private final String ipvsadmName;

    TunnelType(String ipvsadmName) {
        this.ipvsadmName = ipvsadmName;
    }

    public String ipvsadmName() {
        return ipvsadmName;
    }

    /** "ipip" / "gue" / "gre", any case. */
    public static TunnelType of(String name) {
        for (TunnelType t : values()) {
            if (t.ipvsadmName.equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown tunnel type \"" + name + "\" (expected ipip, gue or gre)");
    }
}
