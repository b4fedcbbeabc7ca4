"""Cancellations: who cancelled which task, from which line, and why."""
import os
import sys
import types

from asyncio import futures, tasks

from .state import (
    _firing,     _user_site, _OUR_FILES, _PyTaskBase, _TASK_TYPES, _TaskBase, _current_tid, _is_task_type, _memo,
    _name_check, _noted_cancel, _patch, _state, _tid_of, _tids)

_rec = None  # the recorder (set by asyncio_hooks.install)


def _cancel_line(target_tid, by, site, cause, timeout_id=None):
    if _firing and cause == "cancel":
        entry = _firing[-1]
        by, site, cause, timeout_id = None, entry[1], "timeout", entry[0]
    _noted_cancel.add(target_tid)
    _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":%s,"site":%s,"cause":"%s"%s}'
              % (target_tid, _rec.now_us(), "null" if by is None else by, "null" if site is None else site,
                 cause, "" if timeout_id is None else ',"timeout":%d' % timeout_id))


def _make_cancel_all(orig):
    def _cancel_all_tasks(loop):
        if _state["on"]:
            try:
                for t in tasks.all_tasks(loop):
                    if not t.done():
                        _cancel_line(_tid_of(t), None, None, "shutdown")
            except Exception:
                pass
        return orig(loop)
    return _cancel_all_tasks


def _make_tg_abort(orig):
    def _abort(self):
        if _state["on"]:
            try:
                ptid = _tids.get(id(self._parent_task))
                m = _memo.get(id(self._parent_task))
                site = m[3][1] if m is not None else None
                for t in self._tasks:
                    if not t.done():
                        _cancel_line(_tid_of(t), ptid, site, "cancel")
            except Exception:
                pass
        return orig(self)
    return _abort


def _make_gather_cancel(orig):
    def cancel(self, *args, **kwargs):
        if _state["on"] and not self.done():
            try:
                by = _current_tid()
                site = _user_site(sys._getframe(1))
                for c in self._children:
                    if not c.done() and id(c) in _tids:
                        _cancel_line(_tids[id(c)], by, site, "cancel")
            except Exception:
                pass
        return orig(self, *args, **kwargs)
    return cancel


def _make_call_soon(orig):
    """<= 3.11: see task.cancel() through the wakeup it schedules. Cancelling a task cancels
    the future it waits on, whose callbacks (the task's wakeup) go through loop.call_soon while
    the frame that called cancel() is still the innermost Python frame."""
    fut_types = set()
    for name in ("Future", "_CFuture", "_PyFuture"):
        t = getattr(futures, name, None)
        if isinstance(t, type):
            fut_types.add(t)

    def note(callback, f, frame):
        """`f`, cancelled, wakes the task that waits on it: that task's cancel, from `frame`."""
        try:
            t = getattr(callback, "__self__", None)
            if t is not None and type(t) in _TASK_TYPES and t._fut_waiter is f:
                tid = _tid_of(t)
                if tid not in _noted_cancel:
                    _cancel_line(tid, _current_tid(), _user_site(frame), "cancel")
        except Exception:
            pass

    code = getattr(orig, "__code__", None)
    if code is None or not code.co_filename.replace(os.sep, "/").endswith("asyncio/base_events.py"):
        # Not the standard call_soon (something replaced it before the runtime started): called.
        def call_soon_other(self, callback, *args, context=None):
            if args and type(args[0]) in fut_types:
                try:
                    if args[0].cancelled():
                        note(callback, args[0], sys._getframe(1))
                except Exception:
                    pass
            handle = orig(self, callback, *args, context=context)
            stb = getattr(handle, "_source_traceback", None)
            if stb:
                while stb and stb[-1].filename in _OUR_FILES:
                    del stb[-1]
            return handle
        call_soon_other.__wrapped__ = orig
        return call_soon_other

    # BaseEventLoop.call_soon's own signature and body (the same on 3.9-3.11, the only versions
    # hooked here), inlined: the hook costs no Python call of its own (four per aiohttp request).
    # self._call_soon is still called: a loop class may override it.
    def call_soon(self, callback, *args, context=None):
        if args and type(args[0]) in fut_types:
            try:
                if args[0].cancelled():
                    note(callback, args[0], sys._getframe(1))
            except Exception:
                pass
        self._check_closed()
        if self._debug:
            self._check_thread()
            self._check_callback(callback, 'call_soon')
        handle = self._call_soon(callback, args, context)
        stb = handle._source_traceback
        if stb:
            # Debug mode records where the callback was scheduled: not in this module (this
            # function's entry included, as call_soon drops its own).
            while stb and stb[-1].filename in _OUR_FILES:
                del stb[-1]
        return handle
    call_soon.__wrapped__ = orig
    return call_soon


def _make_task_class(base):
    """<= 3.11: the C Task's cancel() is invisible when the task waits on nothing (not started
    yet, after a bare yield, woken but not run): no future to cancel, no wakeup scheduled. The
    tasks asyncio creates are made of this subclass (same name, no new state), whose cancel()
    notes who asked and from which line, then runs the C one."""
    base_cancel = base.cancel

    def cancel(self, *args, **kwargs):
        if _state["on"]:
            try:
                if not self.done():
                    tid = _tid_of(self)
                    if tid not in _noted_cancel:
                        _cancel_line(tid, _current_tid(), _user_site(sys._getframe(1)), "cancel")
            except Exception:
                pass
        return base_cancel(self, *args, **kwargs)
    cancel.__doc__ = base_cancel.__doc__
    cls = type(base.__name__, (base,), {"__slots__": (), "cancel": cancel, "__doc__": base.__doc__,
                                         "__module__": base.__module__})
    cls.__qualname__ = base.__qualname__
    return cls


