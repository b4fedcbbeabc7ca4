"""trio instrumentation (and anyio on its trio backend): tasks, steps, awaits, deadlines,
cancellations, ends and blocking steps of every trio run, through trio's own instrument API.

Nothing happens until the program imports trio (``import_watch``): then the runner set-up
(``trio._core._run.setup_runner``, which ``trio.run`` and ``trio.lowlevel.start_guest_run`` both
call) adds one instrument per run (see instrument), ``Runner.task_exited`` gives each task's
outcome, and trio's deadline heap and ``CancelScope.cancel`` give timeouts and cancellations
(see scopes). What a trio version does not let the hooks see is named on the run's loop line
(``partial``, ``unseen``); a trio the hooks cannot follow at all still leaves a loop line saying
it ran unrecorded."""
import sys

from . import awaits, instrument, scopes, state
from .state import patch, patches

_MODULE = "trio"


def install(rec):
    for mod in (state, awaits, scopes, instrument):
        mod._rec = rec
    state.state["on"] = True
    rec.add_current_task_provider(state.current_tid)
    from .. import import_watch
    import_watch.when_imported(_MODULE, _hook_trio)


def uninstall():
    """Restore everything (tracing stopped). Safe to call more than once."""
    state.state["on"] = False
    instrument.disable()  # (the instruments of runs in progress stay in their runners)
    while patches:
        owner, name, orig, had = patches.pop()
        try:
            setattr(owner, name, orig)
        except Exception:
            pass
    scopes.reset()


def _hook_trio(trio):
    if not state.state["on"] or "run" in state.T:
        return
    try:
        run_mod = sys.modules["trio._core._run"]
        state.T["run"] = run_mod
        state.T["ctx"] = run_mod.GLOBAL_RUN_CONTEXT
        Instrument = trio.abc.Instrument
        setup = run_mod.setup_runner
        Runner = run_mod.Runner
        state.T["Cancelled"] = getattr(trio, "Cancelled", None)
    except Exception:
        _unrecorded(trio)
        return
    unseen = []
    for fn in (getattr(run_mod, "unrolled_run", None), getattr(run_mod, "run", None),
               getattr(getattr(run_mod, "GuestState", None), "guest_tick", None)):
        code = getattr(fn, "__code__", None)
        if code is not None:
            state.LOOP_CODES.add(id(code))
            state.keep_codes.append(code)
    awaits.build_loaded()
    if hasattr(Runner, "task_exited"):
        patch(Runner, "task_exited", instrument.make_task_exited(Runner.task_exited))
    else:
        unseen.append("ends")
    try:
        unseen += scopes.install(run_mod, sys.modules.get("trio._timeouts"))
    except Exception:
        unseen.append("deadlines")
    cls = instrument.make_class(Instrument)
    rec = state._rec
    rec.add_ticker(instrument.make_sampler(), max(0.005, min(0.1, rec.block_us / 2e6)))

    def setup_runner(*args, **kwargs):
        runner = setup(*args, **kwargs)
        if state.state["on"]:
            try:
                awaits.build_loaded()  # (anyio's modules, imported since)
                # The main task is created at the line above trio.run (or start_guest_run), by
                # the task that line runs in when there is one (a guest run's asyncio task).
                runner.instruments.add_instrument(cls(state.caller_site(3), state._rec.current_task_id(), unseen))
            except Exception:
                pass
        return runner
    setup_runner.__wrapped__ = setup
    patch(run_mod, "setup_runner", setup_runner)


def _unrecorded(trio):
    """A trio whose run the hooks cannot follow: the trace says trio ran unrecorded."""
    rec = state._rec
    try:
        rec.emit('{"type":"loop","id":%d,"ts":%d,"state":"running","thread":%d,"class":"trio","partial":true,'
                 '"unsupported":true}' % (rec.new_loop_id(), rec.now_us(), state._get_ident()))
    except Exception:
        pass
