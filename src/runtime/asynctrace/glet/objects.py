"""Objects greenlets wait on (gevent's Event, AsyncResult, Queue, Semaphore, RLock...): an id in
the same id space as asyncio's objects (`obj` lines, the `obj` of a step's `on`), declared when a
greenlet first waits on it, and a `use` line the first time a greenlet waits on it.

gevent's classes are compiled (immutable types): their set/put/release cannot be wrapped, so who
sets or feeds an object is not seen. Their `obj` lines say so (`"partial":true`): a reader must
not conclude from missing `set`/`put` lines that nobody ever set it. Locks are the exception: who
holds them is recorded (see locks)."""
import os
import sys
import weakref

from . import locks as _locks

_rec = None
_st = None

_ids = {}      # id(object) -> obj id
_refs = {}     # id(object) -> weak reference (drops the entry when the object goes)
_used = set()  # (obj id, task id, op) written already
_fork_hooked = []

# The `on` kind of a wait on an object -> (obj kind, use op for its waiters).
_OPS = {"event": "wait", "future": "wait", "queue": None, "semaphore": None, "lock": None,
        "condition": None}
# Modules where gevent exposes its (compiled) classes under their public names.
_PUBLIC = ("gevent.event", "gevent.queue", "gevent.lock", "gevent.pool")


def _class_name(cls):
    name = cls.__qualname__
    for mod in _PUBLIC:
        m = sys.modules.get(mod)
        if m is not None and getattr(m, name, None) is cls:
            return "%s.%s" % (mod, name)
    return "%s.%s" % (cls.__module__, name)


def obj_id(o, kind):
    """The object's id, declared (an `obj` line) on first sight; None if it cannot be followed."""
    k = id(o)
    oid = _ids.get(k)
    if oid is not None:
        return oid
    try:
        r = weakref.ref(o, lambda _r, k=k: (_ids.pop(k, None), _refs.pop(k, None)))
    except TypeError:
        return None  # (an id is only safe while the object lives: without a weak reference, none)
    if not _fork_hooked and hasattr(os, "register_at_fork"):
        _fork_hooked.append(True)
        os.register_at_fork(after_in_child=_forget_all)
    oid = _rec.new_obj_id()
    _ids[k] = oid
    _refs[k] = r
    # (Partial: who sets, feeds or releases it is not seen; but for the locks whose holdings
    # are recorded, see locks.)
    _rec.emit('{"type":"obj","id":%d,"kind":"%s","class":%s,"ts":%d,"task":null,"site":null%s}'
              % (oid, kind, _rec.jstr(_class_name(type(o))), _rec.now_us(),
                 "" if _locks.is_traced(o) else ',"partial":true'))
    return oid


def known_id(o):
    """The obj id of `o` if it was declared."""
    return _ids.get(id(o))


def on_with_obj(on, kind, o, tid, frame):
    """`on` (a JSON object text of `kind`) with the `obj` of `o`, and its `use` line for the wait."""
    try:
        oid = obj_id(o, kind)
        if oid is None:
            return on
        op = _OPS.get(kind)
        if kind == "queue":
            i = on.find('"op":"')
            op = on[i + 6:on.index('"', i + 6)] if i >= 0 else None
        if op is not None and tid is not None:
            key = (oid, tid, op)
            if key not in _used:
                _used.add(key)
                site = _rec.site_of_frame(frame) if frame is not None else None
                _rec.emit('{"type":"use","obj":%d,"task":%d,"ts":%d,"op":"%s","site":%s}'
                          % (oid, tid, _rec.now_us(), op, "null" if site is None else site))
        return '%s,"obj":%d}' % (on[:-1], oid)
    except Exception:
        return on


def _forget_all():
    """In a forked child: its stream has ids of its own; objects are declared again there."""
    _ids.clear()
    _refs.clear()
    _used.clear()
    _locks.forget_all()
