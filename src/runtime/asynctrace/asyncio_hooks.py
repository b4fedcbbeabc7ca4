"""asyncio instrumentation: tasks, steps, awaits, timeouts, cancellations, ends, blocking steps.

This module installs and removes the hooks; each concern lives in its own module of ``aio``
(state, creation, awaits, steps, loops, cancels, timeouts).

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
import sys

import asyncio
from asyncio import base_events, events, tasks
try:
    from asyncio import timeouts as _timeouts  # 3.11+
except ImportError:  # pragma: no cover - 3.9/3.10
    _timeouts = None
try:
    from asyncio import taskgroups as _taskgroups  # 3.11+
except ImportError:  # pragma: no cover
    _taskgroups = None
from asyncio import runners as _runners

from .aio import anyio_scopes, awaits, cancels, creation, foreign_steps, loops, objects, state, steps, timeouts, wakes
from .aio.state import (
    _GatheringFuture, _LOOP_CODES, _PY, _PyTaskBase, _STOP_CODES, _TASK_TYPES, _TaskBase, _TaskFast,
    _current_tid, _keep_codes, _patch, _patches, _state)
from .aio.awaits import (
    _build_kinds)
from .aio.steps import (
    _make_run, _make_sampler)
from .aio.creation import (
    _build_pass_codes, _make_create_task, _make_module_create_task)
from .aio.loops import (
    _finalize, _make_call_exception_handler, _make_close, _make_new_event_loop, _make_set_running_loop)
from .aio.cancels import (
    _install_monitoring, _make_call_soon, _make_cancel_all, _make_gather_cancel, _make_task_class,
    _make_tg_abort)
from .aio.timeouts import (
    _make_cancel_and_wait, _make_on_timeout, _make_reschedule, _make_timeout_aexit,
    _make_timeout_factory, _make_wait_for)


def uninstall():
    """Restore everything (forked child, broken output). Safe to call more than once."""
    _state["on"] = False
    anyio_scopes.uninstall()
    objects.uninstall()
    while _patches:
        owner, name, orig, had = _patches.pop()
        try:
            setattr(owner, name, orig)
        except Exception:
            pass
    cancels._release_monitoring()


def install(rec):
    for mod in (state, creation, awaits, steps, loops, cancels, timeouts, anyio_scopes, wakes, objects,
                foreign_steps):
        mod._rec = rec
    rec.set_asyncio_current(_current_tid)
    rec.add_finalizer(_finalize)
    rec.add_finalizer(cancels._release_monitoring)  # the tool id is the program's again
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
    _LOOP_CODES.update(_STOP_CODES)
    BL = base_events.BaseEventLoop
    for fn in (events.Handle._run.__wrapped__, BL.run_forever, BL.run_until_complete, _runners.run,
               getattr(getattr(_runners, "Runner", None), "run", None)):
        code = getattr(fn, "__code__", None)
        if code is not None:
            _LOOP_CODES.add(id(code))
            _keep_codes.append(code)
    srl = _make_set_running_loop(events._set_running_loop)
    _patch(events, "_set_running_loop", srl)
    if getattr(asyncio, "_set_running_loop", None) is srl.__wrapped__:
        _patch(asyncio, "_set_running_loop", srl)  # uvloop reads it from here, when imported
    P = events.BaseDefaultEventLoopPolicy
    _patch(P, "new_event_loop", _make_new_event_loop(P.new_event_loop))
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
    try:
        wakes.install(_patch)
    except Exception:
        pass
    try:
        objects.install()
    except Exception:
        objects.uninstall()
    _state["on"] = True
    try:
        anyio_scopes.install()
    except Exception:
        pass
    if hasattr(sys, "monitoring"):
        try:
            _install_monitoring()
        except Exception:
            pass
    _state["sampler"] = True
    rec.add_ticker(_make_sampler(run.__code__, foreign_steps._SEND_CODE, foreign_steps._THROW_CODE), max(0.005, min(0.1, rec.block_us / 2e6)))
