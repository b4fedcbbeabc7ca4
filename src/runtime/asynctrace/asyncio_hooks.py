"""asyncio instrumentation: tasks, steps, awaits, timeouts, cancellations, ends, blocking steps.

The C-accelerated Task is left in place. What sees it:
- ``BaseEventLoop.create_task`` (every create_task / ensure_future / gather / TaskGroup / wait_for
  path goes through it) gives creation, creator and site, without replacing the task factory;
- ``Handle._run`` (pure Python, runs every task step of the standard loops) gives step timing;
  after the step the task's ``_fut_waiter`` and its coroutine chain (``cr_await``) tell where it
  suspended and on what;
- the pure-Python parts of timeouts, TaskGroup, gather and asyncio.run give deadlines and most
  cancellations; on 3.12+ a ``sys.monitoring`` CALL hook (each call site disabled after its first
  call unless it calls ``Task.cancel``) catches the user's own ``task.cancel()`` with its line;
- a sampler thread names the line that holds the loop when a step runs past ``--block-ms``.
"""
import _thread
import os
import sys
import time
import types
import weakref

import asyncio
from asyncio import base_events, events, futures, tasks

try:
    from asyncio import timeouts as _timeouts  # 3.11+
except ImportError:  # pragma: no cover - 3.9/3.10
    _timeouts = None
try:
    from asyncio import taskgroups as _taskgroups  # 3.11+
except ImportError:  # pragma: no cover
    _taskgroups = None
from asyncio import runners as _runners

_ns = time.perf_counter_ns
_get_ident = _thread.get_ident
_CoroType = types.CoroutineType
_GenType = types.GeneratorType
_PY = sys.version_info[:2]

_patches = []          # (owner, name, original, had_own_attr)
_THIS_FILE = __file__
from .recorder import Recorder as _R
_jstr = _R.jstr
del _R
_rec = None
_state = {"on": False, "tool": None, "sampler": False}

# id(task) -> task id; weakrefs clean the entry when the task object is collected, so ids are
# never confused when CPython reuses an address.
_tids = {}
_refkey = {}
_names = {}            # task id -> name announced (to emit a "name" line when it changed)
# task id -> task whose name may have changed (just created; set_name seen on 3.12+): compared
# with the announced one when the running step ends (asyncio names tasks after the factory).
_name_check = {}
# id(task) -> (lasti, code, task id, entry) of its last suspension: entry is the _stack_cache
# entry (entry[1]: the innermost user site). When the task's own coroutine suspends again at
# instruction `lasti` awaiting a coroutine of `code` (a library leaf), the step hook reuses the
# entry without building a key (the common shape: a loop awaiting the same line). Cleaned with
# _tids (a task's id is never confused with a later object's).
_memo = {}
_noted_cancel = set()  # task ids with a cancel line not yet followed by their end
_loop_ids = {}         # id(loop) -> loop id
_loop_refs = {}
_wait_for_stack = {}   # task id -> [[timeout id, site, fired], ...] (wait_for on <= 3.11)
_block_sites = {}      # (thread ident, t0) -> site sampled while that step ran
_stack_cache = {}      # tuple of (id(code), lasti) -> (stack text, innermost site)
_lasti_site = {}       # (id(code), lasti) -> site id
_user = {}             # id(code) -> bool (mirror of the recorder cache, local for speed)
_kinds = {}            # id(code) of a library coroutine -> what a task waits on there
_MISS = object()
# Wait kinds of library functions that never await the program's own code (the walk stops there).
_LEAF_KINDS = set()
_info = {}             # id(code) -> True (user code) | kind text (library, known) | None

_TASK_TYPES = set()
_NOT_TASK_TYPES = set()
_TaskBase = tasks.Task
_TaskFast = [_TaskBase]  # the task type of the step hook's fast path (see _make_task_class)
_PyTaskBase = getattr(tasks, "_PyTask", tasks.Task)
_GatheringFuture = getattr(tasks, "_GatheringFuture", None)


def _patch(owner, name, new):
    had = name in getattr(owner, "__dict__", {})
    orig = getattr(owner, name)
    _patches.append((owner, name, orig, had))
    setattr(owner, name, new)
    return orig


def uninstall():
    """Restore everything (forked child, broken output). Safe to call more than once."""
    _state["on"] = False
    while _patches:
        owner, name, orig, had = _patches.pop()
        try:
            setattr(owner, name, orig)
        except Exception:
            pass
    tool = _state.get("tool")
    if tool is not None:
        try:
            mon = sys.monitoring
            mon.set_events(tool, 0)
            mon.register_callback(tool, mon.events.CALL, None)
            mon.free_tool_id(tool)
        except Exception:
            pass
        _state["tool"] = None


# -- ids ------------------------------------------------------------------------------------
_graveyard = {}  # id(task) -> task id of failed tasks just collected (see _forget)
_failed = {}  # task id -> weakref of a failed task whose exception may still be unretrieved


def _forget(ref):
    k = _refkey.pop(ref, None)
    if k is not None:
        tid = _tids.pop(k, None)
        _memo.pop(k, None)
        if tid in _failed:
            # A garbage cycle's weakrefs are cleared before its finalizers run: keep the id a
            # little longer for the "exception was never retrieved" report that follows.
            del _failed[tid]
            if len(_graveyard) > 1000:
                _graveyard.clear()
            _graveyard[k] = tid


