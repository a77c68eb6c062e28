package io.tidemark.shared.blocks;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** A block's name: the SHA-256 of its uncompressed bytes. */
public final class BlockId implements Comparable<BlockId> {

    public static final int LENGTH = 32;

    private static final HexFormat HEX = HexFormat.of();

    // MessageDigest instances are not thread-safe and getInstance() walks the provider list;
    // one per worker thread avoids both costs on the hot path.
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime must provide SHA-256", e);
        }
    });

    private final byte[] hash;
    private final int hashCode;

    private BlockId(byte[] hash) {
        this.hash = hash;
        this.hashCode = (hash[0] & 0xff) << 24 | (hash[1] & 0xff) << 16 | (hash[2] & 0xff) << 8 | (hash[3] & 0xff);
    }

    public static BlockId of(byte[] data) {
        return of(data, 0, data.length);
    }

    public static BlockId of(byte[] data, int offset, int length) {
        MessageDigest md = SHA256.get();
        md.update(data, offset, length);
        return new BlockId(md.digest());
    }

    public static BlockId fromBytes(byte[] hash) {
        if (hash.length != LENGTH) {
            throw new IllegalArgumentException("a block id has " + LENGTH + " bytes, got " + hash.length);
        }
        return new BlockId(hash.clone());
    }

    public static BlockId fromHex(String hex) {
        if (!isHex(hex)) {
            throw new IllegalArgumentException("not a block id (64 lower-case hex digits): " + hex);
        }
        return new BlockId(HEX.parseHex(hex));
    }

    /** Whether {@code s} is in the canonical form {@link #hex()} produces. */
    public static boolean isHex(String s) {
        if (s == null || s.length() != 2 * LENGTH) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    public byte[] bytes() {
        return hash.clone();
    }

    /** Bytes {@code 8 * index} to {@code 8 * index + 7} of the hash as a big-endian long (index 0–3). */
    public long longAt(int index) {
        long v = 0;
        for (int i = 8 * index, end = i + 8; i < end; i++) {
            v = v << 8 | (hash[i] & 0xff);
        }
        return v;
    }

    public String hex() {
        return HEX.formatHex(hash);
    }

    /** Whether {@code data} hashes to this id. */
    public boolean matches(byte[] data) {
        MessageDigest md = SHA256.get();
        md.update(data);
        return MessageDigest.isEqual(hash, md.digest());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockId other && Arrays.equals(hash, other.hash);
    }

    @Override
    public int hashCode() {
        return hashCode;
    }

    @Override
    public int compareTo(BlockId o) {
        return Arrays.compareUnsigned(hash, o.hash);
    }

    @Override
    public String toString() {
        return hex();
    }
}
