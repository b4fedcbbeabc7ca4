"""Greenlet wake links: the step after a wait says what made the greenlet ready and when (`woke`,
`wokeBy`): a sleep's timer, the end of a joined greenlet, the last greenlet of a joinall that
ended, the greenlet whose step released the lock it waited on or set the Event / AsyncResult. Timing assertions compare the
trace's own times with each other, never with the wall clock, so load does not matter.

Skipped where gevent is not importable (it is packaged for the system Python only)."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tracehelp import line_of, run_plain, run_traced  # noqa: E402
from test_greenlet import importable  # noqa: E402

PROGRAM = """\
from gevent import socket
import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore

lock = Semaphore()
ready = Event()
answer = AsyncResult()


def napper():
    gevent.sleep(0.01)  # L:nap
    return 1


def holder():
    with lock:
        gevent.sleep(0.03)
        total = sum(range(1000))
    gevent.sleep(0)  # L:after
    return total


def waiter():
    gevent.sleep(0.001)
    with lock:  # L:take
        pass


def writer(b):
    for i in range(3):
        gevent.sleep(0.02)
        b.sendall(b"x")
        gevent.sleep(0)  # L:sent


def reader(a):
    for i in range(3):
        gevent.sleep(0.005)  # L:pause
        a.recv(1)  # L:recv


def listener():
    ready.wait()  # L:listen
    return answer.get()  # L:ask


def announcer():
    gevent.sleep(0.01)
    ready.set()
    gevent.sleep(0)  # L:announced
    answer.set(42)
    gevent.sleep(0)  # L:answered


def doomed():
    gevent.sleep(10)  # L:doomed


