package io.tidemark.applier;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The namespaces of a head: collections, views and time-series bucket collections with their UUIDs,
 * options and index specs. An instance is an immutable snapshot; the head swaps in a new one when
 * a write batch that changed the catalog commits, so readers never see half of a batch.
 */
public final class HeadCatalog {
    private final TreeMap<Integer, NamespaceEntry> byId;
    private final Map<String, Integer> byName;
    private final Map<UUID, Integer> byUuid;

    private HeadCatalog(TreeMap<Integer, NamespaceEntry> byId, Map<String, Integer> byName, Map<UUID, Integer> byUuid) {
        this.byId = byId;
        this.byName = byName;
        this.byUuid = byUuid;
    }

    static HeadCatalog of(Collection<NamespaceEntry> entries) {
        Edit e = new HeadCatalog(new TreeMap<>(), new HashMap<>(), new HashMap<>()).edit();
        for (NamespaceEntry n : entries) {
            e.put(n);
        }
        return e.freeze();
    }

    /** All namespaces, in id (creation) order. */
    public Collection<NamespaceEntry> namespaces() {
        return Collections.unmodifiableCollection(byId.values());
    }

    public Optional<NamespaceEntry> byName(String ns) {
        Integer id = byName.get(ns);
        return id == null ? Optional.empty() : Optional.of(byId.get(id));
    }

    public Optional<NamespaceEntry> byName(String db, String collection) {
        return byName(db + "." + collection);
    }

    public Optional<NamespaceEntry> byUuid(UUID uuid) {
        Integer id = byUuid.get(uuid);
        return id == null ? Optional.empty() : Optional.of(byId.get(id));
    }

    public Optional<NamespaceEntry> byId(int id) {
        return Optional.ofNullable(byId.get(id));
    }

    public List<NamespaceEntry> inDatabase(String db) {
        List<NamespaceEntry> out = new ArrayList<>();
        for (NamespaceEntry n : byId.values()) {
            if (n.db().equals(db)) {
                out.add(n);
            }
        }
        return out;
    }

    public int size() {
        return byId.size();
    }

    Edit edit() {
        return new Edit(this);
    }

    /** A private, mutable copy used while one write batch is being built. */
    static final class Edit {
        private final TreeMap<Integer, NamespaceEntry> byId;
        private final Map<String, Integer> byName;
        private final Map<UUID, Integer> byUuid;

        private Edit(HeadCatalog base) {
            byId = new TreeMap<>(base.byId);
            byName = new HashMap<>(base.byName);
            byUuid = new HashMap<>(base.byUuid);
        }

        void put(NamespaceEntry n) {
            NamespaceEntry old = byId.get(n.id());
            if (old != null) {
                remove(old.id());
            }
            Integer clash = byName.get(n.ns());
            if (clash != null) {
                throw new IllegalStateException("namespace " + n.ns() + " already has id " + clash);
            }
            if (n.uuid() != null && byUuid.containsKey(n.uuid())) {
                throw new IllegalStateException("UUID " + n.uuid() + " already belongs to id " + byUuid.get(n.uuid()));
            }
            byId.put(n.id(), n);
            byName.put(n.ns(), n.id());
            if (n.uuid() != null) {
                byUuid.put(n.uuid(), n.id());
            }
        }

        void remove(int id) {
            NamespaceEntry old = byId.remove(id);
            if (old != null) {
                byName.remove(old.ns());
                if (old.uuid() != null) {
                    byUuid.remove(old.uuid());
                }
            }
        }

        NamespaceEntry byName(String ns) {
            Integer id = byName.get(ns);
            return id == null ? null : byId.get(id);
        }

        NamespaceEntry byUuid(UUID uuid) {
            Integer id = byUuid.get(uuid);
            return id == null ? null : byId.get(id);
        }

        NamespaceEntry byId(int id) {
            return byId.get(id);
        }

        List<NamespaceEntry> inDatabase(String db) {
            List<NamespaceEntry> out = new ArrayList<>();
            for (NamespaceEntry n : byId.values()) {
                if (n.db().equals(db)) {
                    out.add(n);
                }
            }
            return out;
        }

        HeadCatalog freeze() {
            return new HeadCatalog(new TreeMap<>(byId), new HashMap<>(byName), new HashMap<>(byUuid));
        }
    }
}
