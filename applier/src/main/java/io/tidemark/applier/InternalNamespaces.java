package io.tidemark.applier;

import io.tidemark.shared.oplog.BackedUpNamespaces;

/** Namespaces a head does not keep: those Tidemark does not back up (see {@link BackedUpNamespaces}). */
final class InternalNamespaces {
    private InternalNamespaces() {
    }

    static boolean isSkipped(String db, String collection) {
        return !BackedUpNamespaces.isBackedUp(db, collection);
    }

    /** For a {@code db.collection} string; a string without a dot is a database, never skipped here. */
    static boolean isSkipped(String ns) {
        int dot = ns.indexOf('.');
        if (dot < 0) {
            return ns.equals("local");
        }
        return isSkipped(ns.substring(0, dot), ns.substring(dot + 1));
    }
}