n = gevent.spawn(napper)
n.name = "napper"
h = gevent.spawn(holder)
h.name = "holder"
w = gevent.spawn(waiter)
w.name = "waiter"
d = gevent.spawn(doomed)
d.name = "doomed"
li = gevent.spawn(listener)
li.name = "listener"
an = gevent.spawn(announcer)
an.name = "announcer"
n.join()  # L:join
gevent.joinall([h, w])  # L:joinall
assert li.get() == 42
a, b = socket.socketpair()
r = gevent.spawn(reader, a)
r.name = "reader"
gevent.joinall([r, gevent.spawn(writer, b)])
a.close()
b.close()
d.kill()
print("done")
"""


def steps(res, tid):
    return res.steps_by_task[tid]


def end_of(step):
    return step["ts"] + step["dur"]


@unittest.skipUnless(importable("gevent"), "gevent is not installed for this Python")
class GeventWakeLinksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.res = run_traced(PROGRAM)
        cls.plain = run_plain(PROGRAM)

    def line(self, step):
        return self.res.line(step["await"]["stack"][-1]) if step.get("await") and step["await"]["stack"] else None

    def after(self, tid, marker):
        """The step that follows tid's wait at the line marked `marker`."""
        ss = steps(self.res, tid)
        at = line_of(PROGRAM, marker)
        for i, s in enumerate(ss):
            if self.line(s) == at and i + 1 < len(ss):
                return s, ss[i + 1]
        self.fail("no wait at %s for task %d" % (marker, tid))

    def test_same_output(self):
        self.assertEqual((self.res.code, self.res.stdout), (self.plain.code, self.plain.stdout), self.res.stderr)
        self.assertEqual(self.res.stdout, "done\n")

    def test_event_types_unchanged(self):
        src = ("import re, gevent\n"
               "from gevent.event import Event, AsyncResult\n"
               "e, r = Event(), AsyncResult()\n"
               "print(type(e).__name__, type(e).__module__, type(r).__qualname__, isinstance(e, Event))\n"
               "print(re.sub('0x[0-9a-f]+', 'X', repr(e) + repr(r) + str(e) + str(r)))\n"
               "g = gevent.spawn(lambda: 3)\n"
               "g.link(r)\n"
               "print(r.get(), e.set(), e.is_set(), e.wait(), r.successful())\n")
        for env in (None, {"PURE_PYTHON": "1"}):
            res, plain = run_traced(src, env=env), run_plain(src, env=env)
            self.assertEqual((res.code, res.stdout, res.stderr), (plain.code, plain.stdout, plain.stderr))

    def test_timer(self):
        """A sleep's step is followed by one woken by the timer at its due time (10 ms on), or
        when that step began if earlier: gevent's loop starts a timer from its cached time, which
        on a loaded machine can be ms older than the sleep call."""
        napper = self.res.by_name("napper")
        wait, nxt = self.after(napper, "# L:nap")
        self.assertEqual(nxt["wokeBy"], {"kind": "timer"})
        self.assertAlmostEqual(nxt["woke"], min(end_of(wait) + 10000, nxt["ts"]), delta=2)
        self.assertLessEqual(nxt["woke"], nxt["ts"])

    def test_join(self):
        """main joined napper: woken by napper, at the end of its last step."""
        main, napper = self.res.by_name("main"), self.res.by_name("napper")
        _, nxt = self.after(main, "# L:join")
        self.assertEqual(nxt["wokeBy"], {"kind": "task", "task": napper})
        self.assertEqual(nxt["woke"], end_of(steps(self.res, napper)[-1]))
        self.assertEqual(nxt["woke"], self.res.ends[napper]["ts"])

    def test_joinall(self):
        """joinall([holder, waiter]): its last wake is by the last of them to end."""
        main = self.res.by_name("main")
        at = line_of(PROGRAM, "# L:joinall")
        ss = steps(self.res, main)
        woken = [ss[i + 1] for i, s in enumerate(ss[:-1]) if self.line(s) == at and "wokeBy" in ss[i + 1]]
        self.assertTrue(woken)
        by = woken[-1]["wokeBy"]
        self.assertEqual(by["kind"], "task")
        self.assertIn(by["task"], (self.res.by_name("holder"), self.res.by_name("waiter")))
        self.assertEqual(woken[-1]["woke"], self.res.ends[by["task"]]["ts"])

    def test_lock_release(self):
        """waiter waited on the lock holder held: woken by holder, at the end of the step that
        released it (the one that ended at its `gevent.sleep(0)`)."""
        holder, waiter = self.res.by_name("holder"), self.res.by_name("waiter")
        wait, nxt = self.after(waiter, "# L:take")
        self.assertEqual(wait["await"]["on"]["kind"], "semaphore")
        self.assertEqual(nxt["wokeBy"], {"kind": "task", "task": holder})
        releasing = [s for s in steps(self.res, holder) if self.line(s) == line_of(PROGRAM, "# L:after")]
        self.assertEqual(len(releasing), 1)
        self.assertEqual(nxt["woke"], end_of(releasing[0]))
        self.assertLessEqual(nxt["woke"], nxt["ts"])

    def test_event_and_result_set(self):
        """listener waited on an Event, then on an AsyncResult: each step after is woken by
        announcer, at the end of the step in which it set them."""
        listener, announcer = self.res.by_name("listener"), self.res.by_name("announcer")
        ann = steps(self.res, announcer)
        for marker, set_step in (("# L:listen", "# L:announced"), ("# L:ask", "# L:answered")):
            wait, nxt = self.after(listener, marker)
            self.assertEqual(wait["await"]["on"]["kind"], {"# L:listen": "event", "# L:ask": "future"}[marker])
            setting = [s for s in ann if self.line(s) == line_of(PROGRAM, set_step)]
            self.assertEqual(len(setting), 1)
            self.assertEqual(nxt["wokeBy"], {"kind": "task", "task": announcer})
            self.assertEqual(nxt["woke"], end_of(setting[0]))

    def test_timer_then_io_wait(self):
        """Each step after a pause is woken by its timer, also when it then waits on I/O (a wait
        seen before, recorded on the fast path); each step after an I/O wait is woken by I/O
        readiness, when the hub's loop polled after the writer's step that sent the byte."""
        reader = self.res.by_name("reader")
        ss = steps(self.res, reader)
        pause, recv = line_of(PROGRAM, "# L:pause"), line_of(PROGRAM, "# L:recv")
        after_pause = [ss[i + 1] for i, s in enumerate(ss[:-1]) if self.line(s) == pause]
        self.assertEqual(len(after_pause), 3)
        for s in after_pause:
            self.assertEqual(s["wokeBy"], {"kind": "timer"})
            self.assertEqual(self.line(s), recv)
        after_recv = [(s, ss[i + 1]) for i, s in enumerate(ss[:-1]) if self.line(s) == recv]
        self.assertEqual(len(after_recv), 3)
        writes = [end_of(s) for s in steps(self.res, self.res.by_name("writer"))
                  if self.line(s) == line_of(PROGRAM, "# L:sent")]
        self.assertEqual(len(writes), 3)
        for (wait, s), sent in zip(after_recv, writes):
            self.assertEqual(wait["await"]["on"], {"kind": "io", "op": "recv"})
            self.assertEqual(s["wokeBy"], {"kind": "io"})
            self.assertGreaterEqual(s["woke"], max(end_of(wait), sent))
            self.assertLessEqual(s["woke"], s["ts"])

    def test_pure_python_gevent(self):
        """With gevent's pure-Python classes (PURE_PYTHON=1), the same links."""
        res = run_traced(PROGRAM, env={"PURE_PYTHON": "1"})
        self.assertEqual((res.code, res.stdout), (0, "done\n"), res.stderr)
        links = set()
        for tid, ss in res.steps_by_task.items():
            for s in ss:
                by = s.get("wokeBy")
                if by is not None:
                    links.add((res.tasks[tid]["name"], by["kind"], res.tasks[by["task"]]["name"] if "task" in by else None))
        for expected in [("napper", "timer", None), ("main", "task", "napper"), ("waiter", "task", "holder")]:
            self.assertIn(expected, links)
        for expected in [("listener", "task", "announcer"), ("listener", "task", "main")]:
            self.assertIn(expected, links)  # (its event and result waits; its first step)

    def test_first_step_woken_by_its_spawner(self):
        """main spawned the greenlets in the step that ends at its join: each one's first step is
        woken by main, at the end of that step."""
        main = self.res.by_name("main")
        spawning = [s for s in steps(self.res, main) if self.line(s) == line_of(PROGRAM, "# L:join")]
        self.assertEqual(len(spawning), 1)
        for name in ("napper", "holder", "waiter", "doomed", "listener", "announcer"):
            first = steps(self.res, self.res.by_name(name))[0]
            self.assertEqual(first.get("wokeBy"), {"kind": "task", "task": main}, name)
            self.assertAlmostEqual(first["woke"], end_of(spawning[0]), delta=1)  # (us rounding)
            self.assertLessEqual(first["woke"], first["ts"])

    def test_killed_sleeper_is_not_woken_by_its_timer(self):
        doomed = self.res.by_name("doomed")
        last = steps(self.res, doomed)[-1]
        self.assertNotIn("wokeBy", last)
        self.assertEqual(self.res.ends[doomed]["state"], "cancelled")


