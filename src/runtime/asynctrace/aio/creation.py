"""Task creation: ``BaseEventLoop.create_task`` and ``asyncio.create_task`` give each task its
creator, the line that created it and whether it is asyncio's own plumbing."""
import os
import sys

import asyncio
from asyncio import base_events, tasks
try:
    from asyncio import taskgroups as _taskgroups  # 3.11+
except ImportError:  # pragma: no cover
    _taskgroups = None
from asyncio import runners as _runners

from .state import (
    _user_site, _CoroType, _patch, _tid_of, _MISS, _announce_eager, _eager_ctx, _OUR_FILES, _PY, _STOP_CODES, _announce, _info, _keep_codes, _lasti_site, _name_check, _LOOP_CODES,
    _names, _ns, _state, _tids)
from .steps import (
    _after_step, _check_names, _end)
from . import foreign_steps

_rec = None  # the recorder (set by asyncio_hooks.install)


def _creation_site(frame):
    """Nearest user frame, unless the task was created by a loop callback of the library
    (e.g. a server's connection handler): then the line running the loop would be misleading.
    (asyncio.run(main()) did create the main task: the walk may pass run_until_complete.)"""
    return _user_site(frame, _STOP_CODES)


_EAGER_POSSIBLE = _PY >= (3, 12)  # a task factory may run a task's first step (eager tasks)


def _make_create_task(orig, foreign=False):
    """`foreign`: the create_task of a loop that runs its tasks past Handle._run (uvloop): its
    tasks' ends come from a done callback, and an unseen current task is announced on the spot."""
    def create_task(self, coro, *args, **kwargs):
        if not _state["on"]:
            return orig(self, coro, *args, **kwargs)
        cur = None
        try:
            cur = tasks.current_task(self)
            if cur is not None:
                ptid = _tids.get(id(cur))
                if ptid is None and foreign:
                    ptid = _tid_of(cur)
                elif ptid is None:
                    # An eager task creating children during its first step, inside its own
                    # create_task: announced now, from what that create_task knows.
                    ptid = _announce_eager(cur)
            else:
                ptid = _rec.current_task_id()
        except Exception:
            ptid = None
        ctx = None
        if _EAGER_POSSIBLE and getattr(self, "_task_factory", None) is not None:
            # The factory may start the task eagerly: what is known of it is kept where a step
            # of it (creating tasks, arming timeouts) finds it (see state._announce_eager).
            try:
                f = sys._getframe(1)
                ctx = [coro, ptid, _creation_site(f), _is_internal(coro, f), 0, self, None]
                _eager_ctx.append(ctx)
            except Exception:
                ctx = None
        # On a loop that steps its tasks in C (uvloop), each step goes through a proxy.
        arg = foreign_steps.wrap(coro) if foreign else coro
        if ctx is not None:
            t0 = ctx[4] = _ns()
            try:
                task = orig(self, arg, *args, **kwargs)
            finally:
                try:
                    _eager_ctx.remove(ctx)
                except ValueError:
                    pass
            t1 = _ns()
        else:
            task = orig(self, arg, *args, **kwargs)
            t0 = t1 = None  # (times of a first step run inside create_task: eager tasks only)
        try:
            stb = task._source_traceback
            if stb:
                # Debug mode records where the task was created: not in this module.
                while stb and stb[-1].filename in _OUR_FILES:
                    del stb[-1]
            tid = _tids.get(id(task))
            if tid is not None and (ctx is None or ctx[6] != tid):
                return task  # already known (seen running before this returned)
            f = sys._getframe(1)
            if ctx is not None:
                site, internal = ctx[2], ctx[3]
            else:
                site = _user_site(f, _STOP_CODES)  # (_creation_site)
                code = getattr(coro, "cr_code", None)
                # (a coroutine of code known not to be asyncio's is the program's: no call)
                internal = False if code is not None and _asyncio_codes.get(id(code)) is False else _is_internal(coro, f)
                if not foreign:
                    # The common case, in short: no first step ran, no done callback to add.
                    _announce(task, self, ptid, site, False, coro, internal)
                    return task
                if cur is None and site is not None and self.is_running():
                    # A callback of a compiled loop (a server's connection handler): no frame of
                    # its dispatch stops the walk, the lines that run the loop (asyncio.run) do.
                    site = _user_site(f, _LOOP_CODES)
            post = (task, self, ptid, site, internal, coro, t0, t1, cur, foreign, ctx is not None, tid)
            if (ctx is not None and f.f_code is _module_ct_code[0] and _module_slots
                    and f.f_locals.get("name") is not None):
                # asyncio.create_task (3.12) names the task once this returns: its end (and its
                # task line, unless it was announced during its first step) wait for the name.
                _module_slots[-1].append(post)
            else:
                _finish_creation(post)
        except Exception:
            pass
        return task
    return create_task


