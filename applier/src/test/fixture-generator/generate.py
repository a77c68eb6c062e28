#!/usr/bin/env python3
"""Writes the oplog fixture corpus (src/test/resources/oplog-fixtures/*.json).

Entries follow the shapes MongoDB 4.4-8.0 writes (op_observer_impl.cpp, oplog_entry.idl,
document_diff_serialization.cpp). Every "after" is worked out by hand from MongoDB's semantics
(document_diff_applier.cpp for $v:2, the update system for $v:1), never produced by the code
under test.
"""
from common import *

A = "0b1e4a52-7c7d-4f0e-9d51-9a4a8d4f3c01"
B = "0b1e4a52-7c7d-4f0e-9d51-9a4a8d4f3c02"
C = "0b1e4a52-7c7d-4f0e-9d51-9a4a8d4f3c03"
D = "0b1e4a52-7c7d-4f0e-9d51-9a4a8d4f3c04"
T = "0b1e4a52-7c7d-4f0e-9d51-9a4a8d4f3c05"
S1 = "5e55a0a0-0000-4000-8000-000000000001"
S2 = "5e55a0a0-0000-4000-8000-000000000002"
S3 = "5e55a0a0-0000-4000-8000-000000000003"
IB1 = "1db1d000-0000-4000-8000-000000000001"
IB2 = "1db1d000-0000-4000-8000-000000000002"

# ------------------------------------------------------------------ plain CRUD
write("crud", {"groups": [
    {
        "name": "insert-replace-delete",
        "description": "inserts (o2 carries the _id), a full-replacement update, a delete, several _id types",
        "before": {"namespaces": [ns("shop", "orders", U(A), [
            {"_id": 1, "item": "apple", "qty": 5},
            {"_id": 2, "item": "pear", "qty": 1},
        ])]},
        "entries": [
            E(1, "i", "shop.orders", {"_id": 3, "item": "plum", "qty": 7, "tags": ["a", "b"]}, U(A), {"_id": 3}),
            E(2, "u", "shop.orders", {"_id": 1, "item": "apple", "qty": 6, "price": 1.5}, U(A), {"_id": 1}),
            E(3, "d", "shop.orders", {"_id": 2}, U(A)),
            E(4, "i", "shop.orders", {"_id": "k1", "v": L(5)}, U(A), {"_id": "k1"}),
            E(5, "i", "shop.orders", {"_id": oid("65a1b2c3d4e5f60718293a4b"), "at": date(WALL0)}, U(A),
              {"_id": oid("65a1b2c3d4e5f60718293a4b")}),
            E(6, "i", "shop.orders", {"_id": {"region": "eu", "n": 1}, "x": 1.0}, U(A), {"_id": {"region": "eu", "n": 1}}),
            E(7, "i", "shop.orders", {"_id": 2.5, "kind": "double _id"}, U(A), {"_id": 2.5}),
        ],
        "after": {"namespaces": [ns("shop", "orders", U(A), [
            {"_id": 1, "item": "apple", "qty": 6, "price": 1.5},
            {"_id": 3, "item": "plum", "qty": 7, "tags": ["a", "b"]},
            {"_id": "k1", "v": L(5)},
            {"_id": oid("65a1b2c3d4e5f60718293a4b"), "at": date(WALL0)},
            {"_id": {"region": "eu", "n": 1}, "x": 1.0},
            {"_id": 2.5, "kind": "double _id"},
        ])], "position": ts(7)},
    },
    {
        "name": "resolve-by-uuid",
        "description": "ops are resolved by ui, not by ns (the ns of an older entry may be stale)",
        "before": {"namespaces": [ns("shop", "orders", U(A), [{"_id": 1}]), ns("shop", "other", U(B), [])]},
        "entries": [
            E(1, "i", "shop.orders", {"_id": 2}, U(B), {"_id": 2}),
        ],
        "after": {"namespaces": [ns("shop", "orders", U(A), [{"_id": 1}]), ns("shop", "other", U(B), [{"_id": 2}])]},
    },
    {
        "name": "noops-retryable-images-migrations",
        "description": "periodic no-ops, 4.4 findAndModify image no-ops with preImageOpTime, 5.0+ needsRetryImage, "
                       "retryable inserts and chunk-migration (fromMigrate) writes are ordinary entries",
        "before": {"namespaces": [ns("shop", "orders", U(A), [{"_id": 1, "n": 1}, {"_id": 2, "n": 2}])]},
        "entries": [
            E(1, "n", "", {"msg": "periodic noop"}),
            # 4.4: the pre-image is logged as a no-op, then the update points at it.
            E(2, "n", "shop.orders", {"_id": 1, "n": 1}, U(A),
              session={"lsid": lsid(S1), "txnNumber": L(3)}, extra={"stmtId": 0}, prev=prev_op()),
            E(3, "u", "shop.orders", {"$v": 1, "$set": {"n": 10}}, U(A), {"_id": 1},
              session={"lsid": lsid(S1), "txnNumber": L(3)},
              extra={"stmtId": 0, "preImageOpTime": {"ts": ts(2), "t": L(1)}}, prev=prev_op()),
            # 5.0+: the image goes to config.image_collection on each node; the entry only says so.
            E(4, "u", "shop.orders", {"$v": 2, "diff": {"u": {"n": 20}}}, U(A), {"_id": 2},
              session={"lsid": lsid(S1), "txnNumber": L(4)}, extra={"stmtId": 0, "needsRetryImage": "postImage"},
              prev=prev_op()),
            E(5, "d", "shop.orders", {"_id": 1}, U(A), session={"lsid": lsid(S1), "txnNumber": L(5)},
              extra={"stmtId": 0, "needsRetryImage": "preImage"}, prev=prev_op()),
            E(6, "i", "shop.orders", {"_id": 3, "n": 3}, U(A), {"_id": 3},
              session={"lsid": lsid(S1), "txnNumber": L(6)}, extra={"stmtId": 0}, prev=prev_op()),
            E(7, "i", "shop.orders", {"_id": 4, "n": 4}, U(A), {"_id": 4},
              session={"lsid": lsid(S1), "txnNumber": L(6)}, extra={"stmtId": 1}, prev=prev_op(6)),
            E(8, "i", "shop.orders", {"_id": 50, "moved": True}, U(A), {"_id": 50}, extra={"fromMigrate": True}),
            E(9, "d", "shop.orders", {"_id": 4}, U(A), extra={"fromMigrate": True}),
            E(10, "n", "shop.orders", {"msg": "Creating indexes. Coll: shop.orders"}),
        ],
        "after": {"namespaces": [ns("shop", "orders", U(A), [
            {"_id": 2, "n": 20}, {"_id": 3, "n": 3}, {"_id": 50, "moved": True}])], "position": ts(10)},
    },
    {
        "name": "internal-namespaces-skipped",
        "description": "local.*, *.system.profile, config session/transaction/image/cache/indexBuilds collections are "
                       "not kept; admin.system.* and other config collections are",
        "before": {"namespaces": [
            ns("admin", "system.users", U(A), []),
            ns("config", "settings", U(B), []),
        ]},
        "entries": [
            E(1, "c", "config.$cmd", {"create": "system.sessions", "idIndex": id_index()}, U(C)),
            E(2, "c", "config.$cmd", {"createIndexes": "system.sessions", "v": 2, "key": {"lastUse": 1},
                                      "name": "lsidTTLIndex", "expireAfterSeconds": 1800}, U(C)),
            E(3, "i", "config.system.sessions", {"_id": {"id": U(S1), "uid": binary(bytes(32))}, "lastUse": date(WALL0)},
              U(C), {"_id": {"id": U(S1), "uid": binary(bytes(32))}}),
            E(4, "u", "config.transactions", {"$v": 2, "diff": {"u": {"txnNum": L(2)}}}, U(D), {"_id": {"id": U(S1)}}),
            E(5, "i", "config.image_collection", {"_id": {"id": U(S1)}, "imageKind": "preImage"}, U(D), {"_id": {"id": U(S1)}}),
            E(6, "i", "config.system.indexBuilds", {"_id": U(IB1), "collectionUUID": U(A)}, U(D), {"_id": U(IB1)}),
            E(7, "i", "config.cache.collections", {"_id": "db.c"}, U(D), {"_id": "db.c"}),
            E(8, "i", "local.startup_log", {"_id": "host-1"}, U(D), {"_id": "host-1"}),
            E(9, "i", "shop.system.profile", {"op": "query"}, U(D)),
            E(10, "i", "admin.system.users", {"_id": "admin.alice", "user": "alice", "db": "admin"}, U(A), {"_id": "admin.alice"}),
            E(11, "i", "config.settings", {"_id": "balancer", "stopped": True}, U(B), {"_id": "balancer"}),
            E(12, "c", "config.$cmd", {"drop": "system.sessions"}, U(C), {"numRecords": L(1)}),
        ],
        "after": {"namespaces": [
            ns("admin", "system.users", U(A), [{"_id": "admin.alice", "user": "alice", "db": "admin"}]),
            ns("config", "settings", U(B), [{"_id": "balancer", "stopped": True}]),
        ], "position": ts(12)},
    },
]})