QUEUE_PROGRAM = """\
import gevent
from gevent.queue import Channel, Empty, JoinableQueue, LifoQueue, Queue

work = Queue()
small = Queue(maxsize=1)
jobs = JoinableQueue()
chan = Channel()
hubq = Queue()
stolen = Queue()


def getter():
    return work.get()  # L:work-get


def producer(item):
    gevent.sleep(0.01)
    work.put(item)
    gevent.sleep(0)  # L:put-done


def stuffer():
    small.put(1)
    small.put(2)  # L:small-put
    return "stuffed"


def drainer():
    gevent.sleep(0.01)
    x = small.get()
    gevent.sleep(0)  # L:drained
    return x


def worker():
    while True:
        jobs.get()
        gevent.sleep(0.001)
        jobs.task_done()
        gevent.sleep(0)  # L:task-done


def joiner():
    for i in range(3):
        jobs.put(i)
    jobs.join()  # L:join


def chan_getter():
    return chan.get()  # L:chan-get


def chan_putter():
    gevent.sleep(0.005)
    chan.put("c")  # L:chan-put
    gevent.sleep(0)


def hub_waiter():
    return hubq.get()  # L:hub-get


def timed_out():
    try:
        Queue().get(timeout=0.005)  # L:timeout
    except Empty:
        return "empty"


def patient():
    return stolen.get()  # L:patient


def thief():
    gevent.sleep(0.005)
    stolen.put("first")
    return stolen.get_nowait()  # (taken before the waiter could run)


def feeder():
    gevent.sleep(0.02)
    stolen.put("second")
    gevent.sleep(0)  # L:fed


def spawn(name, fn, *args):
    g = gevent.spawn(fn, *args)
    g.name = name
    return g


g1, g2 = spawn("g1", getter), spawn("g2", getter)
p1, p2 = spawn("p1", producer, "p1"), spawn("p2", producer, "p2")
st, dr = spawn("stuffer", stuffer), spawn("drainer", drainer)
w = spawn("worker", worker)
j = spawn("joiner", joiner)
cg, cp = spawn("chan_getter", chan_getter), spawn("chan_putter", chan_putter)
hw = spawn("hub_waiter", hub_waiter)
to = spawn("timed_out", timed_out)
pa, th, fe = spawn("patient", patient), spawn("thief", thief), spawn("feeder", feeder)
gevent.get_hub().loop.timer(0.01).start(hubq.put, "h")
gevent.joinall([g1, g2, p1, p2, st, dr, j, cg, cp, hw, to, pa, th, fe])
w.kill()
print("g1", g1.value, "g2", g2.value)
print(st.value, dr.value, cg.value, hw.value, to.value, pa.value, th.value)
"""


