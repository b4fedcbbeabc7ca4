"""Shared state of the greenlet hooks: each greenlet's bookkeeping (_Info), the per-thread state
(_State), registering and declaring greenlets as tasks.

``_rec`` (the Recorder) and ``_st`` (the _State once greenlet is hooked) are set in every module of
this package by ``greenlet_hooks``."""
from functools import partial as _partial
from weakref import ref as _weakref

from .blocks import _start_sampler
from .wakes import start_poll_clock as _start_poll_clock

_rec = None          # the Recorder
_st = None           # _State once greenlet is hooked


def _safe(fn, *args):
    try:
        return fn(*args)
    except Exception:
        return None


class _Info:
    __slots__ = ("tid", "raw", "declared", "fields", "thrown", "kill", "site", "name", "steps", "ref",
                 "spawner", "unstarted", "held", "multi",
                 "wake", "marks", "end_ns")

    def __init__(self, tid, raw):
        self.tid = tid
        self.raw = raw            # a plain greenlet (no gevent Greenlet API)
        self.declared = False     # its "task" line is out
        self.fields = None        # (ts, parent, site) until declared
        self.thrown = False       # something was thrown into it (kill / throw())
        self.kill = None          # (by, site) of a pending kill request
        self.site = None          # its creation site (children spawned from library code inherit it)
        self.name = None          # the name in its task line
        self.steps = 0
        self.ref = None           # weak reference to the greenlet
        # A gevent greenlet spawned but not yet run is listed in its spawner's `unstarted`
        # (task id -> _Info): killed before it starts, it dies without a switch (see _reap_unstarted).
        self.spawner = None
        self.unstarted = None
        # Step records that name it (a switch into it) before its task line is out: written
        # right after that line (a plain greenlet is declared at its first suspension).
        self.held = None
        # The greenlets its gevent.joinall / wait / iwait still waits on, kept for its next
        # suspensions in that same call (see waits._gather_on).
        self.multi = None
        # What could wake it from its current wait, and the marks of lock releases its running
        # step made (see wakes); when it ended (perf_counter ns), for the greenlets joining it.
        self.wake = None
        self.marks = None
        self.end_ns = None


class _State:
    def __init__(self, gmod):
        self.greenlet_type = gmod.greenlet
        self.getcurrent = gmod.getcurrent
        self.settrace = gmod.settrace
        # id(greenlet) -> _Info. Keyed by id with a weak reference whose callback drops the
        # entry, so tracing never keeps an abandoned greenlet alive (its GreenletExit at
        # collection, and the finally blocks it runs, happen when they would untraced).
        self.info = {}
        self.hubs = {}            # id(hub) -> weakref: gevent hubs seen (never tasks)
        # When the running greenlet's step started (perf_counter_ns, not a trace ts): every
        # switch of this thread is traced, so the greenlet a switch leaves is the one that has
        # run since the previous switch, whoever that is.
        self.cur_start = 0
        self.t_hook = _rec.now_us()
        self.t0 = _rec._t0        # the recorder's clock origin, read inline on the hot path
        self.main = gmod.getcurrent()
        self.main_info = None
        self.prev_trace = None
        self.hub_type = None      # gevent.hub.Hub once gevent is imported
        self.gevent_greenlet = None
        # id(ended greenlet) -> (task id, weak reference dropping the entry): joins name them.
        self.ended = {}
        self.timeouts = {}        # id(Timeout) -> [timeout id, task id, Timeout]
        self.firing = None        # greenlet a gevent Timeout is being thrown into
        self.trap = None          # the armed _Trap, if any
        self.active = True
        self.created = 0          # greenlets registered so far (waits._gather_on tells calls apart by it)
        self.last_death = None    # (task id, ns) of the greenlet that ended last (wakes of a joinall)
        self.hub = None           # the hub last seen (one per thread; tested first, by identity)
        self.poll_ns = 0          # when its loop's poll last returned (see wakes.start_poll_clock)
        self.poll_watcher = None
        self.fhub = None          # the hub while the fast paths apply, else None (_set_fast)
        import _thread
        import time
        self.block_us = _rec.block_us
        self.block_sites = {}     # step start ts -> site sampled while it overran
        self.sampler = False
        self.real_sleep = time.sleep
        self.real_start_thread = _thread.start_new_thread
        # Read now: gevent's monkey-patching later makes get_ident() return greenlet ids.
        self.thread = _thread.get_ident()
        self.real_get_ident = _thread.get_ident


