"""Wake links, objects and holders (docs/trace-format.md, "Wake links, objects and holders"):
real programs whose traces must say exactly what woke each wait (a task's step, a timer, a
thread) and when, which task holds each lock, and who put on a queue or set an event; each
traced run prints, returns and fails exactly as it does untraced."""
import sys
import unittest

from tracehelp import check_wellformed, line_of, run_plain, run_traced


def traced(testcase, src):
    res = run_traced(src)
    plain = run_plain(src)
    testcase.assertEqual(res.code, plain.code, res.stderr)
    testcase.assertEqual(res.stdout, plain.stdout)
    testcase.assertEqual(res.stderr, plain.stderr)
    check_wellformed(testcase, res)
    check_links(testcase, res)
    return res


def check_links(testcase, res):
    """Format invariants of the addition: objects declared before named, wake links sane."""
    objs = {}
    ended = set()
    for e in res.events:
        t = e["type"]
        if t == "obj":
            testcase.assertNotIn(e["id"], objs, e)
            objs[e["id"]] = e
        elif t in ("hold", "use"):
            testcase.assertIn(e["obj"], objs, "object named before declared: %r" % e)
            if e.get("task") is not None:
                testcase.assertIn(e["task"], res.tasks, e)
        elif t == "step":
            on = e.get("await", {}).get("on", {})
            if "obj" in on:
                testcase.assertIn(on["obj"], objs, "object named before declared: %r" % e)
                testcase.assertEqual(objs[on["obj"]]["kind"], on["kind"] if on["kind"] != "queue" else "queue", e)
            if "wokeBy" in e:
                testcase.assertIn("woke", e)
                testcase.assertLessEqual(e["woke"], e["ts"], e)
                wb = e["wokeBy"]
                testcase.assertIn(wb["kind"], ("task", "timer", "io", "thread", "callback"), e)
                if wb["kind"] == "task":
                    testcase.assertIn(wb["task"], res.tasks, e)
                    testcase.assertNotEqual(wb["task"], e["task"], e)
        elif t == "end":
            ended.add(e["task"])
    return objs


def steps(res, tid):
    return res.steps_by_task.get(tid, [])


def after_wait(res, tid, pred):
    """(the step that suspended on a wait matching pred, the step that followed it)."""
    ss = steps(res, tid)
    for i, s in enumerate(ss[:-1]):
        on = s.get("await", {}).get("on")
        if on is not None and pred(on):
            return s, ss[i + 1]
    raise AssertionError("no such wait of task %d: %r" % (tid, [s.get("await") for s in ss]))


def root_wake(testcase, res, step):
    """What ultimately made `step` ready: follows wake links through the waking tasks' steps
    (<= 3.11, wait_for's deadline wakes the caller, whose step then cancels the inner task)."""
    wb = step["wokeBy"]
    for _ in range(10):
        if wb["kind"] != "task":
            return wb
        waker = [s for s in steps(res, wb["task"]) if s["ts"] <= step["woke"] <= s["ts"] + s["dur"] + 1]
        testcase.assertEqual(len(waker), 1, (step, steps(res, wb["task"])))
        step = waker[0]
        wb = step.get("wokeBy")
        if wb is None:
            return None
    return wb


def objects(res, kind):
    return [e for e in res.events if e["type"] == "obj" and e["kind"] == kind]


def lines(res, type_, **match):
    return [e for e in res.events if e["type"] == type_ and all(e.get(k) == v for k, v in match.items())]


DEADLOCK = '''
import asyncio

async def worker(name, first, second, ready, go):
    async with first:  # L:take-first
        ready.set()
        await go.wait()
        async with second:  # L:take-second
            return name

async def main():
    a = asyncio.Lock()  # L:lock-a
    b = asyncio.Lock()  # L:lock-b
    r1, r2, go = asyncio.Event(), asyncio.Event(), asyncio.Event()
    t1 = asyncio.create_task(worker("t1", a, b, r1, go), name="t1")
    t2 = asyncio.create_task(worker("t2", b, a, r2, go), name="t2")
    await r1.wait()
    await r2.wait()
    go.set()  # L:go
    done, pending = await asyncio.wait([t1, t2], timeout=0.3)
    print("deadlocked:", len(pending))
    for t in pending:
        t.cancel()  # L:cancel
    print(await asyncio.gather(t1, t2, return_exceptions=True))

asyncio.run(main())
'''

