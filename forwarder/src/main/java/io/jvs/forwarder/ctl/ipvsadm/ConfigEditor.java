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
        List<ServiceSpec> services = new ArrayList<>(config.services());
        int at = indexOf(services, cmd);
        try {
            switch (cmd.command()) {
                case ADD_SERVICE -> {
                    if (at >= 0) {
                        throw IpvsadmException.operation("Service already exists");
                    }
                    checkScheduler(cmd.scheduler(), cmd.schedFlags(), schedulers);
                    services.add(service(cmd, List.of(), List.of(), List.of(), ClientAddressMode.NONE, ServiceTimeouts.GLOBAL,
                            false, io.jvs.forwarder.service.ClientPolicy.NONE));
                }
                case EDIT_SERVICE -> {
                    if (at < 0) {
                        throw IpvsadmException.operation("No such service");
                    }
                    checkScheduler(cmd.scheduler(), cmd.schedFlags(), schedulers);
                    ServiceSpec old = services.get(at);
                    services.set(at, service(cmd, old.dests(), old.localAddrs(), old.localAddrs6(), old.clientAddress(), old.timeouts(),
                            old.synProxy(), old.clientPolicy()));
                }
                case DELETE_SERVICE -> {
                    if (at < 0) {
                        throw IpvsadmException.operation("No such service");
                    }
                    services.remove(at);
                }
                case FLUSH -> {
                    return new ServiceConfig(List.of(), List.of(), config.timeouts());
                }
                case ADD_SERVER, EDIT_SERVER, DELETE_SERVER -> {
                    if (at < 0) {
                        throw IpvsadmException.operation("Service not defined");
                    }
                    ServiceSpec s = services.get(at);
                    List<ServiceSpec.Dest> dests = new ArrayList<>(s.dests());
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
                    services.set(at, s.withDests(dests));
                }
                case SET -> {
                    return new ServiceConfig(services, config.fwmarkRules(), set(config.timeouts(), cmd.timeouts()));
                }
                case STATE_TIMEOUT -> {
                    TimeoutSettings t = config.timeouts();
                    Map<String, Integer> states = new LinkedHashMap<>(t.states());
                    states.put(cmd.state(), cmd.stateSeconds());
                    return new ServiceConfig(services, config.fwmarkRules(),
                            new TimeoutSettings(t.tcp(), t.tcpFin(), t.udp(), states));
                }
                case ADD_MARK, DELETE_MARK -> {
                    List<FwmarkRule> rules = new ArrayList<>(config.fwmarkRules());
                    boolean present = rules.contains(cmd.rule());
                    if (cmd.command() == IpvsadmCommand.Command.ADD_MARK) {
                        if (present) {
                            throw IpvsadmException.operation("Mark rule already exists");
                        }
                        rules.add(cmd.rule());
                    } else {
                        if (!present) {
                            throw IpvsadmException.operation("No such mark rule");
                        }
                        rules.remove(cmd.rule());
                    }
                    return new ServiceConfig(services, rules, config.timeouts());
                }
                default -> {
                    return config;
                }
            }
        } catch (IllegalArgumentException e) {
            // the model's own checks (e.g. FULLNAT without --laddr)
            throw IpvsadmException.operation(e.getMessage());
        }
        return new ServiceConfig(services, config.fwmarkRules(), config.timeouts());
    }

    /** The index of the service {@code cmd} names, or -1. */
    static int indexOf(List<ServiceSpec> services, IpvsadmCommand cmd) {
        for (int i = 0; i < services.size(); i++) {
            ServiceSpec s = services.get(i);
            if (s.isIpv6() != cmd.isIpv6()) {
                continue; // the kernel keys services by family too (an IPv4 and an IPv6 -f 1 are two)
            }
            if (cmd.isFwmark() ? s.fwmark() == cmd.fwmark()
                    : cmd.isIpv6() ? s.sameService6(cmd.proto(), cmd.addr6(), cmd.port())
                    : s.sameService(cmd.proto(), cmd.addr(), cmd.port())) {
                return i;
            }
        }
        return -1;
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
