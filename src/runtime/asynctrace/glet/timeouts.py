"""gevent.Timeout: armed (site, delay), fired (and the cancel it causes), cleared."""
import sys
from time import perf_counter_ns as _ns

from .state import _current_info, _declare, _safe

_rec = None
_st = None


def _patch_timeout(T):
    if getattr(T, "_asynctrace_patched", False):
        return
    o_start, o_exp, o_cancel, o_close = T.start, T._on_expiration, T.cancel, T.close

    def start(self):
        o_start(self)
        st = _st
        if st is not None and st.active:
            try:
                _timeout_armed(st, self, sys._getframe(1))
            except Exception:
                pass

    def _on_expiration(self, prev_greenlet, ex):
        st = _st
        ent = st.timeouts.pop(id(self), None) if st is not None else None
        if ent is not None and ent[2] is self:
            _safe(_timeout_fired, ent, prev_greenlet)
        old = st.firing if st is not None else None
        if st is not None:
            st.firing = prev_greenlet
        try:
            return o_exp(self, prev_greenlet, ex)
        finally:
            if st is not None:
                st.firing = old

    def clearing(orig):
        # cancel() and close(): the timeout's line says cleared, then gevent's own runs.
        def clear(self):
            st = _st
            if st is not None and id(self) in st.timeouts:
                try:
                    _timeout_cleared(st, self)
                except Exception:
                    pass
            return orig(self)
        return clear
    cancel, close = clearing(o_cancel), clearing(o_close)

    for fn, orig in ((start, o_start), (_on_expiration, o_exp), (cancel, o_cancel), (close, o_close)):
        fn.__name__ = orig.__name__
        fn.__qualname__ = orig.__qualname__
        fn.__doc__ = orig.__doc__
        fn.__wrapped__ = orig
    T.start, T._on_expiration, T.cancel, T.close = start, _on_expiration, cancel, close
    T._asynctrace_patched = True


def _timeout_armed(st, t, frame):
    secs = t.seconds
    if secs is None or not t.pending:
        return
    cur = st.getcurrent()
    inf = st.info.get(id(cur))
    if inf is None:
        inf = _current_info(st, cur)
        if inf is None:
            return  # armed by the hub itself (or an untracked thread): no task to show it on
    if not inf.declared:
        _declare(inf, cur)
    old = st.timeouts.pop(id(t), None)
    tid = _rec.new_timeout_id() if old is None else old[0]
    site = _rec.site_of_frame(frame)
    st.timeouts[id(t)] = [tid, inf.tid, t, site]
    try:
        secs = float(secs)
    except Exception:
        secs = None
    # Formatted by the writer (or the formatter process): see lines._fmt_timeout_armed.
    _rec.emit_step(("tarm", _ns(), (tid, inf.tid, site), secs))


def _timeout_fired(ent, g):
    st = _st
    now = _rec.now_us()
    tid, task = ent[0], ent[1]
    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"fired"}'
              % (tid, "null" if task is None else task, now))
    ginf = st.info.get(id(g))
    if ginf is not None:
        _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":null,"site":%s,"cause":"timeout","timeout":%d}'
                  % (ginf.tid, now, "null" if ent[3] is None else ent[3], tid))


def _timeout_cleared(st, t):
    ent = st.timeouts.pop(id(t), None)
    if ent is None or ent[2] is not t:
        return
    _rec.emit_step(("tclr", _ns(), ent[0], ent[1]))
