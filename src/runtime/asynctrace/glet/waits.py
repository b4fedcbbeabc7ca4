"""Why a greenlet went back to the hub: the `on` of its suspension, from gevent's own Python
functions (sleep, socket methods) or the decoded call of the user frame into compiled gevent."""
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

_SKIP, _USER, _SLEEP = 0, 1, 2
_HUB_ON = '{"kind":"hub"}'
_code_kind = {}     # id(code) -> (kind, payload, code)   (code kept alive: ids never reused)
_call_cache = {}    # (id(code), lasti) -> decoded call or None
_yield_at = set()   # (id(code), lasti) of gevent.sleep's zero-delay branch


def _kind_of_code(code):
    r = _code_kind.get(id(code))
    if r is not None:
        return r
    if _rec.is_user_code(code):
        r = (_USER, None, code)
    else:
        fn = code.co_filename.replace("\\", "/")
        name = code.co_name
        r = (_SKIP, None, code)
        if "/gevent/" in fn:
            base = fn.rsplit("/", 1)[-1]
            if base == "hub.py" and name == "sleep":
                r = (_SLEEP, None, code)
            elif base == "hub.py" and name == "idle":
                r = (_SKIP, '{"kind":"yield"}', code)
            elif base in _IO_FILES and name in _IO_OPS:
                r = (_SKIP, '{"kind":"io","op":"%s"}' % _IO_OPS[name], code)
            elif base in ("lock.py", "thread.py", "_threading.py", "threading.py") and name in ("acquire", "__enter__", "wait", "join"):
                r = (_SKIP, '{"kind":"%s"}' % ("lock" if name in ("acquire", "__enter__") else "event"), code)
    _code_kind[id(code)] = r
    return r


def _classify(st, f, inf, now):
    """What a greenlet suspending in frame `f` waits on: (on text, whether the text depends only
    on the code it suspended in)."""
    n = 0
    while f is not None and n < 40:
        kind, payload, code = _kind_of_code(f.f_code)
        if payload is not None:
            return payload, True
        if kind == _SLEEP:
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
            return '{"kind":"sleep","delay":%s}' % repr(secs), False
        if kind == _USER:
            return _classify_user(st, f, inf, now), False
        f = f.f_back
        n += 1
    return _HUB_ON, False


def _classify_user(st, f, inf, now):
    """The user frame called straight into gevent's compiled code: decode that call."""
    try:
        code = f.f_code
        key = (id(code), f.f_lasti)
        call = _call_cache.get(key, False)
        if call is False:
            call = _decode_call(code, f.f_lasti)
            _call_cache[key] = call
        if call is None:
            return _HUB_ON
        meth, recv_path, arg_path = call
        recv = _resolve(f, recv_path) if recv_path is not None else None
        if meth == "__enter__":
            return _sync_kind(recv) or _HUB_ON
        gt = st.greenlet_type
        if recv is not None and isinstance(recv, gt):
            tinf = st.info.get(id(recv))
            if meth == "kill":
                _note_kill(st, recv, tinf, inf, f)
            t = _tid_of(st, recv)
            if meth in ("join", "get", "kill") and t is not None:
                return '{"kind":"task","task":%d}' % t
            return _HUB_ON
        if recv is None or (type(recv).__name__ == "module" and getattr(recv, "__name__", "").startswith("gevent")):
            if meth in ("joinall", "wait", "iwait", "killall", "kill"):
                arg = _resolve(f, arg_path) if arg_path is not None else None
                if isinstance(arg, gt):
                    arg = [arg]
                if meth == "kill" and arg:
                    for g in arg:
                        _note_kill(st, g, st.info.get(id(g)), inf, f)
                    t = _tid_of(st, arg[0])
                    return '{"kind":"task","task":%d}' % t if t is not None else _HUB_ON
                if isinstance(arg, (list, tuple, set, frozenset)):
                    ids = []
                    for g in arg:
                        if isinstance(g, gt):
                            t = _tid_of(st, g)
                            if t is not None:
                                ids.append(str(t))
                            if meth == "killall":
                                _note_kill(st, g, st.info.get(id(g)), inf, f)
                        elif meth == "wait":
                            k = _sync_kind(g)
                            if k is not None and not ids:
                                return k
                    return '{"kind":"gather","tasks":[%s]}' % ",".join(ids)
            return _HUB_ON
        members = _group_members(recv)
        if members is not None:
            if meth in ("spawn", "start", "add", "wait_available", "apply_async", "apply_cb", "map_async",
                        "imap", "imap_unordered"):
                return '{"kind":"semaphore"}'  # waiting for a free slot in the pool
            ids = [str(t) for t in (_tid_of(st, g) for g in members) if t is not None]
            return '{"kind":"gather","tasks":[%s]}' % ",".join(sorted(ids, key=int))
        k = _sync_kind(recv)
        if k is not None:
            return k
    except Exception:
        pass
    return _HUB_ON


_SYNC = {
    "Event": "event", "AsyncResult": "future", "Queue": "queue", "JoinableQueue": "queue",
    "PriorityQueue": "queue", "LifoQueue": "queue", "Channel": "queue", "SimpleQueue": "queue",
    "UnboundQueue": "queue", "Semaphore": "semaphore", "BoundedSemaphore": "semaphore",
    "DummySemaphore": "semaphore", "RLock": "lock", "LockType": "lock", "_AtomicSemaphore": "lock",
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


def _sync_kind(obj):
    if obj is None:
        return None
    for cls in type(obj).__mro__:
        k = _SYNC.get(cls.__name__)
        if k is not None and (cls.__module__ or "").startswith(("gevent", "threading", "_thread", "queue")):
            return '{"kind":"%s"}' % k
    return None


def _note_kill(st, g, ginf, by_inf, frame):
    if ginf is None or ginf.kill is not None:
        return
    ginf.kill = (by_inf.tid if by_inf is not None else None, _rec.site_of_frame(frame))
