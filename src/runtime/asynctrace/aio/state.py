"""Shared state of the asyncio hooks: the recorder, task and loop ids, the caches every hook reads.

The recorder (`_rec`) is set in every module of this package by ``asyncio_hooks.install``."""
import _thread
import os
import sys
import time
import types
import weakref

from asyncio import base_events, events, tasks

from ..recorder import Recorder as _Recorder

_ns = time.perf_counter_ns
_get_ident = _thread.get_ident
_CoroType = types.CoroutineType
_GenType = types.GeneratorType
_PY = sys.version_info[:2]

_patches = []          # (owner, name, original, had_own_attr)
# This package's files: frames of ours are left out of debug-mode source tracebacks and site walks.
_OUR_FILES = frozenset(
    os.path.join(d, n)
    for d in {os.path.dirname(__file__), os.path.dirname(os.path.abspath(__file__))}
    for n in os.listdir(d) if n.endswith(".py")) | frozenset(
    os.path.join(os.path.dirname(d), "asyncio_hooks.py")
    for d in {os.path.dirname(__file__), os.path.dirname(os.path.abspath(__file__))})
# Sets and dicts of code objects are keyed by id(code): hashing a code object walks its bytecode
# (3.12+), far too slow for the walks of every task creation. The codes are kept alive.
_STOP_CODES = set()  # ids of the loop's dispatch: a walk reaching it left the code that created the task
# ids of every code that only runs the loop (its dispatch, run_forever, run_until_complete,
# asyncio.run, Runner.run): a site is never above them (a loop callback asked, not the program).
_LOOP_CODES = set()
_keep_codes = []
_jstr = _Recorder.jstr
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
# id(task) -> (ns, origin) of its pending wake-up (see wakes). Cleaned with _tids.
_woke = {}
# [the task whose step the step hook is running, or None]: who does a queue put or an event set
# (objects.py), without asking the loop for its current task on every operation.
_running = [None]
# [timeout id, site, ...] of the deadlines delivering their cancellation right now (anyio's
# CancelScope._timeout): a cancel requested meanwhile is theirs.
_firing = []
_noted_cancel = set()  # task ids with a cancel line not yet followed by their end
_loop_ids = {}         # id(loop) -> loop id
_loop_refs = {}
_wait_for_stack = {}   # id(task) -> [[timeout id, site, fired, task id], ...] (wait_for on <= 3.11)
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


_graveyard = {}  # id(task) -> task id of failed tasks just collected (see _forget)
_failed = {}  # task id -> weakref of a failed task whose exception may still be unretrieved


def _forget(ref):
    k = _refkey.pop(ref, None)
    if k is not None:
        tid = _tids.pop(k, None)
        _memo.pop(k, None)
        _woke.pop(k, None)
        if tid in _failed:
            # A garbage cycle's weakrefs are cleared before its finalizers run: keep the id a
            # little longer for the "exception was never retrieved" report that follows.
            del _failed[tid]
            if len(_graveyard) > 1000:
                _graveyard.clear()
            _graveyard[k] = tid


def _register_tid(task, tid):
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
        tid = _announce_eager(task)
        if tid is None:
            tid = _announce(task, None, None, None)
    return tid


# Eager tasks under construction (3.12+): their first step runs inside the task factory, before
# create_task has the task. Each entry, pushed by the create_task hook around the factory call:
# [coroutine, parent task id, site, internal, t0 (ns), loop, task id once announced].
_eager_ctx = []


def _announce_eager(task):
    """`task` runs but is unknown: if it is the eager task whose create_task is under way (it
    creates tasks, arms a timeout... in its first step), announce it now with what that
    create_task knows, its creation time before that step. Else None."""
    if not _eager_ctx:
        return None
    try:
        coro = task._coro
    except Exception:
        return None
    for ent in reversed(_eager_ctx):
        if ent[0] is coro and ent[6] is None:
            ent[6] = _announce(task, ent[5], ent[1], ent[2], True, coro, ent[3], ent[4])
            return ent[6]
    return None


def _known_tid(task):
    """Id of a task already announced, or of the eager task whose first step runs now (announced
    then); None for any other task."""
    tid = _tids.get(id(task))
    if tid is None and _eager_ctx:
        tid = _announce_eager(task)
    return tid


def _announce(task, loop, parent_tid, site, eager=False, coro=None, internal=False, ts_ns=None):
    tid = _tids.get(id(task))
    fresh = tid is None
    if fresh:
        # Known by its id only once declared (see the end): a KeyboardInterrupt raised in the
        # middle of this (Ctrl-C on Python <= 3.10 lands anywhere) must not leave an id that
        # later lines name but no task line declares; the task is then announced again.
        tid = _rec.new_task_id()
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
    lid = None if loop is None else _loop_ids.get(id(loop)) or _loop_id(loop)
    # A task record, formatted by the writer (recorder._fmt_task): str and ints only.
    _rec.emit_step(("task", _ns() if ts_ns is None else ts_ns, tid, (
        "asyncio", name if type(name) is str else str(name), cname if type(cname) is str else str(cname),
        parent_tid, site, _get_ident(), lid, eager, internal)))
    if fresh:
        _register_tid(task, tid)
    return tid


