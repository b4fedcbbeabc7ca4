"""Why a greenlet went back to the hub: the `on` of its suspension, from gevent's own Python
functions (sleep, socket methods) or the decoded call of the user frame into compiled gevent."""
from time import perf_counter_ns as _ns
try:
    from time import thread_time_ns as _cpu_ns
except ImportError:  # (a platform without a per-thread clock)
    from time import perf_counter_ns as _cpu_ns
from weakref import ref as _weakref

from . import events as _events
from . import locks as _locks
from . import wakes as _wakes
from . import objects as _objects
from . import queues as _queues
from .calls import _decode_call, _resolve
from .state import _tid_of

_rec = None
_st = None


_IO_OPS = {
    "recv": "recv", "recv_into": "recv", "recvfrom": "recv", "recvfrom_into": "recv",
    "recvmsg": "recv", "recvmsg_into": "recv", "read": "read", "readinto": "read",
    "send": "send", "sendall": "send", "sendto": "send", "sendmsg": "send", "sendfile": "send",
    "write": "write", "accept": "accept", "connect": "connect", "connect_ex": "connect",
    "create_connection": "connect", "do_handshake": "handshake", "unwrap": "handshake",
    "getaddrinfo": "resolve", "gethostbyname": "resolve", "gethostbyname_ex": "resolve",
    "gethostbyaddr": "resolve", "getnameinfo": "resolve",
    "nb_read": "read", "nb_write": "write", "tp_read": "read", "tp_write": "write",
    "select": "select", "poll": "select", "waitpid": "wait", "communicate": "wait",
    "wait_read": "read", "wait_write": "write", "wait_readwrite": "read",
}
_IO_FILES = ("_socket3.py", "_socketcommon.py", "socket.py", "_ssl3.py", "ssl.py",
             "_sslgte279.py", "os.py", "select.py", "subprocess.py", "_socket2.py",
             "fileobject.py", "_fileobjectposix.py", "_fileobjectcommon.py", "selectors.py")

_WAIT_IO = ("wait_read", "wait_write", "wait_readwrite")
_SKIP, _USER, _SLEEP, _LOCKW = 0, 1, 2, 3
_HUB_ON = '{"kind":"hub"}'
_code_kind = {}     # id(code) -> (kind, payload, code, gevent's code)   (code kept alive: ids never reused)
_call_cache = {}    # (id(code), lasti) -> decoded call or None
_yield_at = set()   # (id(code), lasti) of gevent.sleep's zero-delay branch
_LOCK_FILES = ("lock.py", "thread.py", "_threading.py", "threading.py")


def _kind_of_code(code):
    r = _code_kind.get(id(code))
    if r is not None:
        return r
    if _rec.is_user_code(code):
        r = (_USER, None, code, False)
    elif id(code) in _locks.wrapper_codes:
        r = (_LOCKW, None, code, False)
    else:
        fn = code.co_filename.replace("\\", "/")
        name = code.co_name
        lib = "/gevent/" in fn
        r = (_SKIP, None, code, lib)
        if lib:
            base = fn.rsplit("/", 1)[-1]
            if base == "hub.py" and name == "sleep":
                r = (_SLEEP, None, code, lib)
            elif base == "hub.py" and name == "idle":
                r = (_SKIP, '{"kind":"yield"}', code, lib)
            elif base in _IO_FILES and name in _IO_OPS:
                r = (_SKIP, '{"kind":"io","op":"%s"}' % _IO_OPS[name], code, lib)
            elif base in _LOCK_FILES and name in ("acquire", "__enter__", "wait", "join"):
                # (Not constant: the lock or event it waits on is read from the frames.)
                r = (_SKIP, '{"kind":"%s"}' % ("lock" if name in ("acquire", "__enter__") else "event"), code, lib)
    _code_kind[id(code)] = r
    return r


_SYNC_ONS = ('{"kind":"lock"}', '{"kind":"event"}')