# ------------------------------------------------------------------ $v:2 deltas
write("update-v2-fields", {"groups": [
    {
        "name": "update-insert-delete-order",
        "description": "u replaces in place; u of an absent field and every i are appended (updates first, then inserts, "
                       "in diff order); an i of an existing field moves it to the end; d removes",
        "before": {"namespaces": [ns("t", "c", U(A), [
            {"_id": 1, "a": 1, "b": {"c": 1, "d": 2}, "e": "x", "f": True}])]},
        "entries": [
            E(1, "u", "t.c", {"$v": 2, "diff": {"d": {"f": False}, "u": {"a": 2, "zz": 10},
                                               "i": {"e": "moved", "n": 5}, "sb": {"u": {"c": 9}, "i": {"x": 1}}}},
              U(A), {"_id": 1}),
        ],
        "after": {"namespaces": [ns("t", "c", U(A), [
            {"_id": 1, "a": 2, "b": {"c": 9, "d": 2, "x": 1}, "zz": 10, "e": "moved", "n": 5}])]},
    },
    {
        "name": "nested-sub-diffs",
        "description": "sub-diffs three objects deep, with an array diff at the bottom; type changes via u",
        "before": {"namespaces": [ns("t", "c", U(A), [
            {"_id": 2, "p": {"q": {"r": 1, "s": [1, 2]}, "t": 1}, "w": "str"}])]},
        "entries": [
            E(1, "u", "t.c", {"$v": 2, "diff": {"sp": {"sq": {"u": {"r": 2}, "ss": {"a": True, "u1": 5}}}}}, U(A), {"_id": 2}),
            E(2, "u", "t.c", {"$v": 2, "diff": {"u": {"w": {"now": "an object"}}, "sp": {"d": {"t": False}}}}, U(A), {"_id": 2}),
        ],
        "after": {"namespaces": [ns("t", "c", U(A), [
            {"_id": 2, "p": {"q": {"r": 2, "s": [1, 5]}}, "w": {"now": "an object"}}])]},
    },
]})

