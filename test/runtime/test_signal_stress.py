"""Stress: SIGINT, SIGTERM and SIGHUP at random moments to busy traced programs (asyncio and
gevent). The program always ends as it does untraced (same death), never hangs, and its trace
always ends with an `exit` line that says how it ended; what comes before is a valid prefix.

ASYNCTRACE_STRESS_RUNS sets the runs per (program, signal) (default 2: a modest CI time);
ASYNCTRACE_STRESS_SEED replays a sequence of moments.
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tracehelp import _env, wait_for_exit_line  # noqa: E402
from test_signals import _status_after_reap_known  # noqa: E402

RUNS = int(os.environ.get("ASYNCTRACE_STRESS_RUNS", "2"))
SEED = int(os.environ.get("ASYNCTRACE_STRESS_SEED", str(int(time.time() * 1000) % 100000)))

ASYNCIO_BUSY = """
import asyncio
async def leaf(i):
    for _ in range(i % 7):
        await asyncio.sleep(0)
    return i
async def worker(q, n):
    while True:
        item = await q.get()
        await asyncio.gather(*(leaf(item + k) for k in range(n)))
        q.task_done()
async def main():
    q = asyncio.Queue(100)
    workers = [asyncio.create_task(worker(q, 5), name="w%d" % i) for i in range(20)]
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        await q.put(i)
        if i % 500 == 0:
            try:
                await asyncio.wait_for(asyncio.sleep(1), 0.001)
            except asyncio.TimeoutError:
                pass
asyncio.run(main())
"""

GEVENT_BUSY = """
import gevent
from gevent.queue import Queue
def leaf(i):
    for _ in range(i % 5):
        gevent.sleep(0)
def worker(q):
    while True:
        i = q.get()
        gevent.joinall([gevent.spawn(leaf, i + k) for k in range(4)])
q = Queue(100)
ws = [gevent.spawn(worker, q) for _ in range(20)]
print("ready", flush=True)
i = 0
while True:
    i += 1
    q.put(i)
"""

HANG = 20  # seconds without ending after the signal: a hang

SIGNALS = [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]


def importable(mod):
    try:
        __import__(mod)
        return True
    except Exception:
        return False


class SignalStress(unittest.TestCase):
    def run_once(self, tmp, prog, sig, delay, traced):
        out = os.path.join(tmp, "t.jsonl")
        if os.path.exists(out):
            os.unlink(out)
        cmd = [sys.executable] + (["-m", "asynctrace", "-o", out] if traced else []) + [prog]
        p = subprocess.Popen(cmd, env=_env(None), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp)
        try:
            first = p.stdout.readline()
            self.assertEqual(first, b"ready\n", p.stderr.read().decode("utf-8", "replace")[-2000:] if not first else "")
            time.sleep(delay)
            p.send_signal(sig)
            try:
                _, err = p.communicate(timeout=HANG)
                code = p.returncode
            except subprocess.TimeoutExpired:
                # Python <= 3.10's asyncio.run can itself hang on a KeyboardInterrupt at some
                # moments (untraced too): a hang is an outcome compared like the others.
                p.kill()
                _, err = p.communicate()
                code = "hang"
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        return code, err.decode("utf-8", "replace"), (wait_for_exit_line(out) if traced else None)

    def stress(self, src, kind):
        rnd = random.Random(SEED)
        with tempfile.TemporaryDirectory() as tmp:
            prog = os.path.join(tmp, "busy_%s.py" % kind)
            with open(prog, "w") as f:
                f.write(src)
            untraced = {}
            for sig in SIGNALS:
                code, err, _ = self.run_once(tmp, prog, sig, 0.1, traced=False)
                untraced[sig] = (code, err.strip().splitlines()[-1:] if sig == signal.SIGINT else [])
            for n in range(RUNS):
                for sig in SIGNALS:
                    delay = rnd.uniform(0.0, 0.6)
                    what = "%s %s at %.3f s (run %d, seed %d)" % (kind, signal.Signals(sig).name, delay, n, SEED)
                    code, err, ev = self.run_once(tmp, prog, sig, delay, traced=True)
                    # Ends as untraced: the same death (and Ctrl-C's KeyboardInterrupt last on stderr).
                    if sig == signal.SIGINT and kind == "asyncio" and sys.version_info < (3, 11):
                        # Before 3.11 asyncio.run has no SIGINT handling: the KeyboardInterrupt
                        # lands in whatever runs, and untraced runs end differently from one
                        # moment to the next (death by SIGINT, a CancelledError traceback, or a
                        # hang in the shutdown). Any of those, and a trace with its exit line.
                        self.assertIn(code, ("hang", -sig, 1), what + "\n" + err[-2000:])
                        self.assertEqual(ev[-1]["type"], "exit", what)
                        self.check_prefix(ev, what)
                        continue
                    self.assertNotEqual(code, "hang", what + " (the traced program hung)\n" + err[-2000:])
                    self.assertEqual(code, untraced[sig][0], what + "\n" + err[-2000:])
                    if sig == signal.SIGINT:
                        self.assertEqual(err.strip().splitlines()[-1:], untraced[sig][1], what)
                    self.assertTrue(ev, what)
                    self.assertEqual(ev[0]["type"], "run", what)
                    self.assertEqual(ev[-1]["type"], "exit", what)
                    self.assertEqual(sum(1 for e in ev if e["type"] == "exit"), 1, what)
                    codes = (128 + sig,) if _status_after_reap_known() or sig == signal.SIGINT else (128 + sig, -1)
                    self.assertIn(ev[-1]["code"], codes, what)
                    self.check_prefix(ev, what)

    def check_prefix(self, ev, what):
        """What the trace holds is valid: every task and site declared before its lines."""
        tasks, sites = set(), set()
        for e in ev:
            t = e["type"]
            if t == "site":
                sites.add(e["id"])
            elif t == "task":
                tasks.add(e["id"])
                if e.get("parent") is not None:
                    self.assertIn(e["parent"], tasks, what)
            if t in ("step", "end", "block", "name") and e.get("task") is not None:
                self.assertTrue(e["task"] in tasks, "%s: task used before declared: %r" % (what, e))
            if e.get("site") is not None and t != "site":
                self.assertTrue(e["site"] in sites, "%s: site used before declared: %r" % (what, e))

    @unittest.skipUnless(os.name == "posix", "POSIX signals")
    def test_asyncio_busy_program(self):
        self.stress(ASYNCIO_BUSY, "asyncio")

    @unittest.skipUnless(os.name == "posix", "POSIX signals")
    @unittest.skipUnless(importable("gevent"), "gevent is not installed for this Python")
    def test_gevent_busy_program(self):
        self.stress(GEVENT_BUSY, "gevent")


if __name__ == "__main__":
    unittest.main()
