package io.tidemark.deploy.demo;

/** Splits and checks {@code <db>.<collection>} names. */
final class Namespaces {

    private Namespaces() {
    }

    static String db(String ns) {
        return ns.substring(0, dot(ns));
    }

    static String collection(String ns) {
        return ns.substring(dot(ns) + 1);
    }

    private static int dot(String ns) {
        int dot = ns.indexOf('.');
        if (dot <= 0 || dot == ns.length() - 1 || ns.contains("$")) {
            throw new IllegalArgumentException("not a collection namespace: " + ns);
        }
        return dot;
    }
}
