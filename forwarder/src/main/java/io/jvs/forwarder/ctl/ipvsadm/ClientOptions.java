package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.service.ClientPolicy;
import io.jvs.forwarder.service.ClientPrefix;

import java.util.List;

/**
 * The client-policy options of one {@code -A}/{@code -E} line: {@code --allow}, {@code --deny},
 * {@code --conn-limit}, {@code --rate-limit}. Each is null when not given, so {@code -E} keeps
 * the service's current value for it (as jvs's other extensions do).
 */
record ClientOptions(List<ClientPrefix> allow, List<ClientPrefix> deny, Integer connLimit, Integer rate,
                     Integer burst) {
    static final ClientOptions NONE = new ClientOptions(null, null, null, null, null);

    /** The policy these options make of {@code old}. */
    ClientPolicy apply(ClientPolicy old) {
        return new ClientPolicy(allow != null ? allow : old.allow(), deny != null ? deny : old.deny(),
                connLimit != null ? connLimit : old.connLimit(), rate != null ? rate : old.rate(),
                rate != null ? burst : old.burst());
    }
}