def _new_tid(task):
    tid = _rec.new_task_id()
    k = id(task)
    _tids[k] = tid
    try:
        _refkey[weakref.ref(task, _forget)] = k
    except TypeError:
        pass
    return tid


def _loop_id(loop, running=False):
    k = id(loop)
    lid = _loop_ids.get(k)
    if lid is None:
        lid = _rec.new_loop_id()
        _loop_ids[k] = lid

        def gone(ref, k=k):
            _loop_ids.pop(k, None)
            _loop_refs.pop(k, None)
        try:
            _loop_refs[k] = weakref.ref(loop, gone)
        except TypeError:
            pass
        cls = type(loop)
        _rec.emit('{"type":"loop","id":%d,"ts":%d,"state":"running","thread":%d,"class":%s%s}'
                  % (lid, _rec.now_us(), _get_ident(), _jstr("%s.%s" % (cls.__module__, cls.__qualname__)),
                     ',"partial":true' if _runs_past_hooks(loop, running) else ""))
    return lid


def _runs_past_hooks(loop, running):
    """Whether the loop makes or runs its tasks itself, past BaseEventLoop.create_task and
    Handle._run (uvloop does): then what the trace shows of its tasks is partial, and the reader
    must say so. Known when it starts running: it is not a BaseEventLoop, or it overrides
    create_task and already holds tasks our hook never saw (asyncio.run's main task is made
    just before). A standard loop holding a task made by calling Task() directly is not partial."""
    if not isinstance(loop, base_events.BaseEventLoop):
        return True
    if running and type(loop).create_task is not base_events.BaseEventLoop.create_task:
        try:
            return any(id(t) not in _tids for t in tasks.all_tasks(loop))
        except Exception:
            return False
    return False


def _tid_of(task):
    """Id of a task seen first somewhere other than create_task (announced on the spot)."""
    tid = _tids.get(id(task))
    if tid is None:
        tid = _announce(task, None, None, None)
    return tid


def _announce(task, loop, parent_tid, site, eager=False, coro=None, internal=False):
    tid = _tids.get(id(task))
    if tid is None:
        tid = _new_tid(task)
    try:
        name = task.get_name()
    except Exception:
        name = ""
    _names[tid] = name
    _name_check[tid] = task
    try:
        if coro is None:
            coro = task._coro  # (never get_coro(): it crashes on finished eager tasks in 3.12.1)
        cname = getattr(coro, "__qualname__", None) or getattr(coro, "__name__", None) or type(coro).__name__
    except Exception:
        cname = ""
    if loop is None:
        try:
            loop = task.get_loop()
        except Exception:
            loop = None
    lid = _loop_id(loop) if loop is not None else None
    # A task record, formatted by the writer (recorder._fmt_task): str and ints only.
    _rec.emit_step(("task", _ns(), tid, (
        "asyncio", name if type(name) is str else str(name), cname if type(cname) is str else str(cname),
        parent_tid, site, _get_ident(), lid, eager, internal)))
    return tid


def _current_tid():
    loop = events._get_running_loop()
    if loop is None:
        return None
    t = tasks.current_task(loop)
    if t is None:
        return None
    return _tids.get(id(t))


# -- creation -------------------------------------------------------------------------------
# Sets and dicts of code objects are keyed by id(code): hashing a code object walks its bytecode
# (3.12+), far too slow for the walks of every task creation. The codes are kept alive.
_STOP_CODES = set()  # ids of the loop's dispatch: a walk reaching it left the code that created the task


def _creation_site(frame):
    """Nearest user frame, unless the task was created by a loop callback of the library
    (e.g. a server's connection handler): then the line running the loop would be misleading."""
    stop = _STOP_CODES
    info = _info
    while frame is not None:
        code = frame.f_code
        u = info.get(id(code), _MISS)
        if u is _MISS:
            u = _code_info(code)
        if u is True:
            key = (id(code), frame.f_lasti)
            site = _lasti_site.get(key)
            if site is None:
                site = _lasti_site[key] = _rec.site_of_code(code, frame.f_lineno)
            return site
        if id(code) in stop:
            return None
        frame = frame.f_back
    return None


def _make_create_task(orig):
    def create_task(self, coro, *args, **kwargs):
        if not _state["on"]:
            return orig(self, coro, *args, **kwargs)
        cur = None
        try:
            cur = tasks.current_task(self)
            if cur is not None:
                ptid = _tids.get(id(cur))
                if ptid is None:
                    # An eager task creating children during its first step, inside its own
                    # create_task: give it its id now, announce it when that call returns.
                    ptid = _new_tid(cur)
                    _pending_announce.add(ptid)
            else:
                ptid = _rec.current_task_id()
        except Exception:
            ptid = None
        factory = getattr(self, "_task_factory", None)
        t0 = _ns()
        task = orig(self, coro, *args, **kwargs)
        try:
            stb = task._source_traceback
            if stb:
                # Debug mode records where the task was created: not in this module.
                while stb and stb[-1].filename == _THIS_FILE:
                    del stb[-1]
            tid = _tids.get(id(task))
            if tid is not None:
                if tid not in _pending_announce:
                    return task
                _pending_announce.discard(tid)
            eager = False
            if factory is not None and _PY >= (3, 12):
                # An eager task ran its first step inside the constructor.
                eager = task.done() or getattr(task._coro, "cr_suspended", False)
            f = sys._getframe(1)
            site = _creation_site(f)
            tid = _announce(task, self, ptid, site, eager, coro, _is_internal(coro, f))
            if eager:
                _after_step(task, tid, t0, _ns())
                if _name_check and cur is None:
                    _check_names()  # no step of another task ends around this one
        except Exception:
            pass
        return task
    return create_task