def _classify(st, f, inf, now):
    """What a greenlet suspending in frame `f` waits on: (on text, whether the text depends only
    on the code it suspended in)."""
    n = 0
    entry = None  # the gevent frame the user frame called (gevent's Python code only)
    sync = None   # a lock/event wait of gevent's Python code (lock.py, threading...), met on the way
    while f is not None and n < 40:
        kind, payload, code, lib = _kind_of_code(f.f_code)
        if payload is not None:
            if payload not in _SYNC_ONS:
                return payload, True
            if sync is None:
                sync = payload
        elif kind == _SLEEP:
            # sleep(0) and sleep(t > 0) suspend at different instructions: once a position is
            # known to be the zero branch, skip reading the frame's locals (costly on 3.11).
            key = (id(code), f.f_lasti)
            if key in _yield_at:
                return '{"kind":"yield"}', True
            try:
                secs = f.f_locals.get("seconds", 0)
                secs = float(secs)
            except Exception:
                secs = 0.0
            if secs <= 0:
                _yield_at.add(key)
                return '{"kind":"yield"}', True
            since = st.t0 + now * 1000
            _wakes.note(inf, _wakes.TIMER, since + int(secs * 1e9), since)
            return '{"kind":"sleep","delay":%s}' % repr(secs), False
        elif kind == _LOCKW:
            on = _lock_wait_on(st, f, inf)
            if on is not None:
                return on, False
        elif kind == _USER:
            if sync is not None:
                return _sync_on(st, sync, entry, inf, f), False
            return _classify_user(st, f, inf, now, entry), False
        entry = f if lib else None
        f = f.f_back
        n += 1
    return sync or _HUB_ON, False


def _lock_wait_on(st, f, inf):
    """A wait in the acquire of a traced gevent lock (frame `f`): the lock (or the RLock around
    it) with its obj id, and the holdings of the lock written for it (`hold` lines)."""
    try:
        found = _locks.waited_lock(f)
        if found is None:
            return None
        named, lock = found
        on = _sync_kind(named, "acquire", inf, None)
        oid = _objects.known_id(named) if on is not None else None
        if oid is not None:
            _locks.publish(lock, oid)
            _wakes.note(inf, _wakes.OBJ, lock, _ns())
        return on
    except Exception:
        return None


def _sync_on(st, payload, entry, inf, user):
    """A wait in gevent's Python lock code: the lock (or event) is the `self` of the frame the
    user frame called, when it is one of gevent's or threading's objects."""
    try:
        o = entry.f_locals.get("self") if entry is not None else None
        k = _sync_kind(o, entry.f_code.co_name if entry is not None else None, inf, user)
        if k is not None:
            return k
    except Exception:
        pass
    return payload


def _entry_call(entry):
    """(method, receiver, argument) of a call into gevent's Python code (pure-Python gevent, and
    gevent's Python classes), read from the called frame: the objects themselves, whatever
    expression the program wrote."""
    name = entry.f_code.co_name
    loc = entry.f_locals
    if name in ("joinall", "killall"):
        return name, None, loc.get("greenlets")
    if name == "wait_on_objects":
        return "wait", None, loc.get("objects")
    if name in ("__next__", "next"):
        d = getattr(loc.get("self"), "__dict__", None)
        if isinstance(d, dict) and "_objects" in d:  # gevent's _WaitIterator (iwait)
            return "iwait", None, d.get("_objects")
    return name, loc.get("self"), loc.get("greenlet")


_ARG_METHS = ("joinall", "wait", "iwait", "killall", "kill")
_MULTI = ("joinall", "wait", "iwait", "__next__")
_no_multi = set()  # (id(code), lasti) of calls and loops found not to be in a gevent multiple wait
_budget = [0, None]  # CPU ns spent in _multiwait_lookup, clock at its first use


_GATHER_MAX = 100  # greenlets listed in a joinall's `on` (the others are counted in `more`)


def _gather_on(st, inf, f, meth, objs, key):
    """The `on` of a gevent.joinall / wait / iwait / killall of `objs`: the greenlets it still waits
    on. It wakes at every greenlet that ends and suspends again in the same call: the call's
    greenlets are kept (weakly) for that (inf.multi, valid for the same user frame, instruction
    and, `key`, the same list object), with the finished ones dropped as they are met, so a wake
    costs O(_GATHER_MAX), not O(greenlets). With `objs` None: only that memo (else None)."""
    m = inf.multi
    if m is not None and m[0] == id(f) and m[1] == f.f_lasti and (key is None or m[2] == key):
        if m[3]:
            on = _listed(m[3])
            if on is not None:
                _wakes.note(inf, _wakes.GATHER, m[3], _ns())
                return on
        if m[4] == st.created:
            # All of them finished, and no greenlet was made since: the same call, still waking
            # for the ends gevent has not told it yet (a new call here would be over new ones).
            return '{"kind":"gather","tasks":[]}'
    if objs is None:
        return None
    inf.multi = None
    gt = st.greenlet_type
    pending = []
    first_sync = None
    for g in objs:
        if isinstance(g, gt):
            if meth == "killall":
                _note_kill(st, g, st.info.get(id(g)), inf, f)
            t = _tid_of(st, g)
            if t is not None and not g.dead:
                pending.append((t, _weakref(g)))
        elif meth == "wait" and first_sync is None and not pending and g is not None:
            first_sync = g
    if not pending and first_sync is not None:
        k = _sync_kind(first_sync, "wait", inf, f)
        if k is not None:
            return k
    inf.multi = [id(f), f.f_lasti, key, pending, st.created]
    on = _listed(pending)
    if on is None:
        return '{"kind":"gather","tasks":[]}'
    _wakes.note(inf, _wakes.GATHER, pending, _ns())
    return on


