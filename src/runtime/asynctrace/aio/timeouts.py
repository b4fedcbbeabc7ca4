"""Deadlines: ``wait_for`` (<= 3.11) and ``asyncio.timeout`` (3.11+): armed, fired, cleared."""
import sys

from asyncio import events

from .state import (
    _user_site, _current_task, _known_tid, _noted_cancel, _state, _tid_of, _wait_for_stack)
from .cancels import (
    _cancel_line)

_rec = None  # the recorder (set by asyncio_hooks.install)


def _make_wait_for(orig):
    async def wait_for(fut, timeout, *args, **kwargs):
        if timeout is None or not _state["on"]:
            return await orig(fut, timeout, *args, **kwargs)
        try:
            # Keyed by the task object: on a loop whose tasks the hooks may not have seen (uvloop)
            # two waits must never share a key (their tids could both be unknown).
            cur = _current_task()
            key = id(cur)
            tid = _tid_of(cur) if cur is not None else None
            toid = _rec.new_timeout_id()
            site = _user_site(sys._getframe(1))
            _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"site":%s,"delay":%s,"state":"armed"}'
                      % (toid, "null" if tid is None else tid, _rec.now_us(), "null" if site is None else site,
                         _num(timeout)))
            entry = [toid, site, False, tid]
            _wait_for_stack.setdefault(key, []).append(entry)
        except Exception:
            return await orig(fut, timeout, *args, **kwargs)
        try:
            return await orig(fut, timeout, *args, **kwargs)
        finally:
            try:
                st = _wait_for_stack.get(key)
                if st:
                    st.remove(entry)
                    if not st:
                        del _wait_for_stack[key]
                if not entry[2]:
                    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"cleared"}'
                              % (toid, "null" if tid is None else tid, _rec.now_us()))
            except Exception:
                pass
    wait_for.__doc__ = orig.__doc__
    wait_for.__wrapped__ = orig
    return wait_for


def _make_cancel_and_wait(orig):
    async def _cancel_and_wait(fut, *args, **kwargs):
        if _state["on"]:
            try:
                cur = _current_task()
                st = _wait_for_stack.get(id(cur))
                entry = st[-1] if st else None
                tid = entry[3] if entry is not None else (_tid_of(cur) if cur is not None else None)
                target = _tid_of(fut)
                if entry is not None and not isinstance(sys.exc_info()[1], BaseException):
                    # No exception being handled: wait_for's deadline expired.
                    entry[2] = True
                    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"fired"}'
                              % (entry[0], "null" if tid is None else tid, _rec.now_us()))
                    _cancel_line(target, tid, entry[1], "timeout", entry[0])
                elif target not in _noted_cancel:
                    _cancel_line(target, tid, entry[1] if entry else None, "cancel")
            except Exception:
                pass
        return await orig(fut, *args, **kwargs)
    return _cancel_and_wait


def _num(x):
    try:
        return repr(float(x))
    except Exception:
        return "null"


def _make_reschedule(orig):
    def reschedule(self, when):
        r = orig(self, when)
        if _state["on"]:
            try:
                toid = self.__dict__.get("_asynctrace_id")
                if toid is None:
                    toid = self._asynctrace_id = _rec.new_timeout_id()
                    self._asynctrace_site = _user_site(sys._getframe(1))
                task = getattr(self, "_task", None)
                tid = _known_tid(task) if task is not None else None
                delay = self.__dict__.pop("_asynctrace_delay", None)
                if delay is None and when is not None:
                    delay = round(max(0.0, when - events.get_running_loop().time()), 6)
                site = self._asynctrace_site
                _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"site":%s,"delay":%s,"state":"armed"}'
                          % (toid, "null" if tid is None else tid, _rec.now_us(), "null" if site is None else site,
                             _num(delay) if delay is not None else "null"))
            except Exception:
                pass
        return r
    return reschedule


def _make_timeout_factory(orig):
    # Keep the delay the program asked for (Timeout itself only knows the deadline).
    def timeout(delay):
        t = orig(delay)
        try:
            t._asynctrace_delay = delay
        except Exception:
            pass
        return t
    timeout.__doc__ = orig.__doc__
    timeout.__wrapped__ = orig
    return timeout


def _make_on_timeout(orig):
    def _on_timeout(self):
        if _state["on"]:
            try:
                toid = self.__dict__.get("_asynctrace_id")
                task = self._task
                tid = _tid_of(task) if task is not None else None
                if toid is not None:
                    self._asynctrace_fired = True
                    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"fired"}'
                              % (toid, "null" if tid is None else tid, _rec.now_us()))
                    if tid is not None:
                        _cancel_line(tid, None, self.__dict__.get("_asynctrace_site"), "timeout", toid)
            except Exception:
                pass
        return orig(self)
    return _on_timeout


def _make_timeout_aexit(orig):
    def __aexit__(self, *args):
        if _state["on"]:
            try:
                toid = self.__dict__.get("_asynctrace_id")
                if toid is not None and not self.__dict__.get("_asynctrace_fired"):
                    task = getattr(self, "_task", None)
                    tid = _known_tid(task) if task is not None else None
                    self._asynctrace_fired = True  # only one final line
                    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"cleared"}'
                              % (toid, "null" if tid is None else tid, _rec.now_us()))
            except Exception:
                pass
        return orig(self, *args)
    return __aexit__
