"""gevent spawns, recorded when they happen with their creator and user line."""
import sys

from . import wakes as _wakes
from .state import _current_info, _declare, _new_info, _safe
from .timeouts import _patch_timeout

_rec = None
_st = None


def _patch_gevent(gevent):
    """Spawns and timeouts of gevent just imported. True when done (the caller then patches
    gevent.pool if it was imported already)."""
    st = _st
    if st is None:
        return False
    import gevent.hub as ghub
    import gevent.greenlet as ggreenlet
    st.hub_type = ghub.Hub
    st.gevent_greenlet = ggreenlet.Greenlet
    for name in ("spawn", "spawn_later", "spawn_raw"):
        orig = getattr(gevent, name, None)
        if orig is not None:
            setattr(gevent, name, _wrap_spawn(orig, name != "spawn_later"))
    tmod = sys.modules.get("gevent.timeout")
    if tmod is not None:
        _patch_timeout(tmod.Timeout)
    return True


def _patch_pool(pool):
    group = getattr(pool, "Group", None)
    if group is not None and "spawn" in group.__dict__:
        group.spawn = _wrap_spawn(group.__dict__["spawn"], True)


def _wrap_spawn(orig, ready):
    """`ready`: the greenlet can run as soon as its spawner's step ends (not spawn_later's)."""
    def spawn(*args, **kwargs):
        g = orig(*args, **kwargs)
        _safe(_created, g, sys._getframe(1), ready)
        return g
    for a in ("__name__", "__qualname__", "__doc__", "__module__"):
        try:
            setattr(spawn, a, getattr(orig, a))
        except Exception:
            pass
    spawn.__wrapped__ = orig
    return spawn


def _created(g, frame, ready=False):
    """A gevent greenlet was just spawned: record it with its creation time, creator and site."""
    st = _st
    if st is None or not st.active or id(g) in st.info or not isinstance(g, st.greenlet_type):
        return
    if st.real_get_ident() != st.thread:
        return  # spawned in another thread (its own hub): switches there are not traced
    pinf = _current_info(st, st.getcurrent())
    site = _rec.site_of_frame(frame)
    if site is None and pinf is not None:
        site = pinf.site  # spawned by library code (a pool's map) running in that greenlet
    gg = st.gevent_greenlet
    raw = gg is None or not isinstance(g, gg)
    inf = _new_info(g, _rec.now_us(), pinf.tid if pinf is not None else None, site, raw)
    _declare(inf, g)
    if ready and pinf is not None:
        # Its first step is woken by its spawner, at the end of the spawning step (see wakes).
        m = _wakes.mark(pinf)
        inf.wake = (_wakes.FIRST, m, m[1])
    if pinf is not None and not raw:
        inf.spawner = pinf
        if pinf.unstarted is None:
            pinf.unstarted = {}
        pinf.unstarted[inf.tid] = inf
