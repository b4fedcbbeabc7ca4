"""trio cancel scopes: deadlines as timeouts (armed, fired, cleared) and cancellations (who, why,
from which line, which tasks).

trio keeps every scope with a finite deadline in its `Deadlines` heap: `add` when the scope is
entered (or its deadline set), `remove` when it leaves (exit, cancel, a new deadline); `expire`
calls `scope.cancel()` when the clock passes it. `trio.sleep` is a scope with a deadline too (the
sleep's own), told apart by the function that entered it. A scope's cancellation reaches the
tasks whose cancel status lies under the scope's (nested scopes, nurseries), unless shielded.

Only the program's business is written: a deadline trio sets up for itself (a sleep's, the
`CancelScope(deadline=-inf)` of a checkpoint in a cancelled context) is no timeout, and a
cancellation library code asks for without a line of the program on its stack (a library closing
its own resources, happy eyeballs dropping the losing attempts) is no cancel line; a task that
still ends cancelled by one gets its cancel line when it ends (`by` and `site` null)."""
import math
import sys

from . import state
from .state import memo, tids, cancelled_once

_rec = None  # the recorder (set by trio_hooks.install)
_TRIOS_OWN = object()  # a deadline trio sets for itself (a sleep's, a checkpoint's)
_scopes = {}       # CancelScope -> [timeout id, site, task id]: armed deadlines not yet fired or cleared
_moving = set()    # scopes whose deadline the program is setting right now (remove + add = re-armed)
_codes = {}        # name -> code object of the trio functions the hooks recognise as callers
_cancelling = [0]  # depth of CancelScope.cancel calls in progress (trio may cancel from inside one)


def _now(runner=None):
    try:
        if runner is None:
            runner = state.T["ctx"].runner
        return runner.clock.current_time()
    except Exception:
        return None


def _origin(frame):
    """Who set up a deadline: _TRIOS_OWN for trio's sleeps and checkpoints, else the program's
    line (or None)."""
    own = (_codes.get("sleep_until"), _codes.get("checkpoint"))
    info = state.info
    n = 0
    while frame is not None and n < 60:
        code = frame.f_code
        if code in own:
            return _TRIOS_OWN
        u = info.get(id(code), state.MISS)
        if u is state.MISS:
            u = state.code_info(code)
        if u is True:
            return state.user_site(frame)
        if id(code) in state.LOOP_CODES:
            return None
        frame = frame.f_back
        n += 1
    return None


def _null(x):
    return "null" if x is None else x


def _arm(scope, deadline, site, entry=None):
    tid = state.current_tid()
    if entry is None and site is None and tid in state.internal:
        return None  # trio's own plumbing (its init task finalizing async generators)
    now = _now()
    delay = None if now is None else repr(round(max(0.0, deadline - now), 6))
    if entry is None:
        entry = _scopes[scope] = [_rec.new_timeout_id(), site, tid]
    _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"site":%s,"delay":%s,"state":"armed"}'
              % (entry[0], _null(entry[2]), _rec.now_us(), _null(entry[1]), _null(delay)))
    return entry


def _final(scope, what):
    entry = _scopes.pop(scope, None)
    if entry is not None:
        _rec.emit('{"type":"timeout","id":%d,"task":%s,"ts":%d,"state":"%s"}'
                  % (entry[0], _null(entry[2]), _rec.now_us(), what))
    return entry


def make_add(orig):
    def add(self, deadline, cancel_scope):
        if state.state["on"]:
            try:
                entry = _scopes.get(cancel_scope)
                if entry is not None:
                    _arm(cancel_scope, deadline, None, entry)  # a new deadline (same id and site)
                else:
                    site = _origin(sys._getframe(1))
                    if site is not _TRIOS_OWN:
                        _arm(cancel_scope, deadline, site)
            except Exception:
                pass
        return orig(self, deadline, cancel_scope)
    return add


def make_remove(orig):
    def remove(self, deadline, cancel_scope):
        if _scopes and cancel_scope in _scopes and cancel_scope not in _moving:
            try:
                _final(cancel_scope, "cleared")
            except Exception:
                pass
        return orig(self, deadline, cancel_scope)
    return remove


def make_deadline_property(prop):
    fset = prop.fset

    def set_deadline(self, new_deadline):
        if self not in _scopes:
            return fset(self, new_deadline)
        _moving.add(self)
        try:
            return fset(self, new_deadline)
        finally:
            _moving.discard(self)
            try:
                if self in _scopes and self._registered_deadline == math.inf:
                    _final(self, "cleared")  # no deadline any more
            except Exception:
                pass
    return property(prop.fget, set_deadline, prop.fdel, prop.__doc__)


def make_cancel(orig):
    def cancel(self):
        if not state.state["on"] or self._cancel_called or _cancelling[0]:
            # (a cancel inside another one: trio's own consequence of it; the outer cancel's
            # line names every task it reaches)
            return orig(self)
        try:
            why = _why(self, sys._getframe(1))
        except Exception:
            why = None
        _cancelling[0] += 1
        try:
            r = orig(self)
        finally:
            _cancelling[0] -= 1
        if why is not None:
            try:
                _deliver(self, why)
            except Exception:
                pass
        return r
    return cancel