_pending_announce = set()  # ids given to eager tasks before their create_task returned

_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep
_asyncio_codes = {}    # id(code) -> True if the code is asyncio's own (kept alive by _keep_codes)
_keep_codes = []
# asyncio functions that only pass a coroutine through to create_task for their caller: the
# task is the caller's (asyncio.run(asyncio.sleep(1)) is the program's task, not asyncio's).
_PASS_CODES = set()
_RUN_CODES = set()


def _is_asyncio_code(code):
    r = _asyncio_codes.get(id(code))
    if r is None:
        fn = code.co_filename or ""
        r = _asyncio_codes[id(code)] = fn.startswith(_ASYNCIO_DIR) or os.path.abspath(fn).startswith(_ASYNCIO_DIR)
        _keep_codes.append(code)
    return r


def _is_internal(coro, frame):
    """asyncio's own plumbing (shutdown_asyncgens, shutdown_default_executor, ...): a coroutine
    of asyncio's code whose task was created by asyncio's code, not on the program's behalf."""
    try:
        code = getattr(coro, "cr_code", None)
        if code is None or not _is_asyncio_code(code):
            return False
        while frame is not None:
            fc = frame.f_code
            if id(fc) in _RUN_CODES:
                # asyncio.run: its main coroutine is the program's, the rest (shutdown) its own.
                loc = frame.f_locals
                return loc.get("main") is not coro and loc.get("coro") is not coro
            if fc.co_filename != _THIS_FILE and id(fc) not in _PASS_CODES:
                return _is_asyncio_code(fc)
            frame = frame.f_back
    except Exception:
        pass
    return False


def _build_pass_codes():
    def add(fn):
        fn = getattr(fn, "__wrapped__", fn)
        fn = getattr(fn, "__func__", fn)
        code = getattr(fn, "__code__", None)
        if code is not None:
            _PASS_CODES.add(id(code))
            _keep_codes.append(code)
    for name in ("create_task", "ensure_future", "_ensure_future", "gather", "_gather", "shield",
                 "wait_for", "wait", "_wait", "as_completed", "run_coroutine_threadsafe"):
        if hasattr(tasks, name):
            add(getattr(tasks, name))
    aci = getattr(tasks, "_AsCompletedIterator", None)  # 3.13 as_completed
    if aci is not None:
        add(aci.__init__)
    BL = base_events.BaseEventLoop
    add(BL.run_until_complete)
    if _taskgroups is not None:
        add(_taskgroups.TaskGroup.create_task)
    _RUN_CODES.add(id(_runners.run.__code__))
    _keep_codes.append(_runners.run.__code__)
    R = getattr(_runners, "Runner", None)
    if R is not None:
        _RUN_CODES.add(id(R.run.__code__))
        _keep_codes.append(R.run.__code__)


def _make_module_create_task(orig):
    # asyncio.create_task names the task after loop.create_task returned: report the name then.
    def create_task(coro, *args, **kwargs):
        task = orig(coro, *args, **kwargs)
        if kwargs.get("name") is not None:
            try:
                tid = _tids.get(id(task))
                if tid is not None and tid in _names:
                    name = task.get_name()
                    if name != _names[tid]:
                        _names[tid] = name
                        _rec.emit('{"type":"name","task":%d,"name":%s}' % (tid, _rec.jstr(name)))
            except Exception:
                pass
        return task
    create_task.__doc__ = orig.__doc__
    create_task.__wrapped__ = orig
    return create_task


# -- await inspection -----------------------------------------------------------------------
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


def _code_info(code):
    if _rec.is_user_code(code):
        r = True
    else:
        r = _kinds.get(id(code))
    _info[id(code)] = r  # the recorder keeps the code object alive, so the id stays its own
    return r


def _gather_on(children):
    ids = []
    for c in children:
        t = _tids.get(id(c))
        if t is not None:
            ids.append(str(t))
    return '{"kind":"gather","tasks":[%s]}' % ",".join(ids)


def _special_on(kind, frame, waiter):
    try:
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
            kd = _kinds.get(k)
            if kd is not None:
                kind = kd
                kframe = fr
        c = nxt
    return tuple(keys), frames, kind, kframe


def _frame_of_kind(task, kind):
    """The frame of the (innermost) library coroutine whose wait kind is `kind`, if needed."""
    if kind is None or kind[0] == "{":
        return None
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


def _on_text(task, kind, kframe):
    w = task._fut_waiter
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
        return '{"kind":"future"}'
    if kind[0] == "{":
        return kind
    return _special_on(kind, kframe, w)


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
    # A constant suffix when what is awaited does not depend on the task's waiter object.
    if kind is not None and kind[0] == "{":
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
    hit = (stack, site, const, const_yield, kind)
    if len(_stack_cache) > 100000:
        _stack_cache.clear()
    _stack_cache[key] = hit
    return hit