@unittest.skipUnless(importable("gevent"), "gevent is not installed for this Python")
class GeventQueueWakeLinksTest(unittest.TestCase):
    """A greenlet that waited on a gevent queue is woken by the greenlet whose step put the item
    it got (or took the item that made room for its put, or finished the last task it joined),
    at the end of that step; by the hub's callback when the hub put it."""

    @classmethod
    def setUpClass(cls):
        cls.res = run_traced(QUEUE_PROGRAM)
        cls.plain = run_plain(QUEUE_PROGRAM)

    line = GeventWakeLinksTest.line
    after = GeventWakeLinksTest.after

    def test_same_output(self):
        self.assertEqual((self.res.code, self.res.stdout, self.res.stderr),
                         (self.plain.code, self.plain.stdout, self.plain.stderr))

    def steps_ending_at(self, tid, marker):
        return [s for s in steps(self.res, tid) if self.line(s) == line_of(QUEUE_PROGRAM, marker)]

    def assert_woken_by(self, tid, wait_marker, waker, waker_marker, kind="queue"):
        """The step after tid's wait at wait_marker is woken by `waker`, at the end of its last
        step before that one which ended at waker_marker."""
        wait, nxt = self.after(tid, wait_marker)
        self.assertEqual(wait["await"]["on"]["kind"], kind)
        self.assertEqual(nxt.get("wokeBy"), {"kind": "task", "task": waker}, (wait, nxt))
        waking = [s for s in self.steps_ending_at(waker, waker_marker) if end_of(s) <= nxt["ts"]]
        self.assertTrue(waking, waker_marker)
        self.assertAlmostEqual(nxt["woke"], end_of(waking[-1]), delta=1)  # (us rounding)
        self.assertLessEqual(nxt["woke"], nxt["ts"])
        self.assertGreaterEqual(nxt["woke"], end_of(wait))
        return wait, nxt

    def after(self, tid, marker):
        ss = steps(self.res, tid)
        at = line_of(QUEUE_PROGRAM, marker)
        for i, s in enumerate(ss):
            if self.line(s) == at and i + 1 < len(ss):
                return s, ss[i + 1]
        self.fail("no wait at %s for task %d" % (marker, tid))

    def test_getters_woken_by_the_putter_of_their_item(self):
        """Two getters wait, two producers put one item each: each getter is woken by the
        producer whose item it got (its name is the item), at the end of the step that put it."""
        first = self.res.stdout.splitlines()[0].split()
        got = {first[0]: first[1], first[2]: first[3]}
        self.assertEqual(sorted(got.values()), ["p1", "p2"])
        for getter, item in got.items():
            wait, nxt = self.assert_woken_by(self.res.by_name(getter), "# L:work-get",
                                             self.res.by_name(item), "# L:put-done")
            self.assertEqual(wait["await"]["on"]["op"], "get")

    def test_putter_woken_by_the_getter_that_made_room(self):
        wait, _ = self.assert_woken_by(self.res.by_name("stuffer"), "# L:small-put",
                                       self.res.by_name("drainer"), "# L:drained")
        self.assertEqual(wait["await"]["on"]["op"], "put")

    def test_join_woken_by_the_last_task_done(self):
        wait, _ = self.assert_woken_by(self.res.by_name("joiner"), "# L:join",
                                       self.res.by_name("worker"), "# L:task-done")
        self.assertEqual(wait["await"]["on"]["op"], "join")
        # (and the worker's own gets, fed by the joiner)
        worker, joiner = self.res.by_name("worker"), self.res.by_name("joiner")
        woken = [s.get("wokeBy") for s in steps(self.res, worker)]
        self.assertIn({"kind": "task", "task": joiner}, woken)

    def test_channel_getter_woken_by_its_putter(self):
        getter, putter = self.res.by_name("chan_getter"), self.res.by_name("chan_putter")
        self.assert_woken_by(getter, "# L:chan-get", putter, "# L:chan-put")
        # The putter found the getter waiting: let go as soon as it waited, by that getter.
        wait, nxt = self.after(putter, "# L:chan-put")
        self.assertEqual(nxt.get("wokeBy"), {"kind": "task", "task": getter})
        self.assertGreaterEqual(nxt["woke"], end_of(wait))
        self.assertLessEqual(nxt["woke"], nxt["ts"])

    def test_put_by_the_hub(self):
        """A timer callback put the item: woken by a callback, between its wait and its next step."""
        wait, nxt = self.after(self.res.by_name("hub_waiter"), "# L:hub-get")
        self.assertEqual(nxt.get("wokeBy"), {"kind": "callback"})
        self.assertGreaterEqual(nxt["woke"], end_of(wait))
        self.assertLessEqual(nxt["woke"], nxt["ts"])

    def test_timed_out_get_has_no_link(self):
        _, nxt = self.after(self.res.by_name("timed_out"), "# L:timeout")
        self.assertNotIn("wokeBy", nxt)

    def test_item_taken_by_another_is_not_the_link(self):
        """thief put an item and took it back before the waiting greenlet could run: the waiter is
        woken by feeder, who put the item it got."""
        self.assert_woken_by(self.res.by_name("patient"), "# L:patient",
                             self.res.by_name("feeder"), "# L:fed")

    def test_pure_python_gevent(self):
        """With gevent's pure-Python classes (PURE_PYTHON=1): the same output, the same links."""
        res = run_traced(QUEUE_PROGRAM, env={"PURE_PYTHON": "1"})
        self.assertEqual((res.code, res.stdout), (self.plain.code, self.plain.stdout), res.stderr)

        def links(r):
            out = set()
            for tid, ss in r.steps_by_task.items():
                for s in ss:
                    by = s.get("wokeBy")
                    if by is not None and by["kind"] != "timer":
                        out.add((r.tasks[tid]["name"], by["kind"], r.tasks[by["task"]]["name"] if "task" in by else None))
            return out
        expected = {("stuffer", "task", "drainer"), ("joiner", "task", "worker"), ("worker", "task", "joiner"),
                    ("chan_getter", "task", "chan_putter"), ("chan_putter", "task", "chan_getter"),
                    ("hub_waiter", "callback", None), ("patient", "task", "feeder")}
        for r in (res, self.res):
            # (which producer's item each getter got depends on the order of two equal timers)
            first = r.stdout.splitlines()[0].split()
            got = {(first[0], "task", first[1]), (first[2], "task", first[3])}
            self.assertLessEqual(expected | got, links(r))
            self.assertNotIn(("patient", "task", "thief"), links(r))

    def test_queue_types_unchanged(self):
        src = ("import re, gevent\n"
               "import gevent.queue as gq\n"
               "qs = [gq.Queue(), gq.Queue(3), gq.JoinableQueue(), gq.LifoQueue(), gq.PriorityQueue(),\n"
               "      gq.UnboundQueue(), gq.Channel()]\n"
               "for q in qs:\n"
               "    print(type(q).__name__, type(q).__module__, re.sub('0x[0-9a-f]+', 'X', repr(q)), str(q),\n"
               "          isinstance(q, gq.Queue), isinstance(q, gq.JoinableQueue), isinstance(q, gq.Channel))\n"
               "q = gq.PriorityQueue()\n"
               "for x in (3, 1, 2):\n"
               "    q.put(x)\n"
               "print([q.get() for _ in range(3)], q.qsize(), q.empty())\n"
               "l = gq.LifoQueue()\n"
               "l.put(1); l.put(2)\n"
               "print(l.get(), l.get(), list(gq.Queue(items=[1, 2]).copy().queue))\n"
               "try:\n"
               "    gq.Queue().get_nowait()\n"
               "except Exception as e:\n"
               "    print(type(e).__name__)\n"
               "class MyQueue(gq.Queue):\n"
               "    def put(self, item, block=True, timeout=None):\n"
               "        super().put(item * 2, block, timeout)\n"
               "m = MyQueue()\n"
               "m.put(2)\n"
               "print(m.get(), isinstance(m, gq.Queue), isinstance(gq.Queue(), MyQueue), issubclass(MyQueue, gq.Queue))\n"
               "gq.Queue(maxsize=1, items=[1]).put(2, timeout=0.001)\n")
        for env in (None, {"PURE_PYTHON": "1"}):
            res, plain = run_traced(src, env=env), run_plain(src, env=env)
            self.assertEqual((res.code, res.stdout, res.stderr), (plain.code, plain.stdout, plain.stderr))
            self.assertIn("Full", res.stderr)


