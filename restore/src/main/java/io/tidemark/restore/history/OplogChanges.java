package io.tidemark.restore.history;

import io.tidemark.applier.DocumentUpdates;
import io.tidemark.applier.HeadKeys;
import io.tidemark.shared.oplog.OpTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

/**
 * Picks the changes of one document out of oplog entries fed in order: its inserts, updates,
 * replacements and deletes, also inside {@code applyOps} (plain ones, and transactions as MongoDB
 * 4.4 to 8.0 write them: one applyOps with {@code lsid}/{@code txnNumber}; a large one split over
 * {@code partialTxn} entries chained by {@code prevOpTime}; a prepared one ended by
 * {@code commitTransaction} or {@code abortTransaction}), and the catalog events that end it (its
 * collection dropped, its database dropped, its collection renamed away or replaced by a rename).
 *
 * <p>A transaction's operations take effect, and are listed, at the position of the entry that
 * commits it (the last applyOps, or commitTransaction), each saying which entry wrote it; an
 * aborted one is dropped. Only operations of the document are kept while a transaction is open,
 * so memory follows the document's changes, not the transactions'.
 *
 * <p>Entries of other namespaces are recognised by their {@code ns} string and skipped without
 * being decoded.
 */
final class OplogChanges {

    /** Kinds of change. */
    static final String INSERT = "insert";
    static final String UPDATE = "update";
    static final String REPLACE = "replace";
    static final String DELETE = "delete";
    static final String DROP = "drop";
    static final String DROP_DATABASE = "dropDatabase";
    static final String RENAME_AWAY = "renamedAway";
    static final String RENAME_IN = "renamedOver";
    static final String CREATE = "create";

    /**
     * One change. {@code operation} is the operation as stored ({@code o}, and {@code o2} for an
     * update); {@code writtenAt} the entry that held it when that is not {@code ts} (a transaction's
     * earlier entry); {@code txn} the transaction's {@code lsid} and {@code txnNumber}, or null.
     */
    record Change(OpTime ts, Long wallMillis, String kind, BsonDocument operation, OpTime writtenAt, BsonDocument txn,
                  boolean inApplyOps, String otherNs) {
        /** Whether the document exists after this change is applied to {@code before}; its bytes when it does. */
        byte[] applyTo(byte[] before) {
            return switch (kind) {
                case INSERT -> raw(operation.getDocument("o"));
                case UPDATE, REPLACE -> {
                    if (before == null) {
                        throw new IllegalStateException("the oplog updates the document at " + ts
                                + " but its history has it absent then");
                    }
                    yield DocumentUpdates.apply(before, new RawBsonDocument(raw(operation.getDocument("o"))));
                }
                case DELETE, DROP, DROP_DATABASE, RENAME_AWAY -> null;
                case RENAME_IN -> throw new IllegalStateException("collection " + otherNs + " was renamed over the namespace at "
                        + ts + ": its documents after that come from " + otherNs + ", not from this namespace's history");
                default -> before;
            };
        }
    }

    private record Staged(BsonDocument op, OpTime writtenAt) {
    }

    /**
     * A transaction committed inside the scanned range whose earlier entries (a prepare, or
     * partialTxn entries) are before it: the caller fetches them by position, following
     * {@code prevOpTime} from {@code prev}, and hands them to {@link #resolve}.
     */
    record Missing(BsonDocument txn, OpTime prev, OpTime commitTs, Long wallMillis, int at) {
    }

    private final List<Missing> missing = new ArrayList<>();
    /** Open transactions whose first entry in the range follows an earlier one: where their chain goes on back. */
    private final Map<BsonDocument, OpTime> openedAfter = new HashMap<>();

    private final String db;
    private final String ns;
    private final String cmdNs;
    private final byte[] key;
    private final List<Change> changes = new ArrayList<>();
    /** Open transactions (lsid + txnNumber) with the document's operations staged so far. */
    private final Map<BsonDocument, List<Staged>> open = new HashMap<>();

    OplogChanges(String ns, byte[] key) {
        this.ns = ns;
        this.db = ns.substring(0, ns.indexOf('.'));
        this.cmdNs = db + ".$cmd";
        this.key = key;
    }

    List<Change> changes() {
        return changes;
    }

    /** Transactions committed in the range whose earlier entries were before it, latest first. */
    List<Missing> missing() {
        List<Missing> out = new ArrayList<>(missing);
        java.util.Collections.reverse(out);
        return out;
    }

    /**
     * Adds the document's operations held in a missing transaction's earlier entries ({@code chain},
     * in any order) at the commit's place. Call for the {@link #missing()} ones in the order given,
     * so that each insertion leaves the places of those still to come as they were.
     */
    void resolve(Missing m, List<RawBsonDocument> chain) {
        List<RawBsonDocument> sorted = new ArrayList<>(chain);
        sorted.sort(java.util.Comparator.comparing(e -> OpTime.of(e.getTimestamp("ts"))));
        List<Staged> staged = new ArrayList<>();
        for (RawBsonDocument e : sorted) {
            BsonDocument o = decode(e).getDocument("o", new BsonDocument());
            stage(o, OpTime.of(e.getTimestamp("ts")), staged);
        }
        List<Change> tail = new ArrayList<>(changes.subList(m.at(), changes.size()));
        changes.subList(m.at(), changes.size()).clear();
        commit(staged, m.commitTs(), m.wallMillis(), m.txn());
        changes.addAll(tail);
    }