def _end(task, tid, ts):
    name = _names.pop(tid, None)
    try:
        now_name = task.get_name()
        if name is not None and now_name != name:
            _rec.emit('{"type":"name","task":%d,"name":%s}' % (tid, _rec.jstr(now_name)))
    except Exception:
        pass
    m = _memo.pop(id(task), None)
    site = m[3][1] if m is not None else None
    if task.cancelled():
        if tid not in _noted_cancel:
            # Requested by code the runtime cannot see (C code, or task.cancel() before 3.12).
            _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":null,"site":null,"cause":"cancel"}' % (tid, ts))
        _noted_cancel.discard(tid)
        _rec.emit('{"type":"end","task":%d,"ts":%d,"state":"cancelled","error":{"type":"CancelledError","message":"","site":%s}}'
                  % (tid, ts, "null" if site is None else site))
        return
    _noted_cancel.discard(tid)
    exc = task._exception  # read without marking it retrieved
    if exc is None:
        _rec.emit_step(("done", ts, tid, None))
        return
    try:
        msg = str(exc)
    except Exception:
        msg = ""
    try:
        _failed[tid] = weakref.ref(task)
    except TypeError:
        pass
    esite = _rec.site_of_traceback(exc.__traceback__)
    if esite is None:
        esite = site
    _rec.emit('{"type":"end","task":%d,"ts":%d,"state":"failed","error":{"type":%s,"message":%s,"site":%s}}'
              % (tid, ts, _rec.jstr(type(exc).__qualname__), _rec.jstr(msg), "null" if esite is None else esite))


def _check_names():
    items = list(_name_check.items())
    _name_check.clear()
    for tid, task in items:
        try:
            old = _names.get(tid)
            if old is None:
                continue  # ended: _end wrote its last name
            name = task.get_name()
            if name != old:
                _names[tid] = name
                _rec.emit('{"type":"name","task":%d,"name":%s}' % (tid, _jstr(name)))
        except Exception:
            pass


def _after_step(task, tid, t0, t1):
    """Everything after a step, general version (eager tasks, unusual coroutine types)."""
    base = _rec._t0
    ts = (t0 - base) // 1000
    dur = (t1 - t0) // 1000
    if task.done():
        _rec.emit_step((tid, t0, t1, "}"))
        _end(task, tid, ts + dur)
        site = None
    else:
        stack, site, on = _describe(task)
        _memo[id(task)] = (-1, None, tid, (stack, site))
        _rec.emit_line('{"type":"step","task":%d,"ts":%d,"dur":%d,"await":{"stack":[%s],"on":%s}}'
                       % (tid, ts, dur, stack, on))
    if dur > _rec.block_us:
        _block(tid, t0, ts, dur, site)


def _block(tid, t0, ts, dur, site):
    bsite = _block_sites.pop((_get_ident(), t0), None)
    if bsite is None:
        bsite = site
    _rec.emit('{"type":"block","task":%d,"ts":%d,"dur":%d,"site":%s}'
              % (tid, ts, dur, "null" if bsite is None else bsite))


def _is_task_type(cls):
    if cls in _TASK_TYPES:
        return True
    if cls in _NOT_TASK_TYPES:
        return False
    ok = isinstance(cls, type) and (issubclass(cls, _TaskBase) or issubclass(cls, _PyTaskBase))
    (_TASK_TYPES if ok else _NOT_TASK_TYPES).add(cls)
    return ok


def _callback_error(handle, exc):
    """What Handle._run does when its callback raises (same on 3.9-3.13 but for `debug`)."""
    from asyncio import format_helpers
    try:
        cb = format_helpers._format_callback_source(handle._callback, handle._args,
                                                    debug=handle._loop.get_debug())
    except TypeError:
        cb = format_helpers._format_callback_source(handle._callback, handle._args)
    context = {"message": "Exception in callback %s" % cb, "exception": exc, "handle": handle}
    if handle._source_traceback:
        context["source_traceback"] = handle._source_traceback
    handle._loop.call_exception_handler(context)