write("update-v2-arrays", {
    "description": "array diffs: shrink (l), grow (l with u past the end, null padding), u past the end without l, "
                   "sub-diffs into objects inside arrays inside objects, arrays inside arrays",
    "before": {"namespaces": [ns("t", "arrays", U(A), [
        {"_id": 1, "arr": [1, 2, 3, 4, 5],
         "obj": {"list": [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}, {"k": 3, "v": "c"}]},
         "m": [[1, 2], [3, 4]]},
        {"_id": 2, "a": [1]},
    ])]},
    "entries": [
        E(1, "u", "t.arrays", {"$v": 2, "diff": {"sarr": {"a": True, "l": 3}}}, U(A), {"_id": 1}),
        E(2, "u", "t.arrays", {"$v": 2, "diff": {"sarr": {"a": True, "l": 6, "u4": "x"}}}, U(A), {"_id": 1}),
        E(3, "u", "t.arrays", {"$v": 2, "diff": {"sobj": {"slist": {
            "a": True, "s1": {"u": {"v": "B"}, "i": {"extra": True}}, "u3": {"k": 4, "v": "d"}}}}}, U(A), {"_id": 1}),
        E(4, "u", "t.arrays", {"$v": 2, "diff": {"sm": {"a": True, "s0": {"a": True, "l": 1}, "s1": {"a": True, "u2": 5}}}},
          U(A), {"_id": 1}),
        E(5, "u", "t.arrays", {"$v": 2, "diff": {"sarr": {"a": True, "l": 0}}}, U(A), {"_id": 1}),
        E(6, "u", "t.arrays", {"$v": 2, "diff": {"sa": {"a": True, "u3": 9}}}, U(A), {"_id": 2}),
        E(7, "u", "t.arrays", {"$v": 2, "diff": {"sa": {"a": True, "l": 2, "u0": "first"}}}, U(A), {"_id": 2}),
    ],
    "after": {"namespaces": [ns("t", "arrays", U(A), [
        {"_id": 1, "arr": [],
         "obj": {"list": [{"k": 1, "v": "a"}, {"k": 2, "v": "B", "extra": True}, {"k": 3, "v": "c"}, {"k": 4, "v": "d"}]},
         "m": [[1], [3, 4, 5]]},
        {"_id": 2, "a": ["first", None]},
    ])]},
})

# ------------------------------------------------------------------ $v:1
write("update-v1", {
    "description": "MongoDB 4.4 $v:1 updates: $set in place, into array indexes (with null padding), creating "
                   "intermediate objects; new fields appended in update-tree order (numeric names numerically); "
                   "$unset of fields and of array elements (which become null)",
    "before": {"namespaces": [ns("t", "v1", U(A), [
        {"_id": 1, "name": "x", "arr": [1, 2, 3], "sub": {"a": 1}, "z": 1},
        {"_id": 2},
        {"_id": 3, "list": [{"y": 1}]},
    ])]},
    "entries": [
        E(1, "u", "t.v1", {"$v": 1, "$set": {"arr.1": 20, "sub.b.c": 5, "name": "y", "new2": 1, "new10": 2, "arr.5": 6}},
          U(A), {"_id": 1}),
        E(2, "u", "t.v1", {"$v": 1, "$unset": {"z": True, "arr.0": True, "sub.a": True, "missing.x": True}}, U(A), {"_id": 1}),
        E(3, "u", "t.v1", {"$v": 1, "$set": {"m.10": 1, "m.9": 2}}, U(A), {"_id": 2}),
        E(4, "u", "t.v1", {"$v": 1, "$set": {"list.0.x": 1, "list.2.z": 2}}, U(A), {"_id": 3}),
    ],
    "after": {"namespaces": [ns("t", "v1", U(A), [
        {"_id": 1, "name": "y", "arr": [None, 20, 3, None, None, 6], "sub": {"b": {"c": 5}}, "new10": 2, "new2": 1},
        {"_id": 2, "m": {"9": 2, "10": 1}},
        {"_id": 3, "list": [{"y": 1, "x": 1}, None, {"z": 2}]},
    ])]},
})

# ------------------------------------------------------------------ time-series (8.0 binary diffs)
BUCKET = oid("6565656565656565656565aa")
COL_T = bytes([0x09, 0x00, 0x01, 0x02, 0x03, 0x04])
COL_V = bytes([0x01, 0x00, 0x10, 0x20])
PIPE = [{"$_internalUnpackBucket": {"timeField": "t", "metaField": "m", "bucketMaxSpanSeconds": 3600}}]
TS_OPTS = {"validator": {"$jsonSchema": {"bsonType": "object", "required": ["_id", "control", "data"]}},
           "clusteredIndex": True,
           "timeseries": {"timeField": "t", "metaField": "m", "granularity": "seconds", "bucketMaxSpanSeconds": 3600}}
