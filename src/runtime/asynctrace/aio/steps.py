"""Steps: the ``Handle._run`` hook (timing and await of every task step), task ends, blocking
steps and the sampler thread that names the line holding the loop."""
import sys
import weakref

from .state import (
    _code_info, _user_site, _running, _CoroType, _GenType, _LEAF_KINDS, _MISS, _TaskFast, _block_sites, _failed, _get_ident, _info,
    _TASK_TYPES, _is_task_type, _jstr, _memo, _name_check, _names, _noted_cancel, _ns, _stack_cache, _state,
    _tid_of, _tids)
from .awaits import (
    _describe, _describe_slow, _stack_entry, wait_suffix)
from . import wakes

_rec = None  # the recorder (set by asyncio_hooks.install)


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
    if _noted_cancel:
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


def _after_step(task, tid, t0, t1, wk=None):
    """Everything after a step, general version (eager tasks, unusual coroutine types).
    `wk`: the step's wake link (a wakes.woke entry), or None."""
    base = _rec._t0
    ts = (t0 - base) // 1000
    dur = (t1 - t0) // 1000
    if task.done():
        # (the wake link formatted by the writer: lines._woke_rest)
        _rec.emit_step((tid, t0, t1, "}" if wk is None else (wk, "}")))
        _end(task, tid, ts + dur)
        site = None
    else:
        stack, site, on = _describe(task)
        _memo[id(task)] = (-1, None, tid, (stack, site))
        _rec.emit_line('{"type":"step","task":%d,"ts":%d,"dur":%d%s,"await":{"stack":[%s],"on":%s}}'
                       % (tid, ts, dur, "" if wk is None else wakes.woke_text(wk), stack, on))
    if dur > _rec.block_us:
        _block(tid, t0, ts, dur, site)


