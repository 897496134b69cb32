package io.jvs.forwarder.announce;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The ECMP profile's families (see PrometheusExposition's list): what this director announces,
 * BGP and BFD as BIRD told jvs on its last poll, and the configuration digest. Runs at scrape
 * time on jvs-metrics; reads only immutable copies.
 */
final class EcmpMetrics implements MultiCollector {
    private static final MetricMetadata VIPS = new MetricMetadata("jvs_announced_vips",
            "VIPs this director announces now (a route in --announce-table that BIRD exports).");
    private static final MetricMetadata VIP = new MetricMetadata("jvs_announced_vip",
            "1 for each VIP this director announces now.");
    private static final MetricMetadata BIRD = new MetricMetadata("jvs_bird_up",
            "1 when BIRD's control socket answered jvs's last poll (every second).");
    private static final MetricMetadata BGP = new MetricMetadata("jvs_bgp_session_up",
            "1 when BIRD's BGP protocol is up and Established, as of jvs's last poll.");
    private static final MetricMetadata BFD = new MetricMetadata("jvs_bfd_session_up",
            "1 when BIRD's BFD session to the neighbor is Up, as of jvs's last poll.");
    private static final MetricMetadata DIGEST = new MetricMetadata("jvs_config_digest",
            "The running configuration's digest (services, real servers, weights, timeouts; local addresses left out).");

    /** The announced VIPs as text, IPv4 and IPv6. */
    private final Supplier<List<String>> announced;
    private final Supplier<BirdStatus> bird;
    private final Supplier<String> digest;

    EcmpMetrics(Supplier<List<String>> announced, Supplier<BirdStatus> bird, Supplier<String> digest) {
        this.announced = announced;
        this.bird = bird;
        this.digest = digest;
    }

    @Override
    public MetricSnapshots collect() {
        List<String> vips = announced.get();
        BirdStatus b = bird.get();
        List<GaugeDataPointSnapshot> vip = new ArrayList<>();
        for (String v : vips) {
            vip.add(gauge(1, Labels.of("vip", v)));
        }
        List<GaugeDataPointSnapshot> bgp = new ArrayList<>();
        for (BirdStatus.BgpSession s : b.bgp()) {
            bgp.add(gauge(s.established() ? 1 : 0, Labels.of("protocol", s.protocol())));
        }
        List<GaugeDataPointSnapshot> bfd = new ArrayList<>();
        for (BirdStatus.BfdSession s : b.bfd()) {
            bfd.add(gauge(s.up() ? 1 : 0, Labels.of("neighbor", s.neighbor(), "interface", s.iface())));
        }
        return MetricSnapshots.of(
                new GaugeSnapshot(VIPS, List.of(gauge(vips.size(), Labels.EMPTY))),
                new GaugeSnapshot(VIP, vip),
                new GaugeSnapshot(BIRD, List.of(gauge(b.reachable() ? 1 : 0, Labels.EMPTY))),
                new GaugeSnapshot(BGP, bgp),
                new GaugeSnapshot(BFD, bfd),
                new InfoSnapshot(DIGEST, List.of(new InfoSnapshot.InfoDataPointSnapshot(
                        Labels.of("digest", digest.get())))));
    }

    private static GaugeDataPointSnapshot gauge(double value, Labels labels) {
        return new GaugeDataPointSnapshot(value, labels, null);
    }
}
