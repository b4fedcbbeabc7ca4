"""greenlet and gevent instrumentation.

Nothing is imported or patched until the program itself imports ``greenlet`` or ``gevent``: an
import hook on ``sys.meta_path`` runs our setup right after those modules have executed (importing
gevent early would change the program's monkey-patching order).

One ``greenlet.settrace`` callback sees every switch of the tracing thread. The greenlet that
switched away ends a step (its suspension stack is read right there, which is also the only moment
it is reliable on Python 3.12 with old greenlets); the one switched into starts the next. The gevent
hub is plumbing: a switch into it is the current greenlet suspending, a switch out of it is a
greenlet resuming. Why a greenlet suspended is read from its innermost frames: gevent's own Python
functions (``sleep``, socket methods) name it directly; for calls into gevent's compiled parts
(``join``, ``joinall``, ``Event.wait``, queues, locks) the user frame's call instruction is decoded
once per code location and its receiver/arguments looked up in the frame.

Creation: gevent spawns (gevent.spawn/spawn_later/spawn_raw, pools and groups) are seen when they
happen, with their creator and user line; other gevent Greenlets when they first run, from the
spawning greenlet and stack gevent records itself. A plain ``greenlet(...)`` cannot be observed
(the C type is immutable and replacing it breaks gevent): it is recorded when first switched into,
its parent attribute as creator and that first switch as its site.
Only the thread that imported greenlet is traced (greenlet.settrace is per thread).

This module installs the hooks and ends the run; each concern lives in its own module of ``glet``
(imports, state, switches, waits, calls, ends, blocks, spawns, timeouts, locks, events,
queues, wakes).
"""
import sys

from .glet import (blocks, calls, ends, events, imports, locks, objects, queues, spawns, state, switches,
                   timeouts, waits, wakes)
from .glet.calls import _decode_call  # noqa: F401  (the decoder's unit test reads it here)
from .glet.ends import _UNKNOWN_ERR, _emit_end, _error_json
from .glet.imports import _applied
from .glet.spawns import _patch_gevent, _patch_pool
from .glet.state import _State, _current_tid, _declare, _safe, _set_fast
from .glet.switches import _make_trace

_rec = None          # the Recorder
_st = None           # _State once greenlet is hooked
_MODULES = (blocks, calls, ends, events, imports, locks, objects, queues, spawns, state, switches, timeouts,
            waits, wakes)


def on_imported(rec, name, module):
    """The runtime's own watch (cli._hook_greenlet) saw `name` (one of WATCHED) execute: this
    module is imported only then, so a program that never uses greenlet does not pay for it."""
    global _rec
    if _rec is None:
        _rec = rec
        for mod in _MODULES:
            mod._rec = rec
        rec.add_current_task_provider(_current_tid)
        rec.add_finalizer(_finalize)
    _safe(_on_import, name, module)


def _on_import(name, module):
    if name in _applied:
        return
    _applied.add(name)
    if name == "greenlet":
        _hook_greenlet(module)
    elif name == "gevent":
        if "greenlet" not in _applied and "greenlet" in sys.modules:
            _on_import("greenlet", sys.modules["greenlet"])
        if _patch_gevent(module) and "gevent.pool" in sys.modules:
            _on_import("gevent.pool", sys.modules["gevent.pool"])
    elif name == "gevent.pool":
        _patch_pool(module)
    elif name == "gevent.lock":
        locks.patch_lock_module(module)
    elif name == "gevent.event":
        events.patch_event_module(module)
    elif name == "gevent.queue":
        queues.patch_queue_module(module)


def _hook_greenlet(gmod):
    global _st
    st = _State(gmod)
    _st = st
    for mod in _MODULES:
        mod._st = st
    # The main greenlet is the program's main task; it exists from the start, but its task line
    # waits for the first switch so a program that imports greenlet and never switches shows none.
    st.cur_start = st.t0 + st.t_hook * 1000
    global _trace
    _trace = _make_trace(st)
    prev = gmod.settrace(_trace)
    if prev is not None:
        st.prev_trace = prev
    _set_fast(st)


# ---------------------------------------------------------------------------------------------
# End of run.

def stop():
    """Stop tracing switches (the output is gone, a forked child, the end of the run). False if
    it was not tracing."""
    st = _st
    if st is None or not st.active:
        return False
    st.active = False
    _set_fast(st)
    try:
        st.settrace(st.prev_trace)
    except Exception:
        pass
    return True


def _finalize():
    """Close what is still open: the running greenlet's step, greenlets that never finished."""
    if not stop():
        return
    st = _st
    if st.trap is not None:
        st.trap.disarm(_UNKNOWN_ERR)
    if st.main_info is None and not st.info:
        return  # greenlet imported but never switched: nothing to say
    now = _rec.now_us()
    try:
        cur = st.getcurrent()
    except Exception:
        cur = None
    for inf in list(st.info.values()):
        g = inf.ref()
        if g is None:
            continue
        try:
            if not inf.declared:
                _declare(inf, g, getattr(g, "gr_frame", None))
            if g is cur:
                start = (st.cur_start - st.t0) // 1000
                _rec.emit('{"type":"step","task":%d,"ts":%d,"dur":%d}' % (inf.tid, start, now - start))
                if g is not st.main and g.parent is not None:
                    # The program ended (sys.exit / os._exit / a signal) while this greenlet ran.
                    _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":null,"site":null,"cause":"shutdown"}'
                              % (inf.tid, now))
                    _rec.emit('{"type":"end","task":%d,"ts":%d,"state":"cancelled","error":{"type":"GreenletExit","message":"running when the program ended","site":null}}'
                              % (inf.tid, now))
                else:
                    err = _rec.exit_error
                    if err is not None:
                        # The uncaught exception, with the user line that raised it when known.
                        exc = getattr(sys, "last_value", None)
                        if isinstance(exc, BaseException) and type(exc).__qualname__ == err[0]:
                            ej = _error_json(exc, getattr(sys, "last_traceback", None))
                        else:
                            ej = '{"type":%s,"message":%s,"site":null}' % (_rec.jstr(err[0]), _rec.jstr(err[1]))
                        _rec.emit('{"type":"end","task":%d,"ts":%d,"state":"failed","error":%s}' % (inf.tid, now, ej))
                    else:
                        _rec.emit('{"type":"end","task":%d,"ts":%d,"state":"done"}' % (inf.tid, now))
            elif g.dead:
                _emit_end(st, g, inf, now)
            else:
                # Still suspended (or never started) when the program ended.
                _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":null,"site":null,"cause":"shutdown"}'
                          % (inf.tid, now))
                _rec.emit('{"type":"end","task":%d,"ts":%d,"state":"cancelled","error":{"type":"GreenletExit","message":"still suspended at exit","site":null}}'
                          % (inf.tid, now))
        except Exception:
            pass
    st.info.clear()