def _block(tid, t0, ts, dur, site):
    bsite = _block_sites.pop((_get_ident(), t0), None)
    if bsite is None:
        bsite = site
    _rec.emit('{"type":"block","task":%d,"ts":%d,"dur":%d,"site":%s}'
              % (tid, ts, dur, "null" if bsite is None else bsite))


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
    woke = wakes.woke
    running = _running
    woke_pop = woke.pop
    callback_origin = wakes.callback_origin
    origin_pop = wakes.handle_origin.pop
    TimerHandle = wakes.TimerHandle
    note_ready = wakes.note_ready
    thread_callbacks = wakes.thread_callbacks
    task_types = _TASK_TYPES

    def _run(self):
        task = getattr(self._callback, "__self__", None)
        if type(task) is not TaskC and (task is None or not _is_task_type(type(task))):
            # A callback: what it makes ready was made ready by what made it ready (see wakes).
            try:
                ready = self._loop._ready
                n0 = len(ready)
            except Exception:
                return orig(self)
            if type(self) is not TimerHandle and (o := origin_pop(self, None)) is not None:
                o, tr = o  # (callback_origin's common case, inline)
            else:
                o, tr = callback_origin(self, ns())
            try:
                # Handle._run's body inlined (one Python call less per callback).
                self._context.run(self._callback, *self._args)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                _callback_error(self, exc)
            finally:
                if len(ready) != n0:
                    note_ready(ready, n0, None, o, tr)
                self = task = None  # (as Handle._run: no cycle through a traceback)
            return None
        try:
            ready = self._loop._ready
            n0 = len(ready)
        except Exception:
            ready = None
        kt = id(task)
        wk = woke_pop(kt, None) if woke else None
        running[0] = task
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
            running[0] = None
            if ready is not None and (n1 := len(ready)) != n0:
                w = getattr(ready[-1]._callback, "__self__", None) if n1 == n0 + 1 else None
                if w is task:
                    pass  # only its own next step after a bare yield
                elif type(w) is TaskC and not thread_callbacks:
                    # One other task made ready (a task created, a waiter woken): note_ready's
                    # common case, inline.
                    if id(w) not in woke:
                        o = tids.get(kt)
                        woke[id(w)] = (t1, _tid_of(task) if o is None else o)
                else:
                    try:
                        o = tids.get(kt)
                        note_ready(ready, n0, task, _tid_of(task) if o is None else o, t1)
                    except Exception:
                        pass
            try:
                c = task._coro
                if type(c) is CoroT and t1 - t0 <= block_ns:
                    nxt = c.cr_await
                    m = memo.get(kt)
                    if m is not None and nxt is not None and (
                            (c.cr_code is m[1]) if m[0] == -2 else
                            (type(nxt) is CoroT and nxt.cr_code is m[1] and c.cr_frame.f_lasti == m[0])):
                        # Suspended where it was last time: nothing to look up. Either the
                        # program's coroutine awaiting the same library leaf at the same
                        # instruction, or (lasti -2) a library leaf run as the task itself
                        # (a server connection's loop awaiting the next request, a task of
                        # queue.get()): the walk would stop at it whatever it awaits.
                        hit = m[3]
                        w = task._fut_waiter
                        if w is None:
                            suffix = hit[3]
                        elif (suffix := hit[2]) is None:
                            if type(w) is TaskC or type(w) in task_types:
                                o = tids.get(id(w))
                                suffix = hit[5] % (_tid_of(w) if o is None else o)
                            else:
                                suffix = hit[6]
                        if suffix is None:
                            suffix = wait_suffix(task, m[2], hit)  # (names the object waited on)
                        if wk is not None:
                            suffix = (wk, suffix)  # formatted by the writer (lines._woke_rest)
                        emit_step((m[2], t0, t1, suffix))
                        c = None
                    elif nxt is None and c.cr_frame is None and task.done():
                        # Finished. (A suspended coroutine awaits something: its frame, which
                        # reading cr_frame would build on 3.11+, is not needed to know that.)
                        # (_after_step's first case, inline)
                        tid = tids.get(kt)
                        if tid is None:
                            tid = _tid_of(task)
                        emit_step((tid, t0, t1, "}" if wk is None else (wk, "}")))
                        _end(task, tid, (t0 - rec._t0) // 1000 + (t1 - t0) // 1000)
                        c = None
                if c is not None:
                    tid = tids.get(kt)
                    if tid is None:
                        tid = _tid_of(task)
                    if type(c) is not CoroT or t1 - t0 > block_ns:
                        # blocking, or unusual (a finished coroutine was seen above)
                        _after_step(task, tid, t0, t1, wk)
                    else:
                        key = None
                        k = id(c.cr_code)
                        u = info.get(k)
                        if u is True:
                            # The common shape, the program's coroutine awaiting a library leaf
                            # (sleep, queue get, lock ...) directly: remembered for next time.
                            nxt = c.cr_await
                            if type(nxt) is CoroT:
                                ncode = nxt.cr_code
                                kind = info.get(id(ncode))
                                if kind in leaf:
                                    lasti = c.cr_frame.f_lasti
                                    key = (k, lasti, kind)
                        elif u in leaf:
                            # A library leaf run as the task itself: the walk stops at once.
                            kind = u
                            key = (kind,)
                            lasti = -2
                            ncode = c.cr_code
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
                                _after_step(task, tid, t0, t1, wk)
                            else:
                                keys.append(kind)
                                key = tuple(keys)
                        if key is not None:
                            hit = cache.get(key)
                            if hit is None:
                                _k, frames, _kd, _kf = _describe_slow(task, task._coro)
                                hit = _stack_entry(key, frames, kind)
                            memo[kt] = (lasti, ncode, tid, hit)
                            w = task._fut_waiter
                            if w is None:
                                suffix = hit[3]
                            elif (suffix := hit[2]) is None:
                                if type(w) is TaskC or type(w) in task_types:
                                    o = tids.get(id(w))
                                    suffix = hit[5] % (_tid_of(w) if o is None else o)
                                else:
                                    suffix = hit[6]
                            if suffix is None:
                                suffix = wait_suffix(task, tid, hit)
                            if wk is not None:
                                suffix = (wk, suffix)  # formatted by the writer (lines._woke_rest)
                            emit_step((tid, t0, t1, suffix))
            except Exception:
                pass
            if name_check:
                _check_names()
            if len(buf) > flush_at:
                flush()
            # Like Handle._run's `self = None`: a failed task's traceback keeps this frame
            # alive, and with it the task (a cycle), delaying "exception was never retrieved".
            self = task = c = nxt = fr = wk = ready = w = None
    _run.__wrapped__ = orig
    return _run


def _make_sampler(run_code, *step_codes):
    """Names the line that holds the loop: finds each thread's running step (our _run frame,
    whose local t0 is when the step began) and samples the innermost user frame. Runs on the
    recorder's writer thread (see Recorder.add_ticker), waking when the youngest running step
    reaches the sampling age (about twice per threshold while steps are short)."""
    # Sample from half the threshold on: on a busy machine this thread may not get to run
    # again before the step ends.
    threshold_ns = _rec.block_us * 500
    # Frames that run one step and hold its start in `t0`: _run, and the uvloop proxy's send/throw.
    codes = frozenset(map(id, (run_code,) + step_codes))

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
                while f is not None and id(f.f_code) not in codes and n < 200:
                    f = f.f_back
                    n += 1
                if f is None or id(f.f_code) not in codes:
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
                    site = _user_site(top)
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