write("timeseries", {
    "description": "creating a time-series collection logs the bucket collection's create (timeseries option) and "
                   "the view's definition as an insert into system.views; 8.0 compressed buckets are updated with "
                   "binary (b) diffs that keep the first o bytes of a BSONColumn and append d",
    "before": {"namespaces": []},
    "entries": [
        E(1, "c", "weather.$cmd", {"create": "system.views", "idIndex": id_index()}, U(B)),
        E(2, "c", "weather.$cmd", dict({"create": "system.buckets.sensors"}, **TS_OPTS), U(A)),
        E(3, "i", "weather.system.views", {"_id": "weather.sensors", "viewOn": "system.buckets.sensors", "pipeline": PIPE},
          U(B), {"_id": "weather.sensors"}),
        E(4, "i", "weather.system.buckets.sensors",
          {"_id": BUCKET, "control": {"version": 2, "min": {"t": date(WALL0)}, "max": {"t": date(WALL0)}, "count": 1},
           "meta": "s1", "data": {"t": binary(COL_T, "07"), "v": binary(COL_V, "07")}}, U(A), {"_id": BUCKET}),
        E(5, "u", "weather.system.buckets.sensors",
          {"$v": 2, "diff": {"scontrol": {"u": {"count": 2}, "smax": {"u": {"t": date(WALL0 + 1000)}}},
                             "sdata": {"b": {"t": {"o": 4, "d": binary(bytes([0x07, 0x08, 0x00]))},
                                             "v": {"o": 3, "d": binary(bytes([0x30, 0x00]))}}}}},
          U(A), {"_id": BUCKET}),
    ],
    "after": {"namespaces": [
        ns("weather", "system.views", U(B), [
            {"_id": "weather.sensors", "viewOn": "system.buckets.sensors", "pipeline": PIPE}]),
        ns("weather", "system.buckets.sensors", U(A), [
            {"_id": BUCKET, "control": {"version": 2, "min": {"t": date(WALL0)}, "max": {"t": date(WALL0 + 1000)},
                                        "count": 2},
             "meta": "s1", "data": {"t": binary(COL_T[:4] + bytes([0x07, 0x08, 0x00]), "07"),
                                    "v": binary(COL_V[:3] + bytes([0x30, 0x00]), "07")}}],
           options=TS_OPTS, indexes=[], type_="timeseries"),
        ns("weather", "sensors", None, [], options={"viewOn": "system.buckets.sensors", "pipeline": PIPE}, type_="view"),
    ]},
})

# ------------------------------------------------------------------ create, views
COLL = {"locale": "fr", "caseLevel": False, "caseFirst": "off", "strength": 3, "numericOrdering": False,
        "alternate": "non-ignorable", "maxVariable": "punct", "normalization": False, "backwards": False, "version": "57.1"}
write("create-and-views", {
    "description": "create with options (capped, validator, collation, clustered); views created, modified and "
                   "dropped through system.views writes; a create carrying viewOn is kept as a view",
    "before": {"namespaces": []},
    "entries": [
        E(1, "c", "test.$cmd", {"create": "capped", "capped": True, "size": 4096, "max": 100, "idIndex": id_index()}, U(A)),
        E(2, "c", "test.$cmd", {"create": "validated", "validator": {"$jsonSchema": {"required": ["a"]}},
                                "validationLevel": "strict", "validationAction": "error", "collation": COLL,
                                "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_", "collation": COLL}}, U(B)),
        E(3, "c", "test.$cmd", {"create": "clustered",
                                "clusteredIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_", "unique": True}}, U(C)),
        E(4, "c", "test.$cmd", {"create": "system.views", "idIndex": id_index()}, U(D)),
        E(5, "i", "test.system.views", {"_id": "test.recent", "viewOn": "validated", "pipeline": [{"$match": {"a": {"$gt": 1}}}]},
          U(D), {"_id": "test.recent"}),
        E(6, "u", "test.system.views", {"_id": "test.recent", "viewOn": "validated", "pipeline": [{"$match": {"a": {"$gt": 5}}}]},
          U(D), {"_id": "test.recent"}),
        E(7, "i", "test.system.views", {"_id": "test.old", "viewOn": "capped", "pipeline": []}, U(D), {"_id": "test.old"}),
        E(8, "d", "test.system.views", {"_id": "test.old"}, U(D)),
        E(9, "i", "test.clustered", {"_id": 1, "a": 1}, U(C), {"_id": 1}),
        E(10, "c", "test.$cmd", {"create": "legacyView", "viewOn": "capped", "pipeline": []}),
    ],
    "after": {"namespaces": [
        ns("test", "capped", U(A), [], options={"capped": True, "size": 4096, "max": 100}),
        ns("test", "validated", U(B), [], options={"validator": {"$jsonSchema": {"required": ["a"]}},
                                                   "validationLevel": "strict", "validationAction": "error",
                                                   "collation": COLL},
           indexes=[{"v": 2, "key": {"_id": 1}, "name": "_id_", "collation": COLL}]),
        ns("test", "clustered", U(C), [{"_id": 1, "a": 1}],
           options={"clusteredIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_", "unique": True}}, indexes=[]),
        ns("test", "system.views", U(D), [
            {"_id": "test.recent", "viewOn": "validated", "pipeline": [{"$match": {"a": {"$gt": 5}}}]}]),
        ns("test", "recent", None, [], options={"viewOn": "validated", "pipeline": [{"$match": {"a": {"$gt": 5}}}]},
           type_="view"),
        ns("test", "legacyView", None, [], options={"viewOn": "capped", "pipeline": []}, type_="view"),
    ]},
})

