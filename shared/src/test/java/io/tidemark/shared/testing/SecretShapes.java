package io.tidemark.shared.testing;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a secret of this server looks like in text: API tokens and agent keys
 * ({@code tm<kind>_<12 hex>_<43 base64url>}, see ApiKeys), download links and bare download
 * tokens (43 base64url characters carrying 256 random bits, see DownloadLinks; the embedded
 * store's secret, see StoreSecret, has the same shape), and PEM private keys. A bare token is recognised by its length and its mix of upper case, lower case and digits,
 * which 256 random bits show with certainty and names or hex digests never do.
 */
final class SecretShapes {

    private record Shape(String name, Pattern pattern) {
    }

    private static final String B64URL = "A-Za-z0-9_-";
    private static final List<Shape> SHAPES = List.of(
            new Shape("API key", Pattern.compile("tm[a-z]_[0-9a-f]{12}_[" + B64URL + "]{43}")),
            new Shape("download link", Pattern.compile("/download/[" + B64URL + "]{43}(?![" + B64URL + "])")),
            new Shape("token", Pattern.compile("(?<![" + B64URL + "])(?=[" + B64URL + "]*[A-Z])(?=[" + B64URL + "]*[a-z])"
                    + "(?=[" + B64URL + "]*[0-9])[" + B64URL + "]{43}(?![" + B64URL + "])")),
            new Shape("private key", Pattern.compile("-----BEGIN [A-Z ]*PRIVATE KEY-----")));

    private SecretShapes() {
    }

    /** {@code line} with every secret replaced by its kind, or null if it holds none. */
    static String redactedIfSecret(String line) {
        String out = line;
        boolean found = false;
        for (Shape shape : SHAPES) {
            Matcher m = shape.pattern.matcher(out);
            if (m.find()) {
                found = true;
                out = m.replaceAll("<" + shape.name + " redacted>");
            }
        }
        return found ? out : null;
    }
}
