"""Executor work items: ``loop.run_in_executor`` / ``asyncio.to_thread`` (and what uses them, such
as ``loop.getaddrinfo``).

Each call becomes a work item with an id: ``exec`` lines say when it was submitted (by which task,
from which user line, which function), when a worker thread started it (and which thread), and
when it finished (with the error it raised, if any). The awaiting task's step says
``{"kind":"executor","item":N}`` (see ``on_text_of``).

Nothing is wrapped around the user's function (its traceback, pickling for process pools and
what it sees stay as untraced):
- ``BaseEventLoop.run_in_executor`` records the submission and marks the submitting thread
  while the executor's ``submit`` runs;
- ``concurrent.futures.thread._WorkItem.__init__`` (thread pools, called inside ``submit`` before
  the item is queued) marks that one future with the item's id: ``Future.set_running_or_notify_cancel``
  (called by the worker right before the function) then gives the start and the thread, a done
  callback on it (called in the worker right after) the end;
- ``asyncio.futures.wrap_future`` gives the concurrent future of other executors (process pools:
  a done callback on the pool's thread in this process gives the end; the start is not seen).
"""
import _thread
import functools
import itertools
import sys
import threading

import asyncio
import concurrent.futures
from asyncio import base_events, events, futures as aio_futures

from . import import_watch

try:
    import contextvars
    _Context = contextvars.Context
except ImportError:  # pragma: no cover
    _Context = None

_get_ident = _thread.get_ident
_rec = None
_patches = []
_next_id = itertools.count(1).__next__
_pending = {}          # thread ident -> item being submitted from that thread
_STOP_CODES = set()    # ids of the loop's dispatch codes: a site walk stops there
_keep = []
# id(asyncio future returned by run_in_executor) -> (future, on text). The step hook reads it
# when a task suspends on a plain future. Pruned of done futures when it grows.
WAITS = {}
_PRUNE_AT = 256
_MISSING = object()
_func_cache = {}       # id(function run) -> (function, its text in the submitted line)
_ex_names = {}         # executor type -> its name as JSON text
_thread_names = {}     # thread ident -> (name, JSON text of the name)
_prune_at = [_PRUNE_AT]


class _Item(object):
    __slots__ = ("id", "attached", "pool")

    def __init__(self, iid, pool):
        self.id = iid
        self.attached = False
        self.pool = pool


def on_text_of(fut):
    """The await ``on`` text for a task suspended on `fut`, or None when it is no work item's."""
    hit = WAITS.get(id(fut))
    if hit is not None and hit[0] is fut:
        return hit[1]
    return None


def _patch(owner, name, new):
    had = name in getattr(owner, "__dict__", {})
    orig = getattr(owner, name)
    _patches.append((owner, name, orig, had))
    setattr(owner, name, new)
    return orig


def uninstall():
    _on[0] = False
    while _patches:
        owner, name, orig, had = _patches.pop()
        try:
            setattr(owner, name, orig)
        except Exception:
            pass
    _pending.clear()
    WAITS.clear()
    awaits = sys.modules.get(__package__ + ".aio.awaits")
    if awaits is not None and on_text_of in awaits.future_describers:
        awaits.future_describers.remove(on_text_of)


def _unwrap(func):
    """The function the program asked to run: to_thread's partial(ctx.run, f, ...) gives f."""
    for _ in range(8):
        if isinstance(func, functools.partial):
            inner = func.func
            owner = getattr(inner, "__self__", None)
            if _Context is not None and type(owner) is _Context and func.args:
                func = func.args[0]
            else:
                func = inner
        else:
            break
    return func


def _describe_func(func):
    """The submitted line's text about the function run: func, def site or module."""
    func = _unwrap(func)
    key = id(func)
    hit = _func_cache.get(key)
    if hit is not None and hit[0] is func:
        return hit[1]
    name, site, module = _func_info(func)
    text = ',"func":%s%s%s' % (_rec.jstr(name), ',"def":%d' % site if site is not None else "",
                               ',"module":%s' % _rec.jstr(module) if module else "")
    if len(_func_cache) > 10000:
        _func_cache.clear()
    _func_cache[key] = (func, text)  # holds the function: its id stays its own
    return text