def _register_main(st):
    """The main greenlet becomes a task (at the first switch or spawn): it has run since the hook."""
    inf = st.main_info = _new_info(st.main, st.t_hook, None, None, True)
    _declare(inf, st.main)
    if not st.sampler:
        _start_sampler(st)
    return inf


def _current_info(st, cur):
    """The _Info of `cur`, the running greenlet, registering it if the hub started it without
    our noticing (the resume fast path does not look greenlets up): it came to life when its
    step began. None for a hub."""
    inf = st.info.get(id(cur))
    if inf is None:
        if cur is st.main:
            if st.main_info is None:
                inf = _register_main(st)
        elif id(cur) not in st.hubs and st.real_get_ident() == st.thread:
            inf = _discover(cur, None, (st.cur_start - st.t0) // 1000)
    return inf


def _current_tid():
    st = _st
    if st is None or not st.active:
        return None
    try:
        inf = _current_info(st, st.getcurrent())
    except Exception:
        return None
    if inf is None:
        return None
    _declare(inf)
    return inf.tid


def _new_info(g, ts, parent_tid, site, raw):
    inf = _Info(_rec.new_task_id(), raw)
    _st.created += 1
    inf.fields = (ts, parent_tid, site)
    inf.site = site
    info = _st.info
    key = id(g)
    # (Its entry goes with the greenlet, by a callback that runs no Python code: a Ctrl-C's
    # KeyboardInterrupt landing in a Python weakref callback is printed and lost, and the
    # program goes on. The id cannot name another greenlet before this one is freed.)
    inf.ref = _weakref(g, _partial(info.pop, key))
    info[key] = inf
    return inf


def _declare(inf, g=None, frame=None):
    """Write the task line (raw greenlets wait for their first suspension to know their function)."""
    if inf.declared:
        return
    # (Marked declared only once its line is written: a KeyboardInterrupt raised by a signal
    # in the middle of this must not leave a greenlet whose later lines name an unwritten task.)
    ts, parent, site = inf.fields
    st = _st
    if g is None:
        g = inf.ref() if inf.ref is not None else None
    name = coro = None
    if g is st.main or (g is not None and g.parent is None):
        name, coro = "main", None
    elif not inf.raw:
        run = getattr(g, "_run", None)
        coro = _callable_name(run)
        d = getattr(g, "__dict__", None) or {}
        # Reading gevent's `name` would allocate a minimal_ident and change the program's reprs.
        name = d.get("name") if isinstance(d.get("name"), str) else coro
        tn = _thread_names(run)
        if tn is not None:
            name, coro = tn
    else:
        f = frame
        if f is not None:
            while f.f_back is not None:
                f = f.f_back
            coro = f.f_code.co_name
        else:
            try:
                # Before it starts a plain greenlet still has its `run` (gevent.spawn_raw).
                run = g.run
                coro = _callable_name(run)
                tn = _thread_names(run)
            except Exception:
                coro = tn = None
            if tn is not None:
                name, coro = tn
        name = name or coro
    if name is None:
        name = "greenlet"
    inf.name = name
    _rec.emit('{"type":"task","id":%d,"ts":%d,"kind":"greenlet","name":%s,"coro":%s,"parent":%s,"site":%s,"thread":%d}'
              % (inf.tid, ts, _rec.jstr(name), _rec.jstr(coro) if coro else "null",
                 "null" if parent is None else parent, "null" if site is None else site,
                 st.thread))
    inf.declared = True
    inf.fields = None
    held = inf.held
    if held:
        inf.held = None
        for record in held:
            _rec.emit_step(record)


def _thread_names(run):
    """(name, function) of a monkey-patched threading.Thread running as a greenlet, else None."""
    t = getattr(run, "__self__", None)
    if t is None:
        return None
    for cls in type(t).__mro__:
        if cls.__name__ == "Thread" and cls.__module__ == "threading":
            d = getattr(t, "__dict__", {})
            target = d.get("_target")
            fn = _callable_name(target) if target is not None else _callable_name(getattr(type(t), "run", None))
            name = d.get("_name")
            return (name if isinstance(name, str) else fn), fn
    return None


def _callable_name(fn):
    if fn is None:
        return None
    while type(fn).__name__ == "partial" and hasattr(fn, "func"):
        fn = fn.func
    f = getattr(fn, "__func__", fn)
    n = getattr(f, "__qualname__", None) or getattr(f, "__name__", None)
    if n is None:
        n = type(fn).__name__
    return n


def _discover(g, origin, now):
    """A greenlet seen for the first time, as the target of a switch."""
    st = _st
    ht = st.hub_type
    if ht is not None and isinstance(g, ht):
        key = id(g)
        st.hubs[key] = _weakref(g, _partial(st.hubs.pop, key))
        st.hub = g  # (a destroyed hub stays referenced until the next one: harmless)
        _start_poll_clock(st, g)
        _set_fast(st)
        return None
    if g.parent is None:
        # A thread's main greenlet (ours is normally registered at the first switch).
        if g is st.main:
            return _register_main(st)
        inf = _new_info(g, now, None, None, True)
        _declare(inf, g)
        return inf
    gg = st.gevent_greenlet
    if gg is not None and isinstance(g, gg):
        parent = site = None
        try:
            sp = g.spawning_greenlet
            sp = sp() if sp is not None else None
            pinf = st.info.get(id(sp)) if sp is not None else None
            parent = _tid_of(st, sp) if sp is not None else None  # (also a spawner that ended)
            site = _site_of_light_stack(g.spawning_stack)
            if site is None and pinf is not None:
                site = pinf.site
        except Exception:
            pass
        inf = _new_info(g, now, parent, site, False)
        _declare(inf, g)
        return inf
    # A plain greenlet: by default its parent is the greenlet that created it. The creation call
    # is invisible to us; the switch that started it is the closest user line we know.
    pinf = st.info.get(id(g.parent))
    parent = pinf.tid if pinf is not None else None
    site = None
    if origin is not None and id(origin) not in st.hubs:
        try:
            site = _rec.site_of_frame(origin.gr_frame)
        except Exception:
            site = None
    if parent is None and id(g.parent) in st.hubs:
        # gevent.spawn_raw: started by the hub on behalf of its spawner.
        try:
            sp = g.spawning_greenlet()
            pinf = st.info.get(id(sp))
            parent = pinf.tid if pinf is not None else None
        except Exception:
            pass
    return _new_info(g, now, parent, site, True)


def _site_of_light_stack(f):
    """Nearest user line of gevent's recorded spawning stack (frames with f_code/f_lineno/f_back)."""
    is_user = _rec.is_user_code
    n = 0
    while f is not None and n < 64:
        code = f.f_code
        if is_user(code):
            return _rec.site_of_code(code, f.f_lineno)
        f = f.f_back
        n += 1
    return None


def _set_fast(st):
    """The fast paths apply while tracing, with no trap armed and no other tracer to chain."""
    fast = st.active and st.trap is None and st.prev_trace is None
    st.fhub = st.hub if fast else None


def _tid_of(st, g):
    inf = st.info.get(id(g))
    if inf is not None:
        return inf.tid
    v = st.ended.get(id(g))
    return v[0] if v is not None else None