QUEUE_PRODUCER_DIED = '''
import asyncio

async def producer(q):
    await q.put(1)  # L:put
    await q.put(2)
    raise RuntimeError("producer died")

async def consumer(q):
    got = []
    try:
        while True:
            got.append(await asyncio.wait_for(q.get(), 0.3))  # L:get
    except asyncio.TimeoutError:
        return got

async def main():
    q = asyncio.Queue()  # L:queue
    p = asyncio.create_task(producer(q), name="producer")
    c = asyncio.create_task(consumer(q), name="consumer")
    print(await c)
    print(type(p.exception()).__name__)

asyncio.run(main())
'''

EVENT_NEVER_SET = '''
import asyncio

async def waiter(ev):
    try:
        await asyncio.wait_for(ev.wait(), 0.2)  # L:wait
    except asyncio.TimeoutError:
        print("never set")

async def main():
    ev = asyncio.Event()  # L:event
    await asyncio.create_task(waiter(ev), name="waiter")

asyncio.run(main())
'''

SET_BY_TASK = '''
import asyncio

async def waiter(ev):
    await ev.wait()  # L:wait
    return "woken"

async def setter(ev):
    await asyncio.sleep(0.05)  # L:sleep
    ev.set()  # L:set

async def main():
    ev = asyncio.Event()
    w = asyncio.create_task(waiter(ev), name="waiter")
    s = asyncio.create_task(setter(ev), name="setter")
    print(await w, await s)

asyncio.run(main())
'''

EXECUTOR = '''
import asyncio
import time

def blocking():
    time.sleep(0.1)
    return 42

async def main():
    loop = asyncio.get_running_loop()
    print(await loop.run_in_executor(None, blocking))  # L:exec
    print(await asyncio.to_thread(blocking))  # L:thread

asyncio.run(main())
'''

SEMAPHORE = '''
import asyncio

async def user(sem, n):
    async with sem:  # L:sem
        await asyncio.sleep(0.05 * n)
    return n

async def main():
    sem = asyncio.Semaphore(2)
    print(await asyncio.gather(*(asyncio.create_task(user(sem, n), name="u%d" % n) for n in range(1, 4))))

asyncio.run(main())
'''

CONDITION = '''
import asyncio

async def consumer(cond, box):
    async with cond:  # L:enter
        await cond.wait_for(lambda: box)  # L:wait
        return box.pop()

async def producer(cond, box):
    await asyncio.sleep(0.05)
    async with cond:  # L:produce
        box.append(7)
        cond.notify()

async def main():
    cond = asyncio.Condition()  # L:cond
    box = []
    c = asyncio.create_task(consumer(cond, box), name="consumer")
    p = asyncio.create_task(producer(cond, box), name="producer")
    print(await c, await p)

asyncio.run(main())
'''


QUEUES_AT_ONE_LINE = '''
import asyncio

N = 40

async def alternating(qs):
    total = 0
    for i in range(N):
        total += await qs[i % 2].get()  # L:alt-get
    return total

async def sharing(name, q, out):
    while True:
        x = await q.get()  # L:shared-get
        if x is None:
            return
        out.append(name)

async def feeder(qs, shared):
    for i in range(N):
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        qs[i % 2].put_nowait(i)  # L:alt-put
        await shared.put(i)  # L:shared-put
    await shared.put(None)
    await shared.put(None)

async def main():
    qs = [asyncio.Queue(), asyncio.Queue()]
    shared = asyncio.Queue(1)
    out = []
    alt = asyncio.create_task(alternating(qs), name="alternating")
    a = asyncio.create_task(sharing("a", shared, out), name="sharer-a")
    b = asyncio.create_task(sharing("b", shared, out), name="sharer-b")
    await asyncio.create_task(feeder(qs, shared), name="feeder")
    total = await alt
    await a
    await b
    print(total, len(out))

asyncio.run(main())
'''


