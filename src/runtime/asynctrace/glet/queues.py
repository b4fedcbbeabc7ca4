"""Who fed the gevent queue a greenlet waited on (its wake link, see wakes).

gevent's queues are compiled (their methods cannot be wrapped), so ``gevent.queue`` gets thin
Python subclasses of Queue, UnboundQueue, PriorityQueue, LifoQueue, JoinableQueue and Channel
under the same names, right after it is imported (before gevent.pool's imap or the program bind
them), as ``gevent.lock`` does for locks (see locks). Their put / get call the compiled method
and then test one dict for truth: a queue no greenlet ever waited on costs nothing more (the
subclass itself makes gevent's compiled put and get look for overrides: about 0.1 us per put and
per get, measured). From a greenlet's first wait on a queue, the queue has a state here:

- a greenlet waiting in get (or peek) is counted while it waits; each put made while one is
  counted, or while items put so are still in the queue, leaves a mark (the putting greenlet,
  when) in a list kept in the queue's order (a LifoQueue's newest first): each get takes the
  mark of its item, and the getter that waited for it is woken by that mark's greenlet;
- a greenlet waiting in put (a full queue) is counted; each get made meanwhile leaves a mark,
  and the waiting putters take them in order (gevent lets them in first come, first served);
- a greenlet waiting in a JoinableQueue's join is woken by the task_done that left no
  unfinished task;
- a Channel pairs its putters and getters in order: a getter is woken by the putter whose item
  it got, a putter by the getter that took it.

gevent's UnboundQueue (a final class) is not followed. With pure-Python gevent (PURE_PYTHON), whose
classes have slots and name themselves, their methods are replaced in place instead. A
PriorityQueue's items come out in priority order, not the order they were put: its getters are
linked to the puts in order, which can name another putter than the one of the item."""
from collections import deque
from functools import partial as _partial
from weakref import ref as _weakref

from . import wakes as _wakes

_rec = None
_st = None

_MARKS_MAX = 4096  # marks kept per queue (past that, the items put are not followed)
_GET, _PUT, _JOIN = 0, 1, 2
_OPS = {"get": _GET, "put": _PUT, "join": _JOIN}
_QUEUE = _wakes.QUEUE

# id(queue) -> _QState of the queues a greenlet waited on (dropped with the queue). Tested for
# truth by every put / get: empty, that is all a program that never waits on a queue pays.
_waited = {}


class _QState:
    __slots__ = ("getting", "putting", "joining", "items", "freed", "done", "lifo", "channel", "ref")

    def __init__(self, lifo, channel):
        self.getting = self.putting = self.joining = 0
        self.items = deque()   # marks of the items put while a getter waited (queue order)
        self.freed = deque()   # marks of the gets made while a putter waited
        self.done = None       # mark of the last task_done that left no unfinished task
        self.lifo = lifo
        self.channel = channel


class _QWait:
    """What a greenlet waiting on a queue notes (the payload of its wake, see wakes.QUEUE)."""
    __slots__ = ("s", "op", "mark")

    def __init__(self, s, op):
        self.s, self.op, self.mark = s, op, None

    def cancel(self):
        s = self.s
        if self.op == _GET:
            if s.getting:
                s.getting -= 1
        elif self.op == _PUT:
            if s.putting:
                s.putting -= 1
        elif s.joining:
            s.joining -= 1

    def woken(self, since, start):
        """(woke ns, the marking _Info or None) of the wait noted at `since`, resumed at
        `start`, or None."""
        self.cancel()
        s = self.s
        m = None
        if self.op == _GET:
            m = self.mark
            if m is None and s.items and not s.channel:
                m = s.items[-1] if s.lifo else s.items[0]  # (a peek: the item it will see)
        elif self.op == _PUT:
            freed = s.freed
            while freed:
                m = freed.popleft()
                if m[1] >= since or s.channel:
                    break
                m = None  # (a get meant for a putter that waited before this one)
        else:
            m = s.done
        if m is None or m[1] > start:
            return None
        if m[1] < since and not s.channel:
            return None  # (not put while it waited: marks out of step with the items)
        end = m[2]
        woke = end if end is not None and end <= start else m[1]
        return (max(woke, since), m[0])


def waiting(q, op_name, inf, since):
    """The greenlet of `inf` suspends in `op_name` (get / put / join) on `q`: counted, and its
    wake noted (only our subclasses' queues). True if noted."""
    op = _OPS.get(op_name)
    if op is None:
        return False
    try:
        cls = type(q)
        if getattr(cls, "_asynctrace_lifo", None) is None:
            return False
        s = _waited.get(id(q))
        if s is None:
            s = _state_of(q, cls)
        if op == _GET:
            s.getting += 1
        elif op == _PUT:
            s.putting += 1
        else:
            s.joining += 1
        inf.wake = (_QUEUE, _QWait(s, op), since)  # (wakes.note, inlined)
        return True
    except Exception:
        return False


