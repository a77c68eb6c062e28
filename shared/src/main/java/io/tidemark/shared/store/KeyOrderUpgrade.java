package io.tidemark.shared.store;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.ObjectId;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Brings an embedded store file written in H2's own key order to {@link KeyOrder} when it is
 * opened, once. Each map is copied into a new one in key order and swapped in with one commit,
 * so an upgrade cut short by a crash is begun again from maps that are each whole, in one order
 * or the other; a map whose keys are all strings, ObjectIds or binaries is in both orders
 * already and stays as it is (the blockstore's blocks, for one).
 */
final class KeyOrderUpgrade {

    private static final Logger LOG = LoggerFactory.getLogger(KeyOrderUpgrade.class);

    private static final String FORMAT_MAP = "tidemark.format";
    private static final String KEY_ORDER = "keyOrder";
    private static final int CURRENT = 1;
    private static final String COPY_SUFFIX = ".rekeying";
    private static final int COMMIT_EVERY = 10_000;

    private KeyOrderUpgrade() {
    }

    /** The store, in key order (upgraded first if it was not); closed if that fails. Blocking. */
    static MVStore upgraded(MVStore store) {
        try {
            upgrade(store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    static void upgrade(MVStore store) {
        MVMap<String, Object> format = store.openMap(FORMAT_MAP);
        if (Integer.valueOf(CURRENT).equals(format.get(KEY_ORDER))) {
            return;
        }
        for (String name : List.copyOf(store.getMapNames())) {
            if (name.endsWith(COPY_SUFFIX)) {
                store.removeMap(name); // a copy an earlier, interrupted upgrade did not swap in
            }
        }
        Set<String> names = new TreeSet<>(store.getMapNames());
        List<String> reorder = new ArrayList<>();
        for (String name : names) {
            if (name.contains(OrderedH2Backend.INDEX_INFIX)) {
                reorder.add(name); // index keys were ordered by their serialized bytes, whatever they held
            } else if (name.startsWith(OrderedH2Backend.DATA_PREFIX) && !idsKeepTheirOrder(store, names, name)) {
                reorder.add(name);
            }
        }
        if (!reorder.isEmpty()) {
            LOG.info("embedded store: putting {} maps in key order (once, after an upgrade)", reorder.size());
        }
        for (String name : reorder) {
            reorder(store, name);
        }
        format.put(KEY_ORDER, CURRENT);
        store.commit();
        store.sync();
    }

    /**
     * Whether a collection's ids are all of one type that H2 ordered as its class does, as
     * {@link KeyOrder} orders it: its {@code _id} index lists them without reading the documents.
     */
    private static boolean idsKeepTheirOrder(MVStore store, Set<String> names, String dataMap) {
        String idIndex = dataMap.substring(OrderedH2Backend.DATA_PREFIX.length()) + OrderedH2Backend.INDEX_INFIX + "_id_";
        if (!names.contains(idIndex)) {
            return false;
        }
        MVMap<Object, Object> index = store.openMap(idIndex);
        Class<?> kind = null;
        for (Cursor<Object, Object> c = index.cursor(null); c.hasNext(); ) {
            Object key = c.next();
            Object id = key instanceof KeyValue kv && kv.size() == 1 ? kv.get(0) : null;
            if (!(id instanceof String || id instanceof ObjectId || id instanceof BinData) || (kind != null && kind != id.getClass())) {
                return false;
            }
            kind = id.getClass();
        }
        return true;
    }

    private static void reorder(MVStore store, String name) {
        MVMap<Object, Object> old = store.openMap(name);
        MVMap<Object, Object> copy = store.openMap(name + COPY_SUFFIX, OrderedH2Backend.ordered());
        long entries = 0;
        long merged = 0;
        // A cursor from the first key walks the pages as stored: it compares no keys.
        for (Cursor<Object, Object> c = old.cursor(null); c.hasNext(); ) {
            Object key = c.next();
            if (copy.put(key, c.getValue()) != null) {
                merged++;
            }
            if (++entries % COMMIT_EVERY == 0) {
                store.commit();
            }
        }
        store.removeMap(old);
        store.renameMap(copy, name);
        store.commit();
        if (merged > 0) {
            // Two entries under one id: the old order let a lookup miss an id and store it again.
            LOG.warn("embedded store: {} held {} entries under an id stored twice; the later one is kept", name, merged);
        }
        LOG.info("embedded store: {} in key order ({} entries)", name, entries);
    }
}
