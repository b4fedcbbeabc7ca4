"""Objects tasks wait on (asyncio's locks, semaphores, conditions, events, queues, barriers):
their ids (`obj` lines, the `obj` of a step's `on`), who holds a lock or semaphore (`hold`
lines) and who puts on a queue or sets an event (`use` lines). Recorded on those objects'
own operations only (creation, acquire/release, put/get, set/clear): nothing on the step path
but for waits on them.

Holders are seen through the flag the lock's own code sets (`Lock._locked`, `Semaphore._value`,
data descriptors on the classes keeping the value in the instance's __dict__ as before): the
acquiring code runs in the acquiring task's step, so no frame is added to the program's
coroutines and tracebacks stay as they were."""
import os
import sys
import weakref

from asyncio import locks, queues

from .state import _current_task, _memo, _running, _tids, _tid_of, _user_site

_rec = None  # the recorder (set by asyncio_hooks.install)

_obj_ids = {}      # id(object) -> obj id
_obj_refs = {}
_used = set()      # (obj id, task id or None, op) written already
_installed = []    # (class, attribute name, previous value or _NONE)
# id(task) -> (stack entry, task id, weakref to the object, its waiter list's attribute, the
# step line's rest): the task's last wait on a queue (see awaits.wait_suffix).
obj_waits = {}
# The wrappers' tables of the task last seen using each object (see _wrap_op).
_last_users = []
_NONE = object()
_MISSING = object()

# Wait kinds (the `on` text of a library leaf, see awaits._build_kinds) naming an object.
OBJ_KINDS = {}     # kind text -> (obj kind, use op or None)
for _k, _ok, _op in (('{"kind":"lock"}', "lock", None), ('{"kind":"semaphore"}', "semaphore", None),
                     ('{"kind":"condition"}', "condition", None), ('{"kind":"event"}', "event", "wait"),
                     ('{"kind":"barrier"}', "barrier", None),
                     ('{"kind":"queue","op":"get"}', "queue", "get"),
                     ('{"kind":"queue","op":"put"}', "queue", "put"),
                     ('{"kind":"queue","op":"join"}', "queue", None)):
    OBJ_KINDS[_k] = (_ok, _op)
del _k, _ok, _op


def _kind_of(o):
    if isinstance(o, locks.Lock):
        return "lock"
    if isinstance(o, locks.Semaphore):
        return "semaphore"
    if isinstance(o, locks.Condition):
        return "condition"
    if isinstance(o, locks.Event):
        return "event"
    if isinstance(o, queues.Queue):
        return "queue"
    if isinstance(o, getattr(locks, "Barrier", ())):
        return "barrier"
    return "object"


def _now_tid():
    t = _current_task()
    if t is None:
        return None
    tid = _tids.get(id(t))
    return tid if tid is not None else _tid_of(t)


def obj_id(o, kind=None, creator=_MISSING, site=None):
    """The object's id, declared (an `obj` line) on first sight."""
    k = id(o)
    oid = _obj_ids.get(k)
    if oid is not None:
        return oid
    oid = _rec.new_obj_id()
    _obj_ids[k] = oid

    def gone(ref, k=k):
        _obj_ids.pop(k, None)
        _obj_refs.pop(k, None)
        for last in _last_users:
            last.pop(k, None)  # (a new object at this address has users of its own)
    try:
        _obj_refs[k] = weakref.ref(o, gone)
    except TypeError:
        pass
    if kind is None:
        kind = _kind_of(o)
    if creator is _MISSING:
        creator = None
    extra = ""
    if kind == "condition":
        lk = getattr(o, "_lock", None)
        if lk is not None:
            extra = ',"lock":%d' % obj_id(lk, None, creator, site)
    cls = type(o)
    _rec.emit('{"type":"obj","id":%d,"kind":"%s","class":%s,"ts":%d,"task":%s,"site":%s%s}'
              % (oid, kind, _rec.jstr("%s.%s" % (cls.__module__, cls.__qualname__)), _rec.now_us(),
                 "null" if creator is None else creator, "null" if site is None else site, extra))
    return oid


