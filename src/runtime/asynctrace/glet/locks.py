"""Who holds gevent's locks: `hold` lines for a greenlet waiting on a Semaphore, BoundedSemaphore,
RLock or (monkey-patched) threading.Lock / RLock, naming the holder greenlet, since when and the
user line where it took it.

gevent's Semaphore and BoundedSemaphore are compiled (their methods cannot be wrapped), so
``gevent.lock`` gets thin Python subclasses of them under the same names, right after it is
imported and before the program (or gevent.thread, whose LockType is threading.Lock once patched,
or gevent's RLock, which makes its inner semaphore from ``gevent.lock.Semaphore``) binds them.
Their acquire/release note the holdings in the lock itself, without writing anything: an
uncontended lock costs a Python call and a few stores per acquire. The holdings are written
(`hold` lines, with the time and line of the acquire) once a greenlet waits on the lock, and from
then on every acquire and release of that lock. Locks made before gevent.lock was imported stay
untraced."""
from sys import _getframe
from time import perf_counter_ns as _ns

from . import wakes as _wakes
from .state import _current_info, _declare

_rec = None
_st = None

_MISSING = object()
_MAX_HOLDS = 64        # holdings kept per lock (a semaphore acquired and never released: a counter)
wrapper_codes = set()  # ids of our acquire wrappers' code objects (waits._classify names their lock)


def _user_site(f):
    """The site of the first user frame from `f` (the caller of acquire/release: the program's
    `with lock:`, or library code such as an RLock's acquire), each frame's kind cached by its
    code location."""
    site_at = _site_at
    n = 0
    while f is not None and n < 16:
        code = f.f_code
        key = (id(code), f.f_lasti)
        site = site_at.get(key, _MISSING)
        if site is _MISSING:
            if _rec.is_user_code(code):
                site = site_at[key] = _rec.site_of_code(code, f.f_lineno)
                return site
            site_at[key] = _LIB
        elif site is not _LIB:
            return site
        f = f.f_back
        n += 1
    return None


# (id(code), lasti) of a frame that took or released a lock -> its site id, or _LIB for library
# code (the codes are kept alive by the recorder's user-code cache).
_site_at = {}
_LIB = object()


def _released(lock, holds, frame):
    """`lock` was released by the running greenlet: its oldest holding ends (else the oldest)."""
    try:
        st = _st
        _current(lock)
        if len(holds) == 1 or st is None:
            h = holds.pop(0)
        else:
            inf = st.info.get(id(st.getcurrent()))
            for i, x in enumerate(holds):
                if x[0] is inf:
                    h = holds.pop(i)
                    break
            else:
                h = holds.pop(0)
        if st is not None and st.active and lock._asynctrace_oid:
            # (A greenlet waited on it: its next step reads who released it, see wakes.)
            _wakes.released(lock, st.info.get(id(st.getcurrent())))
        if h[3] and st is not None and st.active:
            inf = h[0]
            _rec.emit('{"type":"hold","obj":%d,"task":%s,"ts":%d,"state":"released","site":%s}'
                      % (h[3], "null" if inf is None else inf.tid, _rec.now_us(),
                         _null(_user_site(frame))))
    except Exception:
        pass


def _null(v):
    return "null" if v is None else v


def publish(lock, oid):
    """A greenlet waits on `lock` (named in the trace as obj `oid`): write its holdings, and from
    now on every holding of it as it is taken (a greenlet already waiting is not classified
    again when the lock passes to another holder)."""
    try:
        stale = lock._asynctrace_gen != _gen[0]
        lock._asynctrace_oid = oid
        lock._asynctrace_gen = _gen[0]
    except Exception:
        return
    for h in lock._asynctrace_holds or ():
        if not h[3] or stale:
            _write(h, oid)


def _current(lock):
    """The lock's obj id, if it was written in this process's stream (a forked child's stream has
    ids of its own: what the parent wrote is forgotten there)."""
    oid = lock._asynctrace_oid
    if oid and lock._asynctrace_gen != _gen[0]:
        lock._asynctrace_oid = oid = 0
        for h in lock._asynctrace_holds or ():
            h[3] = 0
    return oid


_gen = [0]  # forks seen (in a child: the parent's obj ids mean nothing)


def forget_all():
    _gen[0] += 1


