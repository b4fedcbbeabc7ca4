"""Greenlet wake links: the step after a wait says what made the greenlet ready and when (`woke`,
`wokeBy`): a sleep's timer, the end of a joined greenlet, the last greenlet of a joinall that
ended, the greenlet whose step released the lock it waited on. Timing assertions compare the
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
from gevent.lock import Semaphore

lock = Semaphore()


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
n.join()  # L:join
gevent.joinall([h, w])  # L:joinall
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

    def test_timer(self):
        """A sleep's step is followed by one woken by the timer at its due time (10 ms on)."""
        napper = self.res.by_name("napper")
        wait, nxt = self.after(napper, "# L:nap")
        self.assertEqual(nxt["wokeBy"], {"kind": "timer"})
        self.assertAlmostEqual(nxt["woke"], end_of(wait) + 10000, delta=2)
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

    def test_killed_sleeper_is_not_woken_by_its_timer(self):
        doomed = self.res.by_name("doomed")
        last = steps(self.res, doomed)[-1]
        self.assertNotIn("wokeBy", last)
        self.assertEqual(self.res.ends[doomed]["state"], "cancelled")


if __name__ == "__main__":
    unittest.main()