def _why(scope, caller):
    """(by task id, site, cause, timeout id, entered) of a cancellation about to happen, or None
    when it is none of the program's business (a sleep's deadline)."""
    code = caller.f_code
    if code is _codes.get("expire"):
        entry = _final(scope, "fired")
        if entry is None:
            return None  # a sleep's own deadline (or one armed before tracing)
        return (None, entry[1], "timeout", entry[0], True)
    if code is _codes.get("enter"):
        # Entered with its deadline already past: cancelled on the spot.
        site = _origin(caller.f_back)
        if site is _TRIOS_OWN:
            return None
        entry = _arm(scope, scope._deadline, site)
        if entry is None:
            return None
        _final(scope, "fired")
        return (None, entry[1], "timeout", entry[0], False)
    if code is _codes.get("add_exc"):
        # A child failed (or the nursery's body raised): the nursery cancels the rest. A child
        # that only passed on a Cancelled asks for nothing new (the cancellation that reached
        # it has its lines already).
        from .instrument import all_cancelled
        if all_cancelled(caller.f_locals.get("exc"), state.T.get("Cancelled")):
            return None
        nursery = caller.f_locals.get("self")
        parent = getattr(nursery, "_parent_task", None)
        site = state.user_site(caller)
        if site is None and parent is not None:
            m = memo.get(parent)
            site = m[2][1] if m is not None else None  # (where the owner last waited)
        return (tids.get(parent), site, "cancel", None, True)
    if code is _codes.get("init"):
        return (None, None, "shutdown", None, True)  # the main task ended: system tasks go
    site = state.user_site(caller)
    if site is None:
        return None  # library plumbing (see above)
    return (state.current_tid(), site, "cancel", None, True)


def _waits_for_children_of(task, scope):
    """The task waits for its nursery's children at the end of `async with`, and the scope
    cancelled is that nursery's own: the wait is not interrupted and the nursery absorbs the
    Cancelled, so the task's own code never sees it (its children do). Cancelled by a scope
    outside the nursery, the task does see Cancelled once its children are gone."""
    try:
        nurseries = task._child_nurseries
        return bool(nurseries) and nurseries[-1]._parent_waiting_in_aexit and nurseries[-1].cancel_scope is scope
    except Exception:
        return False


def _deliver(scope, why):
    by, site, cause, toid, entered = why
    targets = []
    status = scope._cancel_status
    if status is not None:
        todo = [status]
        n = 0
        while todo and n < 100000:
            s = todo.pop()
            n += 1
            for t in s._tasks:
                if t._cancel_status.effectively_cancelled and not _waits_for_children_of(t, scope):
                    targets.append(t)
            todo.extend(s._children)
    elif not entered:
        t = state.current_task()
        if t is not None:
            targets.append(t)
    ts = _rec.now_us()
    tail = "" if toid is None else ',"timeout":%d' % toid
    for t in targets:
        tid = tids.get(t)
        if tid is None or tid in state.internal:
            continue
        cancelled_once.add(tid)
        _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":%s,"site":%s,"cause":"%s"%s}'
                  % (tid, ts, _null(by), _null(site), cause, tail))


def install(run_mod, timeouts_mod):
    """Patch trio's scopes. Returns what could not be hooked (for the loop line's `unseen`)."""
    from .state import patch
    unseen = []
    CS = getattr(run_mod, "CancelScope", None)
    DL = getattr(run_mod, "Deadlines", None)
    NU = getattr(run_mod, "Nursery", None)
    RU = getattr(run_mod, "Runner", None)

    def code_of(fn):
        n = 0
        while getattr(fn, "__wrapped__", None) is not None and n < 10:
            fn = fn.__wrapped__
            n += 1
        return getattr(fn, "__code__", None)

    for name, fn in (("sleep_until", getattr(timeouts_mod, "sleep_until", None)),
                     ("checkpoint", getattr(run_mod, "checkpoint", None)),
                     ("expire", getattr(DL, "expire", None)), ("enter", getattr(CS, "__enter__", None)),
                     ("add_exc", getattr(NU, "_add_exc", None)), ("init", getattr(RU, "init", None))):
        c = code_of(fn) if fn is not None else None
        if c is not None:
            _codes[name] = c
            state.keep_codes.append(c)
    if DL is not None and all(hasattr(DL, a) for a in ("add", "remove")) and "sleep_until" in _codes \
            and "expire" in _codes and isinstance(getattr(CS, "deadline", None), property):
        patch(DL, "add", make_add(DL.add))
        patch(DL, "remove", make_remove(DL.remove))
        patch(CS, "deadline", make_deadline_property(CS.deadline))
    else:
        unseen.append("deadlines")
    if CS is not None and hasattr(CS, "cancel") and hasattr(CS, "_cancel_called"):
        patch(CS, "cancel", make_cancel(CS.cancel))
    else:
        unseen.append("cancellations")
    return unseen


def reset():
    _scopes.clear()
    _moving.clear()

