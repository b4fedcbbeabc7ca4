"""What a suspended task awaits: its await chain (user lines) and what it waits on (kind)."""
from asyncio import base_events, tasks
try:
    from asyncio import taskgroups as _taskgroups  # 3.11+
except ImportError:  # pragma: no cover
    _taskgroups = None

from .state import (
    _MISS, _code_info, _CoroType, _GatheringFuture, _GenType, _LEAF_KINDS, _TASK_TYPES, _info, _keep_codes, _kinds,
    _stack_cache, _tid_of, _tids, _user)

from .objects import OBJ_KINDS, _obj_refs, obj_waits, on_obj, on_with_obj

_rec = None  # the recorder (set by asyncio_hooks.install)
# Functions (future) -> on text or None, asked about a wait on a future that no library function
# explains (kind None) before it is called a plain future: other hook modules (executor_hooks)
# name the futures they know.
future_describers = []


def _build_kinds():
    def add(obj, attr, kind):
        try:
            fn = getattr(obj, attr)
            fn = getattr(fn, "__func__", fn)
            _kinds[id(fn.__code__)] = kind
            _keep_codes.append(fn.__code__)
        except Exception:
            pass

    add(tasks, "sleep", "sleep")
    for name in dir(tasks):
        if name.endswith("__sleep0"):
            add(tasks, name, '{"kind":"sleep","delay":0}')
    add(tasks, "wait_for", "wait_for")
    add(tasks, "_wait", "wait")
    add(tasks, "wait", "wait")
    import asyncio.queues as q
    import asyncio.locks as lk
    import asyncio.streams as st
    for cls in (q.Queue,):
        add(cls, "get", '{"kind":"queue","op":"get"}')
        add(cls, "put", '{"kind":"queue","op":"put"}')
        add(cls, "join", '{"kind":"queue","op":"join"}')
    add(lk.Lock, "acquire", '{"kind":"lock"}')
    add(lk.Event, "wait", '{"kind":"event"}')
    add(lk.Condition, "wait", '{"kind":"condition"}')
    add(lk.Condition, "wait_for", '{"kind":"condition"}')
    add(lk.Semaphore, "acquire", '{"kind":"semaphore"}')
    if hasattr(lk, "Barrier"):
        add(lk.Barrier, "wait", '{"kind":"barrier"}')
    for m in ("read", "readline", "readexactly", "readuntil", "_wait_for_data"):
        add(st.StreamReader, m, '{"kind":"io","op":"read"}')
    add(st.StreamWriter, "drain", '{"kind":"io","op":"write"}')
    add(st, "open_connection", '{"kind":"io","op":"connect"}')
    BL = base_events.BaseEventLoop
    for m, op in (("sock_recv", "recv"), ("sock_recv_into", "recv"), ("sock_recvfrom", "recv"),
                  ("sock_sendall", "send"), ("sock_sendto", "send"), ("sock_accept", "accept"),
                  ("sock_connect", "connect"), ("getaddrinfo", "resolve"), ("create_connection", "connect"),
                  ("sock_sendfile", "send"), ("connect_read_pipe", "connect"), ("subprocess_exec", "spawn"),
                  ("shutdown_default_executor", "executor")):
        add(BL, m, '{"kind":"io","op":"%s"}' % op)
    try:
        from asyncio import selector_events as se
        for m, op in (("sock_recv", "recv"), ("sock_recv_into", "recv"), ("sock_sendall", "send"),
                      ("sock_accept", "accept"), ("sock_connect", "connect"), ("sock_recvfrom", "recv"),
                      ("sock_sendto", "send")):
            add(se.BaseSelectorEventLoop, m, '{"kind":"io","op":"%s"}' % op)
    except Exception:
        pass
    try:
        from asyncio import subprocess as sp
        add(sp.Process, "wait", '{"kind":"process"}')
        add(sp.Process, "communicate", '{"kind":"process"}')
    except Exception:
        pass
    if _taskgroups is not None:
        add(_taskgroups.TaskGroup, "__aexit__", "taskgroup")
    _LEAF_KINDS.update(k for k in _kinds.values() if k not in ("wait_for", "wait", "taskgroup"))


