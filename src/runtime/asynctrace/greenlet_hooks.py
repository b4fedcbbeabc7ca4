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
"""
import sys
from itertools import islice as _islice
from time import perf_counter_ns as _ns
from weakref import ref as _weakref

from .recorder import _null

_rec = None          # the Recorder
_st = None           # _State once greenlet is hooked


def install(rec):
    """Hook greenlet/gevent now if already imported, otherwise when the program imports them."""
    global _rec
    if _rec is not None:
        return
    _rec = rec
    rec.add_current_task_provider(_current_tid)
    rec.add_finalizer(_finalize)
    if "greenlet" in sys.modules:
        _safe(_on_import, "greenlet", sys.modules["greenlet"])
    for name in ("gevent", "gevent.pool"):
        if name in sys.modules:
            _safe(_on_import, name, sys.modules[name])
    sys.meta_path.insert(0, _Finder())


def _safe(fn, *args):
    try:
        return fn(*args)
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# Import hook: run our setup right after the watched modules executed.

_WATCHED = ("greenlet", "gevent", "gevent.pool")


class _LoaderProxy:
    def __init__(self, loader, name):
        self._loader = loader
        self._name = name

    def __getattr__(self, attr):
        return getattr(self._loader, attr)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        orig = self._loader
        # Leave no trace of the proxy on the module.
        try:
            module.__loader__ = orig
            if getattr(module, "__spec__", None) is not None:
                module.__spec__.loader = orig
        except Exception:
            pass
        orig.exec_module(module)
        _safe(_on_import, self._name, module)


class _Finder:
    def __init__(self):
        self._busy = set()

    def find_spec(self, fullname, path=None, target=None):
        # (A find_spec without an import, e.g. importlib.util.find_spec("gevent"), only builds a
        # spec nobody executes: the setup runs once, when a module really executes.)
        if fullname not in _WATCHED or fullname in self._busy or fullname in _applied:
            return None
        self._busy.add(fullname)
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
            if spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec
            spec.loader = _LoaderProxy(spec.loader, fullname)
            return spec
        except Exception:
            return None
        finally:
            self._busy.discard(fullname)

    def invalidate_caches(self):
        pass


_applied = set()


def _on_import(name, module):
    if name in _applied:
        return
    _applied.add(name)
    if name == "greenlet":
        _hook_greenlet(module)
    elif name == "gevent":
        if "greenlet" not in _applied and "greenlet" in sys.modules:
            _on_import("greenlet", sys.modules["greenlet"])
        _patch_gevent(module)
    elif name == "gevent.pool":
        _patch_pool(module)


# ---------------------------------------------------------------------------------------------
# Per-greenlet bookkeeping and the switch callback.

class _Info:
    __slots__ = ("tid", "raw", "declared", "fields", "thrown", "kill", "site", "name", "steps", "ref", "memo",
                 "spawner", "unstarted")

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
        # Its last suspension to the hub, reused when it suspends there again (see _make_trace):
        # (innermost code, its lasti, depth of the innermost user frame, that frame, its lasti,
        # task id, the step line's end).
        self.memo = None
        # A gevent greenlet spawned but not yet run is listed in its spawner's `unstarted`
        # (task id -> _Info): killed before it starts, it dies without a switch (see _reap_unstarted).
        self.spawner = None
        self.unstarted = None


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
        import weakref
        self.ended = weakref.WeakKeyDictionary()  # ended greenlet -> task id (joins name them)
        self.timeouts = {}        # id(Timeout) -> [timeout id, task id, Timeout]
        self.firing = None        # greenlet a gevent Timeout is being thrown into
        self.trap = None          # the armed _Trap, if any
        self.active = True
        self.hub = None           # the hub last seen (one per thread; tested first, by identity)
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


def _hook_greenlet(gmod):
    global _st
    st = _State(gmod)
    _st = st
    # The main greenlet is the program's main task; it exists from the start, but its task line
    # waits for the first switch so a program that imports greenlet and never switches shows none.
    st.cur_start = st.t0 + st.t_hook * 1000
    global _trace
    _trace = _make_trace(st)
    prev = gmod.settrace(_trace)
    if prev is not None:
        st.prev_trace = prev
    _set_fast(st)


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
    inf.fields = (ts, parent_tid, site)
    inf.site = site
    info = _st.info
    key = id(g)

    def gone(_ref, key=key, inf=inf, info=info):
        if info.get(key) is inf:
            del info[key]

    inf.ref = _weakref(g, gone)
    info[key] = inf
    return inf


def _declare(inf, g=None, frame=None):
    """Write the task line (raw greenlets wait for their first suspension to know their function)."""
    if inf.declared:
        return
    inf.declared = True
    ts, parent, site = inf.fields
    inf.fields = None
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
        st.hubs[key] = _weakref(g, lambda _r, key=key, hubs=st.hubs: hubs.pop(key, None))
        st.hub = g  # (a destroyed hub stays referenced until the next one: harmless)
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


def _make_trace(st):
    """greenlet's trace function, called after every switch. Two fast paths cover most switches
    of a gevent program: the hub resuming a greenlet, and a greenlet suspending to the hub
    exactly where it did last time (same user frame and instruction, same library path): then
    its step record reuses the text written for that suspension.

    Whatever greenlet a switch leaves has run since the previous switch, so the one clock
    reading per switch (st.cur_start) is the start of the next step. A greenlet the hub
    starts for the first time is registered at its first suspension (or death), on the slow
    path, with that start as its creation time."""
    info = st.info
    ns = _ns
    rec = _rec
    emit_step = rec.emit_step
    block_ns = st.block_us * 1000
    slow = _trace_slow
    buf = rec.buf
    flush_at = rec.flush_at
    flush = rec.flush

    def trace(event, args):
        # st.fhub is the hub while the fast paths apply (None otherwise: see _set_fast).
        hub = st.fhub
        origin, target = args
        if origin is hub:
            if event == "switch":
                st.cur_start = ns()
                return
        elif target is hub:
            oinf = info.get(id(origin))
            if oinf is not None:
                m = oinf.memo
                if m is not None and event == "switch":
                    code, lasti, d, user, ulasti, tid, tail = m
                    f = origin.gr_frame
                    if f is not None and f.f_code is code and f.f_lasti == lasti:
                        if d == 1:  # (mostly: a library call made right in user code)
                            f = f.f_back
                        else:
                            while d:
                                f = f.f_back
                                d -= 1
                        if f is user and f.f_lasti == ulasti:
                            now = ns()
                            start = st.cur_start
                            if now - start <= block_ns:
                                emit_step((tid, start, now, tail))
                                st.cur_start = now
                                if len(buf) > flush_at:
                                    flush()
                                return
        slow(event, args)
    return trace


def _set_fast(st):
    """The fast paths apply while tracing, with no trap armed and no other tracer to chain."""
    fast = st.active and st.trap is None and st.prev_trace is None
    st.fhub = st.hub if fast else None


def _trace_slow(event, args):
    st = _st
    if st is not None and st.active and _rec.enabled:
        try:
            _on_switch(st, event, args)
        except Exception:
            pass
        p = st.prev_trace
        if p is not None:
            p(event, args)
    elif st is not None and st.prev_trace is not None:
        st.prev_trace(event, args)


def _on_switch(st, event, args):
    origin, target = args
    now = (_ns() - st.t0) // 1000
    if st.trap is not None:
        st.trap.disarm(_UNKNOWN_ERR)
    info = st.info
    start = (st.cur_start - st.t0) // 1000
    # (Registered here at the first switch of the run, main, or of a greenlet the hub started.)
    oinf = _current_info(st, origin)
    tinf = info.get(id(target))
    if tinf is None and id(target) not in st.hubs:
        tinf = _discover(target, origin, now)
    if event == "throw" and tinf is not None:
        _on_throw(st, target, tinf, origin, now)
    if oinf is not None:
        if origin.dead:
            trap = None
            if event == "throw" and oinf.raw:
                # A plain greenlet died of an exception that is about to be raised in `target`,
                # whose frame is the caller of our trace callback.
                try:
                    trap = sys._getframe(3)  # _on_switch <- _trace_slow <- trace <- it
                except ValueError:
                    trap = None
            _on_death(st, origin, oinf, start, now, event, trap)
        else:
            f = origin.gr_frame
            if not oinf.declared:
                _declare(oinf, origin, f)
            if not oinf.steps:
                oinf.steps = 1
                if oinf.spawner is not None:
                    _started(oinf)
                if not oinf.raw:
                    _check_name(origin, oinf)
            # The user sites of its frames, outermost first (inlined: this is the hot path).
            out = []
            cache = _site_at
            g = f
            n = 0
            user = None
            while g is not None and n < 64:
                code = g.f_code
                sid = cache.get((id(code), g.f_lasti), _MISSING)
                if sid is _MISSING:
                    sid = _site_for(code, g)
                if sid is not None:
                    out.append(sid)
                    if user is None:
                        user = (n, g, g.f_lasti)  # the innermost user frame, n frames out
                g = g.f_back
                n += 1
            if len(out) > 1:
                out.reverse()
            stack = ",".join(out)
            const = False
            if tinf is not None:
                # A new plain greenlet is named here before its task line (written at its first
                # suspension, once its function is known); readers accept the forward reference.
                on = '{"kind":"switch","to":%d}' % tinf.tid
            else:
                on, const = _classify(st, f, oinf, now)
            tail = ',"await":{"stack":[%s],"on":%s}}' % (stack, on)
            t0 = st.t0
            _rec.emit_step((oinf.tid, t0 + start * 1000, t0 + now * 1000, tail))
            # Remembered only when what it waits on depends on nothing but the code (an I/O
            # operation, a bare yield): a sleep's delay or a join's target is read every time.
            oinf.memo = ((f.f_code, f.f_lasti, user[0], user[1], user[2], oinf.tid, tail)
                         if const and user is not None and id(target) in st.hubs else None)
            if now - start > st.block_us and start != st.t_hook:
                # (the main greenlet's first step ran before there was a hub to hold up)
                _block(st, oinf.tid, start, now, out[-1] if out else None)
            if oinf.unstarted:
                _reap_unstarted(st, oinf, now)
    st.cur_start = st.t0 + now * 1000


# (id(code), lasti) -> site id text, or None for library code; the recorder keeps the codes
# alive. Keyed by instruction offset so the line number (a line-table scan) is computed once.
_site_at = {}


def _site_for(code, f):
    s = _rec.site_of_code(code, f.f_lineno) if _rec.is_user_code(code) else None
    s = None if s is None else str(s)
    _site_at[(id(code), f.f_lasti)] = s
    return s


def _on_throw(st, g, inf, origin, now):
    """Something is thrown into `g`: a gevent Timeout (patched, flagged in st.firing), a kill
    (gevent's kill() throws from the hub; a plain greenlet's throw() comes from its caller)."""
    inf.thrown = True
    if st.firing is g:
        return
    by = site = None
    if inf.kill is not None:
        by, site = inf.kill
        inf.kill = None
    elif id(origin) in st.hubs:
        # The hub also throws SystemExit/KeyboardInterrupt raised in a greenlet into main:
        # that is not a kill of main.
        if g is st.main or g.parent is None:
            return
    else:
        oinf = st.info.get(id(origin))
        if oinf is None:
            return
        by = oinf.tid
        try:
            site = _rec.site_of_frame(origin.gr_frame)
        except Exception:
            site = None
    if not inf.declared:
        _declare(inf, g)
    _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":%s,"site":%s,"cause":"kill"}'
              % (inf.tid, now, "null" if by is None else by, "null" if site is None else site))


def _tid_of(st, g):
    inf = st.info.get(id(g))
    if inf is not None:
        return inf.tid
    try:
        return st.ended.get(g)
    except TypeError:
        return None


def _block(st, tid, start, now, fallback=None):
    """A step that kept the hub (and every other greenlet) waiting longer than --block-ms, with
    the line sampled while it overran, else the line where it switched away."""
    site = st.block_sites.pop(start, fallback)
    st.block_sites.clear()
    _rec.emit('{"type":"block","task":%d,"ts":%d,"dur":%d,"site":%s}'
              % (tid, start, now - start, "null" if site is None else site))


def _start_sampler(st):
    """While a greenlet step overruns the block threshold, read the line it is running (the
    step's own end would only show where it finally switched away). Runs on the recorder's
    writer thread, a real thread started before gevent's monkey-patching, waking right after
    the running step would overrun (about once per threshold while steps are short)."""
    st.sampler = True
    block_ns = st.block_us * 1000
    period = max(0.002, min(0.1, st.block_us / 1e6))
    target = st.thread
    sampled = 0  # the step start last sampled (an idle hub is sampled once, not every tick)

    def tick():
        nonlocal sampled
        if not st.active:
            return None
        top = None
        try:
            start_ns = st.cur_start
            left = block_ns - (_ns() - start_ns)
            if left > 0:
                return left / 1e9 + 0.001
            if start_ns == sampled:
                return None
            sampled = start_ns
            top = sys._current_frames().get(target)
            if top is None or start_ns != st.cur_start:
                return None
            # The hub waiting for events (or running its own callbacks) has no user frame.
            site = _rec.site_of_frame(top)
            if site is not None:
                st.block_sites[(start_ns - st.t0) // 1000] = site
        except Exception:
            pass
        finally:
            top = None
        return None

    _rec.add_ticker(tick, period)


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
        st.ended[g] = inf.tid
    except TypeError:
        pass


def _on_death(st, g, inf, start, now, event, trap=None):
    _forget(st, g, inf)
    if not inf.raw:
        _check_name(g, inf)
    if not inf.declared:
        _declare(inf, g)
    inf.memo = None
    t0 = _st.t0
    _rec.emit_step((inf.tid, t0 + start * 1000, t0 + now * 1000, "}"))
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


# ---------------------------------------------------------------------------------------------
# Why a greenlet went back to the hub.

_IO_OPS = {
    "recv": "recv", "recv_into": "recv", "recvfrom": "recv", "recvfrom_into": "recv",
    "recvmsg": "recv", "recvmsg_into": "recv", "read": "read", "readinto": "read",
    "send": "send", "sendall": "send", "sendto": "send", "sendmsg": "send", "sendfile": "send",
    "write": "write", "accept": "accept", "connect": "connect", "connect_ex": "connect",
    "create_connection": "connect", "do_handshake": "handshake", "unwrap": "handshake",
    "getaddrinfo": "resolve", "gethostbyname": "resolve", "gethostbyname_ex": "resolve",
    "gethostbyaddr": "resolve", "getnameinfo": "resolve",
    "nb_read": "read", "nb_write": "write", "tp_read": "read", "tp_write": "write",
    "select": "select", "poll": "select", "waitpid": "wait", "communicate": "wait",
    "wait_read": "read", "wait_write": "write", "wait_readwrite": "read",
}
_IO_FILES = ("_socket3.py", "_socketcommon.py", "socket.py", "_ssl3.py", "ssl.py",
             "_sslgte279.py", "os.py", "select.py", "subprocess.py", "_socket2.py",
             "fileobject.py", "_fileobjectposix.py", "_fileobjectcommon.py", "selectors.py")

_SKIP, _USER, _SLEEP = 0, 1, 2
_HUB_ON = '{"kind":"hub"}'
_code_kind = {}     # id(code) -> (kind, payload, code)   (code kept alive: ids never reused)
_call_cache = {}    # (id(code), lasti) -> decoded call or None
_yield_at = set()   # (id(code), lasti) of gevent.sleep's zero-delay branch


def _kind_of_code(code):
    r = _code_kind.get(id(code))
    if r is not None:
        return r
    if _rec.is_user_code(code):
        r = (_USER, None, code)
    else:
        fn = code.co_filename.replace("\\", "/")
        name = code.co_name
        r = (_SKIP, None, code)
        if "/gevent/" in fn:
            base = fn.rsplit("/", 1)[-1]
            if base == "hub.py" and name == "sleep":
                r = (_SLEEP, None, code)
            elif base == "hub.py" and name == "idle":
                r = (_SKIP, '{"kind":"yield"}', code)
            elif base in _IO_FILES and name in _IO_OPS:
                r = (_SKIP, '{"kind":"io","op":"%s"}' % _IO_OPS[name], code)
            elif base in ("lock.py", "thread.py", "_threading.py", "threading.py") and name in ("acquire", "__enter__", "wait", "join"):
                r = (_SKIP, '{"kind":"%s"}' % ("lock" if name in ("acquire", "__enter__") else "event"), code)
    _code_kind[id(code)] = r
    return r


def _classify(st, f, inf, now):
    """What a greenlet suspending in frame `f` waits on: (on text, whether the text depends only
    on the code it suspended in)."""
    n = 0
    while f is not None and n < 40:
        kind, payload, code = _kind_of_code(f.f_code)
        if payload is not None:
            return payload, True
        if kind == _SLEEP:
            # sleep(0) and sleep(t > 0) suspend at different instructions: once a position is
            # known to be the zero branch, skip reading the frame's locals (costly on 3.11).
            key = (id(code), f.f_lasti)
            if key in _yield_at:
                return '{"kind":"yield"}', True
            try:
                secs = f.f_locals.get("seconds", 0)
                secs = float(secs)
            except Exception:
                secs = 0.0
            if secs <= 0:
                _yield_at.add(key)
                return '{"kind":"yield"}', True
            return '{"kind":"sleep","delay":%s}' % repr(secs), False
        if kind == _USER:
            return _classify_user(st, f, inf, now), False
        f = f.f_back
        n += 1
    return _HUB_ON, False


def _classify_user(st, f, inf, now):
    """The user frame called straight into gevent's compiled code: decode that call."""
    try:
        code = f.f_code
        key = (id(code), f.f_lasti)
        call = _call_cache.get(key, False)
        if call is False:
            call = _decode_call(code, f.f_lasti)
            _call_cache[key] = call
        if call is None:
            return _HUB_ON
        meth, recv_path, arg_path = call
        recv = _resolve(f, recv_path) if recv_path is not None else None
        if meth == "__enter__":
            return _sync_kind(recv) or _HUB_ON
        gt = st.greenlet_type
        if recv is not None and isinstance(recv, gt):
            tinf = st.info.get(id(recv))
            if meth == "kill":
                _note_kill(st, recv, tinf, inf, f)
            t = _tid_of(st, recv)
            if meth in ("join", "get", "kill") and t is not None:
                return '{"kind":"task","task":%d}' % t
            return _HUB_ON
        if recv is None or (type(recv).__name__ == "module" and getattr(recv, "__name__", "").startswith("gevent")):
            if meth in ("joinall", "wait", "iwait", "killall", "kill"):
                arg = _resolve(f, arg_path) if arg_path is not None else None
                if isinstance(arg, gt):
                    arg = [arg]
                if meth == "kill" and arg:
                    for g in arg:
                        _note_kill(st, g, st.info.get(id(g)), inf, f)
                    t = _tid_of(st, arg[0])
                    return '{"kind":"task","task":%d}' % t if t is not None else _HUB_ON
                if isinstance(arg, (list, tuple, set, frozenset)):
                    ids = []
                    for g in arg:
                        if isinstance(g, gt):
                            t = _tid_of(st, g)
                            if t is not None:
                                ids.append(str(t))
                            if meth == "killall":
                                _note_kill(st, g, st.info.get(id(g)), inf, f)
                        elif meth == "wait":
                            k = _sync_kind(g)
                            if k is not None and not ids:
                                return k
                    return '{"kind":"gather","tasks":[%s]}' % ",".join(ids)
            return _HUB_ON
        members = _group_members(recv)
        if members is not None:
            if meth in ("spawn", "start", "add", "wait_available", "apply_async", "apply_cb", "map_async",
                        "imap", "imap_unordered"):
                return '{"kind":"semaphore"}'  # waiting for a free slot in the pool
            ids = [str(t) for t in (_tid_of(st, g) for g in members) if t is not None]
            return '{"kind":"gather","tasks":[%s]}' % ",".join(sorted(ids, key=int))
        k = _sync_kind(recv)
        if k is not None:
            return k
    except Exception:
        pass
    return _HUB_ON


_SYNC = {
    "Event": "event", "AsyncResult": "future", "Queue": "queue", "JoinableQueue": "queue",
    "PriorityQueue": "queue", "LifoQueue": "queue", "Channel": "queue", "SimpleQueue": "queue",
    "UnboundQueue": "queue", "Semaphore": "semaphore", "BoundedSemaphore": "semaphore",
    "DummySemaphore": "semaphore", "RLock": "lock", "LockType": "lock", "_AtomicSemaphore": "lock",
    "Condition": "condition",
}


def _group_members(obj):
    """The greenlets of a gevent Group/Pool (its plain `greenlets` attribute), else None."""
    for cls in type(obj).__mro__:
        if cls.__name__ in ("Group", "Pool") and (cls.__module__ or "").startswith("gevent"):
            d = getattr(obj, "__dict__", None)
            g = d.get("greenlets") if isinstance(d, dict) else None
            return list(g) if isinstance(g, (set, list, tuple)) else []
    return None


def _sync_kind(obj):
    if obj is None:
        return None
    for cls in type(obj).__mro__:
        k = _SYNC.get(cls.__name__)
        if k is not None and (cls.__module__ or "").startswith(("gevent", "threading", "_thread", "queue")):
            return '{"kind":"%s"}' % k
    return None


def _note_kill(st, g, ginf, by_inf, frame):
    if ginf is None or ginf.kill is not None:
        return
    ginf.kill = (by_inf.tid if by_inf is not None else None, _rec.site_of_frame(frame))


def _resolve(f, path):
    """Evaluate a decoded simple expression (`name`, `name.attr`, `[a, b]`) in frame f."""
    kind = path[0]
    if kind == "list":
        return [_resolve(f, p) if p is not None else None for p in path[1]]
    if kind == "var":
        scope, name, attrs = path[1], path[2], path[3]
        if scope == "fast":
            obj = f.f_locals.get(name, _MISSING)
        elif scope == "global":
            obj = f.f_globals.get(name, _MISSING)
            if obj is _MISSING:
                obj = f.f_builtins.get(name, _MISSING)
        else:
            obj = f.f_locals.get(name, _MISSING)
            if obj is _MISSING:
                obj = f.f_globals.get(name, _MISSING)
        for a in attrs:
            if obj is _MISSING:
                break
            # Only plain attribute storage: never run properties/descriptors of the program.
            d = getattr(obj, "__dict__", None)
            if type(obj).__name__ == "module" or isinstance(d, dict):
                obj = d.get(a, _MISSING) if isinstance(d, dict) else _MISSING
            else:
                obj = _MISSING
        return None if obj is _MISSING else obj
    return None


_MISSING = object()


def _decode_call(code, lasti):
    """(method name, receiver path, first-argument path) of the call at `lasti`, or None."""
    import dis
    instrs = []
    for i in dis.get_instructions(code):
        if i.opname in ("CACHE", "EXTENDED_ARG"):
            continue
        if i.opname == "LOAD_FAST_LOAD_FAST" and isinstance(i.argval, tuple) and len(i.argval) == 2:
            # 3.13 superinstruction: two loads in one; split so each value has its producer.
            for name in i.argval:
                instrs.append(_Ins("LOAD_FAST", dis.opmap["LOAD_FAST"], 0, name, i.offset))
            continue
        instrs.append(i)
    # A caller of Python code (3.11+) reports an offset inside the CALL's inline cache: take
    # the last real instruction at or before it.
    idx = None
    for j, ins in enumerate(instrs):
        if ins.offset > lasti:
            break
        idx = j
    if idx is None:
        return None
    ins = instrs[idx]
    op = ins.opname
    if op in ("BEFORE_WITH", "SETUP_WITH", "BEFORE_ASYNC_WITH"):
        recv = _expr_before(instrs, idx - 1)
        return ("__enter__", recv[0] if recv else None, None)
    if not op.startswith("CALL") or op == "CALL_FUNCTION_EX" or op == "CALL_INTRINSIC_1":
        return None
    argc = ins.arg or 0
    j = idx - 1
    while j >= 0 and instrs[j].opname in ("PRECALL", "KW_NAMES"):
        j -= 1
    if op in ("CALL_FUNCTION_KW", "CALL_KW"):
        j -= 1  # the kw-names tuple constant
    # Walk back over the arguments (each a balanced expression).
    args = []
    for _ in range(argc):
        e = _expr_before(instrs, j)
        if e is None:
            return None
        args.append(e[0])
        j = e[1] - 1
    args.reverse()
    while j >= 0 and instrs[j].opname == "PUSH_NULL":
        j -= 1  # 3.13 pushes the NULL after the callable
    if j < 0:
        return None
    callee = instrs[j]
    first = args[0] if args else None
    if callee.opname in ("LOAD_METHOD", "LOAD_ATTR"):
        recv = _expr_before(instrs, j - 1)
        return (callee.argval, recv[0] if recv else None, first)
    if callee.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST", "LOAD_DEREF"):
        return (callee.argval, None, first)
    return None


class _Ins:
    __slots__ = ("opname", "opcode", "arg", "argval", "offset")

    def __init__(self, opname, opcode, arg, argval, offset):
        self.opname, self.opcode, self.arg, self.argval, self.offset = opname, opcode, arg, argval, offset


_LOADS = {"LOAD_FAST": "fast", "LOAD_NAME": "name", "LOAD_GLOBAL": "global", "LOAD_DEREF": "name",
          "LOAD_FAST_CHECK": "fast", "LOAD_CLASSDEREF": "name"}
_NEUTRAL = ("PUSH_NULL", "PRECALL", "KW_NAMES", "COPY_FREE_VARS", "NOP")


def _effect(ins):
    import dis
    return dis.stack_effect(ins.opcode, ins.arg if ins.opcode >= dis.HAVE_ARGUMENT else None, jump=False)


def _expr_before(instrs, j):
    """The expression whose value instrs[j] leaves on the stack: (path or None, start index).

    The start is found by summing stack effects backwards; the path is only built for what we
    evaluate without running program code: `name`, `name.attr...`, `[a, b, ...]`."""
    if j < 0:
        return None
    total = 0
    k = j
    while k >= 0:
        total += _effect(instrs[k])
        if total >= 1:
            break
        k -= 1
    if k < 0 or total != 1:
        return None  # an instruction that produces several values at once: do not guess
    return (_simple_path(instrs, k, j), k)


def _simple_path(instrs, k, j):
    seq = [i for i in instrs[k:j + 1] if i.opname not in _NEUTRAL]
    if not seq:
        return None
    last = seq[-1]
    if last.opname in ("BUILD_LIST", "BUILD_TUPLE", "BUILD_SET"):
        items = []
        m = j - 1
        for _ in range(last.arg or 0):
            e = _expr_before(instrs, m)
            if e is None or e[1] < k:
                return None
            items.append(e[0])
            m = e[1] - 1
        items.reverse()
        return ("list", items)
    scope = _LOADS.get(seq[0].opname)
    if scope is None or any(i.opname != "LOAD_ATTR" for i in seq[1:]):
        return None
    return ("var", scope, seq[0].argval, tuple(i.argval for i in seq[1:]))


# ---------------------------------------------------------------------------------------------
# gevent: spawn sites (creation time), timeouts.

def _patch_gevent(gevent):
    st = _st
    if st is None:
        return
    import gevent.hub as ghub
    import gevent.greenlet as ggreenlet
    st.hub_type = ghub.Hub
    st.gevent_greenlet = ggreenlet.Greenlet
    for name in ("spawn", "spawn_later", "spawn_raw"):
        orig = getattr(gevent, name, None)
        if orig is not None:
            setattr(gevent, name, _wrap_spawn(orig))
    tmod = sys.modules.get("gevent.timeout")
    if tmod is not None:
        _patch_timeout(tmod.Timeout)
    if "gevent.pool" in sys.modules:
        _on_import("gevent.pool", sys.modules["gevent.pool"])


def _patch_pool(pool):
    group = getattr(pool, "Group", None)
    if group is not None and "spawn" in group.__dict__:
        group.spawn = _wrap_spawn(group.__dict__["spawn"])


def _wrap_spawn(orig):
    def spawn(*args, **kwargs):
        g = orig(*args, **kwargs)
        _safe(_created, g, sys._getframe(1))
        return g
    for a in ("__name__", "__qualname__", "__doc__", "__module__"):
        try:
            setattr(spawn, a, getattr(orig, a))
        except Exception:
            pass
    spawn.__wrapped__ = orig
    return spawn


def _created(g, frame):
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
    if pinf is not None and not raw:
        inf.spawner = pinf
        if pinf.unstarted is None:
            pinf.unstarted = {}
        pinf.unstarted[inf.tid] = inf


def _patch_timeout(T):
    if getattr(T, "_asynctrace_patched", False):
        return
    o_start, o_exp, o_cancel, o_close = T.start, T._on_expiration, T.cancel, T.close

    def start(self):
        o_start(self)
        _safe(_timeout_armed, self, sys._getframe(1))

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

    def cancel(self):
        _safe(_timeout_cleared, self)
        return o_cancel(self)

    def close(self):
        _safe(_timeout_cleared, self)
        return o_close(self)

    for fn, orig in ((start, o_start), (_on_expiration, o_exp), (cancel, o_cancel), (close, o_close)):
        fn.__name__ = orig.__name__
        fn.__qualname__ = orig.__qualname__
        fn.__doc__ = orig.__doc__
        fn.__wrapped__ = orig
    T.start, T._on_expiration, T.cancel, T.close = start, _on_expiration, cancel, close
    T._asynctrace_patched = True


def _timeout_armed(t, frame):
    st = _st
    if st is None or not st.active or t.seconds is None or not t.pending:
        return
    cur = st.getcurrent()
    inf = _current_info(st, cur)
    if inf is None:
        return  # armed by the hub itself (or an untracked thread): no task to show it on
    if not inf.declared:
        _declare(inf, cur)
    old = st.timeouts.pop(id(t), None)
    tid = _rec.new_timeout_id() if old is None else old[0]
    site = _rec.site_of_frame(frame)
    st.timeouts[id(t)] = [tid, inf.tid if inf is not None else None, t, site]
    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"site":%s,"delay":%s,"state":"armed"}'
              % (tid, "null" if inf is None else inf.tid, _rec.now_us(),
                 "null" if site is None else site, _num(t.seconds)))


def _num(x):
    try:
        return repr(float(x))
    except Exception:
        return "null"


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


def _timeout_cleared(t):
    st = _st
    if st is None:
        return
    ent = st.timeouts.pop(id(t), None)
    if ent is None or ent[2] is not t:
        return
    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"cleared"}'
              % (ent[0], "null" if ent[1] is None else ent[1], _rec.now_us()))


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
