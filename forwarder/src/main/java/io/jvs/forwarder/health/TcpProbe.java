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
            s.connect(address(spec.addr(), spec.port()), (int) spec.timing().connectTimeoutMillis());
            return CheckResult.ok();
        } catch (SocketTimeoutException e) {
            return CheckResult.failed("TCP connect to " + Ipv4Address.toString(spec.addr()) + ":" + spec.port()
                    + " timed out after " + spec.timing().connectTimeoutMillis() + " ms");
        } catch (IOException e) {
            return CheckResult.failed("TCP connect to " + Ipv4Address.toString(spec.addr()) + ":" + spec.port()
                    + " failed: " + e.getMessage());
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