def _make_run(orig):
    """The step hook. Written flat: it runs once per task step, the hottest path of all."""
    tids = _tids
    TaskC = _TaskFast[0]
    CoroT = _CoroType
    GenT = _GenType
    info = _info
    leaf = _LEAF_KINDS
    MISS = _MISS
    cache = _stack_cache
    memo = _memo
    ns = _ns
    rec = _rec
    emit_step = rec.emit_step
    block_ns = rec.block_us * 1000
    name_check = _name_check
    buf = rec.buf
    flush_at = rec.flush_at
    flush = rec.flush

    def _run(self):
        task = getattr(self._callback, "__self__", None)
        if type(task) is not TaskC and (task is None or not _is_task_type(type(task))):
            return orig(self)
        t0 = ns()
        try:
            # Handle._run's body inlined for task steps (one Python call less per step).
            self._context.run(self._callback, *self._args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            _callback_error(self, exc)
        finally:
            t1 = ns()
            try:
                c = task._coro
                if type(c) is CoroT:
                    nxt = c.cr_await
                    m = memo.get(id(task))
                    if (m is not None and type(nxt) is CoroT and nxt.cr_code is m[1]
                            and c.cr_frame.f_lasti == m[0] and t1 - t0 <= block_ns):
                        # Suspended where it was last time: nothing to look up.
                        hit = m[3]
                        suffix = hit[3] if task._fut_waiter is None else hit[2]
                        if suffix is None:
                            suffix = ',"await":{"stack":[%s],"on":%s}}' % (
                                hit[0], _on_text(task, hit[4], _frame_of_kind(task, hit[4])))
                        emit_step((m[2], t0, t1, suffix))
                        c = None
                if c is not None:
                    tid = tids.get(id(task))
                    if tid is None:
                        tid = _tid_of(task)
                    if type(c) is not CoroT or t1 - t0 > block_ns or (fr := c.cr_frame) is None:
                        _after_step(task, tid, t0, t1)  # finished, blocking, or unusual
                    else:
                        key = None
                        k = id(c.cr_code)
                        if info.get(k) is True:
                            # The common shape, the program's coroutine awaiting a library leaf
                            # (sleep, queue get, lock ...) directly: remembered for next time.
                            nxt = c.cr_await
                            if type(nxt) is CoroT:
                                ncode = nxt.cr_code
                                kind = info.get(id(ncode))
                                if kind in leaf:
                                    lasti = fr.f_lasti
                                    key = (k, lasti, kind)
                        if key is None:
                            ncode = None
                            lasti = -1
                            # Inline walk of the await chain (see _describe_slow). info[id(code)]
                            # is True for user code, else the library function's wait kind or
                            # None. Frames are read for user code only: a library coroutine is
                            # usually new at each suspension (sleep(), get()) and reading its
                            # frame would build one.
                            keys = []
                            kind = None
                            while True:
                                tc = type(c)
                                if tc is CoroT:
                                    code = c.cr_code
                                    nxt = c.cr_await
                                elif tc is GenT:
                                    code = c.gi_code
                                    nxt = c.gi_yieldfrom
                                else:
                                    break
                                k = id(code)
                                u = info.get(k, MISS)
                                if u is MISS:
                                    u = _code_info(code)
                                if u is True:
                                    fr = c.cr_frame if tc is CoroT else c.gi_frame
                                    if fr is None:
                                        break
                                    keys.append(k)
                                    keys.append(fr.f_lasti)
                                elif u is not None:
                                    kind = u
                                    if u in leaf:
                                        break  # nothing of the program's can be awaited below it
                                c = nxt
                                if c is None:
                                    break
                            if not keys and kind is None and task.done():
                                # Finished (never "return" here: it would swallow SystemExit).
                                _after_step(task, tid, t0, t1)
                            else:
                                keys.append(kind)
                                key = tuple(keys)
                        if key is not None:
                            hit = cache.get(key)
                            if hit is None:
                                _k, frames, _kd, _kf = _describe_slow(task, task._coro)
                                hit = _stack_entry(key, frames, kind)
                            memo[id(task)] = (lasti, ncode, tid, hit)
                            if task._fut_waiter is None:
                                suffix = hit[3]
                            else:
                                suffix = hit[2]
                            if suffix is None:
                                suffix = ',"await":{"stack":[%s],"on":%s}}' % (
                                    hit[0], _on_text(task, kind, _frame_of_kind(task, kind)))
                            emit_step((tid, t0, t1, suffix))
            except Exception:
                pass
            if name_check:
                _check_names()
            if len(buf) > flush_at:
                flush()
            # Like Handle._run's `self = None`: a failed task's traceback keeps this frame
            # alive, and with it the task (a cycle), delaying "exception was never retrieved".
            self = task = c = nxt = fr = None
    return _run


# -- loops ----------------------------------------------------------------------------------
def _make_set_running_loop(orig):
    def _set_running_loop(loop):
        orig(loop)
        if loop is not None and _state["on"]:
            try:
                _loop_id(loop, True)
            except Exception:
                pass
    return _set_running_loop


def _make_close(orig):
    def close(self):
        if _state["on"] and id(self) in _loop_ids and not self.is_closed():
            try:
                pend = []
                for t in tasks.all_tasks(self):
                    if not t.done() and id(t) in _tids:
                        pend.append(str(_tids[id(t)]))
                _rec.emit('{"type":"loop","id":%d,"ts":%d,"state":"closed","pending":[%s]}'
                          % (_loop_ids[id(self)], _rec.now_us(), ",".join(pend)))
            except Exception:
                pass
        return orig(self)
    return close


def _make_call_exception_handler(orig):
    def call_exception_handler(self, context):
        try:
            if _state["on"]:
                msg = context.get("message", "")
                t = context.get("task") or context.get("future")
                if t is not None and isinstance(msg, str) and msg.startswith("Task exception was never retrieved"):
                    tid = _tids.get(id(t)) or _graveyard.pop(id(t), None)
                    _failed.pop(tid, None)
                    if tid is not None:
                        _rec.emit('{"type":"unretrieved","task":%d,"ts":%d}' % (tid, _rec.now_us()))
        except Exception:
            pass
        return orig(self, context)
    return call_exception_handler


def _finalize():
    """At the end of the run: failed tasks still alive whose exception nobody retrieved.
    asyncio reports them only when they are collected, which may be after the trace closed
    (a task kept in a list, a module global). `_log_traceback` is read, never cleared."""
    ts = _rec.now_us()
    for tid, ref in list(_failed.items()):
        try:
            t = ref()
            if t is not None and t._log_traceback:
                _rec.emit('{"type":"unretrieved","task":%d,"ts":%d}' % (tid, ts))
        except Exception:
            pass
    _failed.clear()


# -- cancellations --------------------------------------------------------------------------
def _cancel_line(target_tid, by, site, cause, timeout_id=None):
    _noted_cancel.add(target_tid)
    _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":%s,"site":%s,"cause":"%s"%s}'
              % (target_tid, _rec.now_us(), "null" if by is None else by, "null" if site is None else site,
                 cause, "" if timeout_id is None else ',"timeout":%d' % timeout_id))


