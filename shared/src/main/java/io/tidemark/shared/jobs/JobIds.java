package io.tidemark.shared.jobs;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A new job's id is derived from its deployment name, so that two agents registering the same new
 * deployment at once converge on one job even where the store has no unique secondary index.
 *
 * <p>The id carries the whole SHA-256 of the name: two names share an id only if SHA-256
 * collides. (Ids used to carry 24 bits of it, and a second name with a taken id turned up in
 * about 17 million tries.) Jobs registered under that older scheme keep their ids, which name
 * their stored oplog, heads and snapshots; they are found by name, and since an old id ends in 6
 * hex digits and a new one in 64, the two schemes cannot produce the same id.
 */
public final class JobIds {

    private static final int SLUG_CHARS = 24;

    private JobIds() {
    }

    public static String forDeployment(String name) {
        String slug = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
        if (slug.length() > SLUG_CHARS) {
            slug = slug.substring(0, SLUG_CHARS).replaceAll("-+$", "");
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return (slug.isEmpty() ? "job" : slug) + "-" + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Deployment names are shown in logs, URLs and dashboards: printable, bounded. */
    public static void checkDeploymentName(String name) {
        if (name == null || name.isBlank() || name.length() > 128 || !name.matches("[\\p{L}\\p{N} ._:/@-]+")) {
            throw new IllegalArgumentException("a deployment name must be 1-128 letters, digits, spaces or . _ : / @ -");
        }
    }
}
