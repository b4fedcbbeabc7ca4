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
        res, plain = run_traced(src), run_plain(src)
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
        seen before, recorded on the fast path); the I/O waits carry no link."""
        reader = self.res.by_name("reader")
        ss = steps(self.res, reader)
        pause, recv = line_of(PROGRAM, "# L:pause"), line_of(PROGRAM, "# L:recv")
        after_pause = [ss[i + 1] for i, s in enumerate(ss[:-1]) if self.line(s) == pause]
        self.assertEqual(len(after_pause), 3)
        for s in after_pause:
            self.assertEqual(s["wokeBy"], {"kind": "timer"})
            self.assertEqual(self.line(s), recv)
        after_recv = [ss[i + 1] for i, s in enumerate(ss[:-1]) if self.line(s) == recv]
        self.assertTrue(after_recv)
        for s in after_recv:
            self.assertNotIn("wokeBy", s)

    def test_pure_python_gevent(self):
        """With gevent's pure-Python classes (PURE_PYTHON=1), the same links, but for Events and
        AsyncResults (not followed there)."""
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
        self.assertNotIn("listener", [name for name, _, _ in links])

    def test_killed_sleeper_is_not_woken_by_its_timer(self):
        doomed = self.res.by_name("doomed")
        last = steps(self.res, doomed)[-1]
        self.assertNotIn("wokeBy", last)
        self.assertEqual(self.res.ends[doomed]["state"], "cancelled")


if __name__ == "__main__":
    unittest.main()