def _make_cancel_all(orig):
    def _cancel_all_tasks(loop):
        if _state["on"]:
            try:
                for t in tasks.all_tasks(loop):
                    if not t.done():
                        _cancel_line(_tid_of(t), None, None, "shutdown")
            except Exception:
                pass
        return orig(loop)
    return _cancel_all_tasks


def _make_tg_abort(orig):
    def _abort(self):
        if _state["on"]:
            try:
                ptid = _tids.get(id(self._parent_task))
                m = _memo.get(id(self._parent_task))
                site = m[3][1] if m is not None else None
                for t in self._tasks:
                    if not t.done():
                        _cancel_line(_tid_of(t), ptid, site, "cancel")
            except Exception:
                pass
        return orig(self)
    return _abort


def _make_gather_cancel(orig):
    def cancel(self, *args, **kwargs):
        if _state["on"] and not self.done():
            try:
                by = _current_tid()
                site = _rec.site_of_frame(sys._getframe(1))
                for c in self._children:
                    if not c.done() and id(c) in _tids:
                        _cancel_line(_tids[id(c)], by, site, "cancel")
            except Exception:
                pass
        return orig(self, *args, **kwargs)
    return cancel


def _make_call_soon(orig):
    """<= 3.11: see task.cancel() through the wakeup it schedules. Cancelling a task cancels
    the future it waits on, whose callbacks (the task's wakeup) go through loop.call_soon while
    the frame that called cancel() is still the innermost Python frame."""
    fut_types = set()
    for name in ("Future", "_CFuture", "_PyFuture"):
        t = getattr(futures, name, None)
        if isinstance(t, type):
            fut_types.add(t)

    def call_soon(self, callback, *args, **kwargs):
        if args and type(args[0]) in fut_types:
            try:
                f = args[0]
                if f.cancelled():
                    t = getattr(callback, "__self__", None)
                    if t is not None and type(t) in _TASK_TYPES and t._fut_waiter is f:
                        tid = _tid_of(t)
                        if tid not in _noted_cancel:
                            _cancel_line(tid, _current_tid(), _rec.site_of_frame(sys._getframe(1)), "cancel")
            except Exception:
                pass
        handle = orig(self, callback, *args, **kwargs)
        stb = handle._source_traceback
        if stb:
            # Debug mode records where the callback was scheduled: not in this module.
            while stb and stb[-1].filename == _THIS_FILE:
                del stb[-1]
        return handle
    call_soon.__wrapped__ = orig
    return call_soon


def _make_task_class(base):
    """<= 3.11: the C Task's cancel() is invisible when the task waits on nothing (not started
    yet, after a bare yield, woken but not run): no future to cancel, no wakeup scheduled. The
    tasks asyncio creates are made of this subclass (same name, no new state), whose cancel()
    notes who asked and from which line, then runs the C one."""
    base_cancel = base.cancel

    def cancel(self, *args, **kwargs):
        if _state["on"]:
            try:
                if not self.done():
                    tid = _tid_of(self)
                    if tid not in _noted_cancel:
                        _cancel_line(tid, _current_tid(), _rec.site_of_frame(sys._getframe(1)), "cancel")
            except Exception:
                pass
        return base_cancel(self, *args, **kwargs)
    cancel.__doc__ = base_cancel.__doc__
    cls = type(base.__name__, (base,), {"__slots__": (), "cancel": cancel, "__doc__": base.__doc__,
                                         "__module__": base.__module__})
    cls.__qualname__ = base.__qualname__
    return cls


def _install_monitoring():
    """3.12+: see the user's task.cancel() calls (who and where) at almost no cost."""
    mon = sys.monitoring
    tool = None
    for cand in (4, 3, 5):
        if mon.get_tool(cand) is None:
            tool = cand
            break
    if tool is None:
        return
    mon.use_tool_id(tool, "asynctrace")
    DISABLE = mon.DISABLE
    BuiltinMethod = types.BuiltinMethodType
    MethodType = types.MethodType
    FunctionType = types.FunctionType

    c1 = _TaskBase.__dict__.get("cancel")
    c2 = _PyTaskBase.__dict__.get("cancel")
    s1 = _TaskBase.__dict__.get("set_name")
    s2 = _PyTaskBase.__dict__.get("set_name")

    def on_call(code, offset, fn, arg0):
        # Never raises: it runs inside every call site of the program until disabled there.
        try:
            if fn is c1 or fn is c2:
                target = arg0
            elif fn is s1 or fn is s2:
                tid = _tids.get(id(arg0))
                if tid is not None:
                    _name_check[tid] = arg0  # compared when the running step ends
                return None
            else:
                # Only the types whose __name__ is a plain attribute: asking an arbitrary
                # callable (a mock, a proxy) for it could run the program's code.
                tf = type(fn)
                if tf is not BuiltinMethod and tf is not MethodType and tf is not FunctionType:
                    return DISABLE
                fname = fn.__name__
                if fname != "cancel":
                    if fname != "set_name":
                        return DISABLE  # this call site never sees a cancel() again
                    t = fn.__self__ if tf is not FunctionType else arg0
                    if _state["on"] and _is_task_type(type(t)):
                        tid = _tids.get(id(t))
                        if tid is not None:
                            _name_check[tid] = t  # compared when the running step ends
                    return None
                if tf is BuiltinMethod or tf is MethodType:
                    target = fn.__self__
                else:
                    # Handle.cancel, Future.cancel, ...: keep watching, the same line may
                    # cancel a task next time.
                    target = arg0
            if not _state["on"] or not _is_task_type(type(target)) or target.done():
                return None
            tid = _tid_of(target)
            if tid in _noted_cancel:
                return None
            if _rec.is_user_code(code):
                site = _rec.site_of_code(code, _line_of(code, offset))
            else:
                site = _rec.site_of_frame(sys._getframe(1))
            _cancel_line(tid, _current_tid(), site, "cancel")
        except BaseException:
            pass
        return None

    mon.register_callback(tool, mon.events.CALL, on_call)
    mon.set_events(tool, mon.events.CALL)
    _state["tool"] = tool


