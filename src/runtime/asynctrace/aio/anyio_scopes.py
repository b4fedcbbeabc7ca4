"""anyio deadlines on the asyncio backend (``move_on_after``, ``fail_after``,
``CancelScope(deadline=...)``): armed at the ``with`` line, fired or cleared once; the
cancellations a firing deadline delivers have cause "timeout" and the scope's site.

anyio imports its asyncio backend when first used (often while a loop already runs):
``CancelScope`` is patched right after that module executed."""
import math
import sys

from asyncio import events

from .state import _firing, _patch, _state, _tid_of, _user_site, _current_task

_rec = None  # the recorder (set by asyncio_hooks.install)
_MODULE = "anyio._backends._asyncio"
_scopes = {}  # id(scope) -> [timeout id, site, final line written, task id]


def _finite(deadline):
    try:
        return deadline != math.inf and deadline == deadline
    except Exception:
        return False


def _make_enter(orig):
    def __enter__(self):
        entry = None
        if _state["on"] and id(self) not in _scopes:
            try:
                deadline = self._deadline
                if _finite(deadline):
                    cur = _current_task()
                    tid = _tid_of(cur) if cur is not None else None
                    toid = _rec.new_timeout_id()
                    site = _user_site(sys._getframe(1))
                    loop = events._get_running_loop()
                    delay = round(max(0.0, deadline - loop.time()), 6) if loop is not None else None
                    entry = _scopes[id(self)] = [toid, site, False, tid]
                    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"site":%s,"delay":%s,"state":"armed"}'
                              % (toid, "null" if tid is None else tid, _rec.now_us(),
                                 "null" if site is None else site, "null" if delay is None else repr(float(delay))))
            except Exception:
                pass
        try:
            return orig(self)
        except BaseException:
            if entry is not None:
                _final(self, "cleared")
            raise
    return __enter__


def _final(scope, state):
    entry = _scopes.pop(id(scope), None) if state == "cleared" else _scopes.get(id(scope))
    if entry is None or entry[2]:
        return None
    entry[2] = True
    tid = entry[3]
    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"%s"}'
              % (entry[0], "null" if tid is None else tid, _rec.now_us(), state))
    return entry


def _make_timeout(orig):
    def _timeout(self):
        entry = None
        if _state["on"] and id(self) in _scopes:
            try:
                loop = events._get_running_loop()
                if loop is not None and _finite(self._deadline) and loop.time() >= self._deadline \
                        and not self._cancel_called:
                    entry = _final(self, "fired")
                    if entry is not None:
                        _firing.append(entry)
            except Exception:
                entry = None
        try:
            return orig(self)
        finally:
            if entry is not None:
                try:
                    _firing.remove(entry)
                except ValueError:
                    pass
    return _timeout


def _make_deliver(orig):
    # A fired deadline keeps delivering (call_soon retries) until its tasks are cancelled.
    def _deliver_cancellation(self):
        entry = _scopes.get(id(self)) if _firing is not None else None
        if entry is None or not entry[2] or not getattr(self, "_timeout_expired", False):
            return orig(self)
        _firing.append(entry)
        try:
            return orig(self)
        finally:
            try:
                _firing.remove(entry)
            except ValueError:
                pass
    return _deliver_cancellation


def _make_exit(orig):
    def __exit__(self, *args):
        if id(self) in _scopes:
            try:
                _final(self, "cleared")  # (nothing when it fired)
                _scopes.pop(id(self), None)
            except Exception:
                pass
        return orig(self, *args)
    return __exit__


def _hook(module):
    cls = getattr(module, "CancelScope", None)
    if cls is None or getattr(cls.__enter__, "_asynctrace", False):
        return
    enter = _make_enter(cls.__enter__)
    enter._asynctrace = True
    _patch(cls, "__enter__", enter)
    _patch(cls, "__exit__", _make_exit(cls.__exit__))
    _patch(cls, "_timeout", _make_timeout(cls._timeout))
    if hasattr(cls, "_deliver_cancellation"):
        _patch(cls, "_deliver_cancellation", _make_deliver(cls._deliver_cancellation))


def _hook_if_on(module):
    if _state["on"]:
        _hook(module)


def install():
    from .. import import_watch
    import_watch.when_imported(_MODULE, _hook_if_on)


def uninstall():
    # (A watch still pending does nothing once tracing is off.)
    _scopes.clear()