def _write(h, oid):
    h[3] = oid
    inf = h[0]
    if inf is not None and not inf.declared:
        _declare(inf)
    _rec.emit('{"type":"hold","obj":%d,"task":%s,"ts":%d,"state":"acquired","site":%s}'
              % (oid, "null" if inf is None else inf.tid, (h[1] - _rec._t0) // 1000, _null(h[2])))


_ACQUIRING = ("acquire", "__enter__")


def waited_lock(f):
    """(the object the program waits on, the traced lock whose holdings are its) for a greenlet
    suspended in our acquire wrapper (frame `f`): the lock itself, or the object around it whose
    acquire the program called: an RLock (gevent's, threading's once patched: `_block`), a
    threading.Condition entered with `with` (`_lock`). None when the acquire is a detail of
    another wait (a patched threading.Condition's or Event's wait, a queue.Queue's get): that
    wait is what the program waits on."""
    lock = f.f_locals.get("self")
    named = lock
    g = f.f_back
    n = 0
    while g is not None and not _rec.is_user_code(g.f_code):
        if n >= 4 or g.f_code.co_name not in _ACQUIRING:
            return None
        o = g.f_locals.get("self")
        if o is not None and o is not named and _inner_lock(o) is named:
            named = o
        g = g.f_back
        n += 1
    return named, lock


def _inner_lock(o):
    """The `_block` (an RLock's) or `_lock` (a Condition's) of `o`, read from its plain storage
    only (an instance dict or a slot: no property of the program runs)."""
    try:
        d = getattr(o, "__dict__", None)
        if isinstance(d, dict) and ("_block" in d or "_lock" in d):
            return d.get("_block", d.get("_lock"))
        slot = getattr(type(o), "_block", None)
        if type(slot).__name__ == "member_descriptor":
            return slot.__get__(o, type(o))
    except Exception:
        pass
    return None


def _drop_own_frame(e, code):
    """The wrapper's own frame out of the traceback (the bare raise that follows adds none)."""
    tb = e.__traceback__
    if tb is not None and tb.tb_frame.f_code is code:
        e.__traceback__ = tb.tb_next


def _traced_class(base, name):
    """A Python subclass of gevent's compiled `base` whose acquire/release note holdings."""
    b_acquire, b_release, b_init = base.acquire, base.release, base.__init__
    site_at = _site_at

    def __init__(self, *args, **kwargs):
        b_init(self, *args, **kwargs)
        if not _made_by_program(_getframe(1)):
            self._asynctrace_off = True

    def acquire(self, blocking=True, timeout=None):
        try:
            r = b_acquire(self, blocking, timeout)
        except BaseException as e:  # (a Timeout, a kill while waiting: as raised untraced)
            _drop_own_frame(e, acquire_code)
            raise
        if r and not self._asynctrace_off:
            # The running greenlet holds it: [its _Info, since (ns), user line, obj id once written].
            # (Inline: this is every acquire's cost.)
            st = _st
            if st is not None and st.active:
                try:
                    f = _getframe(1)
                    site = site_at.get((id(f.f_code), f.f_lasti), _MISSING)
                    if site is _MISSING or site is _LIB:
                        site = _user_site(f)
                    g = st.getcurrent()
                    inf = st.info.get(id(g))
                    if inf is None:
                        inf = _current_info(st, g)  # (a greenlet in its first step: not registered yet)
                    h = [inf, _ns(), site, 0]
                    holds = self._asynctrace_holds
                    if holds is None:
                        self._asynctrace_holds = [h]
                    else:
                        if len(holds) >= _MAX_HOLDS:
                            del holds[0]
                        holds.append(h)
                    if self._asynctrace_oid and _current(self):
                        _write(h, self._asynctrace_oid)  # (a lock greenlets waited on: every holding from then on)
                except Exception:
                    pass
        return r

    def release(self):
        try:
            r = b_release(self)
        except BaseException as e:  # (released too many times)
            _drop_own_frame(e, release_code)
            raise
        holds = self._asynctrace_holds
        if holds:
            if len(holds) == 1 and not holds[0][3]:
                holds.clear()  # (the usual lock: its only holding, never written)
            else:
                _released(self, holds, _getframe(1))
        return r

    acquire_code, release_code = acquire.__code__, release.__code__
    for fn, orig in ((acquire, b_acquire), (release, b_release)):
        fn.__doc__ = getattr(orig, "__doc__", None)
        fn.__qualname__ = "%s.%s" % (name, fn.__name__)
    wrapper_codes.add(id(acquire.__code__))  # (kept alive by the class)
    ns = {"__init__": __init__, "acquire": acquire, "release": release, "_asynctrace_holds": None,
          "_asynctrace_oid": 0, "_asynctrace_off": False,
          "_asynctrace_gen": 0, "_asynctrace_rel": None,
          "__doc__": base.__doc__,
          "__module__": base.__module__, "__qualname__": base.__qualname__}
    return ns


def patch_lock_module(mod):
    """gevent.lock has just executed: its Semaphore and BoundedSemaphore become traced subclasses
    (same names, module and repr; a BoundedSemaphore is still an instance of Semaphore)."""
    S = getattr(mod, "Semaphore", None)
    BS = getattr(mod, "BoundedSemaphore", None)
    if S is None or BS is None or getattr(S, "_asynctrace_holds", 1) is None:
        return
    try:
        TS = type(S.__name__, (S,), _traced_class(S, S.__name__))
        try:
            TBS = type(BS.__name__, (TS, BS), _traced_class(BS, BS.__name__))
        except TypeError:
            # Pure-Python gevent: its BoundedSemaphore is no Semaphore (and their slots clash).
            TBS = type(BS.__name__, (BS,), _traced_class(BS, BS.__name__))
    except Exception:
        return  # (another gevent whose classes cannot be subclassed so: left untraced)
    mod.Semaphore = TS
    mod.BoundedSemaphore = TBS

_MADE_WITHIN = 4  # frames above a lock's creation searched for the program's code


def _made_by_program(f):
    """Whether a lock is made by the program's code (a few frames up: through gevent's RLock or
    threading's Lock/RLock factories), not by a library for its own use (logging's module lock,
    taken on every log call and request: its holdings would cost every acquire and explain
    nothing the program did)."""
    try:
        n = 0
        while f is not None and n < _MADE_WITHIN:
            if _rec.is_user_code(f.f_code):
                return True
            f = f.f_back
            n += 1
    except Exception:
        return True
    return False


def is_traced(o):
    """Whether the holdings of `o` (a lock, or an RLock / Condition around one) are recorded."""
    try:
        for _ in range(3):
            if o is None:
                return False
            if getattr(type(o), "_asynctrace_holds", 1) is None:
                return not getattr(o, "_asynctrace_off", False)
            o = _inner_lock(o)
    except Exception:
        pass
    return False
