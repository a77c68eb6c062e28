package io.tidemark.shared.security;

import javax.net.ssl.X509TrustManager;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Trusts exactly one certificate, named by its SHA-256 fingerprint: how an agent trusts a
 * service's self-signed certificate without turning verification off.
 */
public final class PinnedCertificateTrust implements X509TrustManager {

    private final String sha256;

    public PinnedCertificateTrust(String sha256) {
        String normalised = sha256.replace(":", "").toLowerCase(Locale.ROOT);
        if (!normalised.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("a certificate pin is a SHA-256 fingerprint (64 hex digits)");
        }
        this.sha256 = normalised;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the server presented no certificate");
        }
        try {
            String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded()));
            if (!actual.equals(sha256)) {
                throw new CertificateException("the server's certificate " + actual + " does not match the pinned " + sha256);
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new CertificateException(e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("client certificates are not used");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