def _state_of(q, cls):
    k = id(q)
    s = _waited.get(k)
    if s is None:
        s = _QState(cls._asynctrace_lifo, cls._asynctrace_channel)
        # (Dropped with the queue by a callback that runs no Python code: a Ctrl-C's
        # KeyboardInterrupt cannot land in it and be lost, as in a Python weakref callback.)
        s.ref = _weakref(q, _partial(_waited.pop, k))
        _waited[k] = s
    return s


def _current():
    st = _st
    if st is None or not st.active:
        return False
    return st.info.get(id(st.getcurrent()))


def _got_by(q, s):
    """A get on `q` returned: it takes its item's mark (the getter that waited for it is woken
    by that mark's greenlet); with putters waiting, it leaves a mark for them."""
    inf = _current()
    if inf is False:
        return
    items = s.items
    if items:
        _give(inf, s, items.pop() if s.lifo else items.popleft())
        if items and not s.channel:
            try:
                n = q.qsize()
                while len(items) > n:  # (items that left the queue some other way)
                    items.popleft()
            except Exception:
                pass
    if s.putting and not s.channel and len(s.freed) < _MARKS_MAX:
        s.freed.append(_wakes.mark(inf))


def _give(inf, s, m):
    """The running greenlet (`inf`) got the item of mark `m`: if it waited for it, its link."""
    if inf is not None:
        w = inf.wake
        if w is not None and w[0] == _QUEUE and w[1].s is s and w[1].op == _GET:
            w[1].mark = m


def _drop_own_frame(e, code):
    tb = e.__traceback__
    if tb is not None and tb.tb_frame.f_code is code:
        e.__traceback__ = tb.tb_next


def _queue_ns(base, lifo):
    """put / get (and task_done) of a traced subclass of gevent's compiled queue `base`."""
    b_put, b_get = base.put, base.get
    waited = _waited
    mark = _wakes.mark

    def put(self, item, block=True, timeout=None):
        try:
            b_put(self, item, block, timeout)
        except BaseException as e:  # (Full, a Timeout, a kill: as raised untraced)
            _drop_own_frame(e, put_code)
            raise
        if waited:
            s = waited.get(id(self))
            if s is not None and (s.getting or s.items):
                # The item's mark (inlined: a queue with a waiter pays this on every put).
                st = _st
                if st is not None and st.active and len(s.items) < _MARKS_MAX:
                    s.items.append(mark(st.info.get(id(st.getcurrent()))))

    def get(self, block=True, timeout=None):
        try:
            r = b_get(self, block, timeout)
        except BaseException as e:
            _drop_own_frame(e, get_code)
            raise
        if waited:
            s = waited.get(id(self))
            if s is not None and (s.items or s.putting):
                _got_by(self, s)
        return r

    put_code, get_code = put.__code__, get.__code__
    ns = {"put": put, "get": get}
    b_done = getattr(base, "task_done", None)
    if b_done is not None:
        def task_done(self):
            try:
                b_done(self)
            except BaseException as e:  # (called too many times)
                _drop_own_frame(e, done_code)
                raise
            if waited:
                s = waited.get(id(self))
                if s is not None and s.joining and not self.unfinished_tasks:
                    inf = _current()
                    if inf is not False:
                        s.done = _wakes.mark(inf)

        done_code = task_done.__code__
        ns["task_done"] = task_done
    return ns


def _channel_ns(base):
    """put / get of a traced Channel: every put leaves a mark (taken by the getter it pairs
    with, in order), and a get made while putters wait leaves one for them."""
    b_put, b_get = base.put, base.get

    def put(self, item, block=True, timeout=None):
        m = None
        try:
            s = _state_of(self, type(self))
            inf = _current()
            if inf is not False and len(s.items) < _MARKS_MAX:
                m = _wakes.mark(inf)
                s.items.append(m)
                if self.getters and len(s.freed) < _MARKS_MAX:
                    # A getter waits already: it lets this putter go (woken as soon as it waits).
                    g = getattr(self.getters[0], "greenlet", None)
                    s.freed.append([_st.info.get(id(g)) if g is not None else None, m[1], None])
        except Exception:
            s = None
        try:
            b_put(self, item, block, timeout)
        except BaseException as e:
            if m is not None:
                try:
                    s.items.remove(m)  # (its item never went: no getter takes it)
                except ValueError:
                    pass
            _drop_own_frame(e, put_code)
            raise

    def get(self, block=True, timeout=None):
        s = _waited.get(id(self))
        if s is not None and s.putting:
            inf = _current()
            if inf is not False and len(s.freed) < _MARKS_MAX:
                s.freed.append(_wakes.mark(inf))
        try:
            r = b_get(self, block, timeout)
        except BaseException as e:
            _drop_own_frame(e, get_code)
            raise
        s = _waited.get(id(self))
        if s is not None and s.items:
            inf = _current()
            if inf is not False:
                _give(inf, s, s.items.popleft())
        return r

    put_code, get_code = put.__code__, get.__code__
    return {"put": put, "get": get}