def _listed(pending):
    """The gather `on` of the first _GATHER_MAX greenlets of `pending` still running (the finished
    ones met are dropped from it), or None when none is left."""
    listed = []
    i = 0
    n = len(pending)
    while i < n and len(listed) < _GATHER_MAX:
        g = pending[i][1]()
        if g is not None and not g.dead:
            listed.append(pending[i])
        i += 1
    pending[:i] = listed
    if not pending:
        return None
    ids = ",".join([str(t) for t, _ in listed])
    more = len(pending) - len(listed)
    if more:
        return '{"kind":"gather","tasks":[%s],"more":%d}' % (ids, more)
    return '{"kind":"gather","tasks":[%s]}' % ids


def _multiwait_lookup(inf):
    """The objects a greenlet suspended in gevent.joinall / wait / iwait waits on, read from gevent:
    its MultipleWaiter (whose `greenlet` is the waiting greenlet) belongs to the _WaitIterator that
    holds them. Found through the garbage collector's referrers, which walks every tracked object:
    spent only within a budget (20 ms, then 1 % of the run's time), else None; False when the
    greenlet is not in such a wait."""
    import gc
    now = _ns()
    spent, first = _budget
    if first is None:
        first = _budget[1] = now
    if spent > 20000000 + (now - first) // 100:
        return None
    t0 = _cpu_ns()  # (the budget counts this thread's CPU time: a loaded machine does not spend it)
    g = inf.ref() if inf.ref is not None else None
    found = False
    try:
        if g is not None:
            for w in gc.get_referrers(g):
                if type(w).__name__ != "MultipleWaiter":
                    continue
                for it in gc.get_referrers(w):
                    if type(it).__name__ != "_WaitIterator":
                        continue
                    for objs in gc.get_referents(it):
                        if type(objs) in (list, tuple, set, frozenset):
                            found = list(objs)
                            break
                    break
                break
    except Exception:
        found = None
    finally:
        g = w = it = objs = None  # noqa: F841
        _budget[0] += _cpu_ns() - t0
    return found


def _classify_user(st, f, inf, now, entry=None):
    """The user frame called gevent: the objects of that call, from the called frame when it is
    Python code, else decoded from the user frame's call."""
    try:
        call = None
        if entry is not None:
            call = _entry_call(entry)
            if call[1] is None and call[2] is None:
                call = None
        if call is None:
            code = f.f_code
            key = (id(code), f.f_lasti)
            dec = _call_cache.get(key, False)
            if dec is False:
                dec = _decode_call(code, f.f_lasti)
                _call_cache[key] = dec
            if dec is None:
                return _HUB_ON
            meth, recv_path, arg_path = dec
            recv = _resolve(f, recv_path) if recv_path is not None else None
            arg = _resolve(f, arg_path) if arg_path is not None and meth in _ARG_METHS else None
            if meth in _MULTI and (recv is None or type(recv).__name__ == "module") and key not in _no_multi:
                if not isinstance(arg, (list, tuple, set, frozenset)) or (
                        arg_path[0] == "list" and any(x is None for x in arg)):  # (a display: short)
                    # (`joinall([spawn(f, x) for x in xs])`: not a value the call can be read for.)
                    on = _gather_on(st, inf, f, meth, None, None)
                    if on is not None:
                        return on
                    found = _multiwait_lookup(inf)
                    if found is not None:
                        return _gather_on(st, inf, f, meth, found, None)
                    if found is False:
                        _no_multi.add(key)  # (a `for` over something else: a queue, a generator)
            if arg is not None and arg_path[0] != "list":
                call = (meth, recv, arg, id(arg))  # (the program's own list: the same while it waits)
                return _on_call(st, call, inf, f)
            call = (meth, recv, arg)
        return _on_call(st, call, inf, f)
    except Exception:
        pass
    return _HUB_ON