    /** The position an entry's {@code prevOpTime} names, or null when it starts its chain (or has none). */
    static OpTime prevOf(BsonDocument entry) {
        BsonValue prev = entry.get("prevOpTime");
        if (prev == null || !prev.isDocument() || !prev.asDocument().isTimestamp("ts")) {
            return null;
        }
        OpTime ts = OpTime.of(prev.asDocument().getTimestamp("ts"));
        return ts.equals(OpTime.ZERO) ? null : ts;
    }

    static OpTime prevOf(RawBsonDocument entry) {
        return prevOf(decode(entry));
    }

    void entry(RawBsonDocument e) {
        BsonValue nsValue = e.get("ns");
        BsonValue opValue = e.get("op");
        if (nsValue == null || !nsValue.isString() || opValue == null || !opValue.isString()) {
            return;
        }
        String entryNs = nsValue.asString().getValue();
        String op = opValue.asString().getValue();
        OpTime ts = OpTime.of(e.getTimestamp("ts"));
        BsonValue wall = e.get("wall");
        Long wallMillis = wall != null && wall.isDateTime() ? wall.asDateTime().getValue() : null;
        if (!"c".equals(op)) {
            if (entryNs.equals(ns) && matches(e, op)) {
                changes.add(crud(decode(e), ts, wallMillis, ts, null, false));
            }
            return;
        }
        if (!entryNs.equals(cmdNs) && !entryNs.equals("admin.$cmd")) {
            return;
        }
        BsonDocument d = decode(e);
        BsonDocument o = d.getDocument("o", new BsonDocument());
        String command = o.isEmpty() ? "" : o.getFirstKey();
        BsonDocument txn = txnOf(d);
        switch (command) {
            case "applyOps" -> {
                List<Staged> mine = new ArrayList<>();
                stage(o, ts, mine);
                boolean partial = o.getBoolean("partialTxn", org.bson.BsonBoolean.FALSE).getValue();
                boolean prepare = o.getBoolean("prepare", org.bson.BsonBoolean.FALSE).getValue();
                if (txn != null && (partial || prepare)) {
                    if (!open.containsKey(txn)) {
                        OpTime prev = prevOf(d);
                        if (prev != null) {
                            openedAfter.put(txn, prev);
                        }
                    }
                    open.computeIfAbsent(txn, k -> new ArrayList<>()).addAll(mine);
                    return;
                }
                List<Staged> all = txn == null ? new ArrayList<>() : open.getOrDefault(txn, new ArrayList<>());
                if (txn != null) {
                    missedStart(d, txn, ts, wallMillis);
                    open.remove(txn);
                }
                all.addAll(mine);
                commit(all, ts, wallMillis, txn);
            }
            case "commitTransaction" -> {
                if (txn != null) {
                    missedStart(d, txn, ts, wallMillis);
                    commit(open.getOrDefault(txn, List.of()), ts, wallMillis, txn);
                    open.remove(txn);
                }
            }
            case "abortTransaction" -> {
                if (txn != null) {
                    open.remove(txn);
                    openedAfter.remove(txn);
                }
            }
            default -> {
                Change c = command(entryNs, o, ts, wallMillis, false);
                if (c != null) {
                    changes.add(c);
                }
            }
        }
    }

    /** Notes a commit whose transaction's earlier entries were not in the range. */
    private void missedStart(BsonDocument entry, BsonDocument txn, OpTime ts, Long wallMillis) {
        OpTime prev = open.containsKey(txn) ? openedAfter.remove(txn) : prevOf(entry);
        if (prev != null) {
            missing.add(new Missing(txn, prev, ts, wallMillis, changes.size()));
        }
    }

    /** Adds the document's operations of an applyOps (nested ones too) to {@code into}. */
    private void stage(BsonDocument applyOps, OpTime writtenAt, List<Staged> into) {
        BsonValue ops = applyOps.get("applyOps");
        if (ops == null || !ops.isArray()) {
            return;
        }
        for (BsonValue v : ops.asArray()) {
            if (!v.isDocument()) {
                continue;
            }
            BsonDocument inner = v.asDocument();
            String op = inner.getString("op", new BsonString("")).getValue();
            String innerNs = inner.getString("ns", new BsonString("")).getValue();
            if ("c".equals(op)) {
                BsonDocument o = inner.getDocument("o", new BsonDocument());
                if (!o.isEmpty() && "applyOps".equals(o.getFirstKey())) {
                    stage(o, writtenAt, into);
                } else if (command(innerNs, o, writtenAt, null, true) != null) {
                    into.add(new Staged(inner, writtenAt));
                }
            } else if (innerNs.equals(ns) && matches(new RawBsonDocument(inner, new org.bson.codecs.BsonDocumentCodec()), op)) {
                into.add(new Staged(inner, writtenAt));
            }
        }
    }