def _func_info(func):
    """(name, site id of its def line or None, module or None) of the function run."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if not isinstance(name, str):
        name = type(func).__name__
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    site = None
    module = None
    if code is not None and _rec.is_user_code(code):
        site = _rec.site_of_code(code, code.co_firstlineno)
    else:
        module = getattr(func, "__module__", None)
        if not isinstance(module, str):
            module = None
    return name, site, module


def _call_site(frame):
    """The innermost user line of the caller's own stack (never a line that only runs the loop)."""
    is_user = _rec.is_user_code
    stop = _STOP_CODES
    n = 0
    while frame is not None and n < 200:
        code = frame.f_code
        if id(code) in stop:
            return None
        if is_user(code):
            return _rec.site_of_code(code, frame.f_lineno)
        frame = frame.f_back
        n += 1
    return None


def _pool_of(executor):
    if isinstance(executor, concurrent.futures.ThreadPoolExecutor):
        return "thread"
    if isinstance(executor, concurrent.futures.ProcessPoolExecutor):
        return "process"
    return "other"


def _error_text(exc):
    try:
        site = _rec.site_of_traceback(exc.__traceback__)
    except Exception:
        site = None
    try:
        msg = str(exc)
    except Exception:
        msg = ""
    return ',"error":{"type":%s,"message":%s%s}' % (
        _rec.jstr(type(exc).__name__), _rec.jstr(msg[:1000]), ',"site":%d' % site if site else "")


def _make_finish(iid):
    def finished(cf):
        try:
            ts = _rec.now_us()
            # Done callbacks run once the future is done: its state can be read without its lock.
            state = getattr(cf, "_state", None)
            if state is None:
                state = "CANCELLED" if cf.cancelled() else "FINISHED"
            if state != "FINISHED":
                _rec.emit('{"type":"exec","id":%d,"ts":%d,"state":"cancelled"}' % (iid, ts))
                return
            exc = getattr(cf, "_exception", _MISSING)
            if exc is _MISSING:
                exc = cf.exception(0)
            err = _error_text(exc) if exc is not None else ""
            _rec.emit('{"type":"exec","id":%d,"ts":%d,"state":"finished"%s}' % (iid, ts, err))
        except Exception:
            pass
    return finished


def _thread_text():
    """The current thread's name as JSON text (cached per thread while its name stays)."""
    ident = _get_ident()
    hit = _thread_names.get(ident)
    th = threading.current_thread()
    if hit is None or hit[0] is not th.name:
        hit = _thread_names[ident] = (th.name, _rec.jstr(th.name))
    return hit[1], ident


def _attach(item, cf, watch_start):
    item.attached = True
    if watch_start:
        # Read by the patched Future.set_running_or_notify_cancel (an int: no reference cycle).
        cf._asynctrace_exec = item.id
    cf.add_done_callback(_make_finish(item.id))


def _make_set_running(orig):
    def set_running_or_notify_cancel(self):
        ok = orig(self)
        if ok:
            iid = self.__dict__.get("_asynctrace_exec")
            if iid is not None:
                try:
                    ts = _rec.now_us()
                    name, ident = _thread_text()
                    _rec.emit('{"type":"exec","id":%d,"ts":%d,"state":"started","thread":%s,"ident":%d}'
                              % (iid, ts, name, ident))
                except Exception:
                    pass
        return ok
    set_running_or_notify_cancel.__wrapped__ = orig
    return set_running_or_notify_cancel


def _make_work_item_init(orig):
    def __init__(self, future, *args, **kwargs):
        orig(self, future, *args, **kwargs)
        if _pending:
            item = _pending.get(_get_ident())
            if item is not None and not item.attached:
                try:
                    _attach(item, future, True)
                except Exception:
                    pass
    __init__.__wrapped__ = orig
    return __init__


