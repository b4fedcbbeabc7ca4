"""One run, many processes: forked, spawned and forkserver children of multiprocessing, a Python
subprocess, gunicorn's gevent workers. Each child writes its own stream beside the main trace
(TRACE.processes/PID.jsonl) starting with a `run` line that names the process; the program
behaves exactly as untraced."""
import os
import subprocess
import sys
import tempfile
import unittest

from tracehelp import Result, _env, check_wellformed, line_of, parse_trace

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")


def _has(module):
    try:
        __import__(module)
        return True
    except Exception:
        return False


def _normal(err):
    import re
    return re.sub(rb"\[\d{4}-\d\d-\d\d [^]]*\] \[\d+\] |\d+", b"", err)


def run(testcase, program, args=(), timeout=120):
    """Run traced and untraced; the same output and exit code. Returns (main, [children])."""
    prog = os.path.join(PROGRAMS, program)
    with tempfile.TemporaryDirectory(prefix="asynctrace-procs-") as tmp:
        out = os.path.join(tmp, "trace.jsonl")
        p = subprocess.run([sys.executable, "-m", "asynctrace", "-o", out, prog] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(None), timeout=timeout, cwd=tmp)
        plain = subprocess.run([sys.executable, prog] + list(args), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=_env(None), timeout=timeout, cwd=tmp)
        testcase.assertEqual(p.returncode, plain.returncode, p.stderr.decode())
        testcase.assertEqual(p.stdout, plain.stdout)
        # (gunicorn's log lines carry a time stamp and pids: compare what they say)
        testcase.assertEqual(_normal(p.stderr), _normal(plain.stderr))
        main = Result(p.stdout.decode(), p.stderr.decode(), p.returncode, parse_trace(out))
        d = out + ".processes"
        children = []
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            children.append(Result("", "", None, parse_trace(os.path.join(d, name))))
    check_wellformed(testcase, main)
    run_id = main.run["runId"]
    testcase.assertEqual(main.run["start"], "main")
    testcase.assertIsInstance(main.run["t0"], int)
    for c in children:
        testcase.assertEqual(c.run["type"], "run")
        testcase.assertEqual(c.run["runId"], run_id)
        testcase.assertIsInstance(c.run["t0"], int)
        # Clocks: every process starts within a minute of the main one (same wall clock base).
        testcase.assertLess(abs(c.run["t0"] - main.run["t0"]), 60_000_000)
    return main, children


def _source(name):
    with open(os.path.join(PROGRAMS, name), encoding="utf-8") as f:
        return f.read()


def workers(children, main):
    return [c for c in children if c.run["ppid"] == main.run["pid"]]


class PoolTest(unittest.TestCase):
    def check_pool(self, method):
        main, children = run(self, "mp_pool.py", [method])
        src = _source("mp_pool.py")
        with_tasks = [c for c in children if c.tasks]
        self.assertTrue(with_tasks, [c.run for c in children])
        kinds = set(c.run["start"] for c in with_tasks)
        self.assertEqual(kinds, {method})
        seen = 0
        for c in with_tasks:
            if method != "forkserver":
                self.assertEqual(c.run["ppid"], main.run["pid"])
            fetch = c.by_coro("fetch")
            seen += len(fetch)
            for tid in fetch:
                self.assertEqual(c.line(c.tasks[tid]["site"]), line_of(src, "L:worker-run"))
                self.assertIn(line_of(src, "L:worker-sleep"), c.await_lines(tid))
                self.assertEqual(c.ends[tid]["state"], "done")
            if c.exit is not None:
                self.assertIn(c.exit["code"], (0, 143))
        self.assertEqual(seen, 8)  # each input mapped once, in some worker

    def test_fork(self):
        self.check_pool("fork")

    def test_spawn(self):
        self.check_pool("spawn")

    def test_forkserver(self):
        self.check_pool("forkserver")


class SubprocessTest(unittest.TestCase):
    def test_python_subprocess(self):
        main, children = run(self, "subproc.py")
        src = _source("subproc.py")
        self.assertIn("'env', 'False', 'True'] 5", main.stdout)  # the child's env is as given, exit 5
        self.assertIn("parent env False []", main.stdout)
        self.assertEqual(len(children), 1)
        c = children[0]
        check_wellformed(self, c)
        self.assertEqual(c.run["start"], "exec")
        self.assertEqual(c.run["ppid"], main.run["pid"])
        self.assertEqual(c.exit["code"], 5)
        ticks = c.by_coro("tick")
        self.assertEqual(len(ticks), 3)
        main_task = c.by_coro("main")[0]
        for tid in ticks:
            self.assertEqual(c.tasks[tid]["parent"], main_task)
        self.assertTrue(any(s["file"] == "<string>" for s in c.sites.values()))


@unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
class KilledChildTest(unittest.TestCase):
    def test_sigkilled_child_is_reaped_in_the_parents_stream(self):
        main, children = run(self, "killed_child.py")
        self.assertIn("child killed: True SIGKILL", main.stdout)
        self.assertEqual(len(children), 1, [c.run for c in children])
        child = children[0]
        self.assertEqual(child.run["start"], "fork")
        self.assertNotEqual(child.events[-1]["type"], "exit", "a SIGKILLed child runs no code at its end")
        self.assertTrue(any(e["type"] == "step" for e in child.events), "the child's steps until it was killed")
        reaped = [e for e in main.events if e["type"] == "reaped"]
        self.assertEqual(len(reaped), 1, reaped)
        self.assertEqual(reaped[0]["pid"], child.run["pid"])
        self.assertEqual(reaped[0]["code"], 128 + 9)
        self.assertEqual(reaped[0]["signal"], "SIGKILL")


@unittest.skipUnless(_has("gunicorn") and _has("gevent"), "needs gunicorn and gevent (Debian: gunicorn python3-gevent)")
class GunicornTest(unittest.TestCase):
    def test_gevent_workers(self):
        main, children = run(self, "gunicorn_gevent.py", ["20"])
        src = _source("gunicorn_gevent.py")
        self.assertIn("responses 20 {b'hello'}", main.stdout)
        ws = workers(children, main)
        self.assertEqual(len(ws), 2, [c.run for c in children])
        served = 0
        for w in ws:
            check_wellformed(self, w)
            self.assertEqual(w.run["start"], "fork")
            self.assertEqual(w.exit["code"], 0)
            kinds = set(t.get("kind") for t in w.tasks.values())
            self.assertEqual(kinds, {"greenlet"})
            for tid in w.tasks:
                if line_of(src, "L:app-sleep") in w.await_lines(tid):
                    served += 1
        self.assertGreaterEqual(served, 20)


if __name__ == "__main__":
    unittest.main()
