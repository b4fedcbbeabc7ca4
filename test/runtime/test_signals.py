"""Signals reach a traced program as they reach it untraced (issue 12, item 1).

The runtime installs no signal handler: the program sees the dispositions it would see untraced,
a signal during a long C call kills at once, and nothing the runtime does can run inside a
handler and wait on a lock the interrupted code holds. A program that dies of a signal leaves its
trace to the formatter process, which writes everything handed over and then the exit line.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tracehelp import _env, wait_for_exit_line  # noqa: E402

POSIX = os.name == "posix" and hasattr(os, "posix_spawn")


def _status_after_reap_known():
    """Linux 6.15+ tells a process's exit status to any holder of its pidfd, even after its
    parent reaped it; before, the status is read from /proc while the program is a zombie,
    and its parent may reap it first (the exit line then says -1, unknown)."""
    try:
        return tuple(int(x) for x in os.uname().release.split(".")[:2]) >= (6, 15) and hasattr(os, "pidfd_open")
    except ValueError:
        return False


def _wait_for_first_line(out, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(out, "rb") as f:
                if f.readline().endswith(b"\n"):
                    return
        except OSError:
            pass
        time.sleep(0.02)


def start(tmp, src, traced=True, env=None):
    prog = os.path.join(tmp, "p.py")
    with open(prog, "w") as f:
        f.write(src)
    out = os.path.join(tmp, "t.jsonl")
    cmd = [sys.executable] + (["-m", "asynctrace", "-o", out] if traced else []) + [prog]
    p = subprocess.Popen(cmd, env=_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp)
    return p, out


def _processes_holding_runtime():
    try:
        out = subprocess.run(["ps", "-eo", "pid,ppid,stat,etime,wchan:24,args"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=10).stdout.decode("utf-8", "replace")
        return "\n".join(ln[:240] for ln in out.splitlines() if "asynctrace" in ln and "unittest" not in ln)
    except Exception as e:
        return "(ps failed: %s)" % e


def finish(p, timeout=60):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Which process hangs: the program, or one that still holds its output (the formatter).
        ended = p.poll()
        others = _processes_holding_runtime()
        p.kill()
        out, err = p.communicate()
        raise AssertionError("the program did not end (deadlock?): program %s; runtime processes: %s; stderr: %s" % (
            "still running" if ended is None else "ended with %s" % ended, others,
            err.decode("utf-8", "replace")[-2000:]))
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


DISPOSITIONS = """
import signal
names = ["SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGPIPE", "SIGCHLD"]
print([(n, str(signal.getsignal(getattr(signal, n))), signal.getsignal(getattr(signal, n)) is signal.SIG_DFL)
       for n in names if hasattr(signal, n)])
"""

# A C call that never checks for signals: a Python handler would run only when it returns.
LONG_C_CALL = """
import itertools, sys
print("ready", flush=True)
sum(itertools.repeat(1, 10 ** 11))
print("returned", flush=True)
"""

# The program's own SIGTERM handler calls os._exit while the main thread is busy tracing.
OWN_HANDLER_OS_EXIT = """
import asyncio, os, signal
signal.signal(signal.SIGTERM, lambda s, f: os._exit(3))
async def spin(i):
    while True:
        await asyncio.sleep(0)
async def main():
    tasks = [asyncio.create_task(spin(i)) for i in range(200)]
    print("ready", flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"""


@unittest.skipUnless(POSIX, "POSIX signals and the formatter process")
class SignalTest(unittest.TestCase):
    def test_dispositions_are_what_the_program_sees_untraced(self):
        with tempfile.TemporaryDirectory() as tmp:
            plain = finish(start(tmp, DISPOSITIONS, traced=False)[0])
            traced = finish(start(tmp, DISPOSITIONS)[0])
        self.assertEqual(traced, plain)
        self.assertIn("'SIGTERM', ", plain[0])
        self.assertIn("('SIGTERM', '%s', True)" % signal.SIG_DFL, traced[0])

    def test_sigterm_during_a_long_c_call_kills_at_once(self):
        with tempfile.TemporaryDirectory() as tmp:
            p, out = start(tmp, LONG_C_CALL)
            try:
                self.assertEqual(p.stdout.readline(), b"ready\n")
                # The formatter watches the program from its first line on: on a loaded machine
                # its start-up can take longer than the program's.
                _wait_for_first_line(out)
                time.sleep(0.2)
                t0 = time.monotonic()
                p.send_signal(signal.SIGTERM)
                p.wait(60)
                took = time.monotonic() - t0
            finally:
                finish(p)
            self.assertEqual(p.returncode, -signal.SIGTERM)
            # The C call runs for minutes; death is immediate (generous bound for a loaded machine).
            self.assertLess(took, 10.0)
            ev = wait_for_exit_line(out)
            self.assertEqual(ev[0]["type"], "run")
            self.assertEqual(ev[-1]["type"], "exit")
            self.assertTrue(ev[-1]["abrupt"])
            if ev[-1]["code"] != -1 or _status_after_reap_known():
                self.assertEqual(ev[-1]["code"], 128 + signal.SIGTERM)
                self.assertEqual(ev[-1]["error"]["type"], "SIGTERM")

    def test_sighup_and_sigkill_leave_an_exit_line(self):
        for sig in (signal.SIGHUP, signal.SIGKILL):
            with tempfile.TemporaryDirectory() as tmp:
                p, out = start(tmp, OWN_HANDLER_OS_EXIT)
                try:
                    self.assertEqual(p.stdout.readline(), b"ready\n")
                    time.sleep(0.3)
                    p.send_signal(sig)
                    p.wait(60)
                finally:
                    finish(p)
                self.assertEqual(p.returncode, -sig)
                ev = wait_for_exit_line(out)
                self.assertEqual(ev[-1]["type"], "exit", sig)
                # The status is read from the dead process before its parent reaps it; on a
                # loaded machine the parent may win (then the code is -1, "unknown").
                self.assertIn(ev[-1]["code"], (128 + sig,) if _status_after_reap_known() else (128 + sig, -1))
                self.assertGreater(sum(1 for e in ev if e["type"] == "step"), 0)

    def test_own_handler_calling_os_exit_never_deadlocks(self):
        # Before: the handler ran inside the runtime's hand-over (holding the writer's lock) and
        # finishing the trace waited on that lock forever. Many tries at random moments.
        for i in range(int(os.environ.get("ASYNCTRACE_SIGNAL_TRIES", "4"))):
            with tempfile.TemporaryDirectory() as tmp:
                p, out = start(tmp, OWN_HANDLER_OS_EXIT)
                try:
                    self.assertEqual(p.stdout.readline(), b"ready\n")
                    time.sleep(0.05 + (i % 5) * 0.07)
                    p.send_signal(signal.SIGTERM)
                finally:
                    o, err = finish(p, timeout=60)
                self.assertEqual(p.returncode, 3, err)
                ev = wait_for_exit_line(out)
                self.assertEqual(ev[-1]["type"], "exit")
                self.assertEqual(ev[-1]["code"], 3)


if __name__ == "__main__":
    unittest.main()
