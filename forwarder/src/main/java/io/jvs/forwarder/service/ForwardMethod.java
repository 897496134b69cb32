package io.jvs.forwarder.service;

/** How a connection's packets reach the real server (ipvsadm -g / -i / -m). */
public enum ForwardMethod {
    /** Direct routing (-g, "Route"): only the destination MAC is rewritten. */
    DR("Route", "-g"),
    /** IP-in-IP tunnelling (-i, "Tunnel"). */
    TUN("Tunnel", "-i"),
    /** Masquerading (-m, "Masq"): DNAT in, SNAT of the replies. */
    NAT("Masq", "-m"),
    /** Full NAT: both addresses rewritten. */
    FULLNAT("FullNat", "--fullnat");

    private final String ipvsadmName;
    private final String flag;

    ForwardMethod(String ipvsadmName, String flag) {
        this.ipvsadmName = ipvsadmName;
        this.flag = flag;
    }

    /** The word ipvsadm -L prints in the Forward column. */
    public String ipvsadmName() {
        return ipvsadmName;
    }

    /** The ipvsadm flag that selects it. */
    public String flag() {
        return flag;
    }

    /** True when the director sees both directions (NAT-style state table). */
    public boolean seesReplies() {
        return this == NAT || this == FULLNAT;
    }
}
