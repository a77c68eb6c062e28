package io.tidemark.shared.jobs;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A job's id is derived from its deployment name, so that two agents registering the same new
 * deployment at once converge on one job even where the store has no unique secondary index.
 */
public final class JobIds {

    private JobIds() {
    }

    public static String forDeployment(String name) {
        String slug = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
        if (slug.length() > 40) {
            slug = slug.substring(0, 40);
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return (slug.isEmpty() ? "job" : slug) + "-" + HexFormat.of().formatHex(digest, 0, 3);
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