def _gather_on(children):
    ids = []
    for c in children:
        t = _tids.get(id(c))
        if t is not None:
            ids.append(str(t))
    return '{"kind":"gather","tasks":[%s]}' % ",".join(ids)


def _special_on(kind, frame, waiter):
    try:
        if kind == "next_request":
            return '{"kind":"io","op":"read"}'  # (a task waiter was named before: _on_waiter)
        if kind == "sleep":
            d = frame.f_locals.get("delay")
            return '{"kind":"sleep","delay":%s}' % (repr(float(d)) if d is not None else "null")
        if kind == "wait_for":
            f = frame.f_locals.get("fut")
            if f is not None and id(f) in _tids:
                return '{"kind":"task","task":%d}' % _tids[id(f)]
            return '{"kind":"future"}'
        if kind == "wait":
            fs = frame.f_locals.get("fs")
            if fs is not None:
                return _gather_on(fs)
        if kind == "taskgroup":
            tg = frame.f_locals.get("self")
            if tg is not None:
                return _gather_on(getattr(tg, "_tasks", ()))
    except Exception:
        pass
    return '{"kind":"future"}'


def _describe_slow(task, c):
    """Walk the await chain from the task's coroutine inward.

    Returns (cache key, stack text, innermost user site, kind, frame of the kind's function).
    The key is the codes (and, for user frames, the instruction offsets) of the chain: the same
    suspension point gives the same key, so its stack text and sites are computed once.
    """
    keys = []
    frames = []
    kind = None
    kframe = None
    user = _user
    while c is not None:
        t = type(c)
        if t is _CoroType:
            code = c.cr_code
            fr = c.cr_frame
            nxt = c.cr_await
        elif t is _GenType:
            code = c.gi_code
            fr = c.gi_frame
            nxt = c.gi_yieldfrom
        else:
            break
        if fr is None:
            break
        k = id(code)
        u = user.get(k)
        if u is None:
            u = user[k] = _rec.is_user_code(code)
        if u:
            keys.append(k)
            keys.append(fr.f_lasti)
            frames.append(fr)
        else:
            keys.append(k)
            kd = _info.get(k, _MISS)
            if kd is _MISS:
                kd = _code_info(code)  # asyncio's kinds, or a framework's found on first sight
            if kd is not None and kd is not True:
                kind = kd
                kframe = fr
        c = nxt
    return tuple(keys), frames, kind, kframe


def _frame_of_kind(task, kind):
    """The frame of the (innermost) library coroutine whose wait kind is `kind`, if needed."""
    if kind is None or (kind[0] == "{" and kind not in OBJ_KINDS) or kind == "next_request":
        return None  # (no frame needed to say what is awaited)
    c = task._coro
    found = None
    while c is not None:
        t = type(c)
        if t is _CoroType:
            if _info.get(id(c.cr_code)) == kind:
                found = c.cr_frame
            c = c.cr_await
        elif t is _GenType:
            if _info.get(id(c.gi_code)) == kind:
                found = c.gi_frame
            c = c.gi_yieldfrom
        else:
            break
    return found


class _Chain:
    """What _frame_of_kind reads of a task (its coroutine), for a coroutine without its task."""
    __slots__ = ("_coro",)

    def __init__(self, coro):
        self._coro = coro


def _on_text(task, kind, kframe):
    return _on_waiter(task, task._fut_waiter, kind, kframe)


def _on_waiter(task, w, kind, kframe, coro=None):
    """The `on` text of a step suspended on waiter `w`. With `coro` (a coroutine stepped outside
    the pure-Python task, as under uvloop), the frame of the library wait is found from it when
    `kframe` was not given."""
    if w is None:
        if kind == "sleep":
            return '{"kind":"sleep","delay":0}'
        return kind if (kind is not None and kind[0] == "{") else '{"kind":"yield"}'
    wt = type(w)
    if wt in _TASK_TYPES:
        return '{"kind":"task","task":%d}' % _tid_of(w)
    if wt is _GatheringFuture:
        return _gather_on(w._children)
    if kind is None:
        for describe in future_describers:
            on = describe(w)
            if on is not None:
                return on
        return '{"kind":"future"}'
    if kind[0] == "{" and kind not in OBJ_KINDS:
        return kind
    if kframe is None and coro is not None:
        kframe = _frame_of_kind(_Chain(coro), kind)
    if kind[0] == "{":
        return on_with_obj(task, kind, kframe)
    return _special_on(kind, kframe, w)