def _finish_creation(post):
    """The task line of a task just created (if not written during its first step) and, for an
    eager task, the step it already ran and possibly its end."""
    task, loop, ptid, site, internal, coro, t0, t1, cur, foreign, maybe_eager, tid = post
    eager = tid is not None
    if maybe_eager and not eager:
        # An eager task ran its first step inside the constructor.
        eager = task.done() or getattr(task._coro, "cr_suspended", False)
    if tid is None:
        tid = _announce(task, loop, ptid, site, eager, coro, internal, t0 if eager else None)
    if foreign:
        task.add_done_callback(_foreign_done)
        foreign_steps.attach(getattr(task, "_coro", None), task)
    if eager:
        _after_step(task, tid, t0, t1)
        if _name_check and cur is None:
            _check_names()  # no step of another task ends around this one


_module_ct_code = [None]  # the code of asyncio.tasks.create_task (see _make_module_create_task)
_module_slots = []        # per asyncio.create_task call under way: creations waiting for its name


def _foreign_done(task):
    if _state["on"]:
        try:
            tid = _tids.get(id(task))
            if tid is not None:
                _end(task, tid, _rec.now_us())
        except Exception:
            pass


_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep
_asyncio_codes = {}    # id(code) -> True if the code is asyncio's own (kept alive by _keep_codes)
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
        if code is None:
            # A compiled loop's own coroutine (uvloop's shutdown_asyncgens) made by asyncio.run.
            if type(coro) is _CoroType:
                return False
            while frame is not None and (frame.f_code.co_filename in _OUR_FILES
                                         or id(frame.f_code) in _PASS_CODES):
                frame = frame.f_back
            if frame is None:
                return False
            if frame.f_code.co_name == "close" and _is_asyncio_code(frame.f_code):
                return True  # asyncio.Runner.close's shutdown
            if id(frame.f_code) not in _RUN_CODES:
                return False
            loc = frame.f_locals
            return loc.get("main") is not coro and loc.get("coro") is not coro
        if not _is_asyncio_code(code):
            return False
        while frame is not None:
            fc = frame.f_code
            if id(fc) in _RUN_CODES:
                # asyncio.run: its main coroutine is the program's, the rest (shutdown) its own.
                loc = frame.f_locals
                return loc.get("main") is not coro and loc.get("coro") is not coro
            if fc.co_filename not in _OUR_FILES and id(fc) not in _PASS_CODES:
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
    _module_ct_code[0] = getattr(orig, "__code__", None)

    def create_task(coro, *args, **kwargs):
        slot = []
        _module_slots.append(slot)
        try:
            task = orig(coro, *args, **kwargs)
        finally:
            _module_slots.pop()
            for post in slot:
                try:
                    _finish_creation(post)
                except Exception:
                    pass
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


_hooked_loop_types = set()


def _hook_loop_type(loop):
    """A loop class that is no BaseEventLoop (uvloop.Loop, a Python subclass of a compiled loop):
    wrap its create_task (asyncio.create_task, gather, TaskGroup and run_until_complete all call
    it) for creation sites, parents and ends. Steps stay unseen there (no Handle._run)."""
    cls = type(loop)
    if cls in _hooked_loop_types or isinstance(loop, base_events.BaseEventLoop):
        return False
    _hooked_loop_types.add(cls)
    try:
        orig = cls.create_task
        if getattr(orig, "_asynctrace", False):
            return False
        new = _make_create_task(orig, foreign=True)
        new._asynctrace = True
        _patch(cls, "create_task", new)
        return True  # (the caller hooks its close too)
    except Exception:
        return False  # a compiled class: its tasks are announced when first seen
