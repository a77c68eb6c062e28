package io.tidemark.shared.oplog;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 of one oplog entry's exact bytes. The service keeps it for the last entry it stored;
 * an agent resuming there requires the source's entry at that position to hash the same, so a
 * rolled-back or rebuilt source that reused the timestamp is caught instead of continued.
 */
public final class EntryDigest {

    private EntryDigest() {
    }

    public static String of(byte[] bytes, int offset, int length) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(bytes, offset, length);
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
