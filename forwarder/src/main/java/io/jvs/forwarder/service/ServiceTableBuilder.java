package io.jvs.forwarder.service;


import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns configuration ({@link ServiceSpec}s) into a new immutable
 * {@link ServiceTable}, ready to publish with {@link ServiceRegistry#publish}.
 * Runs on a control thread, never on the data path.
 *
 * <p>Invariants:
 * <ul>
 *   <li>All or nothing: either every service is built or an
 *       {@link IllegalArgumentException} is thrown and nothing changed (the
 *       previous table stays as it was and is never mutated).</li>
 *   <li>Each service's destinations are in IPVS list order: the kernel adds
 *       a destination at the head of the service's list, so the array is
 *       newest first (the last {@code -a} of a service is {@code dests[0]}).</li>
 *   <li>Counters survive a rebuild: a real server whose (protocol, VIP, port,
 *       real address, real port) existed in {@code previous} gets the same
 *       {@link DestStats} object; a service that existed keeps its own
 *       DestStats likewise. Anything new gets fresh ones.</li>
 *   <li>Every service gets a new scheduler from the factory (IPVS resets a
 *       scheduler's state when its destination list changes).</li>
 * </ul>
 *
 * <p>Scheduler factories are also used by the config parser to check a name
 * before anything is built, by calling them with an empty destination array:
 * a factory must accept an empty array (a service with no real servers is
 * legal) and throw {@link IllegalArgumentException} for an unknown name.
 */
public final class ServiceTableBuilder {
    private final SchedulerFactory schedulers;
    /** Shares per new DestStats (kept ones keep theirs: the worker count is fixed for a director's life). */
    private final int workers;

    /** A builder that makes each service's scheduler with {@code schedulers} (the director's: sched.Schedulers). */
    public ServiceTableBuilder(SchedulerFactory schedulers) {
        this(schedulers, 1);
    }

    /** As {@link #ServiceTableBuilder(SchedulerFactory)}, counters with one share per worker ({@code --workers}). */
    public ServiceTableBuilder(SchedulerFactory schedulers, int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers: " + workers);
        }
        this.schedulers = Objects.requireNonNull(schedulers);
        this.workers = workers;
    }

    /**
     * Builds the table for {@code specs}, reusing runtime counters from
     * {@code previous} (use {@link ServiceTable#EMPTY} for the first build).
     *
     * @throws IllegalArgumentException naming the service, with ipvsadm's
     *         wording: "Service already exists" for a service given twice,
     *         "Scheduler or persistence engine not found" (or the factory's own
     *         message) for an unknown scheduler
     */
    public ServiceTable build(List<ServiceSpec> specs, ServiceTable previous) {
        return build(specs, List.of(), previous);
    }

    /** As {@link #build(List, ServiceTable)}, with fwmark rules (first match wins). */
    public ServiceTable build(List<ServiceSpec> specs, List<FwmarkRule> fwmarkRules, ServiceTable previous) {
        Objects.requireNonNull(previous, "previous (use ServiceTable.EMPTY)");
        Map<String, ServiceSpec> seen = new HashMap<>();
        for (ServiceSpec spec : specs) {
            if (seen.putIfAbsent(spec.label(), spec) != null) {
                throw new IllegalArgumentException(spec.label() + ": Service already exists");
            }
        }
        List<VirtualService> services = new ArrayList<>(specs.size());
        for (ServiceSpec spec : specs) {
            services.add(buildService(spec, previousOf(previous, spec)));
        }
        ServiceTable table = new ServiceTable(services, fwmarkRules);
        // Only after everything that can fail: the kernel's __ip_vs_update_dest
        // clears a kept destination's overload flag when its upper threshold is
        // removed or raised. Without this a server with no connections left
        // would stay overloaded for ever (only connection unbinds re-check it).
        // This one write from the control thread is benign: the data path
        // re-evaluates the flag on its next bind/unbind of that server anyway.
        for (VirtualService s : services) {
            VirtualService old = previousOf(previous, s.spec);
            if (old == null) {
                continue;
            }
            for (RealServer d : s.dests) {
                RealServer oldDest = old.dest(d.spec);
                if (oldDest != null && (d.upperThreshold == 0 || d.upperThreshold > oldDest.upperThreshold)) {
                    d.stats.setOverloaded(false);
                }
            }
        }
        return table;
    }

    private VirtualService buildService(ServiceSpec spec, VirtualService old) {
        List<ServiceSpec.Dest> added = spec.dests();
        int n = added.size();
        RealServer[] dests = new RealServer[n];
        for (int i = 0; i < n; i++) {
            ServiceSpec.Dest d = added.get(n - 1 - i); // newest first
            RealServer oldDest = old == null ? null : old.dest(d);
            DestStats stats = oldDest == null ? new DestStats(workers) : oldDest.stats;
            // __ip_vs_update_dest: last_weight follows the weight on add and on any non-zero update
            int lastWeight = oldDest == null || d.weight() != 0 ? d.weight() : oldDest.lastWeight;
            dests[i] = new RealServer(d, stats, lastWeight, spec.isIpv6());
        }
        Scheduler scheduler;
        try {
            scheduler = schedulers.create(spec.scheduler(), spec.schedFlags(), dests, spec.isIpv6());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    spec.label() + ": scheduler \"" + spec.scheduler() + "\": " + e.getMessage(), e);
        }
        if (scheduler == null) {
            throw new IllegalStateException("scheduler factory returned null for \"" + spec.scheduler() + "\"");
        }
        DestStats serviceStats = old == null ? new DestStats(workers) : old.stats;
        return new VirtualService(spec, dests, scheduler, serviceStats);
    }

    private static VirtualService previousOf(ServiceTable previous, ServiceSpec spec) {
        if (spec.isIpv6()) {
            return spec.isFwmark() ? previous.lookupFwmark6(spec.fwmark())
                    : previous.lookup6(spec.proto(), spec.addr6().hi(), spec.addr6().lo(), spec.port());
        }
        return spec.isFwmark() ? previous.lookupFwmark(spec.fwmark())
                : previous.lookup(spec.proto(), spec.addr(), spec.port());
    }
}