# ------------------------------------------------------------------ renames
IDX_A = {"v": 2, "key": {"a": 1}, "name": "a_1"}
write("rename", {"groups": [
    {
        "name": "same-db-drop-target-uuid",
        "description": "rename within a database keeps UUID and documents; dropTarget names the dropped UUID",
        "before": {"namespaces": [ns("test", "a", U(A), [{"_id": 1}]), ns("test", "b", U(B), [{"_id": 2}])]},
        "entries": [
            E(1, "c", "test.$cmd", {"renameCollection": "test.a", "to": "test.b", "stayTemp": False, "dropTarget": U(B)},
              U(A), {"numRecords": L(1)}),
            E(2, "i", "test.b", {"_id": 3}, U(A), {"_id": 3}),
        ],
        "after": {"namespaces": [ns("test", "b", U(A), [{"_id": 1}, {"_id": 3}])]},
    },
    {
        "name": "across-databases-direct",
        "description": "a renameCollection entry across databases (applyOps-style) moves the collection, UUID, "
                       "options and indexes to the other database",
        "before": {"namespaces": [
            ns("src", "c", U(A), [{"_id": 1, "x": 1}], options={"validator": {"x": {"$exists": True}}},
               indexes=[id_index(), {"v": 2, "key": {"x": 1}, "name": "x_1"}]),
            ns("dst", "c", U(B), [{"_id": 9}])]},
        "entries": [
            E(1, "c", "src.$cmd", {"renameCollection": "src.c", "to": "dst.c", "stayTemp": False, "dropTarget": U(B)},
              U(A), {"numRecords": L(1)}),
        ],
        "after": {"namespaces": [
            ns("dst", "c", U(A), [{"_id": 1, "x": 1}], options={"validator": {"x": {"$exists": True}}},
               indexes=[id_index(), {"v": 2, "key": {"x": 1}, "name": "x_1"}])]},
    },
    {
        "name": "across-databases-as-mongod-logs-it",
        "description": "renameCollection across databases as a 4.4+ primary logs it: a temp collection in the target "
                       "database, inserts and indexes into it, a same-database rename with dropTarget (which clears "
                       "temp), then the drop of the source",
        "before": {"namespaces": [
            ns("src", "orders", U(A), [{"_id": 1, "a": 1}, {"_id": 2, "a": 2}], indexes=[id_index(), IDX_A]),
            ns("dst", "orders", U(B), [{"_id": 100}])]},
        "entries": [
            E(1, "c", "dst.$cmd", {"create": "tmp4Zq1w.renameCollection", "temp": True, "idIndex": id_index()}, U(T)),
            E(2, "c", "dst.$cmd", {"createIndexes": "tmp4Zq1w.renameCollection", "v": 2, "key": {"a": 1}, "name": "a_1"}, U(T)),
            E(3, "i", "dst.tmp4Zq1w.renameCollection", {"_id": 1, "a": 1}, U(T), {"_id": 1}),
            E(4, "i", "dst.tmp4Zq1w.renameCollection", {"_id": 2, "a": 2}, U(T), {"_id": 2}),
            E(5, "c", "dst.$cmd", {"renameCollection": "dst.tmp4Zq1w.renameCollection", "to": "dst.orders",
                                   "stayTemp": False, "dropTarget": U(B)}, U(T), {"numRecords": L(1)}),
            E(6, "c", "src.$cmd", {"drop": "orders"}, U(A), {"numRecords": L(2)}),
        ],
        "after": {"namespaces": [
            ns("dst", "orders", U(T), [{"_id": 1, "a": 1}, {"_id": 2, "a": 2}], indexes=[id_index(), IDX_A])]},
    },
    {
        "name": "drop-target-true-and-stay-temp",
        "description": "older dropTarget: true drops whatever holds the target name; stayTemp keeps the temp option",
        "before": {"namespaces": [
            ns("test", "t1", U(A), [{"_id": 1}], options={"temp": True}), ns("test", "t2", U(B), [{"_id": 2}])]},
        "entries": [
            E(1, "c", "test.$cmd", {"renameCollection": "test.t1", "to": "test.t2", "stayTemp": True, "dropTarget": True}, U(A)),
        ],
        "after": {"namespaces": [ns("test", "t2", U(A), [{"_id": 1}], options={"temp": True})]},
    },
]})

# ------------------------------------------------------------------ drops
write("drop", {
    "description": "drop by UUID, dropping system.views removes the views, dropDatabase after its collection drops",
    "before": {"namespaces": [
        ns("keep", "c", U(A), [{"_id": 1}]),
        ns("gone", "c1", U(B), [{"_id": 1}, {"_id": 2}]),
        ns("gone", "c2", U(C), [{"_id": 1}]),
        ns("gone", "system.views", U(D), [{"_id": "gone.v", "viewOn": "c1", "pipeline": []}]),
        ns("gone", "v", None, [], options={"viewOn": "c1", "pipeline": []}, type_="view"),
    ]},
    "entries": [
        E(1, "c", "gone.$cmd", {"drop": "c1"}, U(B), {"numRecords": L(2)}),
        E(2, "c", "gone.$cmd", {"drop": "system.views"}, U(D), {"numRecords": L(1)}),
        E(3, "c", "gone.$cmd", {"dropDatabase": 1}),
        E(4, "c", "keep.$cmd", {"create": "c2", "idIndex": id_index()}, U(T)),
    ],
    "after": {"namespaces": [ns("keep", "c", U(A), [{"_id": 1}]), ns("keep", "c2", U(T), [])]},
})

# ------------------------------------------------------------------ indexes
B_1 = {"v": 2, "key": {"b": 1}, "name": "b_1", "unique": True}
C_1 = {"v": 2, "key": {"c": -1}, "name": "c_-1"}
TTL = {"v": 2, "key": {"created": 1}, "name": "created_1", "expireAfterSeconds": 30}
write("indexes", {
    "description": "createIndexes, two-phase builds (start/commit across a reopen, start/abort), collMod of index "
                   "options, dropIndexes",
    "before": {"namespaces": [ns("test", "c", U(A), [{"_id": 1}])]},
    "reopenBetweenBatches": True,
    "batches": [
        [
            E(1, "c", "test.$cmd", dict({"createIndexes": "c"}, **IDX_A), U(A)),
            E(2, "c", "test.$cmd", dict({"createIndexes": "c"}, **TTL), U(A)),
            E(3, "c", "test.$cmd", {"startIndexBuild": "c", "indexBuildUUID": U(IB1), "indexes": [B_1]}, U(A)),
            E(4, "c", "test.$cmd", {"startIndexBuild": "c", "indexBuildUUID": U(IB2), "indexes": [C_1]}, U(A)),
        ],
        [
            E(5, "c", "test.$cmd", {"commitIndexBuild": "c", "indexBuildUUID": U(IB1), "indexes": [B_1]}, U(A)),
            E(6, "c", "test.$cmd", {"abortIndexBuild": "c", "indexBuildUUID": U(IB2), "indexes": [C_1],
                                    "cause": {"ok": False, "code": 27, "codeName": "IndexNotFound",
                                              "errmsg": "index build aborted"}}, U(A)),
            E(7, "c", "test.$cmd", {"collMod": "c", "index": {"name": "created_1", "expireAfterSeconds": L(60)}}, U(A),
              {"collectionOptions_old": {"uuid": U(A)}, "indexOptions_old": {"expireAfterSeconds": L(30)}}),
            E(8, "c", "test.$cmd", {"collMod": "c", "index": {"name": "b_1", "hidden": True}}, U(A),
              {"collectionOptions_old": {"uuid": U(A)}, "indexOptions_old": {"hidden": False}}),
            E(9, "c", "test.$cmd", {"dropIndexes": "c", "index": "a_1"}, U(A), IDX_A),
        ],
    ],
    "after": {"namespaces": [ns("test", "c", U(A), [{"_id": 1}], indexes=[
        id_index(),
        {"v": 2, "key": {"created": 1}, "name": "created_1", "expireAfterSeconds": L(60)},
        {"v": 2, "key": {"b": 1}, "name": "b_1", "unique": True, "hidden": True},
    ], builds=0)]},
})

