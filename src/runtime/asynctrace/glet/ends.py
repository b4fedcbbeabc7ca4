"""How greenlets end: death at a switch, the exception that killed a plain greenlet (_Trap),
greenlets killed before they ever ran, renames seen at a switch."""
import sys
from functools import partial as _partial
from itertools import islice as _islice
from weakref import ref as _weakref

from ..recorder import _null
from . import wakes as _wakes
from .blocks import _block
from .state import _declare, _set_fast

_rec = None
_st = None


def _check_name(g, inf):
    """A gevent greenlet named by the program (`g.name = ...`, usually right after spawn)."""
    d = getattr(g, "__dict__", None)
    n = d.get("name") if isinstance(d, dict) else None
    if isinstance(n, str) and n != inf.name:
        inf.name = n
        _rec.emit('{"type":"name","task":%d,"name":%s}' % (inf.tid, _rec.jstr(n)))


def _started(inf):
    """`inf` ran (or died): no longer among its spawner's unstarted greenlets."""
    sp, inf.spawner = inf.spawner, None
    if sp is not None and sp.unstarted:
        sp.unstarted.pop(inf.tid, None)


def _reap_unstarted(st, sp, now):
    """End the greenlets `sp` spawned that were killed before they ever ran. gevent's kill of
    such a greenlet neither switches nor calls anything Python can see, so this is noticed at
    the spawner's next switch (the end's time is an upper bound; who killed it is not known).
    At most 32 are looked at per switch, round robin: a spawner with thousands of greenlets
    waiting to start (spawn_later) must not pay for all of them at every switch."""
    u = sp.unstarted
    for tid in list(_islice(u, 32)):
        inf = u.pop(tid)
        g = inf.ref()
        if g is None:
            continue
        if not g.dead:
            u[tid] = inf  # to the back of the line
        else:
            _forget(st, g, inf)
            by, site = inf.kill if inf.kill is not None else (None, None)
            _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":%s,"site":%s,"cause":"kill"}'
                      % (inf.tid, now, _null(by), _null(site)))
            _emit_end(st, g, inf, now)


def _forget(st, g, inf):
    """`g` ended: no longer a live greenlet of ours; joins still name it by its task id."""
    if inf.spawner is not None:
        _started(inf)
    st.info.pop(id(g), None)
    try:
        k = id(g)
        # (dropped with the greenlet by a callback that runs no Python code: see state._new_info)
        st.ended[k] = (inf.tid, _weakref(g, _partial(st.ended.pop, k)))
    except TypeError:
        pass


def _on_death(st, g, inf, start, now, event, trap=None):
    _forget(st, g, inf)
    if not inf.raw:
        _check_name(g, inf)
    if not inf.declared:
        _declare(inf, g)
    t0 = _st.t0
    start_ns, end_ns = t0 + start * 1000, t0 + now * 1000
    inf.end_ns = end_ns
    woke = _wakes.link(st, inf, start_ns, end_ns) if inf.wake is not None else None
    st.last_death = (inf.tid, end_ns)
    _rec.emit_step((inf.tid, start_ns, end_ns, "}" if woke is None else (woke, "}")))
    if now - start > st.block_us:
        _block(st, inf.tid, start, now)
    if trap is not None and _Trap(trap, inf.tid, now).arm():
        return
    _emit_end(st, g, inf, now, event)


_UNKNOWN_ERR = '{"type":"Exception","message":"raised into its parent greenlet","site":null}'


class _Trap:
    """Learns which exception killed a plain greenlet. It is raised in the parent right after the
    switch: a one-shot frame tracer on the parent's frame sees it there. If compiled code (the
    gevent hub) catches it first, the first Python call made meanwhile disarms the trap (taking
    the exception from gevent's ``handle_error`` arguments when that is the call), and any next
    switch disarms it too. Only used when no other tracer (debugger, coverage) is active, since
    sys.settrace would replace it."""

    def __init__(self, frame, tid, now):
        self.frame, self.tid, self.now = frame, tid, now

    def arm(self):
        if sys.gettrace() is not None or self.frame.f_trace is not None:
            return False
        try:
            self.frame.f_trace_lines = False
            self.frame.f_trace = self.local
            sys.settrace(self.glob)
            _st.trap = self
            _set_fast(_st)
            return True
        except Exception:
            self.tid = None
            self.disarm(None)
            return False

    def local(self, fr, event, arg):
        if event == "exception":
            self.disarm(_error_json(arg[1], arg[2]))
            return None
        return self.local

    def glob(self, fr, event, arg):
        err = None
        try:
            if event == "call" and fr.f_code.co_name == "handle_error" and "gevent" in fr.f_code.co_filename:
                exc = fr.f_locals.get("value")
                if isinstance(exc, BaseException):
                    err = _error_json(exc, fr.f_locals.get("tb"))
        except Exception:
            pass
        self.disarm(err or _UNKNOWN_ERR)
        return None

    def disarm(self, err):
        if _st is not None and _st.trap is self:
            _st.trap = None
            _set_fast(_st)
        try:
            sys.settrace(None)
            if self.frame is not None and self.frame.f_trace == self.local:
                self.frame.f_trace = None
        except Exception:
            pass
        self.frame = None
        if err is not None and self.tid is not None:
            tid, self.tid = self.tid, None
            _rec.emit('{"type":"end","task":%d,"ts":%d,"state":"failed","error":%s}' % (tid, self.now, err))


def _emit_end(st, g, inf, now, event=None):
    state, err = "done", None
    gg = st.gevent_greenlet
    if gg is not None and isinstance(g, gg):
        try:
            exc = g.exception
            if exc is not None:
                state = "failed"
                err = _error_json(exc)
            else:
                val = g.value
                if isinstance(val, BaseException) and type(val).__name__ == "GreenletExit":
                    state = "cancelled"
                    err = '{"type":"GreenletExit","message":%s,"site":null}' % _rec.jstr(str(val))
        except Exception:
            pass
    elif event == "throw":
        # The exception propagates into the parent; it is not observable from here.
        state = "failed"
        err = _UNKNOWN_ERR
    elif inf.thrown:
        # A plain greenlet that had an exception thrown into it and then finished normally:
        # greenlet swallows GreenletExit, so it was killed.
        state = "cancelled"
        err = '{"type":"GreenletExit","message":"","site":null}'
    _rec.emit('{"type":"end","task":%d,"ts":%d,"state":"%s"%s}'
              % (inf.tid, now, state, "" if err is None else ',"error":' + err))


def _error_json(exc, tb=None):
    site = None
    try:
        site = _rec.site_of_traceback(tb if tb is not None else exc.__traceback__)
    except Exception:
        pass
    try:
        msg = str(exc)
    except Exception:
        msg = ""
    return '{"type":%s,"message":%s,"site":%s}' % (
        _rec.jstr(type(exc).__name__), _rec.jstr(msg), "null" if site is None else site)
