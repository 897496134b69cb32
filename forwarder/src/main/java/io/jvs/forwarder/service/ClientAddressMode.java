package io.jvs.forwarder.service;

/**
 * How a FULLNAT real server learns the client's address, which FULLNAT
 * replaces with a local address of the director (per service).
 */
public enum ClientAddressMode {
    /** Not passed on: the server sees the director's local address only. */
    NONE("none"),
    /** TCP option kind 254 (TOA, as DPVS/Taobao LVS) in the SYN, where option space allows. */
    TOA("toa"),
    /** A PROXY protocol v2 header at the start of the TCP stream, sequence numbers shifted to match. */
    PROXY_V2("proxy");

    private final String configName;

    ClientAddressMode(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static ClientAddressMode of(String name) {
        for (ClientAddressMode m : values()) {
            if (m.configName.equalsIgnoreCase(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown client address mode \"" + name + "\" (expected none, toa or proxy)");
    }
}