# ------------------------------------------------------------------ collMod, capped
write("collmod-capped", {
    "description": "collMod of validator and validation level (an empty validator removes it), emptycapped, "
                   "convertToCapped",
    "before": {"namespaces": [
        ns("test", "v", U(A), [{"_id": 1, "a": 1}],
           options={"validator": {"a": {"$exists": True}}, "validationLevel": "strict", "validationAction": "error"}),
        ns("test", "cap", U(B), [{"_id": 1}, {"_id": 2}], options={"capped": True, "size": 8192}),
        ns("test", "plain", U(C), [{"_id": 1}]),
    ]},
    "entries": [
        E(1, "c", "test.$cmd", {"collMod": "v", "validator": {"b": {"$type": "string"}}, "validationLevel": "moderate"},
          U(A), {"collectionOptions_old": {"uuid": U(A), "validator": {"a": {"$exists": True}}}}),
        E(2, "c", "test.$cmd", {"emptycapped": "cap"}, U(B)),
        E(3, "i", "test.cap", {"_id": 3}, U(B), {"_id": 3}),
        E(4, "c", "test.$cmd", {"convertToCapped": "plain", "size": 1000000.0}, U(C)),
        E(5, "c", "test.$cmd", {"collMod": "v", "validator": {}}, U(A), {"collectionOptions_old": {"uuid": U(A)}}),
    ],
    "after": {"namespaces": [
        ns("test", "v", U(A), [{"_id": 1, "a": 1}], options={"validationLevel": "moderate", "validationAction": "error"}),
        ns("test", "cap", U(B), [{"_id": 3}], options={"capped": True, "size": 8192}),
        ns("test", "plain", U(C), [{"_id": 1}], options={"capped": True, "size": 1000000.0}),
    ]},
})

# ------------------------------------------------------------------ applyOps
N = "0b1e4a52-7c7d-4f0e-9d51-9a4a8d4f3c0f"
write("applyops", {
    "description": "a batched multi-delete as applyOps without a session, nested applyOps, and a transaction "
                   "(single applyOps with lsid/txnNumber) that creates a collection, an index and inserts",
    "before": {"namespaces": [ns("test", "c", U(A), [{"_id": 1}, {"_id": 2}, {"_id": 3}])]},
    "entries": [
        E(1, "c", "admin.$cmd", {"applyOps": [inner("d", "test.c", {"_id": 1}, U(A)), inner("d", "test.c", {"_id": 2}, U(A))]}),
        E(2, "c", "admin.$cmd", {"applyOps": [
            inner("c", "test.$cmd", {"applyOps": [inner("i", "test.c", {"_id": 5}, U(A), {"_id": 5})]}),
            inner("i", "test.c", {"_id": 6}, U(A), {"_id": 6}),
            inner("u", "test.c", {"$v": 2, "diff": {"i": {"x": 1}}}, U(A), {"_id": 5}),
        ]}),
        E(3, "c", "admin.$cmd", {"applyOps": [
            inner("c", "test.$cmd", {"create": "newcoll", "idIndex": id_index()}, U(N)),
            inner("c", "test.$cmd", dict({"createIndexes": "newcoll"}, **IDX_A), U(N)),
            inner("i", "test.newcoll", {"_id": 1, "a": 1}, U(N), {"_id": 1}),
            inner("i", "test.c", {"_id": 7}, U(A), {"_id": 7}),
        ]}, session={"lsid": lsid(S1), "txnNumber": L(1)}, prev=prev_op()),
    ],
    "after": {"namespaces": [
        ns("test", "c", U(A), [{"_id": 3}, {"_id": 5, "x": 1}, {"_id": 6}, {"_id": 7}]),
        ns("test", "newcoll", U(N), [{"_id": 1, "a": 1}], indexes=[id_index(), IDX_A]),
    ], "pendingTransactions": 0},
})