def _on_call(st, call, inf, f):
    meth, recv, arg = call[:3]
    key = call[3] if len(call) > 3 else None
    if meth == "__enter__":
        return _sync_kind(recv, meth, inf, f) or _HUB_ON
    gt = st.greenlet_type
    if recv is not None and isinstance(recv, gt):
        tinf = st.info.get(id(recv))
        if meth == "kill":
            _note_kill(st, recv, tinf, inf, f)
        t = _tid_of(st, recv)
        if meth in ("join", "get", "kill") and t is not None:
            if tinf is not None:
                _wakes.note(inf, _wakes.JOIN, tinf, _ns())
            return '{"kind":"task","task":%d}' % t
        return _HUB_ON
    if recv is None or (type(recv).__name__ == "module" and getattr(recv, "__name__", "").startswith("gevent")):
        if meth in _WAIT_IO:  # (gevent.socket's wait_read / wait_write, compiled: no frame of theirs)
            return '{"kind":"io","op":"%s"}' % _IO_OPS[meth]
        if meth in ("joinall", "wait", "iwait", "killall", "kill"):
            if isinstance(arg, gt):
                arg = [arg]
            if meth == "kill" and arg:
                for g in arg:
                    _note_kill(st, g, st.info.get(id(g)), inf, f)
                t = _tid_of(st, arg[0])
                return '{"kind":"task","task":%d}' % t if t is not None else _HUB_ON
            if isinstance(arg, (list, tuple, set, frozenset)):
                return _gather_on(st, inf, f, meth, arg, key)
        return _HUB_ON
    members = _group_members(recv)
    if members is not None:
        if meth in ("spawn", "start", "add", "wait_available", "apply_async", "apply_cb", "map_async",
                    "imap", "imap_unordered"):
            return '{"kind":"semaphore"}'  # waiting for a free slot in the pool
        ids = [str(t) for t in (_tid_of(st, g) for g in members) if t is not None]
        return '{"kind":"gather","tasks":[%s]}' % ",".join(sorted(ids, key=int))
    k = _sync_kind(recv, meth, inf, f)
    if k is not None:
        return k
    return _HUB_ON


_SYNC = {
    "Event": "event", "AsyncResult": "future", "Queue": "queue", "JoinableQueue": "queue",
    "PriorityQueue": "queue", "LifoQueue": "queue", "Channel": "queue", "SimpleQueue": "queue",
    "UnboundQueue": "queue", "Semaphore": "semaphore", "BoundedSemaphore": "semaphore",
    "DummySemaphore": "semaphore", "RLock": "lock", "_RLock": "lock", "LockType": "lock", "_AtomicSemaphore": "lock",
    "Condition": "condition",
}


def _group_members(obj):
    """The greenlets of a gevent Group/Pool (its plain `greenlets` attribute), else None."""
    for cls in type(obj).__mro__:
        if cls.__name__ in ("Group", "Pool") and (cls.__module__ or "").startswith("gevent"):
            d = getattr(obj, "__dict__", None)
            g = d.get("greenlets") if isinstance(d, dict) else None
            return list(g) if isinstance(g, (set, list, tuple)) else []
    return None


# What a queue method waits for (the `op` of a queue wait).
_QUEUE_OPS = {"get": "get", "peek": "get", "__next__": "get", "next": "get", "put": "put", "join": "join"}


def _sync_kind(obj, meth, inf=None, user=None):
    """The `on` of a wait on gevent's (or threading's) synchronisation object `obj`, with its
    `obj` id; None if it is not one."""
    if obj is None:
        return None
    for cls in type(obj).__mro__:
        k = _SYNC.get(cls.__name__)
        if k is not None and (cls.__module__ or "").startswith(("gevent", "threading", "_thread", "queue")):
            if k == "queue":
                op = _QUEUE_OPS.get(meth)
                on = '{"kind":"queue","op":"%s"}' % op if op is not None else '{"kind":"queue"}'
                if op is not None and inf is not None:
                    _queues.waiting(obj, op, inf, _ns())  # (who feeds it wakes it: see queues)
            else:
                on = '{"kind":"%s"}' % k
            if k in ("event", "future") and inf is not None and _events.waited(obj):
                _wakes.note(inf, _wakes.OBJ, obj, _ns())  # (its setter wakes it: see events)
            return _objects.on_with_obj(on, k, obj, inf.tid if inf is not None else None, user)
    return None


def _note_kill(st, g, ginf, by_inf, frame):
    if ginf is None or ginf.kill is not None:
        return
    ginf.kill = (by_inf.tid if by_inf is not None else None, _rec.site_of_frame(frame))