# Wait kinds whose object keeps its waiters' futures in a deque, newest last: the attribute.
_WAITER_LISTS = {'{"kind":"queue","op":"get"}': "_getters", '{"kind":"queue","op":"put"}': "_putters"}


def wait_suffix(task, tid, hit):
    """The rest of the step line (after "dur") of a step of task `tid` suspended in a wait that
    names its object (hit: its stack entry, whose constant suffix is None). A task waiting again
    on the same queue at the same place as at its last step (its waiter the newest in that
    queue's list: it is that queue's) gets the same text without reading frames."""
    w = task._fut_waiter
    e = obj_waits.get(id(task))
    if e is not None and e[0] is hit and e[1] == tid and w is not None:
        o = e[2]()
        if o is not None:
            dq = getattr(o, e[3], None)
            if dq and dq[-1] is w:
                return e[4]
    kind = hit[4]
    kframe = _frame_of_kind(task, kind)
    attr = _WAITER_LISTS.get(kind)
    if attr is None or w is None or kframe is None or type(w) in _TASK_TYPES or type(w) is _GatheringFuture:
        return ',"await":{"stack":[%s],"on":%s}}' % (hit[0], _on_text(task, kind, kframe))
    try:
        o = kframe.f_locals.get("self")
    except Exception:
        o = None
    if o is None:
        return ',"await":{"stack":[%s],"on":%s}}' % (hit[0], kind)
    suffix = ',"await":{"stack":[%s],"on":%s}}' % (hit[0], on_obj(task, kind, o))
    try:
        dq = getattr(o, attr, None)
        ref = _obj_refs.get(id(o))
        if dq and dq[-1] is w and ref is not None and ref() is o:
            if len(obj_waits) > 10000:
                obj_waits.clear()
            obj_waits[id(task)] = (hit, tid, ref, attr, suffix)
    except Exception:
        pass
    return suffix


def _describe(task):
    """(stack text, innermost user site, on text) of a suspended task."""
    key, frames, kind, kframe = _describe_slow(task, task._coro)
    hit = _stack_cache.get(key)
    if hit is None:
        hit = _stack_entry(key, frames, kind)
    return hit[0], hit[1], _on_text(task, kind, kframe)


def _stack_entry(key, frames, kind):
    sites = []
    for fr in frames:
        s = _rec.site_of_code(fr.f_code, fr.f_lineno)
        if s is not None:
            sites.append(s)
    stack = ",".join(map(str, sites))
    site = sites[-1] if sites else None
    # A constant suffix when what is awaited does not depend on the task's waiter object (a wait
    # on a lock, queue... names the object: see objects.on_with_obj).
    if kind is not None and kind[0] == "{" and kind not in OBJ_KINDS:
        const = ',"await":{"stack":[%s],"on":%s}}' % (stack, kind)
    else:
        const = None
    if kind is None:
        const_yield = ',"await":{"stack":[%s],"on":{"kind":"yield"}}}' % stack
    elif kind == "sleep":
        # No waiter: sleep(0)'s bare yield (the walk stopped at sleep()).
        const_yield = ',"await":{"stack":[%s],"on":{"kind":"sleep","delay":0}}}' % stack
    else:
        const_yield = const
    # Waiting on a task (no constant suffix): its text but for the task id (see _on_waiter).
    on_task = ',"await":{"stack":[%s],"on":{"kind":"task","task":%%d}}}' % stack
    # Waiting on anything else where that says no more than the kind (a server connection's
    # future completed by the next request's bytes: see _special_on).
    const_other = (',"await":{"stack":[%s],"on":%s}}' % (stack, _special_on(kind, None, None))
                   if kind == "next_request" else None)
    hit = (stack, site, const, const_yield, kind, on_task, const_other)
    if len(_stack_cache) > 100000:
        _stack_cache.clear()
    _stack_cache[key] = hit
    return hit