_line_cache = {}


def _line_of(code, offset):
    key = (id(code), offset)
    ln = _line_cache.get(key)
    if ln is None:
        ln = code.co_firstlineno
        for start, end, line in code.co_lines():
            if start <= offset < end:
                if line is not None:
                    ln = line
                break
        _line_cache[key] = ln
    return ln


# -- timeouts -------------------------------------------------------------------------------
def _make_wait_for(orig):
    async def wait_for(fut, timeout, *args, **kwargs):
        if timeout is None or not _state["on"]:
            return await orig(fut, timeout, *args, **kwargs)
        try:
            tid = _current_tid()
            toid = _rec.new_timeout_id()
            site = _rec.site_of_frame(sys._getframe(1))
            _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"site":%s,"delay":%s,"state":"armed"}'
                      % (toid, "null" if tid is None else tid, _rec.now_us(), "null" if site is None else site,
                         _num(timeout)))
            entry = [toid, site, False, tid]
            _wait_for_stack.setdefault(tid, []).append(entry)
        except Exception:
            return await orig(fut, timeout, *args, **kwargs)
        try:
            return await orig(fut, timeout, *args, **kwargs)
        finally:
            try:
                st = _wait_for_stack.get(tid)
                if st:
                    st.remove(entry)
                    if not st:
                        del _wait_for_stack[tid]
                if not entry[2]:
                    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"cleared"}'
                              % (toid, "null" if tid is None else tid, _rec.now_us()))
            except Exception:
                pass
    wait_for.__doc__ = orig.__doc__
    wait_for.__wrapped__ = orig
    return wait_for


def _make_cancel_and_wait(orig):
    async def _cancel_and_wait(fut, *args, **kwargs):
        if _state["on"]:
            try:
                tid = _current_tid()
                st = _wait_for_stack.get(tid)
                entry = st[-1] if st else None
                target = _tid_of(fut)
                if entry is not None and not isinstance(sys.exc_info()[1], BaseException):
                    # No exception being handled: wait_for's deadline expired.
                    entry[2] = True
                    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"fired"}'
                              % (entry[0], "null" if tid is None else tid, _rec.now_us()))
                    _cancel_line(target, tid, entry[1], "timeout", entry[0])
                elif target not in _noted_cancel:
                    _cancel_line(target, tid, entry[1] if entry else None, "cancel")
            except Exception:
                pass
        return await orig(fut, *args, **kwargs)
    return _cancel_and_wait


def _num(x):
    try:
        return repr(float(x))
    except Exception:
        return "null"


def _make_reschedule(orig):
    def reschedule(self, when):
        r = orig(self, when)
        if _state["on"]:
            try:
                toid = self.__dict__.get("_asynctrace_id")
                if toid is None:
                    toid = self._asynctrace_id = _rec.new_timeout_id()
                    self._asynctrace_site = _rec.site_of_frame(sys._getframe(1))
                task = getattr(self, "_task", None)
                tid = _tids.get(id(task)) if task is not None else None
                delay = self.__dict__.pop("_asynctrace_delay", None)
                if delay is None and when is not None:
                    delay = round(max(0.0, when - events.get_running_loop().time()), 6)
                site = self._asynctrace_site
                _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"site":%s,"delay":%s,"state":"armed"}'
                          % (toid, "null" if tid is None else tid, _rec.now_us(), "null" if site is None else site,
                             _num(delay) if delay is not None else "null"))
            except Exception:
                pass
        return r
    return reschedule


def _make_timeout_factory(orig):
    # Keep the delay the program asked for (Timeout itself only knows the deadline).
    def timeout(delay):
        t = orig(delay)
        try:
            t._asynctrace_delay = delay
        except Exception:
            pass
        return t
    timeout.__doc__ = orig.__doc__
    timeout.__wrapped__ = orig
    return timeout


def _make_on_timeout(orig):
    def _on_timeout(self):
        if _state["on"]:
            try:
                toid = self.__dict__.get("_asynctrace_id")
                task = self._task
                tid = _tid_of(task) if task is not None else None
                if toid is not None:
                    self._asynctrace_fired = True
                    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"fired"}'
                              % (toid, "null" if tid is None else tid, _rec.now_us()))
                    if tid is not None:
                        _cancel_line(tid, None, self.__dict__.get("_asynctrace_site"), "timeout", toid)
            except Exception:
                pass
        return orig(self)
    return _on_timeout


def _make_timeout_aexit(orig):
    def __aexit__(self, *args):
        if _state["on"]:
            try:
                toid = self.__dict__.get("_asynctrace_id")
                if toid is not None and not self.__dict__.get("_asynctrace_fired"):
                    task = getattr(self, "_task", None)
                    tid = _tids.get(id(task)) if task is not None else None
                    self._asynctrace_fired = True  # only one final line
                    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"cleared"}'
                              % (toid, "null" if tid is None else tid, _rec.now_us()))
            except Exception:
                pass
        return orig(self, *args)
    return __aexit__


