package io.tidemark.applier;

/**
 * Raised deep inside application (diff appliers, command handlers) where the oplog entry is not at
 * hand; {@link OplogApplier} turns it into the public exception carrying the entry as JSON.
 */
final class EntryFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    enum Kind { UNSUPPORTED, DIVERGENCE }

    final Kind kind;

    private EntryFailure(Kind kind, String reason) {
        super(reason, null, false, false);
        this.kind = kind;
    }

    static EntryFailure unsupported(String reason) {
        return new EntryFailure(Kind.UNSUPPORTED, reason);
    }

    static EntryFailure divergence(String reason) {
        return new EntryFailure(Kind.DIVERGENCE, reason);
    }
}
