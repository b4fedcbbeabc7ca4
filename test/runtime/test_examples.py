"""Every asyncio example in examples/ under the tracer shows what its comment says."""
import os
import re
import sys
import threading
import unittest

from tracehelp import EXAMPLES, check_wellformed, run_plain, run_traced

PY = sys.version_info[:2]
NAMES = ["01_run_hello.py", "02_await_sequential.py", "03_create_task.py", "04_gather.py",
         "05_wait_for_timeout.py", "06_introspection.py"]
_results = {}


def setUpModule():
    # The examples mostly sleep: run them all (traced and not) at once to keep the suite short.
    def go(name):
        path = os.path.join(EXAMPLES, name)
        _results[name] = (run_traced(path, timeout=120), run_plain(path, timeout=120))

    threads = [threading.Thread(target=go, args=(n,)) for n in NAMES if os.path.exists(os.path.join(EXAMPLES, n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _mask_clock(s):
    return re.sub(r"\d\d:\d\d:\d\d", "HH:MM:SS", s)


class ExamplesTest(unittest.TestCase):
    def get(self, name):
        if name not in _results:
            self.skipTest("%s not present" % name)
        res, plain = _results[name]
        self.assertEqual(res.code, 0, res.stderr)
        self.assertEqual(plain.code, 0, plain.stderr)
        self.assertEqual(_mask_clock(res.stdout), _mask_clock(plain.stdout))
        self.assertEqual(res.stderr, plain.stderr)
        check_wellformed(self, res)
        return res

    def test_01_run_hello(self):
        res = self.get("01_run_hello.py")
        self.assertEqual(res.stdout, "hello\nworld\n")
        main = res.by_coro("main")[0]
        self.assertEqual(res.ons(main), [{"kind": "sleep", "delay": 1.0}])
        self.assertEqual(res.await_lines(main), [7])
        start, end = res.span(main)
        self.assertGreaterEqual(end - start, 1_000_000)
        self.assertEqual(res.line(res.tasks[main]["site"]), 10)

    def test_02_sequential_takes_three_seconds(self):
        res = self.get("02_await_sequential.py")
        main = res.by_coro("main")[0]
        self.assertEqual([t for t in res.tasks if res.tasks[t]["coro"] == "say_after"], [])
        steps = [s for s in res.steps_by_task[main] if "await" in s]
        self.assertEqual([[res.line(x) for x in s["await"]["stack"]] for s in steps], [[14, 7], [15, 7]])
        self.assertEqual([s["await"]["on"]["delay"] for s in steps], [1.0, 2.0])
        start, end = res.span(main)
        self.assertGreaterEqual(end - start, 3_000_000)
        self.assertLess(end - start, 5_000_000)

    def test_03_create_task_overlaps_in_two_seconds(self):
        res = self.get("03_create_task.py")
        main = res.by_coro("main")[0]
        kids = res.by_coro("say_after")
        self.assertEqual(len(kids), 2)
        lines = sorted(res.line(res.tasks[k]["site"]) for k in kids)
        self.assertIn(lines[0], (12, 13))
        self.assertIn(lines[1], (15, 16))
        for k in kids:
            self.assertEqual(res.tasks[k]["parent"], main)
        (s1, e1), (s2, e2) = sorted(res.span(k) for k in kids)
        self.assertLess(s2, e1)  # they overlap
        start, end = res.span(main)
        self.assertGreaterEqual(end - start, 2_000_000)
        self.assertLess(end - start, 3_500_000)  # (generous: a loaded CI machine)
        waited = [o.get("task") for o in res.ons(main) if o["kind"] == "task"]
        self.assertEqual(sorted(waited), sorted(kids))

    def test_04_gather_three_children(self):
        res = self.get("04_gather.py")
        main = res.by_coro("main")[0]
        kids = res.by_coro("factorial")
        self.assertEqual(len(kids), 3)
        for k in kids:
            self.assertEqual(res.tasks[k]["parent"], main)
            self.assertIn(res.line(res.tasks[k]["site"]), (16, 17, 18, 19, 20))
            self.assertEqual(res.ends[k]["state"], "done")
        ons = res.ons(main)
        self.assertEqual(ons[0]["kind"], "gather")
        self.assertEqual(sorted(ons[0]["tasks"]), sorted(kids))
        durs = sorted(res.span(k)[1] - res.span(k)[0] for k in kids)
        for d, secs in zip(durs, (1, 2, 3)):
            self.assertGreaterEqual(d, secs * 1_000_000)
            self.assertLess(d, secs * 1_000_000 + 1_500_000)
        suspensions = sorted(len(res.await_lines(k)) for k in kids)
        self.assertEqual(suspensions, [1, 2, 3])

    def test_05_wait_for_timeout(self):
        res = self.get("05_wait_for_timeout.py")
        self.assertEqual(res.stdout, "timeout!\n")
        main = res.by_coro("main")[0]
        (to,) = res.timeouts.values()
        self.assertEqual(to[0]["state"], "armed")
        self.assertEqual(res.line(to[0]["site"]), 14)
        self.assertEqual(to[0]["delay"], 1.0)
        self.assertEqual(to[0]["task"], main)
        self.assertEqual(to[-1]["state"], "fired")
        (cancel,) = [c for c in res.cancels if c["cause"] == "timeout"]
        self.assertEqual(cancel["timeout"], to[0]["id"])
        self.assertEqual(res.line(cancel["site"]), 14)
        if PY <= (3, 11):
            (eternity,) = res.by_coro("eternity")
            self.assertEqual(cancel["task"], eternity)
            self.assertEqual(cancel["by"], main)
            self.assertEqual(res.ends[eternity]["state"], "cancelled")
            self.assertEqual(res.line(res.ends[eternity]["error"]["site"]), 7)
        else:
            self.assertEqual(cancel["task"], main)
            self.assertEqual(res.ends[main]["state"], "done")

    def test_06_introspection_names(self):
        res = self.get("06_introspection.py")
        self.assertIn("results: ['worker-0', 'worker-1', 'worker-2']", res.stdout)
        names = sorted(res.tasks[t]["name"] for t in res.by_coro("worker"))
        self.assertEqual(names, ["worker-0", "worker-1", "worker-2"])
        self.assertEqual(res.tasks[res.by_coro("main")[0]]["name"], "Task-1")


if __name__ == "__main__":
    unittest.main()