SHORT_LIVED_QUEUES = '''
import asyncio

async def main():
    total = 0
    for i in range(20):
        q = asyncio.Queue()  # L:new-queue
        q.put_nowait(i)  # L:put
        await asyncio.sleep(0)
        total += q.get_nowait()
        del q
    print(total)

asyncio.run(main())
'''


class WakeLinks(unittest.TestCase):
    def test_lock_order_deadlock_holders_and_cancel_wakes(self):
        res = traced(self, DEADLOCK)
        self.assertEqual(res.stdout.splitlines()[0], "deadlocked: 2")
        t1, t2, main = res.by_name("t1"), res.by_name("t2"), res.by_coro("main")[0]
        locks = objects(res, "lock")
        self.assertEqual(len(locks), 2)
        a, b = sorted(locks, key=lambda o: o["id"])
        self.assertEqual(res.line(a["site"]), line_of(DEADLOCK, "L:lock-a"))
        self.assertEqual(res.line(b["site"]), line_of(DEADLOCK, "L:lock-b"))
        self.assertEqual(a["task"], main)
        self.assertEqual(a["class"], "asyncio.locks.Lock")
        # Each worker holds its first lock, taken at the `async with first` line...
        for tid, held, other in ((t1, a, b), (t2, b, a)):
            acq = lines(res, "hold", task=tid, state="acquired")
            self.assertEqual([h["obj"] for h in acq], [held["id"]], acq)
            self.assertEqual(res.line(acq[0]["site"]), line_of(DEADLOCK, "L:take-first"))
            # ... and waits on the other one, at the `async with second` line, until cancelled.
            wait, nxt = after_wait(res, tid, lambda on: on["kind"] == "lock")
            self.assertEqual(wait["await"]["on"], {"kind": "lock", "obj": other["id"]})
            self.assertEqual(res.line(wait["await"]["stack"][-1]), line_of(DEADLOCK, "L:take-second"))
            # The other worker held it all along: acquired before this wait, released only after.
            o_acq = lines(res, "hold", obj=other["id"], state="acquired")
            o_rel = lines(res, "hold", obj=other["id"], state="released")
            self.assertEqual(len(o_acq), 1)
            self.assertLessEqual(o_acq[0]["ts"], wait["ts"] + wait["dur"])
            self.assertEqual(len(o_rel), 1)
            self.assertGreaterEqual(o_rel[0]["ts"], nxt["ts"] - 1000000)  # released after the cancel
            self.assertGreater(o_rel[0]["ts"], wait["ts"] + wait["dur"])
            # Woken by main's cancel(), at the end of main's step that called it.
            self.assertEqual(nxt["wokeBy"], {"kind": "task", "task": main})
            cancel_step = [s for s in steps(res, main) if s["ts"] <= nxt["woke"] <= s["ts"] + s["dur"] + 1]
            self.assertEqual(len(cancel_step), 1, (nxt, steps(res, main)))
            self.assertGreaterEqual(nxt["woke"] - wait["ts"], 250000)  # stuck for the timeout
        # Releases name the task that released (the cancelled worker leaving `async with`).
        for h in lines(res, "hold", state="released"):
            self.assertIn(h["task"], (t1, t2))
        # Main's wait on asyncio.wait(timeout=0.3) ended by the timer.
        wait, nxt = after_wait(res, main, lambda on: on["kind"] == "gather")
        self.assertEqual(nxt["wokeBy"], {"kind": "timer"})
        self.assertGreaterEqual(nxt["woke"] - wait["ts"], 300000 - 1000)

    def test_queue_whose_producer_died(self):
        res = traced(self, QUEUE_PRODUCER_DIED)
        self.assertEqual(res.stdout.splitlines(), ["[1, 2]", "RuntimeError"])
        prod, cons = res.by_name("producer"), res.by_name("consumer")
        (q,) = objects(res, "queue")
        self.assertEqual(res.line(q["site"]), line_of(QUEUE_PRODUCER_DIED, "L:queue"))
        self.assertEqual(q["class"], "asyncio.queues.Queue")
        puts = lines(res, "use", obj=q["id"], op="put")
        self.assertEqual([u["task"] for u in puts], [prod])
        self.assertEqual(res.line(puts[0]["site"]), line_of(QUEUE_PRODUCER_DIED, "L:put"))
        self.assertEqual(res.ends[prod]["state"], "failed")
        # The last get waits on the queue after the only producer ended, and the timer ends it.
        getter_tasks = [tid for tid in res.tasks
                        if any(s.get("await", {}).get("on") == {"kind": "queue", "op": "get", "obj": q["id"]}
                               for s in steps(res, tid))]
        self.assertTrue(getter_tasks)
        last = max((s for tid in getter_tasks for s in steps(res, tid)
                    if s.get("await", {}).get("on", {}).get("obj") == q["id"]), key=lambda s: s["ts"])
        self.assertGreater(last["ts"], res.ends[prod]["ts"])
        self.assertTrue(lines(res, "use", obj=q["id"], op="get", task=last["task"]))
        nxt = steps(res, last["task"])[steps(res, last["task"]).index(last) + 1]
        # 3.12+: the timer woke the consumer; <= 3.11: it woke the consumer in wait_for, whose
        # step then cancelled the inner task that waited on the queue.
        if sys.version_info >= (3, 12):
            self.assertEqual(nxt["wokeBy"], {"kind": "timer"})
        else:
            self.assertEqual(nxt["wokeBy"], {"kind": "task", "task": cons})
        self.assertEqual(root_wake(self, res, nxt), {"kind": "timer"})
        self.assertGreaterEqual(nxt["woke"] - last["ts"], 300000 - 1000 - last["dur"])

    def test_event_never_set(self):
        res = traced(self, EVENT_NEVER_SET)
        self.assertEqual(res.stdout, "never set\n")
        (ev,) = objects(res, "event")
        self.assertEqual(res.line(ev["site"]), line_of(EVENT_NEVER_SET, "L:event"))
        self.assertEqual(lines(res, "use", obj=ev["id"], op="set"), [])
        waits = lines(res, "use", obj=ev["id"], op="wait")
        self.assertEqual(len(waits), 1)
        wtid = waits[0]["task"]
        wait, nxt = after_wait(res, wtid, lambda on: on.get("obj") == ev["id"])
        self.assertEqual(wait["await"]["on"], {"kind": "event", "obj": ev["id"]})
        if sys.version_info >= (3, 12):
            self.assertEqual(nxt["wokeBy"], {"kind": "timer"})
        else:
            self.assertEqual(nxt["wokeBy"], {"kind": "task", "task": res.by_name("waiter")})
        self.assertEqual(root_wake(self, res, nxt), {"kind": "timer"})
        # The deadline was armed in the waiter's first step (which calls wait_for); before 3.12
        # the wait is the inner task's, whose first step can start ms later on a loaded machine.
        armed_in = steps(res, res.by_name("waiter"))[0]
        self.assertGreaterEqual(nxt["woke"] - armed_in["ts"], 200000 - 1000 - armed_in["dur"])

    def test_woken_by_another_tasks_set(self):
        res = traced(self, SET_BY_TASK)
        self.assertEqual(res.stdout, "woken None\n")
        w, s = res.by_name("waiter"), res.by_name("setter")
        (ev,) = objects(res, "event")
        wait, nxt = after_wait(res, w, lambda on: on["kind"] == "event")
        self.assertEqual(res.line(wait["await"]["stack"][-1]), line_of(SET_BY_TASK, "L:wait"))
        self.assertEqual(nxt["wokeBy"], {"kind": "task", "task": s})
        # Ready at the end of the setter's step that called set() (its last step).
        set_step = steps(res, s)[-1]
        self.assertTrue(set_step["ts"] <= nxt["woke"] <= set_step["ts"] + set_step["dur"] + 1, (set_step, nxt))
        sets = lines(res, "use", obj=ev["id"], op="set")
        self.assertEqual([u["task"] for u in sets], [s])
        self.assertEqual(res.line(sets[0]["site"]), line_of(SET_BY_TASK, "L:set"))
        # The setter's sleep was ended by its timer, due 50 ms after the sleep started.
        sl, after = after_wait(res, s, lambda on: on["kind"] == "sleep")
        self.assertEqual(after["wokeBy"], {"kind": "timer"})
        self.assertGreaterEqual(after["woke"], sl["ts"] + 50000 - 1)
        self.assertLessEqual(after["woke"], sl["ts"] + sl["dur"] + 50000 + 1)
        # Each created task's first step was made ready by main (which created it).
        main = res.by_coro("main")[0]
        self.assertEqual(steps(res, w)[0]["wokeBy"], {"kind": "task", "task": main})
        self.assertEqual(steps(res, s)[0]["wokeBy"], {"kind": "task", "task": main})

    def test_executor_future_woken_by_its_thread(self):
        res = traced(self, EXECUTOR)
        self.assertEqual(res.stdout, "42\n42\n")
        main = res.by_coro("main")[0]
        execs = {}
        for e in res.events:
            if e["type"] == "exec":
                execs.setdefault(e["id"], {})[e["state"]] = e
        waits = [(s, n) for s, n in zip(steps(res, main), steps(res, main)[1:])
                 if s.get("await", {}).get("on", {}).get("kind") == "executor"]
        self.assertEqual(len(waits), 2, steps(res, main))
        for (wait, nxt), marker in zip(waits, ("L:exec", "L:thread")):
            item = wait["await"]["on"]["item"]
            self.assertEqual(nxt["wokeBy"], {"kind": "thread", "item": item})
            fin = execs[item]["finished"]
            # Ready when the worker thread handed the result over: after the function returned.
            self.assertGreaterEqual(nxt["woke"], fin["ts"] - 1)
            self.assertGreaterEqual(nxt["woke"] - wait["ts"], 100000 - 1000 - wait["dur"])

    def test_semaphore_holders(self):
        res = traced(self, SEMAPHORE)
        self.assertEqual(res.stdout, "[1, 2, 3]\n")
        (sem,) = objects(res, "semaphore")
        u1, u2, u3 = res.by_name("u1"), res.by_name("u2"), res.by_name("u3")
        acq = lines(res, "hold", obj=sem["id"], state="acquired")
        rel = lines(res, "hold", obj=sem["id"], state="released")
        self.assertEqual(sorted(h["task"] for h in acq), sorted([u1, u2, u3]))
        self.assertEqual(sorted(h["task"] for h in rel), sorted([u1, u2, u3]))
        for h in acq:
            self.assertEqual(res.line(h["site"]), line_of(SEMAPHORE, "L:sem"), h)
        for h in rel:
            # (<= 3.9 reports the block's last line while it exits an `async with`)
            self.assertIn(res.line(h["site"]), (line_of(SEMAPHORE, "L:sem"), line_of(SEMAPHORE, "L:sem") + 1), h)
        # u3 waited for u1's release: woken by u1, and acquired after u1 released.
        wait, nxt = after_wait(res, u3, lambda on: on["kind"] == "semaphore")
        self.assertEqual(wait["await"]["on"], {"kind": "semaphore", "obj": sem["id"]})
        self.assertEqual(nxt["wokeBy"], {"kind": "task", "task": u1})
        u1_rel = [h for h in rel if h["task"] == u1][0]
        u3_acq = [h for h in acq if h["task"] == u3][0]
        self.assertGreaterEqual(u3_acq["ts"], u1_rel["ts"])

    def test_condition_and_its_lock(self):
        res = traced(self, CONDITION)
        self.assertEqual(res.stdout, "7 None\n")
        c, p = res.by_name("consumer"), res.by_name("producer")
        (cond,) = objects(res, "condition")
        (lock,) = objects(res, "lock")
        self.assertEqual(cond["lock"], lock["id"])
        self.assertEqual(res.line(cond["site"]), line_of(CONDITION, "L:cond"))
        wait, nxt = after_wait(res, c, lambda on: on["kind"] == "condition")
        self.assertEqual(wait["await"]["on"], {"kind": "condition", "obj": cond["id"]})
        self.assertEqual(res.line(wait["await"]["stack"][-1]), line_of(CONDITION, "L:wait"))
        self.assertEqual(nxt["wokeBy"], {"kind": "task", "task": p})
        # The consumer took the lock, gave it up while waiting, took it back when notified.
        holds = [(h["task"], h["state"]) for h in lines(res, "hold", obj=lock["id"])]
        self.assertEqual(holds, [(c, "acquired"), (c, "released"), (p, "acquired"), (p, "released"),
                                 (c, "acquired"), (c, "released")])
        first = lines(res, "hold", obj=lock["id"])[0]
        self.assertEqual(res.line(first["site"]), line_of(CONDITION, "L:enter"))
        prod = lines(res, "hold", obj=lock["id"], task=p)[0]
        self.assertEqual(res.line(prod["site"]), line_of(CONDITION, "L:produce"))

    def test_queue_waits_name_their_queue(self):
        # The same line waiting on a different queue each time, and two tasks waiting on one
        # queue at the same line: each wait names its own queue (and each waiter has its use line).
        res = traced(self, QUEUES_AT_ONE_LINE)
        self.assertEqual(res.stdout, "780 40\n")
        alt, a, b = res.by_name("alternating"), res.by_name("sharer-a"), res.by_name("sharer-b")
        q0, q1, shared = sorted(objects(res, "queue"), key=lambda o: o["id"])
        alt_waits = [s["await"]["on"] for s in steps(res, alt) if "await" in s]
        self.assertEqual(len(alt_waits), 40, alt_waits)
        self.assertEqual(alt_waits, [{"kind": "queue", "op": "get", "obj": (q0, q1)[i % 2]["id"]} for i in range(40)])
        for s in steps(res, alt):
            if "await" in s:
                self.assertEqual(res.line(s["await"]["stack"][-1]), line_of(QUEUES_AT_ONE_LINE, "L:alt-get"))
        for q in (q0, q1):
            self.assertEqual([u["task"] for u in lines(res, "use", obj=q["id"], op="get")], [alt])
        for tid in (a, b):
            waits = [s["await"]["on"] for s in steps(res, tid) if "await" in s]
            self.assertTrue(waits)
            self.assertTrue(all(on == {"kind": "queue", "op": "get", "obj": shared["id"]} for on in waits), waits)
            self.assertEqual(len(lines(res, "use", obj=shared["id"], op="get", task=tid)), 1)
        self.assertEqual(sorted(u["task"] for u in lines(res, "use", op="put")),
                         sorted([res.by_name("feeder")] * 3))

    def test_each_short_lived_queue_has_its_user(self):
        # Queues made and dropped in turn by one task (a new one may take a dropped one's
        # address): each is declared and has the task's put.
        res = traced(self, SHORT_LIVED_QUEUES)
        self.assertEqual(res.stdout, "190\n")
        main = res.by_coro("main")[0]
        qs = objects(res, "queue")
        self.assertEqual(len(qs), 20)
        for q in qs:
            puts = lines(res, "use", obj=q["id"], op="put")
            self.assertEqual([u["task"] for u in puts], [main], q)
            self.assertEqual(res.line(puts[0]["site"]), line_of(SHORT_LIVED_QUEUES, "L:put"))


if __name__ == "__main__":
    unittest.main()