    private void commit(List<Staged> staged, OpTime ts, Long wallMillis, BsonDocument txn) {
        for (Staged s : staged) {
            String op = s.op().getString("op").getValue();
            Change c = "c".equals(op)
                    ? command(s.op().getString("ns").getValue(), s.op().getDocument("o"), ts, wallMillis, true)
                    : crud(s.op(), ts, wallMillis, s.writtenAt(), txn, true);
            if (c != null) {
                changes.add(new Change(c.ts(), c.wallMillis(), c.kind(), c.operation(),
                        s.writtenAt().equals(ts) ? null : s.writtenAt(), txn, true, c.otherNs()));
            }
        }
    }

    private Change crud(BsonDocument d, OpTime ts, Long wallMillis, OpTime writtenAt, BsonDocument txn, boolean inApplyOps) {
        String op = d.getString("op").getValue();
        BsonDocument operation = new BsonDocument();
        if (d.containsKey("o")) {
            operation.append("o", d.get("o"));
        }
        if (d.containsKey("o2")) {
            operation.append("o2", d.get("o2"));
        }
        String kind = switch (op) {
            case "i" -> INSERT;
            case "d" -> DELETE;
            default -> DocumentUpdates.isReplacement(d.getDocument("o")) ? REPLACE : UPDATE;
        };
        return new Change(ts, wallMillis, kind, operation, writtenAt.equals(ts) ? null : writtenAt, txn, inApplyOps, null);
    }

    /** A catalog command's effect on the document's collection, or null when it has none. */
    private Change command(String entryNs, BsonDocument o, OpTime ts, Long wallMillis, boolean inApplyOps) {
        String entryDb = entryNs.substring(0, Math.max(0, entryNs.indexOf('.')));
        if (o.isEmpty()) {
            return null;
        }
        String command = o.getFirstKey();
        BsonDocument operation = new BsonDocument("o", o);
        String coll = ns.substring(db.length() + 1);
        switch (command) {
            case "drop" -> {
                if (entryDb.equals(db) && o.get("drop").isString() && o.getString("drop").getValue().equals(coll)) {
                    return new Change(ts, wallMillis, DROP, operation, null, null, inApplyOps, null);
                }
            }
            case "dropDatabase" -> {
                if (entryDb.equals(db)) {
                    return new Change(ts, wallMillis, DROP_DATABASE, operation, null, null, inApplyOps, null);
                }
            }
            case "create" -> {
                if (entryDb.equals(db) && o.get("create").isString() && o.getString("create").getValue().equals(coll)) {
                    return new Change(ts, wallMillis, CREATE, operation, null, null, inApplyOps, null);
                }
            }
            case "renameCollection" -> {
                String from = o.get("renameCollection").isString() ? o.getString("renameCollection").getValue() : "";
                String to = o.get("to") != null && o.get("to").isString() ? o.getString("to").getValue() : "";
                if (from.equals(ns)) {
                    return new Change(ts, wallMillis, RENAME_AWAY, operation, null, null, inApplyOps, to);
                }
                if (to.equals(ns)) {
                    return new Change(ts, wallMillis, RENAME_IN, operation, null, null, inApplyOps, from);
                }
            }
            default -> {
            }
        }
        return null;
    }

    /** Whether a CRUD entry is of the document: its {@code _id} has the document's head key. */
    private boolean matches(RawBsonDocument e, String op) {
        BsonValue holder = e.get("u".equals(op) ? "o2" : "o");
        if (holder == null || !holder.isDocument()) {
            return false;
        }
        BsonValue id = holder.asDocument().get("_id");
        return id != null && HeadKeys.compare(DocumentUpdates.keyOf(id), key) == 0;
    }

    /** The transaction's identity (lsid and txnNumber), or null for an entry outside a transaction. */
    private static BsonDocument txnOf(BsonDocument d) {
        if (!d.containsKey("lsid") || !d.containsKey("txnNumber")) {
            return null;
        }
        return new BsonDocument("lsid", d.get("lsid")).append("txnNumber", d.get("txnNumber"));
    }

    private static BsonDocument decode(RawBsonDocument e) {
        return e.decode(new org.bson.codecs.BsonDocumentCodec());
    }

    static byte[] raw(BsonDocument d) {
        RawBsonDocument r = d instanceof RawBsonDocument rd ? rd : new RawBsonDocument(d, new org.bson.codecs.BsonDocumentCodec());
        var bb = r.getByteBuffer();
        byte[] out = new byte[bb.remaining()];
        System.arraycopy(bb.array(), bb.position(), out, 0, out.length);
        return out;
    }

}
