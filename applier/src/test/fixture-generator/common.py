"""Helpers that write oplog fixtures as MongoDB Extended JSON v2 (canonical).

Plain Python ints become {"$numberInt"}, L(...) becomes {"$numberLong"}, floats become
{"$numberDouble"}; Raw(...) values are already canonical and pass through untouched.
"""
import base64
import json
import os
import uuid as uuidlib

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "oplog-fixtures")

T0 = 1_700_000_000          # seconds of every fixture's oplog timestamps
WALL0 = 1_700_000_000_000   # wall clock, ms


class L(int):
    """int64"""


class Raw(dict):
    """already-canonical extended JSON"""


def enc(v):
    if isinstance(v, Raw):
        return dict(v)
    if isinstance(v, bool):
        return v
    if isinstance(v, L):
        return {"$numberLong": str(int(v))}
    if isinstance(v, int):
        assert -2**31 <= v < 2**31, v
        return {"$numberInt": str(v)}
    if isinstance(v, float):
        return {"$numberDouble": repr(v)}
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, list):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        return {k: enc(x) for k, x in v.items()}
    raise TypeError(type(v))


def ts(i, t=T0):
    return Raw({"$timestamp": {"t": t, "i": i}})


NULL_TS = Raw({"$timestamp": {"t": 0, "i": 0}})


def U(s):
    return Raw({"$binary": {"base64": base64.b64encode(uuidlib.UUID(s).bytes).decode(), "subType": "04"}})


def binary(b, sub="00"):
    return Raw({"$binary": {"base64": base64.b64encode(b).decode(), "subType": sub}})


def date(ms):
    return Raw({"$date": {"$numberLong": str(ms)}})


def oid(h):
    return Raw({"$oid": h})


def id_index():
    return {"v": 2, "key": {"_id": 1}, "name": "_id_"}


def E(i, op, ns, o, ui=None, o2=None, session=None, extra=None, prev=None, t=1):
    """An oplog entry in the field order MongoDB 5.0+ writes."""
    d = {}
    if session:
        d.update(session)
    d["op"] = op
    d["ns"] = ns
    if ui is not None:
        d["ui"] = ui
    d["o"] = o
    if o2 is not None:
        d["o2"] = o2
    if extra:
        d.update(extra)
    d["ts"] = ts(i)
    d["t"] = L(t)
    d["v"] = L(2)
    d["wall"] = date(WALL0 + i)
    if prev is not None:
        d["prevOpTime"] = prev
    return d


def prev_op(i=None):
    """prevOpTime: the null optime that starts a chain, or the entry at ts i."""
    if i is None:
        return {"ts": NULL_TS, "t": L(-1)}
    return {"ts": ts(i), "t": L(1)}


def lsid(u):
    return {"id": U(u), "uid": binary(bytes(range(32)))}


def inner(op, ns, o, ui=None, o2=None):
    """An operation inside applyOps (no ts/t/v/wall)."""
    d = {"op": op, "ns": ns}
    if ui is not None:
        d["ui"] = ui
    d["o"] = o
    if o2 is not None:
        d["o2"] = o2
    return d


def ns(db, coll, uuid=None, docs=(), options=None, indexes=None, type_="collection", builds=None):
    d = {"db": db, "coll": coll}
    if uuid is not None:
        d["uuid"] = uuid
    d["type"] = type_
    d["options"] = options if options is not None else {}
    d["indexes"] = indexes if indexes is not None else ([id_index()] if type_ != "view" else [])
    if builds is not None:
        d["indexBuilds"] = builds
    d["documents"] = list(docs)
    return d


def write(name, fixture):
    path = os.path.join(OUT, name + ".json")
    with open(path, "w") as f:
        json.dump(enc(fixture), f, indent=1)
        f.write("\n")
