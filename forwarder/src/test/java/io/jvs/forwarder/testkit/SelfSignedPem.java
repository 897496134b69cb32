package io.jvs.forwarder.testkit;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;

/**
 * A self-signed EC certificate for localhost and 127.0.0.1, made by the JDK's own keytool (no
 * openssl needed), written as the PEM files jvs-forwarder's --metrics-tls-cert/--metrics-tls-key
 * take; the PKCS#12 keystore (password "changeit") stays beside them for clients to trust.
 */
public final class SelfSignedPem {
    public static final String KEYSTORE = "ks.p12";
    public static final String PASSWORD = "changeit";

    private SelfSignedPem() {
    }

    /** Writes cert.pem, key.pem and {@link #KEYSTORE} into {@code dir}; returns {cert.pem, key.pem}. */
    public static Path[] write(Path dir) throws Exception {
        Files.createDirectories(dir);
        Path ks = dir.resolve(KEYSTORE);
        Files.deleteIfExists(ks);
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-keystore", ks.toString(),
                "-storetype", "PKCS12", "-storepass", PASSWORD, "-alias", "jvs", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2"))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("keytool failed: " + out);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, PASSWORD.toCharArray());
        }
        Certificate cert = store.getCertificate("jvs");
        Key key = store.getKey("jvs", PASSWORD.toCharArray());
        Base64.Encoder b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        Path certPem = dir.resolve("cert.pem");
        Path keyPem = dir.resolve("key.pem");
        Files.writeString(certPem, "-----BEGIN CERTIFICATE-----\n" + b64.encodeToString(cert.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        Files.writeString(keyPem, "-----BEGIN PRIVATE KEY-----\n" + b64.encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        return new Path[]{certPem, keyPem};
    }
}
