package io.jvs.forwarder.health;

import io.jvs.packet.Ipv4Address;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

/**
 * HTTP_GET / SSL_GET as keepalived does them: for each url a fresh
 * connection, {@code GET path HTTP/1.0} (so the server answers with a plain
 * body and closes), the status checked against status_code (default 2xx) and
 * the MD5 of the body against digest when one is given. connect_timeout bounds
 * the connect and every read. SSL_GET trusts any certificate (keepalived's
 * default: it checks the service, not the PKI). Bodies beyond
 * {@value #MAX_BODY} bytes fail the check rather than fill the heap.
 */
final class HttpProbe implements Probe {
    static final int MAX_BODY = 16 << 20;
    private static final SSLContext TRUST_ALL = trustAll();

    private final CheckSpec.Http spec;

    HttpProbe(CheckSpec.Http spec) {
        this.spec = spec;
    }

    @Override
    public CheckResult run() {
        for (CheckSpec.Url url : spec.urls()) {
            CheckResult r = get(url);
            if (!r.up()) {
                return r;
            }
        }
        return CheckResult.ok();
    }

    private String target(CheckSpec.Url url) {
        return (spec.tls() ? "https://" : "http://")
                + io.jvs.forwarder.service.ServiceSpec.hostPort(spec.addr(), spec.addr6(), spec.port()) + url.path();
    }

    private CheckResult get(CheckSpec.Url url) {
        int timeout = (int) spec.timing().connectTimeoutMillis();
        String ip = spec.addr6() != null ? "[" + spec.addr6() + "]" : Ipv4Address.toString(spec.addr());
        try (Socket plain = new Socket()) {
            plain.connect(TcpProbe.address(spec.addr(), spec.addr6(), spec.port()), timeout);
            plain.setSoTimeout(timeout);
            Socket s = plain;
            if (spec.tls()) {
                String host = spec.virtualHost() != null ? spec.virtualHost() : ip;
                SSLSocket ssl = (SSLSocket) TRUST_ALL.getSocketFactory().createSocket(plain, host, spec.port(), true);
                ssl.startHandshake();
                s = ssl;
            }
            boolean defaultPort = spec.port() == (spec.tls() ? 443 : 80);
            String host = spec.virtualHost() != null ? spec.virtualHost() : ip + (defaultPort ? "" : ":" + spec.port());
            OutputStream out = s.getOutputStream();
            out.write(("GET " + url.path() + " HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: " + host
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            byte[] response = readAll(s.getInputStream());
            return judge(url, response);
        } catch (SocketTimeoutException e) {
            return CheckResult.failed("GET " + target(url) + ": timed out after " + timeout + " ms");
        } catch (IOException e) {
            return CheckResult.failed("GET " + target(url) + ": " + e.getMessage());
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(4096);
        byte[] chunk = new byte[8192];
        for (int n; (n = in.read(chunk)) > 0;) {
            buf.write(chunk, 0, n);
            if (buf.size() > MAX_BODY) {
                throw new IOException("response larger than " + MAX_BODY + " bytes");
            }
        }
        return buf.toByteArray();
    }

    private CheckResult judge(CheckSpec.Url url, byte[] response) {
        int headerEnd = indexOf(response, new byte[]{'\r', '\n', '\r', '\n'});
        int bodyStart = headerEnd < 0 ? -1 : headerEnd + 4;
        if (bodyStart < 0) {
            return CheckResult.failed("GET " + target(url) + ": no complete HTTP response header");
        }
        String head = new String(response, 0, headerEnd, StandardCharsets.ISO_8859_1);
        String statusLine = head.lines().findFirst().orElse("");
        String[] parts = statusLine.split(" ", 3);
        int status;
        try {
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                throw new NumberFormatException();
            }
            status = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            return CheckResult.failed("GET " + target(url) + ": not an HTTP status line: \"" + statusLine + "\"");
        }
        if (!url.statusOk(status)) {
            return CheckResult.failed("GET " + target(url) + ": status " + status
                    + (url.statusCodes().isEmpty() ? " (expected 2xx)" : " (expected " + url.statusCodes() + ")"));
        }
        if (url.digest() != null) {
            String md5 = md5(response, bodyStart);
            if (!md5.equals(url.digest())) {
                return CheckResult.failed("GET " + target(url) + ": body MD5 " + md5 + ", expected " + url.digest());
            }
        }
        return CheckResult.ok();
    }

    static String md5(byte[] b, int from) {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            md.update(b, from, b.length - from);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no MD5", e);
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static SSLContext trustAll() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[]{new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                    // a checker is never a TLS server
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    // keepalived's SSL_GET does not verify the real server's certificate by default
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JDK", e);
        }
    }
}
