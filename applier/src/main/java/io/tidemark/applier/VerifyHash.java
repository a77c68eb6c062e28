package io.tidemark.applier;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;

import org.bson.RawBsonDocument;

/**
 * An order-independent fingerprint of a set of documents: their count and the sum, modulo 2^256,
 * of the SHA-256 of each document's raw BSON bytes. The head iterates in key order while a live
 * MongoDB returns documents in its own order; a sum does not care. Because it hashes exact bytes,
 * equal results mean equal documents including field order and numeric types.
 */
public final class VerifyHash {
    /** A finished hash: count and 32-byte sum. */
    public record Result(long count, byte[] sum) {
        public Result {
            sum = sum.clone();
        }

        @Override
        public byte[] sum() {
            return sum.clone();
        }

        public String hex() {
            return HexFormat.of().formatHex(sum);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Result r && r.count == count && java.util.Arrays.equals(r.sum, sum);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(count) * 31 + java.util.Arrays.hashCode(sum);
        }

        @Override
        public String toString() {
            return count + ":" + hex();
        }
    }

    private final MessageDigest sha256;
    /** Little-endian 256-bit accumulator as four 64-bit limbs. */
    private final long[] limbs = new long[4];
    private final byte[] digest = new byte[32];
    private long count;

    public VerifyHash() {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public VerifyHash add(RawBsonDocument doc) {
        var bb = doc.getByteBuffer();
        return add(bb.array(), bb.position(), bb.limit() - bb.position());
    }

    public VerifyHash add(byte[] bytes) {
        return add(bytes, 0, bytes.length);
    }

    public VerifyHash add(byte[] bytes, int offset, int length) {
        sha256.update(bytes, offset, length);
        try {
            sha256.digest(digest, 0, 32);
        } catch (java.security.DigestException e) {
            throw new IllegalStateException(e);
        }
        // Read the digest as a big-endian number and add it, carrying across limbs.
        long carry = 0;
        for (int limb = 0; limb < 4; limb++) {
            long v = 0;
            int base = 32 - 8 * (limb + 1);
            for (int i = 0; i < 8; i++) {
                v = v << 8 | (digest[base + i] & 0xFF);
            }
            long sum = limbs[limb] + v;
            long c1 = Long.compareUnsigned(sum, limbs[limb]) < 0 ? 1 : 0;
            long sum2 = sum + carry;
            long c2 = Long.compareUnsigned(sum2, sum) < 0 ? 1 : 0;
            limbs[limb] = sum2;
            carry = c1 + c2;
        }
        count++;
        return this;
    }

    public Result result() {
        byte[] out = new byte[32];
        for (int limb = 0; limb < 4; limb++) {
            long v = limbs[limb];
            int base = 32 - 8 * (limb + 1);
            for (int i = 7; i >= 0; i--) {
                out[base + i] = (byte) v;
                v >>>= 8;
            }
        }
        return new Result(count, out);
    }

    /** Hash of a namespace as a head view sees it. */
    public static Result of(HeadView view, int nsId) {
        VerifyHash h = new VerifyHash();
        try (HeadView.DocumentCursor c = view.documents(nsId)) {
            while (c.hasNext()) {
                h.add(c.nextBytes());
            }
        }
        return h.result();
    }

    /** Hash of documents from any source, e.g. a live collection scan. */
    public static Result of(Iterator<RawBsonDocument> documents) {
        VerifyHash h = new VerifyHash();
        while (documents.hasNext()) {
            h.add(documents.next());
        }
        return h.result();
    }

    /** The sum as a number, for callers that combine results (e.g. across shards). */
    public static BigInteger toBigInteger(Result r) {
        return new BigInteger(1, r.sum);
    }
}