class _QueueType(type):
    """The type of the traced classes: an instance (a subclass) of gevent's compiled class is
    one of the traced class that replaced it, as untraced (gevent's UnboundQueue, a final
    compiled class that cannot be replaced, is still an instance of gevent.queue.Queue)."""

    def __instancecheck__(cls, obj):
        base = cls.__dict__.get("_asynctrace_base")
        if base is not None:
            return isinstance(obj, base)
        return type.__instancecheck__(cls, obj)

    def __subclasscheck__(cls, sub):
        base = cls.__dict__.get("_asynctrace_base")
        if base is not None:
            return issubclass(sub, base)
        return type.__subclasscheck__(cls, sub)


_CLASSES = ("Queue", "UnboundQueue", "PriorityQueue", "LifoQueue", "JoinableQueue", "Channel")


def patch_queue_module(mod):
    """gevent.queue has just executed: its compiled queue classes become traced subclasses (same
    names, module and repr). A subclass of a replaced class (gevent's LifoQueue is a
    JoinableQueue in newer versions) derives from the replaced one, so isinstance holds."""
    made = {}
    q = getattr(mod, "Queue", None)
    if q is None:
        return
    if type(q.__dict__.get("put")) is type(_queue_ns):
        _patch_pure(mod)
        return
    for name in _CLASSES:
        base = getattr(mod, name, None)
        if base is None or "_asynctrace_lifo" in getattr(base, "__dict__", {}):
            continue
        try:
            channel = name == "Channel"
            lifo = name == "LifoQueue"
            ns = _channel_ns(base) if channel else _queue_ns(base, lifo)
            for fn in ns.values():
                orig = getattr(base, fn.__name__, None)
                fn.__doc__ = getattr(orig, "__doc__", None)
                fn.__qualname__ = "%s.%s" % (base.__qualname__, fn.__name__)
            ns.update({"__slots__": (), "_asynctrace_lifo": lifo, "_asynctrace_channel": channel,
                       "_asynctrace_base": base,
                       "__doc__": base.__doc__, "__module__": base.__module__,
                       "__qualname__": base.__qualname__})
            # (A replaced parent first in the bases: `isinstance(lifo, JoinableQueue)` holds.)
            parents = tuple(made[b.__name__] for b in base.__mro__[1:] if b.__name__ in made
                            and made[b.__name__].__mro__[1] is b)[:1]
            bases = parents + (base,) if parents else (base,)
            try:
                cls = _QueueType(base.__name__, bases, ns)
            except TypeError:
                cls = _QueueType(base.__name__, (base,), ns)
            made[name] = cls
        except Exception:
            continue  # (a gevent whose classes cannot be subclassed so: left as it is)
    for name, cls in made.items():
        setattr(mod, name, cls)


def _patch_pure(mod):
    """Pure-Python gevent: its queue classes name themselves (a subclass under their name would
    recurse) and have slots: the put / get / task_done each class defines are replaced in place
    (their state lives here anyway)."""
    for name in _CLASSES:
        cls = getattr(mod, name, None)
        if cls is None or "_asynctrace_lifo" in cls.__dict__:
            continue
        try:
            channel = name == "Channel"
            lifo = name == "LifoQueue"
            # (what each class's wrappers call: its own methods, or the ones it inherits)
            ns = _channel_ns(cls) if channel else _queue_ns(cls, lifo)
            for meth, fn in ns.items():
                if meth not in cls.__dict__:
                    continue  # (inherited: the parent's replaced method serves it)
                orig = cls.__dict__[meth]
                fn.__doc__ = getattr(orig, "__doc__", None)
                fn.__qualname__ = "%s.%s" % (cls.__qualname__, meth)
                setattr(cls, meth, fn)
            cls._asynctrace_lifo = lifo
            cls._asynctrace_channel = channel
        except Exception:
            continue
