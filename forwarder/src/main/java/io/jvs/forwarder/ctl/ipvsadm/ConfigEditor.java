package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.config.TimeoutSettings;
import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTimeouts;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an ipvsadm command does to the configuration, as the kernel's
 * ip_vs_ctl.c does it to its tables: a pure function from one
 * {@link ServiceConfig} to the next, failing with the kernel's answer as
 * ipvsadm prints it (ipvs_strerror: "Service already exists", "No such
 * service", "Service not defined", "Destination already exists", "No such
 * destination", "Scheduler or persistence engine not found"). Used for jvsadm
 * commands, {@code -R} restores and config files alike.
 *
 * <p>Semantics kept from IPVS: {@code -E} replaces the service's scheduler,
 * flags and persistence with what the command says (defaults included, so
 * {@code -E} without {@code -s} means wlc); {@code -e} replaces the real
 * server's method, weight and thresholds likewise, keeping its place in the
 * list. jvs's {@code --laddr}/{@code --client-addr}/{@code --svc-timeout} are
 * kept by {@code -E} when not given. {@code -C} clears services and fwmark rules, not timeouts.
 */
public final class ConfigEditor {
    private ConfigEditor() {
    }

    /**
     * @return the configuration after {@code cmd}; {@code config} itself for commands that change nothing
     * @throws IpvsadmException with exit status {@link IpvsadmException#OPERATION}
     */
    public static ServiceConfig apply(ServiceConfig config, IpvsadmCommand cmd, SchedulerFactory schedulers)
            throws IpvsadmException {
        Edit edit = new Edit(config);
        edit.apply(cmd, schedulers);
        return edit.result();
    }

    /**
     * A configuration being edited by a sequence of commands (one jvsadm command, or every line of
     * a {@code -R} or config file), its services by identity: each command finds its service in
     * O(1) and nothing is copied until {@link #result()}. Copying the service list per line made a
     * restore quadratic: KeepalivedFuzzTest's virtual_server_group range of 63,731 IPv6 addresses
     * saved and restored (-S, -R) did not finish in 10 minutes. A failed command may leave the edit
     * half done: throw it away (a restore is whole or nothing).
     */
    public static final class Edit {
        private final ServiceConfig base;
        private final LinkedHashMap<ServiceSpec.Identity, ServiceSpec> services = new LinkedHashMap<>();
        private List<FwmarkRule> rules;
        private TimeoutSettings timeouts;
        private boolean changed;

        public Edit(ServiceConfig base) {
            this.base = base;
            for (ServiceSpec s : base.services()) {
                services.putIfAbsent(s.identity(), s); // a published configuration has each once
            }
            rules = base.fwmarkRules();
            timeouts = base.timeouts();
        }

        /** The configuration after the commands applied so far; the base itself if none changed anything. */
        public ServiceConfig result() {
            return changed ? new ServiceConfig(List.copyOf(services.values()), rules, timeouts) : base;
        }

        /** Applies one command, as the kernel does it to its tables, or throws with the kernel's answer. */
        public void apply(IpvsadmCommand cmd, SchedulerFactory schedulers) throws IpvsadmException {
            ServiceSpec.Identity key = cmd.identity();
            ServiceSpec at = services.get(key);
            try {
                switch (cmd.command()) {
                    case ADD_SERVICE -> {
                        if (at != null) {
                            throw IpvsadmException.operation("Service already exists");
                        }
                        checkScheduler(cmd.scheduler(), cmd.schedFlags(), schedulers);
                        services.put(key, service(cmd, List.of(), List.of(), List.of(), ClientAddressMode.NONE,
                                ServiceTimeouts.GLOBAL, false, io.jvs.forwarder.service.ClientPolicy.NONE));
                    }
                    case EDIT_SERVICE -> {
                        if (at == null) {
                            throw IpvsadmException.operation("No such service");
                        }
                        checkScheduler(cmd.scheduler(), cmd.schedFlags(), schedulers);
                        // put on a present key keeps the service's place in the list
                        services.put(key, service(cmd, at.dests(), at.localAddrs(), at.localAddrs6(), at.clientAddress(),
                                at.timeouts(), at.synProxy(), at.clientPolicy()));
                    }
                    case DELETE_SERVICE -> {
                        if (at == null) {
                            throw IpvsadmException.operation("No such service");
                        }
                        services.remove(key);
                    }
                    case FLUSH -> {
                        services.clear();
                        rules = List.of();
                    }
                    case ADD_SERVER, EDIT_SERVER, DELETE_SERVER -> {
                        if (at == null) {
                            throw IpvsadmException.operation("Service not defined");
                        }
                        services.put(key, at.withDests(dests(at.dests(), cmd)));
                    }
                    case SET -> timeouts = set(timeouts, cmd.timeouts());
                    case STATE_TIMEOUT -> {
                        Map<String, Integer> states = new LinkedHashMap<>(timeouts.states());
                        states.put(cmd.state(), cmd.stateSeconds());
                        timeouts = new TimeoutSettings(timeouts.tcp(), timeouts.tcpFin(), timeouts.udp(), states);
                    }
                    case ADD_MARK, DELETE_MARK -> {
                        List<FwmarkRule> next = new ArrayList<>(rules);
                        boolean present = next.contains(cmd.rule());
                        if (cmd.command() == IpvsadmCommand.Command.ADD_MARK) {
                            if (present) {
                                throw IpvsadmException.operation("Mark rule already exists");
                            }
                            next.add(cmd.rule());
                        } else {
                            if (!present) {
                                throw IpvsadmException.operation("No such mark rule");
                            }
                            next.remove(cmd.rule());
                        }
                        rules = List.copyOf(next);
                    }
                    default -> {
                        return;
                    }
                }
            } catch (IllegalArgumentException e) {
                // the model's own checks (e.g. FULLNAT without --laddr)
                throw IpvsadmException.operation(e.getMessage());
            }
            changed = true;
        }
    }

    /** A service's real servers after -a, -e or -d; the kernel's answer if the server is (not) there. */
    private static List<ServiceSpec.Dest> dests(List<ServiceSpec.Dest> before, IpvsadmCommand cmd)
            throws IpvsadmException {
        List<ServiceSpec.Dest> dests = new ArrayList<>(before);
        int d = -1;
        for (int i = 0; i < dests.size(); i++) {
            ServiceSpec.Dest x = dests.get(i);
            if (x.addr() == cmd.destAddr() && x.port() == cmd.destPort()
                    && java.util.Objects.equals(x.addr6(), cmd.destAddr6())) {
                d = i;
            }
        }
        if (cmd.command() == IpvsadmCommand.Command.ADD_SERVER) {
            if (d >= 0) {
                throw IpvsadmException.operation("Destination already exists");
            }
            dests.add(dest(cmd));
        } else if (d < 0) {
            throw IpvsadmException.operation("No such destination");
        } else if (cmd.command() == IpvsadmCommand.Command.EDIT_SERVER) {
            dests.set(d, dest(cmd));
        } else {
            dests.remove(d);
        }
        return dests;
    }

    /**
     * The service a -A/-E command describes; jvs's extensions not given keep the values passed in
     * ({@code --synproxy} turns the SYN proxy on, {@code --no-synproxy} off, neither keeps it).
     */
    private static ServiceSpec service(IpvsadmCommand cmd, List<ServiceSpec.Dest> dests, List<Integer> laddrs,
                                       List<io.jvs.packet.Ipv6Address> laddrs6,
                                       ClientAddressMode client, ServiceTimeouts timeouts, boolean synProxy,
                                       io.jvs.forwarder.service.ClientPolicy policy) throws IpvsadmException {
        io.jvs.forwarder.service.ClientPolicy newPolicy;
        try {
            newPolicy = cmd.clientOptions().apply(policy);
        } catch (IllegalArgumentException e) {
            throw IpvsadmException.usage(e.getMessage());
        }
        // -M without -p: the kernel stores the netmask, but nothing reads it without persistence, -S
        // and -L never show it and the next -E replaces it, so the model does not keep it either
        // (IpvsadmFuzzTest: it made -S -n re-parse to another configuration; keepalived's
        // persistence_granularity without persistence_timeout is dropped the same way). The default is
        // the family's: /32 (-1) for IPv4, prefix length 128 for IPv6.
        int persistMask = cmd.persistTimeout() > 0 ? cmd.persistMask() : cmd.isIpv6() ? 128 : -1;
        return new ServiceSpec(cmd.isFwmark() ? 0 : cmd.proto(), cmd.isFwmark() ? 0 : cmd.addr(),
                cmd.isFwmark() ? 0 : cmd.port(), cmd.fwmark(), cmd.scheduler(), cmd.schedFlags(),
                cmd.persistTimeout(), persistMask, cmd.onePacket(),
                cmd.localAddrs() != null ? cmd.localAddrs() : laddrs,
                cmd.clientAddress() != null ? cmd.clientAddress() : client, dests,
                cmd.svcTimeouts() != null ? cmd.svcTimeouts() : timeouts,
                (cmd.options() & IpvsadmParser.OPT_SYNPROXY) != 0
                        || synProxy && (cmd.options() & IpvsadmParser.OPT_NO_SYNPROXY) == 0,
                newPolicy, cmd.addr6(), cmd.localAddrs6() != null ? cmd.localAddrs6() : laddrs6);
    }

    private static ServiceSpec.Dest dest(IpvsadmCommand cmd) throws IpvsadmException {
        if (cmd.lowerThreshold() > cmd.upperThreshold()) {
            // ip_vs_add_dest / ip_vs_edit_dest: -ERANGE, which ipvsadm prints with strerror
            throw IpvsadmException.operation("Numerical result out of range");
        }
        return new ServiceSpec.Dest(cmd.destAddr(), cmd.destPort(), cmd.weight(), cmd.method(),
                cmd.upperThreshold(), cmd.lowerThreshold(), cmd.tunType(), cmd.tunPort(), cmd.tunFlags(),
                cmd.destAddr6());
    }

    private static void checkScheduler(String name, int flags, SchedulerFactory schedulers) throws IpvsadmException {
        try {
            Scheduler probe = schedulers.create(name, flags, new RealServer[0]);
            if (probe == null) {
                throw new IllegalArgumentException(name);
            }
        } catch (IllegalArgumentException e) {
            // the kernel's answer (ENOENT), then the name: in a long config file it says which
            throw IpvsadmException.operation("Scheduler or persistence engine not found (`" + name + "')");
        }
    }

    /** ipvsadm --set: ESTABLISHED, FIN_WAIT and UDP; 0 keeps a value; replaces a --state-timeout of those states. */
    static TimeoutSettings set(TimeoutSettings t, int[] v) {
        Map<String, Integer> states = new LinkedHashMap<>(t.states());
        int tcp = t.tcp();
        int fin = t.tcpFin();
        int udp = t.udp();
        if (v[0] > 0) {
            tcp = v[0];
            states.remove("ESTABLISHED");
        }
        if (v[1] > 0) {
            fin = v[1];
            states.remove("FIN_WAIT");
        }
        if (v[2] > 0) {
            udp = v[2];
        }
        return new TimeoutSettings(tcp, fin, udp, states);
    }
}