def _use(o, op, task, frame):
    """A `use` line for the first (object, task, op) (the caller checked it is likely new)."""
    try:
        if task is None:
            tid = _now_tid()  # a loop callback, an eager task's first step, another thread
        else:
            tid = _tids.get(id(task))
            if tid is None:
                tid = _tid_of(task)
        oid = _obj_ids.get(id(o))
        if oid is None:
            oid = obj_id(o)
        key = (oid, tid, op)
        if key in _used:
            return
        _used.add(key)
        site = _user_site(frame)
        _rec.emit('{"type":"use","obj":%d,"task":%s,"ts":%d,"op":"%s","site":%s}'
                  % (oid, "null" if tid is None else tid, _rec.now_us(), op, "null" if site is None else site))
    except Exception:
        pass


def on_with_obj(task, kind, frame):
    """The `on` text of a wait on an object (kind in OBJ_KINDS), with its `obj` when found."""
    try:
        o = frame.f_locals.get("self") if frame is not None else None
    except Exception:
        o = None
    if o is None:
        return kind
    return on_obj(task, kind, o)


def on_obj(task, kind, o):
    """on_with_obj's text for the object `o` the task waits on."""
    try:
        oid = _obj_ids.get(id(o))
        if oid is None:
            oid = obj_id(o, OBJ_KINDS[kind][0])
        op = OBJ_KINDS[kind][1]
        if op is not None:
            tid = _tids.get(id(task))
            key = (oid, tid, op)
            if key not in _used:
                _used.add(key)
                m = _memo.get(id(task))
                site = m[3][1] if m is not None else None
                _rec.emit('{"type":"use","obj":%d,"task":%s,"ts":%d,"op":"%s","site":%s}'
                          % (oid, "null" if tid is None else tid, _rec.now_us(), op, "null" if site is None else site))
        return '%s,"obj":%d}' % (kind[:-1], oid)
    except Exception:
        return kind


def _hold(o, state, tid, site):
    oid = _obj_ids.get(id(o))
    if oid is None:
        oid = obj_id(o)
    _rec.emit('{"type":"hold","obj":%d,"task":%s,"ts":%d,"state":"%s","site":%s}'
              % (oid, "null" if tid is None else tid, _rec.now_us(), state, "null" if site is None else site))


class _LockedFlag:
    """`Lock._locked`: True is set by acquire() in the acquiring task, False by release()."""

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        try:
            return obj.__dict__["_locked"]
        except KeyError:
            raise AttributeError("_locked") from None

    def __set__(self, obj, value):
        d = obj.__dict__
        old = d.get("_locked", _MISSING)
        d["_locked"] = value
        if old is _MISSING or bool(old) == bool(value):
            return
        try:
            _hold(obj, "acquired" if value else "released", _now_tid(), _user_site(sys._getframe(1)))
        except Exception:
            pass

    def __delete__(self, obj):
        del obj.__dict__["_locked"]


class _SemaphoreValue:
    """`Semaphore._value`: decremented by an acquire (in the acquiring task, or, from 3.10.x on,
    by `_wake_up_next` handing the semaphore to a waiter), incremented by a release."""

    def __init__(self, handoff_code):
        self.handoff = handoff_code

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        try:
            return obj.__dict__["_value"]
        except KeyError:
            raise AttributeError("_value") from None

    def __set__(self, obj, value):
        d = obj.__dict__
        old = d.get("_value", _MISSING)
        d["_value"] = value
        if old is _MISSING or old == value:
            return
        try:
            f = sys._getframe(1)
            if value < old:
                if f.f_code is self.handoff:
                    # Handed to the waiter of `fut`: that task holds it now (it will resume in
                    # acquire(), at the line where it waits).
                    waiter = _waiter_task(f.f_locals.get("fut"))
                    tid = _tids.get(id(waiter)) if waiter is not None else None
                    m = _memo.get(id(waiter)) if waiter is not None else None
                    _hold(obj, "acquired", tid, m[3][1] if m is not None else None)
                else:
                    _hold(obj, "acquired", _now_tid(), _user_site(f))
            else:
                _hold(obj, "released", _now_tid(), _user_site(f))
        except Exception:
            pass

    def __delete__(self, obj):
        del obj.__dict__["_value"]