IO_PROGRAM = """\
from gevent import monkey
monkey.patch_all()
import os
import socket

import gevent
from gevent.socket import wait_read

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(5)
port = srv.getsockname()[1]


def server():
    conn, _ = srv.accept()  # L:accept
    data = conn.recv(10)  # L:recv
    conn.sendall(data.upper())
    conn.close()
    return data


def client():
    gevent.sleep(0.01)
    c = socket.create_connection(("127.0.0.1", port))  # L:connect
    gevent.sleep(0.01)
    c.sendall(b"ping")
    gevent.sleep(0)  # L:sent
    reply = c.recv(10)  # L:reply
    c.close()
    return reply


def pipe_reader(r):
    wait_read(r)  # L:wait-read
    return os.read(r, 10)


def pipe_writer(w):
    gevent.sleep(0.01)
    os.write(w, b"p")
    gevent.sleep(0)  # L:wrote


r, w = os.pipe()
gs = []
for name, fn, args in (("server", server, ()), ("client", client, ()),
                       ("pipe_reader", pipe_reader, (r,)), ("pipe_writer", pipe_writer, (w,))):
    g = gevent.spawn(fn, *args)
    g.name = name
    gs.append(g)
gevent.joinall(gs)
print([g.value for g in gs])
"""


@unittest.skipUnless(importable("gevent"), "gevent is not installed for this Python")
class GeventIoWakeLinksTest(unittest.TestCase):
    """A greenlet resumed from an I/O wait (a monkey-patched socket's accept / recv, gevent's
    wait_read) is woken by I/O readiness, `woke` when the hub's loop polled: after the step that
    made the descriptor ready ended, before the woken step began."""

    @classmethod
    def setUpClass(cls):
        cls.res = run_traced(IO_PROGRAM)
        cls.plain = run_plain(IO_PROGRAM)

    line = GeventWakeLinksTest.line

    def test_same_output(self):
        self.assertEqual((self.res.code, self.res.stdout, self.res.stderr),
                         (self.plain.code, self.plain.stdout, self.plain.stderr))
        self.assertEqual(self.res.stdout, "[b'ping', b'PING', b'p', None]\n")

    def io_wake(self, name, marker, op, after_marker, after_task):
        ss = steps(self.res, self.res.by_name(name))
        at = line_of(IO_PROGRAM, marker)
        found = [(s, ss[i + 1]) for i, s in enumerate(ss[:-1]) if self.line(s) == at]
        self.assertEqual(len(found), 1, marker)
        wait, nxt = found[0]
        self.assertEqual(wait["await"]["on"], {"kind": "io", "op": op})
        self.assertEqual(nxt.get("wokeBy"), {"kind": "io"}, nxt)
        # (a connect's step: the one that ends in its wait for the connection, after any
        # wait for the name's resolution at the same line)
        made_ready = [end_of(s) for s in steps(self.res, self.res.by_name(after_task))
                      if self.line(s) == line_of(IO_PROGRAM, after_marker)
                      and s["await"]["on"].get("op") not in ("resolve",)]
        self.assertEqual(len(made_ready), 1, after_marker)
        self.assertGreaterEqual(nxt["woke"], max(end_of(wait), made_ready[0]))
        self.assertLessEqual(nxt["woke"], nxt["ts"])

    def test_accept(self):
        self.io_wake("server", "# L:accept", "accept", "# L:connect", "client")

    def test_recv(self):
        self.io_wake("server", "# L:recv", "recv", "# L:sent", "client")

    def test_wait_read(self):
        self.io_wake("pipe_reader", "# L:wait-read", "read", "# L:wrote", "pipe_writer")


if __name__ == "__main__":
    unittest.main()
