"""Event loops: running (loop lines), closing (pending tasks), unretrieved task exceptions."""
from asyncio import tasks

from .state import (
    _patch,     _failed, _graveyard, _loop_id, _loop_ids, _state, _tids)

from .creation import _hook_loop_type

_rec = None  # the recorder (set by asyncio_hooks.install)


def _make_set_running_loop(orig):
    def _set_running_loop(loop):
        orig(loop)
        if loop is not None and _state["on"]:
            try:
                _hook_foreign_loop(loop)
                _loop_id(loop, True)
            except Exception:
                pass
    _set_running_loop.__wrapped__ = orig
    return _set_running_loop


def _hook_foreign_loop(loop):
    """A loop that is no BaseEventLoop (uvloop): hook its class's create_task and close."""
    if _hook_loop_type(loop):
        cls = type(loop)
        _patch(cls, "close", _make_close(cls.close))


def _make_new_event_loop(orig):
    # The policy's new loop, hooked before asyncio.run creates the main task on it.
    def new_event_loop(self):
        loop = orig(self)
        if _state["on"]:
            try:
                _hook_foreign_loop(loop)
            except Exception:
                pass
        return loop
    new_event_loop.__wrapped__ = orig
    return new_event_loop


def _make_close(orig):
    def close(self):
        if _state["on"] and id(self) in _loop_ids and not self.is_closed():
            try:
                pend = []
                for t in tasks.all_tasks(self):
                    if not t.done() and id(t) in _tids:
                        pend.append(str(_tids[id(t)]))
                _rec.emit('{"type":"loop","id":%d,"ts":%d,"state":"closed","pending":[%s]}'
                          % (_loop_ids[id(self)], _rec.now_us(), ",".join(pend)))
            except Exception:
                pass
        return orig(self)
    return close


def _make_call_exception_handler(orig):
    def call_exception_handler(self, context):
        try:
            if _state["on"]:
                msg = context.get("message", "")
                t = context.get("task") or context.get("future")
                if t is not None and isinstance(msg, str) and msg.startswith("Task exception was never retrieved"):
                    tid = _tids.get(id(t)) or _graveyard.pop(id(t), None)
                    _failed.pop(tid, None)
                    if tid is not None:
                        _rec.emit('{"type":"unretrieved","task":%d,"ts":%d}' % (tid, _rec.now_us()))
        except Exception:
            pass
        return orig(self, context)
    return call_exception_handler


def _finalize():
    """At the end of the run: failed tasks still alive whose exception nobody retrieved.
    asyncio reports them only when they are collected, which may be after the trace closed
    (a task kept in a list, a module global). `_log_traceback` is read, never cleared."""
    ts = _rec.now_us()
    for tid, ref in list(_failed.items()):
        try:
            t = ref()
            if t is not None and t._log_traceback:
                _rec.emit('{"type":"unretrieved","task":%d,"ts":%d}' % (tid, ts))
        except Exception:
            pass
    _failed.clear()
