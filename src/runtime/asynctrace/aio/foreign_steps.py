"""Steps of tasks on a loop that runs them past ``Handle._run`` (uvloop): its tasks' coroutines
are wrapped in a coroutine proxy whose ``send``/``throw`` time each step and read where the task
suspended and on what, as the ``Handle._run`` hook does on the standard loop.

What the program can tell: ``task.get_coro()`` (and ``task._coro``) is the proxy, a
``collections.abc.Coroutine`` that forwards ``cr_code``, ``cr_frame``, ``cr_await``,
``cr_running``, ``__name__``, ``__qualname__`` and every other attribute to the program's
coroutine (so a task's repr, names, stack and ``asyncio.iscoroutine`` are as untraced), but it is
not the program's coroutine object (``is``) and ``inspect.iscoroutine`` says False for it.
Tracebacks do not show the proxy's frame."""
import weakref
from collections.abc import Coroutine

from .state import (
    _CoroType, _LEAF_KINDS, _info, _memo, _name_check, _ns, _running,
    _stack_cache, _state, _tids)
from .awaits import _describe_slow, _on_waiter, _stack_entry
from . import steps

_rec = None  # the recorder (set by asyncio_hooks.install)
_block_ns = [float("inf")]  # the blocking threshold (ns), once the recorder is known


def _record(proxy, t0, t1, result, finished):
    if not _state["on"]:
        return
    try:
        ref = proxy._task
        task = ref() if ref is not None else None
        if task is None:
            return
        tid = proxy._tid
        if tid is None:
            tid = proxy._tid = _tids.get(id(task))
            if tid is None:
                return
        if finished:
            _rec.emit_step((tid, t0, t1, "}"))  # its end line comes from the done callback
            site = None
        else:
            w = result if getattr(result, "_asyncio_future_blocking", False) else None
            c = proxy._c
            nxt = c.cr_await
            m = proxy._m
            if m is not None and type(nxt) is _CoroType and nxt.cr_code is m[1] and c.cr_frame.f_lasti == m[0]:
                # Suspended where it was last time (the program's coroutine awaiting a library
                # leaf directly): nothing to walk.
                hit = m[2]
                kind = hit[4]
                kframe = None
            else:
                key, frames, kind, kframe = _describe_slow(task, c)
                hit = _stack_cache.get(key)
                if hit is None:
                    hit = _stack_entry(key, frames, kind)
                if (type(nxt) is _CoroType and _info.get(id(c.cr_code)) is True
                        and _info.get(id(nxt.cr_code)) in _LEAF_KINDS):
                    proxy._m = (c.cr_frame.f_lasti, nxt.cr_code, hit)
                else:
                    proxy._m = None
                _memo[id(task)] = (-1, None, tid, hit)
            site = hit[1]
            suffix = hit[2] if w is not None else hit[3]
            if suffix is None:
                suffix = ',"await":{"stack":[%s],"on":%s}}' % (hit[0], _on_waiter(task, w, kind, kframe, c))
            _rec.emit_step((tid, t0, t1, suffix))
        if t1 - t0 > _block_ns[0]:
            dur = (t1 - t0) // 1000
            steps._block(tid, t0, (t0 - _rec._t0) // 1000, dur, site)
        if _name_check:
            steps._check_names()
        if len(_rec.buf) > _rec.flush_at:
            _rec.flush()
    except Exception:
        pass


class StepProxy(Coroutine):
    """The program's coroutine, stepped through Python so that each step is seen."""
    __slots__ = ("_c", "_task", "_tid", "_m", "__weakref__")

    def __init__(self, coro):
        self._c = coro
        self._task = None
        self._tid = None
        self._m = None  # (outer lasti, awaited leaf's code, stack entry) of its last suspension

    def send(self, value):
        running = _running
        prev = running[0]
        ref = self._task
        running[0] = ref() if ref is not None else None
        t0 = _ns()
        try:
            r = self._c.send(value)
        except BaseException as e:
            _step_raised(self, t0, prev, e, _SEND_CODE)
            del e
            raise
        t1 = _ns()
        running[0] = prev
        m = self._m
        if m is not None and t1 - t0 <= _block_ns[0] and _state["on"]:
            # Suspended where it was last time: the step line from the remembered entry.
            c = self._c
            nxt = c.cr_await
            if type(nxt) is _CoroType and nxt.cr_code is m[1] and c.cr_frame.f_lasti == m[0]:
                hit = m[2]
                suffix = hit[2] if getattr(r, "_asyncio_future_blocking", False) else hit[3]
                if suffix is not None:
                    rec = _rec
                    rec.emit_step((self._tid, t0, t1, suffix))
                    if _name_check:
                        steps._check_names()
                    if len(rec.buf) > rec.flush_at:
                        rec.flush()
                    return r
        _record(self, t0, t1, r, False)
        return r

    def throw(self, *args):
        running = _running
        prev = running[0]
        ref = self._task
        running[0] = ref() if ref is not None else None
        t0 = _ns()
        try:
            r = self._c.throw(*args)
        except BaseException as e:
            _step_raised(self, t0, prev, e, _THROW_CODE)
            del e
            raise
        t1 = _ns()
        running[0] = prev
        _record(self, t0, t1, r, False)
        return r

    def close(self):
        return self._c.close()

    def __await__(self):
        return self._c.__await__()

    # What asyncio's reprs and stacks read (format_helpers, base_tasks): the program's coroutine.
    @property
    def cr_code(self):
        return self._c.cr_code

    @property
    def cr_frame(self):
        return self._c.cr_frame

    @property
    def cr_await(self):
        return self._c.cr_await

    @property
    def cr_running(self):
        return self._c.cr_running

    def __getattr__(self, name):
        # (also __name__ and __qualname__: instances do not have them of their own)
        return getattr(self._c, name)

    def __repr__(self):
        return repr(self._c)


def _step_raised(proxy, t0, prev, e, code):
    """A step that raised: its step line, and the proxy's own frame (`code`) dropped from the
    traceback; the caller's bare raise adds none (tracebacks as untraced)."""
    t1 = _ns()
    _running[0] = prev
    _record(proxy, t0, t1, None, True)
    tb = e.__traceback__
    if tb is not None and tb.tb_frame.f_code is code:
        e.__traceback__ = tb.tb_next


_SEND_CODE = StepProxy.send.__code__
_THROW_CODE = StepProxy.throw.__code__


def wrap(coro):
    """A proxy for a native coroutine (anything else is left alone)."""
    if type(coro) is _CoroType and _state["on"]:
        if _block_ns[0] == float("inf"):
            _block_ns[0] = _rec.block_us * 1000
        return StepProxy(coro)
    return coro


def attach(proxy, task):
    """Tell the proxy its task, once create_task returned it."""
    if type(proxy) is StepProxy and proxy._task is None:
        try:
            proxy._task = weakref.ref(task)
            proxy._tid = _tids.get(id(task))
        except TypeError:
            pass
