"""The trio run's instrument (``trio.abc.Instrument``): the run as a loop line, tasks with their
parent and start_soon line, every step (timing, await stack, what it waits on), steps that held
the run loop; and the tasks' ends (``Runner.task_exited``, which has the outcome).

One instrument per run, added to the runner as it is set up (trio.run, start_guest_run). Its
step hooks are the hot path: written flat, a task suspending where it did last time costs a few
attribute reads (see awaits)."""
import sys

from . import awaits, state
from .state import CoroT, _get_ident, _ns, cancelled_once, memo, tids

_rec = None  # the recorder (set by trio_hooks.install)
active = []        # instruments of the runs in progress (the sampler looks at them)
by_runner = {}     # runner -> its instrument
classes = []       # the instrument class made (see disable)


def make_class(Instrument):
    """The instrument class, built on trio's own base (trio calls only what a subclass overrides)."""
    rec = _rec
    emit_step = rec.emit_step
    buf = rec.buf
    flush_at = rec.flush_at
    flush = rec.flush
    block_ns = rec.block_us * 1000
    ns = _ns
    get_tid = tids.get
    get_memo = memo.get
    suffix_of = awaits.suffix_of

    class TraceInstrument(Instrument):
        def __init__(self, run_site, run_parent, unseen):
            self.t0 = 0                # start of the running step (0: none)
            self.ident = _get_ident()
            self.run_site = run_site   # the line that called trio.run (the main task's site)
            self.run_parent = run_parent  # the task running that line (a guest run's host task)
            self.unseen = unseen       # what this trio version's hooks could not see
            self.loop_id = None
            self.runner = None
            self.init_task = None
            self.main_task = None
            self.block_sites = {}      # step start -> site sampled while it ran

        # -- the run ------------------------------------------------------------------------
        def before_run(self):
            try:
                self.runner = runner = state.T["ctx"].runner
                self.ident = _get_ident()
                by_runner[runner] = self
                self.loop_id = lid = rec.new_loop_id()
                extra = ',"guest":true' if getattr(runner, "is_guest", False) else ""
                if self.unseen:
                    extra += ',"partial":true,"unseen":[%s]' % ",".join('"%s"' % u for u in self.unseen)
                rec.emit('{"type":"loop","id":%d,"ts":%d,"state":"running","thread":%d,"class":"trio"%s}'
                         % (lid, rec.now_us(), self.ident, extra))
                active.append(self)
            except Exception:
                pass

        def after_run(self):
            try:
                if self in active:
                    active.remove(self)
                by_runner.pop(self.runner, None)
                pending = []
                for t in list(tids):
                    if getattr(t, "_runner", None) is self.runner:
                        tid = tids.pop(t)
                        memo.pop(t, None)
                        if tid not in state.internal:
                            pending.append(tid)
                        state.internal.discard(tid)
                rec.emit('{"type":"loop","id":%d,"ts":%d,"state":"closed","pending":[%s]}'
                         % (self.loop_id, rec.now_us(), ",".join(map(str, sorted(pending)))))
                self.runner = None
            except Exception:
                pass

        # -- tasks --------------------------------------------------------------------------
        def task_spawned(self, task):
            try:
                self._spawned(task, sys._getframe(1))
            except Exception:
                pass

        def _spawned(self, task, frame):
            nursery = task._parent_nursery
            internal = False
            parent = site = None
            coro = task.coro
            if nursery is None:
                self.init_task = task  # trio's own root task
                internal = True
            else:
                ptask = nursery._parent_task
                if ptask is self.init_task:
                    if self.main_task is None and nursery is not getattr(self.runner, "system_nursery", None):
                        self.main_task = task  # what trio.run runs: created at its line
                        site = self.run_site
                        parent = self.run_parent
                    else:
                        # A system task (trio's, or the program's spawn_system_task)
                        code = getattr(coro, "cr_code", None)
                        internal = code is None or not rec.is_user_code(code)
                        if not internal:
                            site = state.user_site(frame)
                else:
                    parent = tids.get(ptask)
                    site = state.user_site(frame)
            tid = rec.new_task_id()
            try:
                cname = coro.__qualname__
            except Exception:
                cname = type(coro).__name__
            name = task.name
            emit_step(("task", ns(), tid, (
                "trio", name if type(name) is str else str(name), cname if type(cname) is str else str(cname),
                parent, site, self.ident, self.loop_id, False, internal)))
            tids[task] = tid
            if internal:
                state.internal.add(tid)

        # -- steps --------------------------------------------------------------------------
        def before_task_step(self, task):
            self.t0 = ns()

        def after_task_step(self, task):
            t1 = ns()
            t0 = self.t0
            self.t0 = 0
            try:
                c = task.coro
                nxt = c.cr_await
                m = get_memo(task)
                e = m[1].get(c.cr_frame.f_lasti) if m is not None and type(nxt) is CoroT else None
                if e is not None and nxt.cr_code is e[0] and t1 - t0 <= block_ns:
                    hit = m[2] = e[1]
                    s = hit[2]
                    emit_step((m[0], t0, t1, s if s is not None else hit[4](nxt)))
                else:
                    tid = get_tid(task)
                    if tid is None:
                        return  # it ended in this step (see exited) or is not ours
                    self._step(task, tid, c, t0, t1)
            except Exception:
                pass
            if len(buf) > flush_at:
                flush()

        def _step(self, task, tid, c, t0, t1):
            hit, leaf = awaits.describe(task)
            m = memo.get(task)
            if m is None:
                m = memo[task] = [tid, {}, hit]
            else:
                m[2] = hit
            nxt = c.cr_await if type(c) is CoroT else None
            if (leaf is not None and type(nxt) is CoroT and (nxt is leaf or hit[2] is not None)
                    and c.cr_frame is not None and hit[0] and "," not in hit[0]
                    and state.info.get(id(c.cr_code)) is True and len(m[1]) < 16):
                # The task's own coroutine is its only frame of the program's and awaits a
                # library call: next time the same instruction and callee say it is the same
                # place (a kind that depends on the call, a sleep's delay, only when the callee
                # is that call itself).
                m[1][c.cr_frame.f_lasti] = (nxt.cr_code, hit)
            emit_step((tid, t0, t1, suffix_of(hit, leaf)))
            if t1 - t0 > block_ns:
                self._block(tid, t0, t1, hit[1])

        def _block(self, tid, t0, t1, site):
            bsite = self.block_sites.pop(t0, None)
            if len(self.block_sites) > 1000:
                self.block_sites.clear()
            if bsite is None:
                bsite = site
            base = rec._t0
            rec.emit('{"type":"block","task":%d,"ts":%d,"dur":%d,"site":%s}'
                     % (tid, (t0 - base) // 1000, (t1 - t0) // 1000, "null" if bsite is None else bsite))

        def exited(self, task, tid, outcome):
            """The task's last step (its end happens inside it) and its end line."""
            t1 = ns()
            t0 = self.t0
            base = rec._t0
            err = getattr(outcome, "error", None)
            esite = None
            if err is not None:
                try:
                    esite = rec.site_of_traceback(err.__traceback__)
                except Exception:
                    esite = None
            if t0:
                emit_step((tid, t0, t1, "}"))
                if t1 - t0 > block_ns:
                    self._block(tid, t0, t1, esite)
            ts = (t1 - base) // 1000
            if err is None:
                emit_step(("done", ts, tid, None))
            elif all_cancelled(err, state.T.get("Cancelled")):
                if tid not in cancelled_once:
                    # Cancelled by something no hook saw (a scope cancelled before it was entered).
                    rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":null,"site":null,"cause":"cancel"}' % (tid, ts))
                rec.emit('{"type":"end","task":%d,"ts":%d,"state":"cancelled","error":{"type":"Cancelled","message":"","site":%s}}'
                         % (tid, ts, "null" if esite is None else esite))
            else:
                try:
                    msg = str(err)
                except Exception:
                    msg = ""
                rec.emit('{"type":"end","task":%d,"ts":%d,"state":"failed","error":{"type":%s,"message":%s,"site":%s}}'
                         % (tid, ts, rec.jstr(type(err).__qualname__), rec.jstr(msg), "null" if esite is None else esite))
            cancelled_once.discard(tid)
            state.internal.discard(tid)

    classes.append(TraceInstrument)
    return TraceInstrument


def disable():
    """Tracing stopped: the instruments of runs in progress do nothing from now on (trio looks
    their hooks up on each call), without touching a runner from another thread."""
    def nothing(self, *args):
        pass
    for cls in classes:
        for name in ("before_run", "after_run", "task_spawned", "before_task_step", "after_task_step"):
            setattr(cls, name, nothing)
    del active[:]
    by_runner.clear()


def all_cancelled(exc, cancelled, depth=0):
    """Whether the error is trio's Cancelled (or a group of nothing else)."""
    if cancelled is not None and isinstance(exc, cancelled):
        return True
    subs = getattr(exc, "exceptions", None)
    if depth < 20 and isinstance(subs, (list, tuple)) and subs:
        return all(all_cancelled(e, cancelled, depth + 1) for e in subs)
    return False


def make_task_exited(orig):
    """Runner.task_exited(task, outcome): the end of every task, with how it ended."""
    def task_exited(self, task, outcome):
        if state.state["on"]:
            try:
                tid = tids.pop(task, None)
                if tid is not None:
                    memo.pop(task, None)
                    inst = by_runner.get(self)
                    if inst is not None:
                        inst.exited(task, tid, outcome)
            except Exception:
                pass
        return orig(self, task, outcome)
    task_exited.__wrapped__ = orig
    return task_exited


def make_sampler():
    """Names the line that holds the run loop: while a step runs past half the block threshold,
    samples the innermost user frame of the run's thread. Runs on the writer thread."""
    threshold_ns = _rec.block_us * 500

    def tick():
        if not active or not state.state["on"]:
            return None
        wait = None
        frames = None
        try:
            now = _ns()
            for inst in list(active):
                t0 = inst.t0
                if not t0:
                    continue
                age = now - t0
                if age < threshold_ns:
                    left = (threshold_ns - age) / 1e9 + 0.001
                    wait = left if wait is None else min(wait, left)
                    continue
                if t0 in inst.block_sites:
                    continue
                if frames is None:
                    frames = sys._current_frames()
                site = state.user_site(frames.get(inst.ident))
                if site is not None and inst.t0 == t0:
                    inst.block_sites[t0] = site
        except Exception:
            pass
        finally:
            frames = None
        return wait
    return tick