# ------------------------------------------------------------------ transactions
S1_SESSION = {"lsid": lsid(S1), "txnNumber": L(1)}
S2_SESSION = {"lsid": lsid(S2), "txnNumber": L(7)}
write("txn-unprepared", {
    "description": "a large unprepared transaction split over partialTxn entries linked by prevOpTime and finished "
                   "by an applyOps with count, interleaved with other writes; then a single-entry transaction",
    "before": {"namespaces": [
        ns("bank", "accounts", U(A), [{"_id": 1, "bal": 100}, {"_id": 2, "bal": 50}]),
        ns("bank", "log", U(B), [])]},
    "entries": [
        E(1, "c", "admin.$cmd", {"applyOps": [
            inner("u", "bank.accounts", {"$v": 2, "diff": {"u": {"bal": 90}}}, U(A), {"_id": 1}),
            inner("u", "bank.accounts", {"$v": 2, "diff": {"u": {"bal": 60}}}, U(A), {"_id": 2}),
        ], "partialTxn": True}, session=S1_SESSION, prev=prev_op()),
        E(2, "i", "bank.log", {"_id": "x", "msg": "unrelated"}, U(B), {"_id": "x"}),
        E(3, "c", "admin.$cmd", {"applyOps": [inner("i", "bank.log", {"_id": 10, "amt": 10}, U(B), {"_id": 10})],
                                 "partialTxn": True}, session=S1_SESSION, prev=prev_op(1)),
        E(4, "c", "admin.$cmd", {"applyOps": [inner("i", "bank.log", {"_id": 11, "amt": -10}, U(B), {"_id": 11})],
                                 "count": L(4)}, session=S1_SESSION, prev=prev_op(3)),
        E(5, "c", "admin.$cmd", {"applyOps": [
            inner("d", "bank.accounts", {"_id": 2}, U(A)),
            inner("i", "bank.accounts", {"_id": 3, "bal": 60}, U(A), {"_id": 3}),
        ]}, session=S2_SESSION, prev=prev_op()),
    ],
    "after": {"namespaces": [
        ns("bank", "accounts", U(A), [{"_id": 1, "bal": 90}, {"_id": 3, "bal": 60}]),
        ns("bank", "log", U(B), [{"_id": "x", "msg": "unrelated"}, {"_id": 10, "amt": 10}, {"_id": 11, "amt": -10}]),
    ], "pendingTransactions": 0},
})

write("txn-prepared", {
    "description": "two prepared transactions: one committed (commitTransaction with commitTimestamp), one aborted",
    "before": {"namespaces": [ns("shop", "stock", U(A), [{"_id": "apple", "n": 10}, {"_id": "pear", "n": 5}])]},
    "entries": [
        E(1, "c", "admin.$cmd", {"applyOps": [
            inner("u", "shop.stock", {"$v": 2, "diff": {"u": {"n": 9}}}, U(A), {"_id": "apple"})], "prepare": True},
          session={"lsid": lsid(S1), "txnNumber": L(3)}, prev=prev_op()),
        E(2, "c", "admin.$cmd", {"applyOps": [inner("d", "shop.stock", {"_id": "pear"}, U(A))], "prepare": True},
          session={"lsid": lsid(S2), "txnNumber": L(4)}, prev=prev_op()),
        E(3, "i", "shop.stock", {"_id": "fig", "n": 1}, U(A), {"_id": "fig"}),
        E(5, "c", "admin.$cmd", {"commitTransaction": 1, "commitTimestamp": ts(4)},
          session={"lsid": lsid(S1), "txnNumber": L(3)}, prev=prev_op(1)),
        E(6, "c", "admin.$cmd", {"abortTransaction": 1}, session={"lsid": lsid(S2), "txnNumber": L(4)}, prev=prev_op(2)),
    ],
    "after": {"namespaces": [ns("shop", "stock", U(A), [
        {"_id": "apple", "n": 9}, {"_id": "fig", "n": 1}, {"_id": "pear", "n": 5}])], "pendingTransactions": 0},
})

S3_SESSION = {"lsid": lsid(S3), "txnNumber": L(2)}
write("txn-prepared-across-batches", {
    "description": "a large prepared transaction (partialTxn entry, then the prepare applyOps) committed two batches "
                   "later, with the head closed and reopened between batches",
    "before": {"namespaces": [ns("shop", "stock", U(A), [{"_id": "apple", "n": 10}])]},
    "reopenBetweenBatches": True,
    "batches": [
        [
            E(1, "c", "admin.$cmd", {"applyOps": [inner("i", "shop.stock", {"_id": "kiwi", "n": 3}, U(A), {"_id": "kiwi"})],
                                     "partialTxn": True}, session=S3_SESSION, prev=prev_op()),
            E(2, "c", "admin.$cmd", {"applyOps": [
                inner("u", "shop.stock", {"$v": 2, "diff": {"u": {"n": 8}}}, U(A), {"_id": "apple"})],
                "prepare": True, "count": L(2)}, session=S3_SESSION, prev=prev_op(1)),
        ],
        [E(3, "n", "", {"msg": "periodic noop"})],
        [
            E(5, "c", "admin.$cmd", {"commitTransaction": 1, "commitTimestamp": ts(4)}, session=S3_SESSION, prev=prev_op(2)),
        ],
    ],
    "after": {"namespaces": [ns("shop", "stock", U(A), [{"_id": "apple", "n": 8}, {"_id": "kiwi", "n": 3}])],
              "pendingTransactions": 0, "position": ts(5)},
})

