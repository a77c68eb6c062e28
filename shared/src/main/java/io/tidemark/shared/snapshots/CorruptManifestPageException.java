package io.tidemark.shared.snapshots;

import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * A manifest page failed its checks: its block references cannot be trusted, so the snapshot's
 * namespace it belongs to cannot be restored from it. Names the page so that {@code check} and a
 * failed restore can say which snapshot and namespace are damaged.
 */
public final class CorruptManifestPageException extends IllegalStateException {

    private final String pageId;
    private final String snapshotId;
    private final int nsIndex;

    CorruptManifestPageException(String pageId, String snapshotId, int nsIndex, String why) {
        super("manifest page " + pageId + " is corrupt: " + why);
        this.pageId = pageId;
        this.snapshotId = snapshotId;
        this.nsIndex = nsIndex;
    }

    static CorruptManifestPageException of(BsonDocument page, String why) {
        // The id is <snapshot>/<namespace index>/<page>; the fields may be what was damaged.
        String id = page.isString("_id") ? page.getString("_id").getValue() : String.valueOf(page.get("_id"));
        String[] parts = id.split("/");
        BsonValue ns = page.get("ns");
        int nsIndex = ns != null && ns.isInt32() ? ns.asInt32().getValue()
                : parts.length == 3 && parts[1].matches("\\d{1,9}") ? Integer.parseInt(parts[1]) : -1;
        return new CorruptManifestPageException(id, parts[0], nsIndex, why);
    }

    public String pageId() {
        return pageId;
    }

    public String snapshotId() {
        return snapshotId;
    }

    /** The namespace's index in the snapshot's manifest; -1 when the page does not say. */
    public int nsIndex() {
        return nsIndex;
    }
}