def _current_task():
    loop = events._get_running_loop()
    if loop is None:
        return None
    return tasks.current_task(loop)


def _current_tid():
    loop = events._get_running_loop()
    if loop is None:
        return None
    t = tasks.current_task(loop)
    if t is None:
        return None
    tid = _tids.get(id(t))
    if tid is None and _eager_ctx:
        tid = _announce_eager(t)  # an eager task's first step, inside its create_task
    return tid


def _is_task_type(cls):
    if cls in _TASK_TYPES:
        return True
    if cls in _NOT_TASK_TYPES:
        return False
    ok = isinstance(cls, type) and (issubclass(cls, _TaskBase) or issubclass(cls, _PyTaskBase))
    (_TASK_TYPES if ok else _NOT_TASK_TYPES).add(cls)
    return ok


# Network waits of frameworks whose transports complete plain futures (aiohttp) or set events
# (anyio's streams under httpx, uvicorn's request cycle): the library function -> its wait kind,
# matched when its code is first seen (the modules are imported after the hooks).
# co_name -> [(path suffix, qualname, kind)].
_FRAMEWORK_KINDS = {}
for _suffix, _qual, _op in (
        ("aiohttp/streams.py", "StreamReader._wait", "read"),
        ("aiohttp/streams.py", "DataQueue.read", "read"),
        ("aiohttp/streams.py", "FlowControlDataQueue.read", "read"),
        ("aiohttp/base_protocol.py", "BaseProtocol._drain_helper", "write"),
        ("aiohttp/connector.py", "TCPConnector._resolve_host", "resolve"),
        ("aiohttp/connector.py", "TCPConnector._wrap_create_connection", "connect"),
        ("anyio/_backends/_asyncio.py", "SocketStream.receive", "read"),
        ("anyio/_backends/_asyncio.py", "SocketStream.send", "write"),
        ("anyio/_backends/_asyncio.py", "UNIXSocketStream.receive", "read"),
        ("anyio/_backends/_asyncio.py", "UNIXSocketStream.send", "write"),
        ("anyio/_backends/_asyncio.py", "TCPSocketListener.accept", "accept"),
        ("anyio/_backends/_asyncio.py", "UNIXSocketListener.accept", "accept"),
        ("anyio/_backends/_asyncio.py", "connect_tcp", "connect"),
        ("anyio/_core/_sockets.py", "getaddrinfo", "resolve"),
        ("uvicorn/protocols/http/h11_impl.py", "RequestResponseCycle.receive", "read"),
        ("uvicorn/protocols/http/httptools_impl.py", "RequestResponseCycle.receive", "read"),
        ("uvicorn/protocols/http/flow_control.py", "FlowControl.drain", "write"),
        ("asyncio/base_events.py", "Server.serve_forever", "accept")):
    _FRAMEWORK_KINDS.setdefault(_qual.rpartition(".")[2], []).append(
        (_suffix, _qual, '{"kind":"io","op":"%s"}' % _op))
del _suffix, _qual, _op
# A server connection's task between requests: the future it awaits is completed by the
# transport when the next request's bytes arrive (network I/O); the same function also awaits
# each request's handler task, so the kind is not a constant text (see awaits._special_on).
_FRAMEWORK_KINDS.setdefault("start", []).append(
    ("aiohttp/web_protocol.py", "RequestHandler.start", "next_request"))


def _framework_kind(code):
    """The wait kind of a framework's network function (see _FRAMEWORK_KINDS), else None."""
    cands = _FRAMEWORK_KINDS.get(code.co_name)
    if cands:
        fn = (code.co_filename or "").replace(os.sep, "/")
        qual = getattr(code, "co_qualname", None)
        for suffix, q, kind in cands:
            if fn.endswith(suffix) and (qual is None or qual == q):
                _kinds[id(code)] = kind
                _LEAF_KINDS.add(kind)
                _keep_codes.append(code)
                return kind
    return None


def _code_info(code):
    if _rec.is_user_code(code):
        r = True
    else:
        r = _kinds.get(id(code))
        if r is None:
            r = _framework_kind(code)
    _info[id(code)] = r  # the recorder keeps the code object alive, so the id stays its own
    return r


def _user_site(frame, stop=_LOOP_CODES):
    """The site of the innermost user frame from `frame` outwards, or None when a code of `stop`
    comes first: the request came from the loop (a callback, library internals), and the line
    running the loop (asyncio.run(main()), uvicorn.run()) did not ask for it."""
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