# ------------------------------------------------------------------ catch-up vs steady
CU_BEFORE = {"namespaces": [ns("test", "c", U(A), [{"_id": 1, "a": 1}, {"_id": 2, "a": 2}])]}
INS_OLD_2 = E(1, "i", "test.c", {"_id": 2, "a": 1}, U(A), {"_id": 2})
UPD_MISSING = E(2, "u", "test.c", {"$v": 2, "diff": {"u": {"a": 5}}}, U(A), {"_id": 3})
DEL_MISSING = E(3, "d", "test.c", {"_id": 3}, U(A))
UPD_2 = E(4, "u", "test.c", {"$v": 2, "diff": {"u": {"a": 2}}}, U(A), {"_id": 2})
MISMATCH = E(5, "u", "test.c", {"$v": 2, "diff": {"sa": {"u": {"x": 1}}}}, U(A), {"_id": 1})
UNKNOWN_UUID = E(6, "i", "test.gone", {"_id": 1}, U(D), {"_id": 1})
write("catch-up-vs-steady", {"groups": [
    {
        "name": "catch-up-tolerates-the-clone",
        "mode": "CATCH_UP",
        "description": "initial sync catch-up: updates/deletes of documents missing from the clone are skipped, an "
                       "insert of an existing _id replaces it, a type mismatch under a sub-diff becomes null (as "
                       "MongoDB does), and ops on collections the clone no longer has are skipped",
        "before": CU_BEFORE,
        "entries": [INS_OLD_2, UPD_MISSING, DEL_MISSING, UPD_2, MISMATCH, UNKNOWN_UUID],
        "after": {"namespaces": [ns("test", "c", U(A), [{"_id": 1, "a": None}, {"_id": 2, "a": 2}])]},
    },
    {"name": "steady-update-of-missing", "before": CU_BEFORE, "entries": [UPD_MISSING],
     "expectError": {"type": "HeadDivergenceException", "messageContains": "update of a document missing"}},
    {"name": "steady-delete-of-missing", "before": CU_BEFORE, "entries": [DEL_MISSING],
     "expectError": {"type": "HeadDivergenceException", "messageContains": "delete of a document missing"}},
    {"name": "steady-insert-conflict", "before": CU_BEFORE, "entries": [INS_OLD_2],
     "expectError": {"type": "HeadDivergenceException", "messageContains": "exists with different content"}},
    {"name": "steady-type-mismatch", "before": CU_BEFORE, "entries": [MISMATCH],
     "expectError": {"type": "HeadDivergenceException", "messageContains": "does not match the diff"}},
    {"name": "steady-unknown-collection", "before": CU_BEFORE, "entries": [UNKNOWN_UUID],
     "expectError": {"type": "HeadDivergenceException", "messageContains": "no collection with UUID"}},
    {"name": "steady-missing-transaction-start", "before": CU_BEFORE,
     "entries": [E(7, "c", "admin.$cmd", {"applyOps": [inner("i", "test.c", {"_id": 9}, U(A), {"_id": 9})], "count": L(2)},
                   session=S1_SESSION, prev=prev_op(6))],
     "expectError": {"type": "HeadDivergenceException", "messageContains": "never saw"}},
]})

# ------------------------------------------------------------------ unsupported entries
GOOD = E(1, "i", "test.c", {"_id": 10}, U(A), {"_id": 10})


def bad(name, entry, contains):
    return {"name": name, "before": CU_BEFORE, "entries": [GOOD, entry],
            "expectError": {"type": "UnsupportedOplogEntryException", "messageContains": contains}}


write("unsupported", {"groups": [
    bad("unknown-op", E(2, "xi", "test.c", {"_id": 1}, U(A)), "unknown op xi"),
    bad("unknown-command", E(2, "c", "test.$cmd", {"importCollection": "c", "collectionProperties": {}}), "unknown command importCollection"),
    bad("unknown-update-version", E(2, "u", "test.c", {"$v": 3, "diff": {"u": {"a": 1}}}, U(A), {"_id": 1}), "$v: 3"),
    bad("operators-without-version", E(2, "u", "test.c", {"$inc": {"a": 1}}, U(A), {"_id": 1}), "operators but no $v"),
    bad("unknown-diff-section", E(2, "u", "test.c", {"$v": 2, "diff": {"x": {"a": 1}}}, U(A), {"_id": 1}), "unexpected section"),
    bad("diff-sections-out-of-order", E(2, "u", "test.c", {"$v": 2, "diff": {"i": {"b": 1}, "u": {"a": 1}}}, U(A), {"_id": 1}),
        "unexpected section u"),
    bad("empty-diff", E(2, "u", "test.c", {"$v": 2, "diff": {}}, U(A), {"_id": 1}), "non-empty"),
    bad("duplicate-diff-field", E(2, "u", "test.c", {"$v": 2, "diff": {"d": {"a": False}, "u": {"a": 1}}}, U(A), {"_id": 1}),
        "duplicate field name"),
    bad("array-diff-out-of-order", E(2, "u", "test.c", {"$v": 2, "diff": {"sa": {"a": True, "u2": 1, "u1": 2}}}, U(A), {"_id": 1}),
        "out of order"),
    bad("v1-unknown-modifier", E(2, "u", "test.c", {"$v": 1, "$inc": {"a": 1}}, U(A), {"_id": 1}), "unsupported modifier $inc"),
    bad("collmod-unknown-option", E(2, "c", "test.$cmd", {"collMod": "c", "frobnicate": True}, U(A)), "collMod option frobnicate"),
    bad("insert-without-id", E(2, "i", "test.c", {"a": 1}, U(A)), "has no _id"),
]})

# ------------------------------------------------------------------ idempotent re-delivery
write("idempotent-redelivery", {
    "description": "the same batch delivered twice, then an overlapping batch: entries at or before the head's "
                   "position are skipped, so nothing is applied twice (a second insert would be divergence)",
    "before": {"namespaces": [ns("test", "c", U(A), [{"_id": 1, "n": 0}])]},
    "batches": [
        [E(1, "i", "test.c", {"_id": 2, "n": 0}, U(A), {"_id": 2}),
         E(2, "u", "test.c", {"$v": 2, "diff": {"u": {"n": 1}}}, U(A), {"_id": 1})],
        [E(1, "i", "test.c", {"_id": 2, "n": 0}, U(A), {"_id": 2}),
         E(2, "u", "test.c", {"$v": 2, "diff": {"u": {"n": 1}}}, U(A), {"_id": 1})],
        [E(2, "u", "test.c", {"$v": 2, "diff": {"u": {"n": 1}}}, U(A), {"_id": 1}),
         E(3, "d", "test.c", {"_id": 2}, U(A))],
    ],
    "after": {"namespaces": [ns("test", "c", U(A), [{"_id": 1, "n": 1}])], "position": ts(3)},
})
print("fixtures written to", OUT)
