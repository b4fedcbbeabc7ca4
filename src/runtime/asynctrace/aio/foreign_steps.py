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
    _CoroType, _LEAF_KINDS, _MISS, _code_info, _info, _memo, _name_check, _ns, _running,
    _stack_cache, _state, _tids)
from .awaits import _describe_slow, _on_waiter, _stack_entry
from . import steps

_rec = None  # the recorder (set by asyncio_hooks.install)
_block_ns = [float("inf")]  # the blocking threshold (ns), once the recorder is known


def _shape_memo(proxy, task, tid, c, ncode, lasti):
    """The common shape, the program's coroutine `c` suspended at instruction `lasti` awaiting a
    library leaf (sleep, a stream read, a queue get...) of code `ncode` directly: the stack entry
    of that suspension point, keyed as the step hook keys it on the standard loop
    ((id(code), lasti, the leaf's kind): no walk of the chain), remembered on the proxy (a task
    that suspends where it did last time looks nothing up) and as the task's last suspension
    (_memo); the one before is kept too (_m2: a loop alternating between two awaits, a server's
    read and its handler's work). None for any other shape."""
    kind = _info.get(id(ncode), _MISS)
    if kind is _MISS:
        kind = _code_info(ncode)
    if kind not in _LEAF_KINDS:
        return None
    code = c.cr_code
    u = _info.get(id(code), _MISS)
    if u is _MISS:
        u = _code_info(code)
    if u is not True:
        return None
    key = (id(code), lasti, kind)
    hit = _stack_cache.get(key)
    if hit is None:
        _k, frames, _kd, _kf = _describe_slow(task, c)
        hit = _stack_entry(key, frames, kind)
    last = (-1, None, tid, hit)
    _memo[id(task)] = last
    m = (lasti, ncode, hit, last)
    old = proxy._m
    if old is not None and (old[0] != lasti or old[1] is not ncode):
        proxy._m2 = old
    proxy._m = m
    return m


def _record(proxy, t0, t1, result, finished):
    """A step line, general version (a step that ended the coroutine or blocked, another shape
    of suspension, a task not known yet)."""
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
            m = None
            if type(nxt) is _CoroType:
                fr = c.cr_frame
                if fr is not None:
                    m = _shape_memo(proxy, task, tid, c, nxt.cr_code, fr.f_lasti)
            if m is not None:
                hit = m[2]
                kind = hit[4]
                kframe = None
            else:
                key, frames, kind, kframe = _describe_slow(task, c)
                hit = _stack_cache.get(key)
                if hit is None:
                    hit = _stack_entry(key, frames, kind)
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
    __slots__ = ("_c", "_task", "_tid", "_m", "_m2", "__weakref__")

    def __init__(self, coro):
        self._c = coro
        self._task = None
        self._tid = None
        # (lasti, awaited leaf's code, stack entry, _memo entry) of its last suspension and of
        # the one before (see _shape_memo)
        self._m = self._m2 = None

    def send(self, value):
        # The hottest path on such a loop: written flat, the general case in _record.
        ref = self._task
        task = ref() if ref is not None else None
        prev = _running[0]
        _running[0] = task
        t0 = _ns()
        try:
            r = self._c.send(value)
        except BaseException as e:
            _step_raised(self, t0, prev, e, _SEND_CODE)
            del e
            raise
        t1 = _ns()
        _running[0] = prev
        try:
            if t1 - t0 <= _block_ns[0] and _state["on"]:
                c = self._c
                nxt = c.cr_await
                tid = self._tid
                if type(nxt) is _CoroType and tid is not None:
                    ncode = nxt.cr_code
                    lasti = c.cr_frame.f_lasti
                    m = self._m
                    if m is None or m[1] is not ncode or m[0] != lasti:
                        m = self._m2
                        if m is not None and m[1] is ncode and m[0] == lasti and task is not None:
                            # Where it suspended the time before (a loop alternating two awaits).
                            self._m2 = self._m
                            self._m = m
                            _memo[id(task)] = m[3]
                        elif task is not None:
                            m = _shape_memo(self, task, tid, c, ncode, lasti)
                        else:
                            m = None
                    if m is not None:
                        hit = m[2]
                        if r is not None and getattr(r, "_asyncio_future_blocking", False):
                            suffix = hit[2]
                            if suffix is None:
                                suffix = ',"await":{"stack":[%s],"on":%s}}' % (
                                    hit[0], _on_waiter(task, r, hit[4], None, c))
                        else:
                            suffix = hit[3]
                            if suffix is None:
                                suffix = ',"await":{"stack":[%s],"on":%s}}' % (
                                    hit[0], _on_waiter(task, None, hit[4], None, c))
                        rec = _rec
                        rec.emit_step((tid, t0, t1, suffix))
                        if _name_check:
                            steps._check_names()
                        if len(rec.buf) > rec.flush_at:
                            rec.flush()
                        return r
        except Exception:
            return r  # a failure of the runtime never becomes the program's
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
