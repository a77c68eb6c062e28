package io.tidemark.shared.security;

import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;

/**
 * The TLS implementation for every HTTPS server and client: BoringSSL (netty-tcnative) where
 * its native library loads, the JDK's otherwise.
 *
 * <p>Why not the JDK's: a restore download is bulk AES-GCM, and with the JDK engine encrypting
 * on the server and decrypting on the client took about a quarter of the CPU of a restore
 * streamed over loopback; BoringSSL's assembly does the same work several times faster. The
 * JDK engine stays the fallback for platforms tcnative ships no library for, with the same
 * certificates and trust (pinned fingerprints work through either).
 */
public final class TlsEngines {

    private static final boolean OPENSSL = OpenSSLEngineOptions.isAvailable();

    private TlsEngines() {
    }

    public static SSLEngineOptions preferred() {
        return OPENSSL ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions();
    }

    /** For logs: which implementation {@link #preferred()} picks. */
    public static String description() {
        return OPENSSL ? "BoringSSL (netty-tcnative)" : "JDK (netty-tcnative unavailable on this platform)";
    }
}