# -- block sampler --------------------------------------------------------------------------
def _make_sampler(run_code):
    """Names the line that holds the loop: finds each thread's running step (our _run frame,
    whose local t0 is when the step began) and samples the innermost user frame. Runs on the
    recorder's writer thread (see Recorder.add_ticker), waking when the youngest running step
    reaches the sampling age (about twice per threshold while steps are short)."""
    # Sample from half the threshold on: on a busy machine this thread may not get to run
    # again before the step ends.
    threshold_ns = _rec.block_us * 500

    def tick():
        if not _state["on"]:
            return None
        f = top = None
        wait = None
        try:
            now = _ns()
            for ident, f in sys._current_frames().items():
                top = f
                n = 0
                while f is not None and f.f_code is not run_code and n < 200:
                    f = f.f_back
                    n += 1
                if f is None or f.f_code is not run_code:
                    continue
                t0 = f.f_locals.get("t0")
                if not t0:
                    continue
                if now - t0 < threshold_ns:
                    left = (threshold_ns - (now - t0)) / 1e9 + 0.001
                    wait = left if wait is None else min(wait, left)
                    continue
                key = (ident, t0)
                if key not in _block_sites:
                    site = _rec.site_of_frame(top)
                    if site is not None:
                        _block_sites[key] = site
            if len(_block_sites) > 10000:
                _block_sites.clear()
        except Exception:
            pass
        finally:
            f = top = None
        return wait
    return tick


# -- install --------------------------------------------------------------------------------
def install(rec):
    global _rec
    _rec = rec
    rec.set_asyncio_current(_current_tid)
    rec.add_finalizer(_finalize)
    _TASK_TYPES.add(_TaskBase)
    _TASK_TYPES.add(_PyTaskBase)
    _build_kinds()
    _build_pass_codes()
    if _PY <= (3, 11) and tasks.Task is _TaskBase and _TaskBase is not _PyTaskBase:
        try:
            cls = _make_task_class(_TaskBase)
            _TASK_TYPES.add(cls)
            _TaskFast[0] = cls
            _patch(tasks, "Task", cls)
            if asyncio.Task is _TaskBase:
                _patch(asyncio, "Task", cls)
        except Exception:
            pass
    _patch(base_events.BaseEventLoop, "create_task", _make_create_task(base_events.BaseEventLoop.create_task))
    run = _make_run(events.Handle._run)
    _patch(events.Handle, "_run", run)
    _STOP_CODES.add(id(run.__code__))
    _STOP_CODES.add(id(base_events.BaseEventLoop._run_once.__code__))
    _keep_codes.append(run.__code__)
    _keep_codes.append(base_events.BaseEventLoop._run_once.__code__)
    _patch(events, "_set_running_loop", _make_set_running_loop(events._set_running_loop))
    _patch(base_events.BaseEventLoop, "close", _make_close(base_events.BaseEventLoop.close))
    _patch(base_events.BaseEventLoop, "call_exception_handler",
           _make_call_exception_handler(base_events.BaseEventLoop.call_exception_handler))
    ct = _make_module_create_task(tasks.create_task)
    _patch(tasks, "create_task", ct)
    if getattr(asyncio, "create_task", None) is ct.__wrapped__:
        _patch(asyncio, "create_task", ct)
    if hasattr(_runners, "_cancel_all_tasks"):
        _patch(_runners, "_cancel_all_tasks", _make_cancel_all(_runners._cancel_all_tasks))
    if _GatheringFuture is not None and "cancel" in _GatheringFuture.__dict__:
        _patch(_GatheringFuture, "cancel", _make_gather_cancel(_GatheringFuture.cancel))
    if _taskgroups is not None and hasattr(_taskgroups.TaskGroup, "_abort"):
        _patch(_taskgroups.TaskGroup, "_abort", _make_tg_abort(_taskgroups.TaskGroup._abort))
    if _PY <= (3, 11):
        _patch(base_events.BaseEventLoop, "call_soon", _make_call_soon(base_events.BaseEventLoop.call_soon))
        # wait_for wraps its awaitable in an inner task and cancels that on expiry.
        wf = _make_wait_for(tasks.wait_for)
        _patch(tasks, "wait_for", wf)
        _patch(asyncio, "wait_for", wf)
        _patch(tasks, "_cancel_and_wait", _make_cancel_and_wait(tasks._cancel_and_wait))
    if _timeouts is not None:
        T = _timeouts.Timeout
        _patch(T, "reschedule", _make_reschedule(T.reschedule))
        _patch(T, "_on_timeout", _make_on_timeout(T._on_timeout))
        _patch(T, "__aexit__", _make_timeout_aexit(T.__aexit__))
        tf = _make_timeout_factory(_timeouts.timeout)
        _patch(_timeouts, "timeout", tf)
        if getattr(asyncio, "timeout", None) is tf.__wrapped__:
            _patch(asyncio, "timeout", tf)
    _state["on"] = True
    if hasattr(sys, "monitoring"):
        try:
            _install_monitoring()
        except Exception:
            pass
    _state["sampler"] = True
    _rec.add_ticker(_make_sampler(run.__code__), max(0.005, min(0.1, _rec.block_us / 2e6)))
