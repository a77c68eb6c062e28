package io.tidemark.restore;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Download-link tokens. A token is the only credential of a download (the route sits outside the
 * admin API so that curl, a browser or mongorestore's host can fetch it without an admin token),
 * so it carries 256 random bits and only its SHA-256 is stored: a leaked metadata DB does not
 * leak working links. A slow password hash would add nothing against 256-bit secrets.
 */
final class DownloadLinks {

    /** Route prefix of downloads, relative to the front end's root. */
    static final String PATH = "/download/";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int TOKEN_BYTES = 32;
    /** 32 bytes in unpadded base64url. */
    private static final int TOKEN_LENGTH = 43;

    private DownloadLinks() {
    }

    static String newToken() {
        byte[] secret = new byte[TOKEN_BYTES];
        RANDOM.nextBytes(secret);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime must provide SHA-256", e);
        }
    }

    /** Whether {@code token} could be one of ours; anything else is refused without a lookup. */
    static boolean wellFormed(String token) {
        if (token == null || token.length() != TOKEN_LENGTH) {
            return false;
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    static String path(String token) {
        return PATH + token;
    }
}
