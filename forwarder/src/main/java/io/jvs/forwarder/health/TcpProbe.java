package io.jvs.forwarder.health;

import io.jvs.packet.Ipv4Address;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/** TCP_CHECK: up when a TCP connection to the address completes within connect_timeout (then closed at once). */
final class TcpProbe implements Probe {
    private final CheckSpec.Tcp spec;

    TcpProbe(CheckSpec.Tcp spec) {
        this.spec = spec;
    }

    @Override
    public CheckResult run() {
        try (Socket s = new Socket()) {
            s.connect(address(spec.addr(), spec.addr6(), spec.port()), (int) spec.timing().connectTimeoutMillis());
            return CheckResult.ok();
        } catch (SocketTimeoutException e) {
            return CheckResult.failed("TCP connect to " + io.jvs.forwarder.service.ServiceSpec.hostPort(spec.addr(), spec.addr6(), spec.port())
                    + " timed out after " + spec.timing().connectTimeoutMillis() + " ms");
        } catch (IOException e) {
            return CheckResult.failed("TCP connect to " + io.jvs.forwarder.service.ServiceSpec.hostPort(spec.addr(), spec.addr6(), spec.port())
                    + " failed: " + e.getMessage());
        }
    }

    /** {@code addr:port}, or {@code [addr6]:port} when {@code addr6} is given (a probe over IPv6). */
    static InetSocketAddress address(int addr, io.jvs.packet.Ipv6Address addr6, int port) {
        if (addr6 == null) {
            return address(addr, port);
        }
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (addr6.hi() >>> (56 - 8 * i));
            b[8 + i] = (byte) (addr6.lo() >>> (56 - 8 * i));
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(b), port);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e); // sixteen bytes are always an address
        }
    }

    static InetSocketAddress address(int addr, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[]{
                    (byte) (addr >>> 24), (byte) (addr >>> 16), (byte) (addr >>> 8), (byte) addr}), port);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always an address
        }
    }
}
