"""Wake links: what made a waiting task ready, and when (the step line's `woke` / `wokeBy`).

Every wake-up of a task goes through the loop's ready queue: the future it waits on schedules
the task's wakeup with ``loop.call_soon`` (a new task its first step), and nothing else runs
between that and the end of the step or callback doing it. So after each step or callback the
step hook (steps._make_run) looks at the handles it added to the queue (`note_ready`: usually
none, or the task's own next step after a bare yield): a task's wakeup is that task's wake link;
a callback acts for what scheduled it (a task, or what made that callback ready). Callbacks
have origins of their own: a timer (ready at its due time), I/O the selector reported (ready
when select returned), a callback handed over by another thread (ready when it was handed over).
No wrapper on call_soon: the scan costs two len() per step when nothing was scheduled."""
from asyncio import base_events, events
from itertools import islice

from ..lines import _woke_rest
from .state import _OUR_FILES, _TaskFast, _is_task_type, _ns, _woke

_rec = None  # the recorder (set by asyncio_hooks.install)

TIMER = '{"kind":"timer"}'
IO = '{"kind":"io"}'
THREAD = '{"kind":"thread"}'
CALLBACK = '{"kind":"callback"}'

# id(task) -> (ns when it became ready, origin): origin is the waking task's id (int) or a
# wokeBy text. Taken by the task's next step; cleaned with the task's id (state._forget).
woke = _woke
# A callback handle waiting in the ready queue -> (origin, ns ready) (popped when it runs;
# cancelled ones are dropped when the table grows large).
handle_origin = {}
# id(callback) -> ns: callbacks handed over by call_soon_threadsafe, not run yet (noted by the
# callback before the handle exists: the loop's thread may run it before this thread goes on).
thread_callbacks = {}

_executor_on = [None]  # executor_hooks.on_text_of, when it is importable
TimerHandle = events.TimerHandle
# perf_counter_ns - loop.time() in ns (both CLOCK_MONOTONIC on Linux: about 0).
_clock_offset = [0]


def woke_text(entry):
    """The `,"woke":T,"wokeBy":{...}` fragment of a step line, from a `woke` entry (formatted
    as the writer formats the entries it is handed, see lines._woke_rest)."""
    return _woke_rest((entry, ""), _rec._t0)


def _thread_origin(task):
    """A wake from another thread: name the executor work item the task waited on, if any."""
    on_text_of = _executor_on[0]
    if on_text_of is not None:
        try:
            text = on_text_of(task._fut_waiter)
            if text is not None and text.startswith('{"kind":"executor"'):
                return '{"kind":"thread"' + text[len('{"kind":"executor"'):]
        except Exception:
            pass
    return THREAD


def note_ready(ready, n0, runner, origin, t):
    """The handles a step of task `runner` (or a callback: runner None) added to the ready queue
    past its first n0: wake links of the tasks they wake, origins of the callbacks. `origin`
    and `t`: what the runner acts for and when that made things ready."""
    k = len(ready) - n0
    if k <= 0:
        return
    TaskC = _TaskFast[0]
    try:
        # (mostly one: no iterators to build then)
        for h in (ready[-1],) if k == 1 else islice(reversed(ready), k):
            cb = h._callback
            o, tr = origin, t
            if thread_callbacks:
                th = thread_callbacks.pop(id(cb), None)
                if th is not None:
                    o, tr = THREAD, th  # handed over by another thread meanwhile
            w = getattr(cb, "__self__", None)
            if type(w) is TaskC or (w is not None and _is_task_type(type(w))):
                if w is runner:
                    continue  # its own next step (a bare yield): ready from its step's end
                key = id(w)
                if key not in woke:  # (made ready twice before it ran: the first counts)
                    if o is THREAD:
                        o = _thread_origin(w)
                    woke[key] = (tr, o)
            else:
                if len(handle_origin) > 50000:
                    handle_origin.clear()
                handle_origin[h] = (o, tr)
    except Exception:
        pass


def callback_origin(handle, now):
    """(origin, ns ready) of a callback about to run (see steps._make_run)."""
    if type(handle) is TimerHandle:
        try:
            due = int(handle._when * 1e9) + _clock_offset[0]
            if now - 60_000_000_000 < due <= now:
                return TIMER, due
        except Exception:
            pass
        return TIMER, now
    o = handle_origin.pop(handle, None)
    if o is not None:
        return o
    if thread_callbacks:
        th = thread_callbacks.pop(id(handle._callback), None)
        if th is not None:
            return THREAD, th
    return CALLBACK, now


def make_call_soon_threadsafe(orig):
    def call_soon_threadsafe(self, callback, *args, context=None):
        try:
            if len(thread_callbacks) > 10000:
                thread_callbacks.clear()
            thread_callbacks[id(callback)] = _ns()
        except Exception:
            pass
        handle = orig(self, callback, *args, context=context)
        try:
            stb = handle._source_traceback
            if stb:
                # Debug mode records where the callback was scheduled: not in this module.
                while stb and stb[-1].filename in _OUR_FILES:
                    del stb[-1]
        except Exception:
            pass
        return handle
    call_soon_threadsafe.__wrapped__ = orig
    return call_soon_threadsafe


def make_process_events(orig):
    """The selector's ready callbacks (readers and writers) are I/O readiness."""
    def _process_events(self, event_list):
        ready = self._ready
        n = len(ready)
        orig(self, event_list)
        try:
            k = len(ready) - n
            if k > 0:
                t = _ns()
                for h in islice(reversed(ready), k):
                    handle_origin[h] = (IO, t)
        except Exception:
            pass
    _process_events.__wrapped__ = orig
    return _process_events


def install(patch):
    """Patch the standard loops (`patch` is state._patch)."""
    import time
    _clock_offset[0] = time.perf_counter_ns() - time.monotonic_ns()
    if abs(_clock_offset[0]) < 1_000_000:
        _clock_offset[0] = 0
    try:
        from .. import executor_hooks
        _executor_on[0] = executor_hooks.on_text_of
    except Exception:
        pass
    BL = base_events.BaseEventLoop
    patch(BL, "call_soon_threadsafe", make_call_soon_threadsafe(BL.call_soon_threadsafe))
    try:
        from asyncio import selector_events
        SL = selector_events.BaseSelectorEventLoop
        patch(SL, "_process_events", make_process_events(SL._process_events))
    except Exception:
        pass