# sys.monitoring tool ids the runtime may use, in order of preference: 0-2 belong to debuggers,
# coverage and profilers (cProfile uses 2 on 3.12+), 3-5 are free by convention.
_TOOL_IDS = (4, 3, 5)
_real_mon = {}  # the sys.monitoring functions the program's calls are passed on to


def _install_monitoring():
    """3.12+: see the user's task.cancel() calls (who and where) at almost no cost. The tool id
    is one nobody holds; the program never sees it taken: asking for it (use_tool_id) moves
    the runtime to another free id (or ends this watch), get_tool says it is free, and it is
    given back when tracing ends (see _release_monitoring)."""
    mon = sys.monitoring
    if not _real_mon:
        for name in ("use_tool_id", "get_tool", "free_tool_id"):
            _real_mon[name] = getattr(mon, name)
        _patch(mon, "use_tool_id", _use_tool_id)
        _patch(mon, "get_tool", _get_tool)
        _patch(mon, "free_tool_id", _free_tool_id)
    _take_tool(None)


def _take_tool(avoid):
    """Watch calls under a free tool id other than `avoid`; False if none is free."""
    get = _real_mon["get_tool"]
    for cand in _TOOL_IDS:
        if cand != avoid and get(cand) is None:
            try:
                _real_mon["use_tool_id"](cand, "asynctrace")
            except ValueError:
                continue
            mon = sys.monitoring
            mon.register_callback(cand, mon.events.CALL, _on_call)
            mon.set_events(cand, mon.events.CALL)
            _state["tool"] = cand
            return True
    return False


def _release_monitoring():
    """Give the tool id back (the end of tracing, a forked child, the program asking for it)."""
    tool = _state.get("tool")
    if tool is None:
        return
    _state["tool"] = None
    try:
        mon = sys.monitoring
        mon.set_events(tool, 0)
        mon.register_callback(tool, mon.events.CALL, None)
        _real_mon["free_tool_id"](tool)
    except Exception:
        pass


def _use_tool_id(tool_id, name):
    if tool_id == _state.get("tool"):
        try:
            _release_monitoring()
            if _state["on"]:
                _take_tool(tool_id)
        except Exception:
            pass
    return _real_mon["use_tool_id"](tool_id, name)


def _get_tool(tool_id):
    if tool_id == _state.get("tool"):
        return None
    return _real_mon["get_tool"](tool_id)


def _free_tool_id(tool_id):
    if tool_id == _state.get("tool"):
        return None  # not the program's: freeing an id nobody (of its own) holds does nothing
    return _real_mon["free_tool_id"](tool_id)


for _fn, _name in ((_use_tool_id, "use_tool_id"), (_get_tool, "get_tool"), (_free_tool_id, "free_tool_id")):
    _fn.__name__ = _fn.__qualname__ = _name
    _fn.__module__ = "sys.monitoring"


def _make_on_call():
    mon = sys.monitoring
    DISABLE = mon.DISABLE
    BuiltinMethod = types.BuiltinMethodType
    MethodType = types.MethodType
    FunctionType = types.FunctionType

    c1 = _TaskBase.__dict__.get("cancel")
    c2 = _PyTaskBase.__dict__.get("cancel")
    s1 = _TaskBase.__dict__.get("set_name")
    s2 = _PyTaskBase.__dict__.get("set_name")

    def on_call(code, offset, fn, arg0):
        # Never raises: it runs inside every call site of the program until disabled there.
        try:
            if fn is c1 or fn is c2:
                target = arg0
            elif fn is s1 or fn is s2:
                tid = _tids.get(id(arg0))
                if tid is not None:
                    _name_check[tid] = arg0  # compared when the running step ends
                return None
            else:
                # Only the types whose __name__ is a plain attribute: asking an arbitrary
                # callable (a mock, a proxy) for it could run the program's code.
                tf = type(fn)
                if tf is not BuiltinMethod and tf is not MethodType and tf is not FunctionType:
                    return DISABLE
                fname = fn.__name__
                if fname != "cancel":
                    if fname != "set_name":
                        return DISABLE  # this call site never sees a cancel() again
                    t = fn.__self__ if tf is not FunctionType else arg0
                    if _state["on"] and _is_task_type(type(t)):
                        tid = _tids.get(id(t))
                        if tid is not None:
                            _name_check[tid] = t  # compared when the running step ends
                    return None
                if tf is BuiltinMethod or tf is MethodType:
                    target = fn.__self__
                else:
                    # Handle.cancel, Future.cancel, ...: keep watching, the same line may
                    # cancel a task next time.
                    target = arg0
            if not _state["on"] or not _is_task_type(type(target)) or target.done():
                return None
            tid = _tid_of(target)
            if tid in _noted_cancel:
                return None
            if _rec.is_user_code(code):
                site = _rec.site_of_code(code, _line_of(code, offset))
            else:
                site = _user_site(sys._getframe(1))
            _cancel_line(tid, _current_tid(), site, "cancel")
        except BaseException:
            pass
        return None

    return on_call


_on_call = _make_on_call() if hasattr(sys, "monitoring") else None


_line_cache = {}


def _line_of(code, offset):
    key = (id(code), offset)
    ln = _line_cache.get(key)
    if ln is None:
        ln = code.co_firstlineno
        for start, end, line in code.co_lines():
            if start <= offset < end:
                if line is not None:
                    ln = line
                break
        _line_cache[key] = ln
    return ln