def _waiter_task(fut):
    """The task waiting on `fut` (its wakeup is among the future's callbacks)."""
    try:
        for cb in fut._callbacks or ():
            t = getattr(cb[0] if type(cb) is tuple else cb, "__self__", None)
            if t is not None and id(t) in _tids:
                return t
    except Exception:
        pass
    return None


def _wrap_init(cls, kind):
    orig = cls.__init__

    def __init__(self, *args, **kwargs):
        orig(self, *args, **kwargs)
        try:
            if id(self) not in _obj_ids:
                obj_id(self, _kind_of(self), _now_tid(), _user_site(sys._getframe(1)))
        except Exception:
            pass
    __init__.__wrapped__ = orig
    return __init__


def _wrap_op(orig, op, one_arg):
    """A queue's put_nowait (which put() calls), an event's set: noted once per (object, task).
    The hot path (a queue in a loop) is one dict lookup and a weak reference's call: the task
    last seen doing `op` on the object (weakly: never kept alive by this) is the running one.
    The wrapper has the method's own signature (`one_arg`: one parameter, `item`, besides
    self): a call with exact arguments, which 3.11+ runs without a C-level call."""
    last = {}  # id(object) -> weak reference to the task last seen doing op on it
    _last_users.append(last)
    running = _running
    getframe = sys._getframe
    last_of = last.get
    ref = weakref.ref

    def noted(self):
        t = running[0]
        if t is None:
            _use(self, op, None, getframe(2))
            return
        if len(last) > 10000:
            last.clear()
        try:
            last[id(self)] = ref(t)
        except TypeError:
            pass  # (a task type without weak references: noted each time, _use dedups)
        _use(self, op, t, getframe(2))

    if one_arg:
        def wrapper(self, item):
            r = orig(self, item)
            t = running[0]
            if t is None or (w := last_of(id(self))) is None or w() is not t:
                noted(self)
            return r
    else:
        def wrapper(self):
            r = orig(self)
            t = running[0]
            if t is None or (w := last_of(id(self))) is None or w() is not t:
                noted(self)
            return r
    wrapper.__wrapped__ = orig
    wrapper.__name__ = orig.__name__
    wrapper.__qualname__ = orig.__qualname__
    return wrapper


def _set_attr(cls, name, value):
    _installed.append((cls, name, cls.__dict__.get(name, _NONE)))
    setattr(cls, name, value)


def _forget_all():
    """In a forked child: its stream has ids of its own, the objects are declared again there
    (lazily, creator unknown) when its lines name them."""
    _obj_ids.clear()
    _obj_refs.clear()
    _used.clear()
    obj_waits.clear()
    for last in _last_users:
        last.clear()


_fork_hooked = []


def install():
    if _installed:
        return
    if not _fork_hooked and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forget_all)
        _fork_hooked.append(True)
    classes = [(locks.Lock, "lock"), (locks.Event, "event"), (locks.Condition, "condition"),
               (locks.Semaphore, "semaphore"), (queues.Queue, "queue")]
    if hasattr(locks, "Barrier"):
        classes.append((locks.Barrier, "barrier"))
    for cls, kind in classes:
        _set_attr(cls, "__init__", _wrap_init(cls, kind))
    _set_attr(locks.Lock, "_locked", _LockedFlag())
    handoff = getattr(getattr(locks.Semaphore, "_wake_up_next", None), "__code__", None)
    _set_attr(locks.Semaphore, "_value", _SemaphoreValue(handoff))
    Q = queues.Queue
    _set_attr(Q, "put_nowait", _wrap_op(Q.put_nowait, "put", True))
    E = locks.Event
    _set_attr(E, "set", _wrap_op(E.set, "set", False))


def uninstall():
    del _last_users[:]
    while _installed:
        cls, name, prev = _installed.pop()
        try:
            if prev is _NONE:
                delattr(cls, name)
            else:
                setattr(cls, name, prev)
        except Exception:
            pass
