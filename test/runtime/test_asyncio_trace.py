"""The recorded structure of asyncio programs: parents, sites, steps, awaits, timeouts,
cancellations, ends, blocking steps; and that tracing changes nothing the program sees."""
import sys
import unittest

from tracehelp import check_wellformed, line_of, run_plain, run_traced

PY = sys.version_info[:2]


def traced(testcase, src, **kw):
    res = run_traced(src, **kw)
    plain = run_plain(src)
    testcase.assertEqual(res.code, plain.code, res.stderr)
    testcase.assertEqual(res.stdout, plain.stdout)
    check_wellformed(testcase, res)
    return res


CREATE = '''
import asyncio

async def leaf(d):
    await asyncio.sleep(d)  # L:leaf-await
    return d

async def middle():
    t = asyncio.create_task(leaf(0.05))  # L:create
    r = await asyncio.gather(leaf(0.02), leaf(0.03))  # L:gather
    return (await t) + sum(r)  # L:await-t

async def main():
    v = await asyncio.ensure_future(middle())  # L:ensure
    print(round(v, 2))

asyncio.run(main())  # L:run
'''


class StructureTest(unittest.TestCase):
    def test_parents_sites_and_awaits(self):
        res = traced(self, CREATE)
        self.assertEqual(res.stdout, "0.1\n")
        main = res.by_coro("main")[0]
        middle = res.by_coro("middle")[0]
        leaves = res.by_coro("leaf")
        self.assertEqual(len(leaves), 3)
        t = res.tasks
        self.assertIsNone(t[main]["parent"])
        self.assertEqual(res.line(t[main]["site"]), line_of(CREATE, "L:run"))
        self.assertEqual(t[middle]["parent"], main)
        self.assertEqual(res.line(t[middle]["site"]), line_of(CREATE, "L:ensure"))
        self.assertEqual(t[main]["thread"], t[middle]["thread"])
        self.assertEqual(t[main]["loop"], t[middle]["loop"])
        by_line = sorted(res.line(t[x]["site"]) for x in leaves)
        self.assertEqual(by_line, sorted([line_of(CREATE, "L:create")] + [line_of(CREATE, "L:gather")] * 2))
        for x in leaves:
            self.assertEqual(t[x]["parent"], middle)
            self.assertEqual(res.ends[x]["state"], "done")
            # one suspension, on the sleep, at the await line, with its delay
            self.assertEqual(res.await_lines(x), [line_of(CREATE, "L:leaf-await")])
            on = res.ons(x)[0]
            self.assertEqual(on["kind"], "sleep")
            self.assertIn(on["delay"], (0.02, 0.03, 0.05))
            start, end = res.span(x)
            self.assertGreaterEqual(end - start, int(on["delay"] * 1e6) - 2000)
        # middle waited on the gather (of exactly the two gathered leaves), then maybe on t
        ons = res.ons(middle)
        self.assertEqual(ons[0]["kind"], "gather")
        gathered = [x for x in leaves if res.line(t[x]["site"]) == line_of(CREATE, "L:gather")]
        self.assertEqual(sorted(ons[0]["tasks"]), sorted(gathered))
        self.assertEqual(res.await_lines(middle)[0], line_of(CREATE, "L:gather"))
        # main's stack at its suspension: the ensure_future line
        self.assertEqual(res.await_lines(main), [line_of(CREATE, "L:ensure")])
        self.assertEqual(res.ons(main)[0], {"kind": "task", "task": middle})
        # the concurrent leaves overlap in time
        spans = [res.span(x) for x in leaves]
        self.assertLess(max(s for s, e in spans), min(e for s, e in spans))
        loops = res.loops
        self.assertEqual(len(loops), 1)
        states = [e["state"] for e in list(loops.values())[0]]
        self.assertEqual(states, ["running", "closed"])

    def test_failure_and_unretrieved(self):
        src = '''
import asyncio, gc

async def bad():
    await asyncio.sleep(0)
    raise ValueError("bad thing")  # L:raise

async def ignored():
    raise KeyError("never looked at")  # L:raise2

async def main():
    t = asyncio.create_task(bad())
    try:
        await t
    except ValueError as e:
        print("caught", e)
    u = asyncio.create_task(ignored())
    await asyncio.sleep(0.01)
    del u
    gc.collect()
    await asyncio.sleep(0)

asyncio.run(main())
'''
        res = traced(self, src)
        bad = res.by_coro("bad")[0]
        end = res.ends[bad]
        self.assertEqual(end["state"], "failed")
        self.assertEqual(end["error"]["type"], "ValueError")
        self.assertEqual(end["error"]["message"], "bad thing")
        self.assertEqual(res.line(end["error"]["site"]), line_of(src, "L:raise"))
        ign = res.by_coro("ignored")[0]
        self.assertEqual(res.ends[ign]["state"], "failed")
        self.assertEqual(res.line(res.ends[ign]["error"]["site"]), line_of(src, "L:raise2"))
        self.assertEqual([u["task"] for u in res.unretrieved], [ign])
        self.assertNotIn(bad, [u["task"] for u in res.unretrieved])
        self.assertIn("Task exception was never retrieved", res.stderr)

    def test_asyncio_plumbing_tasks_are_marked_internal(self):
        # asyncio.run's shutdown tasks are asyncio's; tasks of asyncio coroutines the program
        # asked for (sleep via create_task, gather, ensure_future, wait_for, run) are not.
        src = '''
import asyncio
async def main():
    t = asyncio.create_task(asyncio.sleep(0.001))
    await asyncio.gather(asyncio.sleep(0), asyncio.ensure_future(asyncio.sleep(0)))
    await asyncio.wait_for(asyncio.sleep(0), 1)
    await t
asyncio.run(main())
asyncio.run(asyncio.sleep(0))
'''
        res = traced(self, src)
        internal = sorted(t["coro"] for t in res.tasks.values() if t.get("internal"))
        self.assertEqual(internal, ["BaseEventLoop.shutdown_asyncgens"] * 2
                         + ["BaseEventLoop.shutdown_default_executor"] * 2)
        for t in res.tasks.values():
            self.assertIn(t.get("internal", False), (False, True))
            if not t.get("internal"):
                self.assertNotIn("internal", t)
        sleeps = res.by_coro("sleep")
        self.assertEqual(len(sleeps), 5 if PY <= (3, 11) else 4)
        self.assertEqual(len([x for x in res.tasks.values() if x["coro"] == "main"]), 1)

    def test_names_arrive_while_the_program_runs(self):
        # A live view must show the real name early, not only when the task ends.
        src = '''
import asyncio
async def w(n):
    await asyncio.sleep(0.02)
    asyncio.current_task().set_name("renamed-%d" % n)
    await asyncio.sleep(0.02)
async def main():
    t = asyncio.create_task(w(1))
    t.set_name("later")
    loop = asyncio.get_running_loop()
    u = loop.create_task(w(2), name="by-loop")
    await asyncio.gather(t, u)
asyncio.run(main())
'''
        res = traced(self, src)
        ev = res.events
        later, byloop = res.by_coro("w")
        def index(pred):
            return next(i for i, e in enumerate(ev) if pred(e))
        def first_step(tid):
            return index(lambda e: e["type"] == "step" and e["task"] == tid)
        named = index(lambda e: e["type"] == "name" and e["task"] == later and e["name"] == "later")
        self.assertLess(named, first_step(later))
        self.assertEqual(res.tasks[byloop]["name"], "renamed-2")
        for tid, n in ((later, 1), (byloop, 2)):
            renamed = index(lambda e: e["type"] == "name" and e["task"] == tid and e["name"] == "renamed-%d" % n)
            end = index(lambda e: e["type"] == "end" and e["task"] == tid)
            self.assertLess(renamed, end)
            if PY >= (3, 12):
                # set_name is seen (sys.monitoring): the line follows the step that called it.
                steps = [i for i, e in enumerate(ev) if e["type"] == "step" and e["task"] == tid]
                self.assertLess(renamed, steps[2])
        self.assertEqual(sum(1 for e in ev if e["type"] == "name" and e["task"] == later), 2)

    def test_cancel_of_a_task_waiting_on_nothing_names_who_and_where(self):
        # Not started yet / after a bare yield: no waiter whose cancellation could be seen.
        src = '''
import asyncio
async def w():
    await asyncio.sleep(0)
    await asyncio.sleep(1)
async def main():
    t = asyncio.create_task(w())
    t.cancel()  # L:not-started
    u = asyncio.create_task(w())
    await asyncio.sleep(0)
    u.cancel()  # L:after-yield
    print(type(t).__name__, type(t) is asyncio.Task, isinstance(t, asyncio.Task), repr(t)[:15])
    for x in (t, u):
        try:
            await x
        except asyncio.CancelledError:
            print("cancelled")
asyncio.run(main())
'''
        res = traced(self, src)
        main = res.by_coro("main")[0]
        t, u = res.by_coro("w")
        user = [c for c in res.cancels if c["task"] in (t, u)]
        self.assertEqual([(c["task"], c["by"], res.line(c["site"]), c["cause"]) for c in user],
                         [(t, main, line_of(src, "L:not-started"), "cancel"),
                          (u, main, line_of(src, "L:after-yield"), "cancel")])
        self.assertLess(user[0]["ts"], res.steps_by_task[t][0]["ts"])
        for x in (t, u):
            self.assertEqual(res.ends[x]["state"], "cancelled")

    def test_busy_loop_does_not_starve_the_writer(self):
        # A loop that never sleeps polls its selector with timeout 0 at every iteration,
        # releasing and retaking the GIL at once: the writer thread could wait for the GIL
        # the whole run and every line over the buffer bound was dropped.
        src = '''
import asyncio
async def worker():
    for _ in range(100):
        await asyncio.sleep(0)
async def main():
    await asyncio.gather(*(worker() for _ in range(300)))
asyncio.run(main())
'''
        # In-process writing (no formatter process): the writer thread itself must get the GIL.
        # (With a formatter process, lines are dropped only when that process cannot keep up:
        # the slow-reader bound, not this starvation.)
        res = traced(self, src, env={"ASYNCTRACE_BUFFER_LINES": "3000", "ASYNCTRACE_FORMATTER": "0"})
        self.assertEqual(res.exit["dropped"], 0)
        steps = sum(len(v) for tid, v in res.steps_by_task.items() if res.tasks[tid]["coro"] == "worker")
        self.assertEqual(steps, 300 * 101)

    def test_unretrieved_of_a_task_alive_at_exit(self):
        # asyncio logs these at interpreter exit, after the trace closed: reported at the end.
        src = '''
import asyncio
keep = []
async def kept():
    raise KeyError("kept alive")
async def looked_at():
    raise ValueError("seen")
async def main():
    keep.append(asyncio.create_task(kept()))
    seen = asyncio.create_task(looked_at())
    keep.append(seen)
    await asyncio.sleep(0.01)
    print(type(seen.exception()).__name__)
asyncio.run(main())
'''
        res = traced(self, src)
        kept = res.by_coro("kept")[0]
        self.assertEqual(res.ends[kept]["state"], "failed")
        self.assertEqual([u["task"] for u in res.unretrieved], [kept])

    def test_unretrieved_reported_as_promptly_as_untraced(self):
        # The failed task must be freed when its step ends (no cycle through the step hook),
        # so asyncio reports it right away, as without the tracer; debug mode output unchanged.
        src = '''
import asyncio
called = []
async def task():
    1/0
async def slow():
    import time; time.sleep(0.12)
async def main():
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda loop, ctx: called.append(ctx["message"]))
    asyncio.Task(task())
    await asyncio.sleep(0)
    print("called", called)
    loop.set_exception_handler(None)
    await asyncio.create_task(slow())
asyncio.run(main(), debug=True)
'''
        res = traced(self, src)
        self.assertEqual(res.stdout, "called ['Task exception was never retrieved']\n")
        self.assertEqual(len(res.unretrieved), 1)
        import re
        took = lambda s: re.sub(r"took [0-9.]+ seconds", "took N seconds", s)
        self.assertEqual(took(run_plain(src).stderr), took(res.stderr))
        self.assertIn("Executing <Task finished", res.stderr)

    def test_user_cancel(self):
        src = '''
import asyncio

async def forever():
    await asyncio.sleep(3600)  # L:sleep

async def main():
    t = asyncio.create_task(forever())
    await asyncio.sleep(0.01)
    t.cancel()  # L:cancel
    try:
        await t
    except asyncio.CancelledError:
        print("cancelled")

asyncio.run(main())
'''
        res = traced(self, src)
        main = res.by_coro("main")[0]
        f = res.by_coro("forever")[0]
        cancels = [c for c in res.cancels if c["task"] == f]
        self.assertEqual(len(cancels), 1)
        self.assertEqual(cancels[0]["cause"], "cancel")
        # who and where: sys.monitoring on 3.12+, the wakeup the cancel schedules before
        self.assertEqual(cancels[0]["by"], main)
        self.assertEqual(res.line(cancels[0]["site"]), line_of(src, "L:cancel"))
        end = res.ends[f]
        self.assertEqual(end["state"], "cancelled")
        self.assertEqual(end["error"]["type"], "CancelledError")
        self.assertEqual(res.line(end["error"]["site"]), line_of(src, "L:sleep"))
        self.assertLessEqual(cancels[0]["ts"], end["ts"])

    def test_wait_for_timeout(self):
        src = '''
import asyncio

async def slow():
    await asyncio.sleep(10)  # L:slow

async def quick():
    await asyncio.sleep(0.001)
    return 1

async def main():
    try:
        await asyncio.wait_for(slow(), timeout=0.05)  # L:wf
    except asyncio.TimeoutError:
        print("timeout")
    print(await asyncio.wait_for(quick(), timeout=5))  # L:wf2

asyncio.run(main())
'''
        res = traced(self, src)
        self.assertEqual(res.stdout, "timeout\n1\n")
        main = res.by_coro("main")[0]
        tos = list(res.timeouts.values())
        self.assertEqual(len(tos), 2)
        fired, cleared = tos
        self.assertEqual(fired[0]["state"], "armed")
        self.assertEqual(fired[0]["delay"], 0.05)
        self.assertEqual(fired[0]["task"], main)
        self.assertEqual(res.line(fired[0]["site"]), line_of(src, "L:wf"))
        self.assertEqual(fired[-1]["state"], "fired")
        self.assertGreaterEqual(fired[-1]["ts"] - fired[0]["ts"], 45000)
        self.assertEqual(res.line(cleared[0]["site"]), line_of(src, "L:wf2"))
        self.assertEqual([e["state"] for e in cleared], ["armed", "cleared"])
        tc = [c for c in res.cancels if c["cause"] == "timeout"]
        self.assertEqual(len(tc), 1)
        self.assertEqual(tc[0]["timeout"], fired[0]["id"])
        self.assertEqual(res.line(tc[0]["site"]), line_of(src, "L:wf"))
        if PY <= (3, 11):
            # wait_for wraps slow() in an inner task and cancels it; main asked for it
            slow = res.by_coro("slow")[0]
            self.assertEqual(res.tasks[slow]["parent"], main)
            self.assertEqual(res.line(res.tasks[slow]["site"]), line_of(src, "L:wf"))
            self.assertEqual(tc[0]["task"], slow)
            self.assertEqual(tc[0]["by"], main)
            self.assertEqual(res.ends[slow]["state"], "cancelled")
        else:
            # the caller itself is cancelled by its Timeout, then gets TimeoutError
            self.assertEqual(tc[0]["task"], main)
            self.assertEqual(res.by_coro("slow"), [])
            self.assertEqual(res.ends[main]["state"], "done")

    @unittest.skipIf(PY < (3, 11), "asyncio.timeout is 3.11+")
    def test_asyncio_timeout_and_taskgroup(self):
        src = '''
import asyncio

async def child(n):
    if n == 2:
        await asyncio.sleep(0.01)
        raise RuntimeError("child failed")  # L:fail
    await asyncio.sleep(5)  # L:child-sleep

async def main():
    async with asyncio.timeout(0.03):  # L:to
        await asyncio.sleep(1)
    return 0

async def group():
    try:
        async with asyncio.TaskGroup() as tg:  # L:tg
            for n in range(3):
                tg.create_task(child(n))  # L:tg-create
    except* RuntimeError:
        print("group failed")

async def outer():
    try:
        await main()
    except TimeoutError:
        print("timed out")
    async with asyncio.timeout(5):  # L:to2
        await asyncio.sleep(0)
    await group()

asyncio.run(outer())
'''
        res = traced(self, src)
        self.assertEqual(res.stdout, "timed out\ngroup failed\n")
        outer = res.by_coro("outer")[0]
        tos = list(res.timeouts.values())
        self.assertEqual(len(tos), 2)
        self.assertEqual(res.line(tos[0][0]["site"]), line_of(src, "L:to"))
        self.assertAlmostEqual(tos[0][0]["delay"], 0.03, delta=0.005)
        self.assertEqual(tos[0][-1]["state"], "fired")
        self.assertEqual(tos[0][0]["task"], outer)
        self.assertEqual(res.line(tos[1][0]["site"]), line_of(src, "L:to2"))
        self.assertEqual(tos[1][-1]["state"], "cleared")
        tc = [c for c in res.cancels if c["cause"] == "timeout"]
        self.assertEqual([(c["task"], c["timeout"]) for c in tc], [(outer, tos[0][0]["id"])])
        kids = res.by_coro("child")
        self.assertEqual(len(kids), 3)
        for k in kids:
            self.assertEqual(res.tasks[k]["parent"], outer)
            self.assertEqual(res.line(res.tasks[k]["site"]), line_of(src, "L:tg-create"))
        states = sorted(res.ends[k]["state"] for k in kids)
        self.assertEqual(states, ["cancelled", "cancelled", "failed"])
        aborted = [c for c in res.cancels if c["task"] in kids]
        self.assertEqual(len(aborted), 2)
        for c in aborted:
            self.assertEqual((c["cause"], c["by"]), ("cancel", outer))
        # outer waited on the group's tasks at the `async with TaskGroup()` line
        tg_waits = [s for s in res.steps_by_task[outer] if "await" in s and s["await"]["on"]["kind"] == "gather"]
        self.assertTrue(tg_waits)
        self.assertEqual(res.line(tg_waits[0]["await"]["stack"][-1]), line_of(src, "L:tg"))

    def test_blocking_step(self):
        src = '''
import asyncio, time

def crunch():
    time.sleep(0.5)  # L:block

async def main():
    await asyncio.sleep(0)
    crunch()
    await asyncio.sleep(0)

asyncio.run(main())
'''
        res = traced(self, src, extra_cli=["--block-ms", "100"])
        self.assertEqual(res.run["blockMs"], 100)
        main = res.by_coro("main")[0]
        self.assertEqual(len(res.blocks), 1)
        b = res.blocks[0]
        self.assertEqual(b["task"], main)
        self.assertGreaterEqual(b["dur"], 490000)
        self.assertEqual(res.line(b["site"]), line_of(src, "L:block"))
        res2 = run_traced(src, extra_cli=["--block-ms", "1000"])
        self.assertEqual(res2.blocks, [])

    def test_sync_primitives_and_names(self):
        src = '''
import asyncio

async def consumer(q, ev, lock):
    item = await q.get()  # L:get
    await ev.wait()  # L:ev
    async with lock:  # L:lock
        pass
    asyncio.current_task().set_name("renamed")
    await asyncio.sleep(0)
    return item

async def main():
    q, ev, lock = asyncio.Queue(), asyncio.Event(), asyncio.Lock()
    await lock.acquire()
    t = asyncio.create_task(consumer(q, ev, lock), name="consumer-1")
    await asyncio.sleep(0.01)
    await q.put(5)
    await asyncio.sleep(0.01)
    ev.set()
    await asyncio.sleep(0.01)
    lock.release()
    print(await t, t.get_name())

asyncio.run(main())
'''
        res = traced(self, src)
        self.assertEqual(res.stdout, "5 renamed\n")
        c = res.by_name("renamed")
        kinds = [o["kind"] for o in res.ons(c)]
        self.assertEqual(kinds[:3], ["queue", "event", "lock"])
        self.assertEqual(res.await_lines(c)[:3], [line_of(src, "L:get"), line_of(src, "L:ev"), line_of(src, "L:lock")])
        # named by create_task(name=...) right after creation, before its first step
        idx = [i for i, e in enumerate(res.events) if e.get("task") == c or (e["type"] == "task" and e["id"] == c)]
        seq = [res.events[i] for i in idx]
        self.assertEqual(seq[0]["type"], "task")
        name_at = {}
        current = None
        for e in seq:
            if e["type"] in ("task", "name"):
                current = e["name"]
            elif e["type"] == "step":
                name_at.setdefault("first step", current)
        self.assertEqual(name_at["first step"], "consumer-1")
        self.assertEqual(current, "renamed")

    def test_threads_and_several_runs(self):
        src = '''
import asyncio, threading

async def job(n):
    await asyncio.sleep(0.01)
    return n

def in_thread(out):
    out.append(asyncio.run(job(2)))

out = []
print(asyncio.run(job(1)))
th = threading.Thread(target=in_thread, args=(out,))
th.start(); th.join()
print(out, asyncio.run(job(3)))
'''
        res = traced(self, src)
        jobs = res.by_coro("job")
        self.assertEqual(len(jobs), 3)
        self.assertEqual(len(res.loops), 3)
        threads = {res.tasks[j]["thread"] for j in jobs}
        self.assertEqual(len(threads), 2)
        self.assertEqual(len({res.tasks[j]["loop"] for j in jobs}), 3)
        for j in jobs:
            self.assertEqual(res.ends[j]["state"], "done")

    @unittest.skipIf(PY < (3, 12), "eager tasks are 3.12+")
    def test_eager_tasks(self):
        src = '''
import asyncio

async def quick(n):
    return n  # finishes during create_task

async def waits(n):
    await asyncio.sleep(0.01)  # L:eager-await
    return n

async def main():
    loop = asyncio.get_running_loop()
    loop.set_task_factory(asyncio.eager_task_factory)
    a = asyncio.create_task(quick(1))
    b = asyncio.create_task(waits(2))
    print(a.done(), b.done(), await a + await b)

asyncio.run(main())
'''
        res = traced(self, src)
        self.assertEqual(res.stdout, "True False 3\n")
        q = res.by_coro("quick")[0]
        w = res.by_coro("waits")[0]
        main = res.by_coro("main")[0]
        for x in (q, w):
            self.assertTrue(res.tasks[x].get("eager"))
            self.assertEqual(res.tasks[x]["parent"], main)
            self.assertEqual(res.ends[x]["state"], "done")
        self.assertEqual(len(res.steps_by_task[q]), 1)
        self.assertEqual(res.await_lines(w), [line_of(src, "L:eager-await")])

    def test_shutdown_cancels_leftovers(self):
        src = '''
import asyncio

async def lingering():
    await asyncio.sleep(3600)

async def main():
    asyncio.create_task(lingering())
    await asyncio.sleep(0)

asyncio.run(main())
print("done")
'''
        res = traced(self, src)
        l = res.by_coro("lingering")[0]
        c = [x for x in res.cancels if x["task"] == l]
        self.assertEqual(len(c), 1)
        self.assertEqual(c[0]["cause"], "shutdown")
        self.assertEqual(res.ends[l]["state"], "cancelled")

    def test_output_identical_many_tasks(self):
        src = '''
import asyncio
async def w(i):
    for k in range(i % 3 + 1):
        await asyncio.sleep(0)
    print(i, asyncio.current_task().get_name())
    return i
async def main():
    r = await asyncio.gather(*(w(i) for i in range(200)))
    print(sum(r), len(asyncio.all_tasks()))
asyncio.run(main())
'''
        res = traced(self, src)
        ws = res.by_coro("w")
        self.assertEqual(len(ws), 200)
        for x in ws:
            i = int(res.tasks[x]["name"].split("-")[1]) - 2
            self.assertEqual(len(res.steps_by_task[x]), i % 3 + 2)
        self.assertEqual(res.exit["dropped"], 0)

    def test_a_loop_of_its_own_like_uvloop(self):
        # uvloop's loop is not a BaseEventLoop: it makes its tasks and runs its callbacks itself,
        # past the hooks on BaseEventLoop.create_task and Handle._run. A loop that does the same
        # (C tasks made directly, callbacks run by its own handle type) must run exactly as
        # untraced; the trace stays well formed (what it can see of the tasks is a bonus).
        src = """
import asyncio, sys
try:
    from _asyncio import Task as CTask
except ImportError:
    CTask = asyncio.Task

class OwnHandle(asyncio.Handle):
    def _run(self):
        try:
            self._context.run(self._callback, *self._args)
        except BaseException as exc:
            self._loop.call_exception_handler({"message": "callback failed", "exception": exc})

class OwnLoop(asyncio.SelectorEventLoop):
    def create_task(self, coro, *, name=None, context=None):
        self._check_closed()
        return CTask(coro, loop=self, name=name)
    def call_soon(self, callback, *args, context=None):
        self._check_closed()
        h = OwnHandle(callback, args, self, context)
        self._ready.append(h)
        return h

class OwnPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return OwnLoop()

async def leaf(i):
    await asyncio.sleep(0.01 * i)
    if i == 3:
        raise ValueError("leaf %d" % i)
    return i

async def slow():
    await asyncio.sleep(5)

async def main():
    print(type(asyncio.get_running_loop()).__name__)
    r = await asyncio.gather(*(leaf(i) for i in range(5)), return_exceptions=True)
    print([repr(x) for x in r])
    try:
        await asyncio.wait_for(slow(), 0.05)
    except asyncio.TimeoutError:
        print("timed out")
    t = asyncio.get_running_loop().create_task(leaf(1))
    print(await t, len(asyncio.all_tasks()))
    return 7

asyncio.set_event_loop_policy(OwnPolicy())
sys.exit(asyncio.run(main()))
"""
        res = traced(self, src)
        self.assertEqual(res.code, 7)
        self.assertIn("OwnLoop", res.stdout)
        self.assertIn("timed out", res.stdout)
        self.assertEqual(res.exit["code"], 7)
        self.assertEqual(res.exit["dropped"], 0)
        self.assertNotIn("asynctrace", res.stderr)
        # The reader is told that what it shows of this loop's tasks is partial.
        loops = [e for e in res.events if e["type"] == "loop" and e["state"] == "running"]
        self.assertEqual([(e["class"], e.get("partial")) for e in loops], [("__main__.OwnLoop", True)])

    def test_a_subclassed_loop_that_keeps_the_hooks_is_not_partial(self):
        # A loop class of the user's that still makes its tasks through BaseEventLoop.create_task
        # and runs them through asyncio's handles is fully seen: no "partial" flag.
        src = """
import asyncio

class CountingLoop(asyncio.SelectorEventLoop):
    made = 0
    def create_task(self, coro, **kw):
        CountingLoop.made += 1
        return super().create_task(coro, **kw)

async def leaf():
    await asyncio.sleep(0.01)

async def main():
    await asyncio.gather(leaf(), leaf())

loop = CountingLoop()
loop.run_until_complete(main())
loop.close()
asyncio.run(main())
# A standard loop running a task made by calling Task() directly (not through create_task).
loop = asyncio.new_event_loop()
loop.run_until_complete(asyncio.Task(leaf(), loop=loop))
loop.close()
print(CountingLoop.made)
"""
        res = traced(self, src)
        self.assertEqual(res.stdout.strip(), "3")
        loops = [e for e in res.events if e["type"] == "loop" and e["state"] == "running"]
        self.assertEqual(len(loops), 3)
        self.assertTrue(loops[0]["class"].endswith(".CountingLoop"), loops[0])
        for e in loops:
            self.assertNotIn("partial", e)
        self.assertEqual(len([e for e in res.events if e["type"] == "task" and not e.get("internal")]), 7)


if __name__ == "__main__":
    unittest.main()