def _make_wrap_future(orig):
    @functools.wraps(orig)
    def wrap_future(future, *args, **kwargs):
        if _pending:
            item = _pending.get(_get_ident())
            if item is not None and not item.attached and isinstance(future, concurrent.futures.Future):
                try:
                    _attach(item, future, False)
                except Exception:
                    pass
        return orig(future, *args, **kwargs)
    return wrap_future


def _make_run_in_executor(orig):
    def run_in_executor(self, executor, func, *args):
        try:
            ex = executor if executor is not None else getattr(self, "_default_executor", None)
            pool = _pool_of(ex) if ex is not None else "thread"
            item = _Item(_next_id(), pool)
            ftext = _describe_func(func)
            site = _call_site(sys._getframe(1))
            task = _rec.current_task_id()
            ext = _ex_names.get(type(ex))
            if ext is None:
                ext = _ex_names[type(ex)] = _rec.jstr(type(ex).__name__ if ex is not None else "ThreadPoolExecutor")
            _rec.emit('{"type":"exec","id":%d,"ts":%d,"state":"submitted","task":%s,"site":%s%s,"executor":%s,"pool":"%s"}'
                      % (item.id, _rec.now_us(), "null" if task is None else int(task),
                         "null" if site is None else site, ftext, ext, pool))
        except Exception:
            return orig(self, executor, func, *args)
        ident = _get_ident()
        outer = _pending.get(ident)
        _pending[ident] = item
        try:
            fut = orig(self, executor, func, *args)
        except BaseException as exc:
            if not item.attached:
                try:
                    _rec.emit('{"type":"exec","id":%d,"ts":%d,"state":"finished"%s}'
                              % (item.id, _rec.now_us(), _error_text(exc)))
                except Exception:
                    pass
            raise
        finally:
            if outer is None:
                _pending.pop(ident, None)
            else:
                _pending[ident] = outer
        try:
            if len(WAITS) >= _prune_at[0]:
                for k, v in list(WAITS.items()):
                    if v[0].done():
                        del WAITS[k]
                # Many items in flight: prune again only when the map has doubled (amortized O(1)).
                _prune_at[0] = max(_PRUNE_AT, 2 * len(WAITS))
            WAITS[id(fut)] = (fut, '{"kind":"executor","item":%d}' % item.id)
        except Exception:
            pass
        return fut
    run_in_executor.__wrapped__ = orig
    return run_in_executor


def _hook_wait_text():
    """Make the step hook's wait description name work items: a wait on a future no library
    function explains is offered to the asyncio hooks' future describers first."""
    from .aio import awaits
    if on_text_of not in awaits.future_describers:
        awaits.future_describers.append(on_text_of)


_on = [False]


def _hook_work_items(cf_thread):
    if _on[0]:
        _patch(cf_thread._WorkItem, "__init__", _make_work_item_init(cf_thread._WorkItem.__init__))


def install(rec):
    """Install the executor hooks (after the asyncio hooks: the site walk stops at their step hook)."""
    global _rec
    _rec = rec
    _hook_wait_text()
    for code in (getattr(events.Handle._run, "__code__", None),
                 getattr(base_events.BaseEventLoop._run_once, "__code__", None)):
        if code is not None:
            _STOP_CODES.add(id(code))
            _keep.append(code)
    _patch(base_events.BaseEventLoop, "run_in_executor",
           _make_run_in_executor(base_events.BaseEventLoop.run_in_executor))
    _on[0] = True
    # Thread pools' module is imported by the first ThreadPoolExecutor (concurrent.futures
    # imports it lazily): a program that never uses one does not pay for importing it (and
    # queue) at its start.
    import_watch.when_imported("concurrent.futures.thread", _hook_work_items)
    F = concurrent.futures.Future
    _patch(F, "set_running_or_notify_cancel", _make_set_running(F.set_running_or_notify_cancel))
    _patch(aio_futures, "wrap_future", _make_wrap_future(aio_futures.wrap_future))
    if getattr(asyncio, "wrap_future", None) is _patches[-1][2]:
        _patch(asyncio, "wrap_future", aio_futures.wrap_future)
