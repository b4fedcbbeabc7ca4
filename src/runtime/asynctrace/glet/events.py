"""Who set the gevent Event or AsyncResult a greenlet waited on (its wake link, see wakes).

gevent's Event and AsyncResult are compiled (their methods cannot be wrapped), so ``gevent.event``
gets thin Python subclasses of them under the same names, right after it is imported (during
``import gevent``, before gevent's own modules or the program bind them), as ``gevent.lock`` does
for locks (see locks). With pure-Python gevent (PURE_PYTHON), whose classes name themselves and
have slots, their set / set_exception are replaced in place and the marks kept aside (see
wakes.watch). Their set / set_exception cost one attribute test unless a greenlet waits
on the object: then they leave a mark (the setting greenlet, when) that the waiter's next step
reads. Who sets an object nobody waits on is not recorded, so their `obj` lines stay `partial`."""
from . import wakes as _wakes

_rec = None
_st = None


def _setter(b_set):
    def set(self, *args, **kwargs):
        r = b_set(self, *args, **kwargs)
        if self._asynctrace_waited:
            _set_by(self)
        return r
    return _named(set, b_set)


def _pure_setter(b_set):
    """set / set_exception of pure-Python gevent's class, replaced in place (its objects have
    slots: the ones waited on are listed in wakes.side)."""
    side = _wakes.side

    def set(self, *args, **kwargs):
        r = b_set(self, *args, **kwargs)
        if side and id(self) in side:
            _set_by(self)
        return r
    return _named(set, b_set)


def _named(set, b_set):
    set.__name__ = b_set.__name__
    set.__qualname__ = getattr(b_set, "__qualname__", b_set.__name__)
    set.__doc__ = getattr(b_set, "__doc__", None)
    return set


def _set_by(o):
    st = _st
    if st is None or not st.active:
        return
    try:
        _wakes.released(o, st.info.get(id(st.getcurrent())))
    except Exception:
        pass


def waited(o):
    """A greenlet waits on `o`: from now on its sets leave marks (only our subclasses' objects,
    and pure-Python gevent's)."""
    try:
        if type(o).__dict__.get("_asynctrace_waited", True) is False:
            if not o._asynctrace_waited:
                o._asynctrace_waited = True
            return True
        if getattr(type(o), "_asynctrace_pure", False):
            _wakes.watch(o)
            return True
    except Exception:
        pass
    return False


def patch_event_module(mod):
    """gevent.event has just executed: its Event and AsyncResult become traced subclasses (same
    names, module and repr)."""
    for name, methods in (("Event", ("set",)), ("AsyncResult", ("set", "set_exception"))):
        base = getattr(mod, name, None)
        if base is None or getattr(base, "_asynctrace_waited", None) is False:
            continue
        try:
            if type(base.__dict__.get("set")) is type(_setter):
                # Pure-Python gevent: its classes name themselves (`super(Event, self)`: a
                # subclass under their name would recurse) and have slots (no room for marks):
                # their methods are replaced in place, marks kept aside.
                for m in methods:
                    setattr(base, m, _pure_setter(base.__dict__[m]))
                base._asynctrace_pure = True
                continue
            ns = {"_asynctrace_waited": False, "_asynctrace_rel": None, "__doc__": base.__doc__,
                  "__module__": base.__module__, "__qualname__": base.__qualname__}
            for m in methods:
                ns[m] = _setter(getattr(base, m))
            setattr(mod, name, type(base.__name__, (base,), ns))
        except Exception:
            pass  # (a gevent whose classes cannot be subclassed so: left as they are)
