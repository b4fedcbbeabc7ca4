"""Traces stay valid at the edges (issue 12, item 7): a lossy trace (slow reader) never names a
task it did not declare; the live copy is never cut mid-line when the reader stalls at the end;
os.execv after running tasks leaves a complete trace of the old image."""
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tracehelp import EXAMPLES, HERE, parse_trace, run_plain, run_traced  # noqa: E402


def referenced_tasks(e):
    """The task ids a line names (other than the one it declares)."""
    t = e.get("type")
    out = []
    if t in ("step", "end", "block", "name", "cancel", "unretrieved", "timeout") and isinstance(e.get("task"), int):
        out.append(e["task"])
    if t == "cancel" and isinstance(e.get("by"), int):
        out.append(e["by"])
    if t == "task" and isinstance(e.get("parent"), int):
        out.append(e["parent"])
    on = (e.get("await") or {}).get("on") if t == "step" else None
    if isinstance(on, dict):
        for k in ("task", "to"):
            if isinstance(on.get(k), int):
                out.append(on[k])
        out.extend(x for x in on.get("tasks") or () if isinstance(x, int))
    return out


def forward_references(events):
    """Lines that name a task before its task line, as (line index, task id)."""
    declared = set()
    out = []
    for i, e in enumerate(events):
        out.extend((i, t) for t in referenced_tasks(e) if t not in declared)
        if e.get("type") == "task":
            declared.add(e["id"])
    return out


def _has(module):
    import importlib.util
    return importlib.util.find_spec(module) is not None


EAGER_SRC = """import asyncio
async def child(i):
    return i
async def guarded():
    async with asyncio.timeout(5):
        return 7
async def parent():
    c = asyncio.create_task(child(1), name="kid")
    g = asyncio.create_task(guarded(), name="guard")
    return await c + await g
async def slow():
    await asyncio.sleep(0.01)
    return 2
async def main():
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    quick = asyncio.create_task(child(0), name="quick-one")
    t = asyncio.create_task(parent(), name="par")
    s = asyncio.create_task(slow(), name="slow-one")
    q = asyncio.get_running_loop().create_task(child(3), name="via-loop")
    u = asyncio.ensure_future(child(4))
    print(quick.get_name(), t.get_name(), s.get_name(), q.get_name(), u.get_name(),
          await quick, await t, await s, await q, await u)
asyncio.run(main())
"""


def slow_reader(marker):
    """A listener whose reader reads nothing until `marker` exists, then everything."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got = []

    def accept():
        c, _ = srv.accept()
        f = c.makefile("rb")
        f.readline()  # the token
        deadline = time.time() + 120
        while not os.path.exists(marker) and time.time() < deadline:
            time.sleep(0.05)
        got.append(f.read())
        c.close()

    th = threading.Thread(target=accept)
    th.start()
    return srv, th, got


class TraceValidityTest(unittest.TestCase):
    def test_lossy_trace_declares_every_task_it_names(self):
        # Thousands of short tasks while the reader holds the writer back: far more task lines
        # than the quarter of the buffer once kept for declarations.
        tmp = tempfile.mkdtemp()
        marker = os.path.join(tmp, "produced")
        srv, th, got = slow_reader(marker)
        src = ("import asyncio\nasync def w(i):\n    await asyncio.sleep(0)\n    await asyncio.sleep(0)\n"
               "async def m():\n    for k in range(30):\n        await asyncio.gather(*(w(i) for i in range(200)))\n"
               "    open(%r, 'w').close()\n    print('finished')\nasyncio.run(m())\n") % marker
        try:
            res = run_traced(src, extra_cli=["--connect", "127.0.0.1:%d" % srv.getsockname()[1]],
                             env={"ASYNCTRACE_BUFFER_LINES": "500"}, timeout=180)
        finally:
            th.join(60)
            srv.close()
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual((res.code, res.stdout), (0, "finished\n"), res.stderr)
        for ev in ([json.loads(ln) for ln in got[0].decode("utf-8").split("\n") if ln], res.events):
            self.assertEqual(ev[-1]["type"], "exit")
            tasks = set()
            undeclared = []
            for e in ev:
                undeclared.extend(t for t in referenced_tasks(e) if t not in tasks)
                if e["type"] == "task":
                    tasks.add(e["id"])
            self.assertEqual(undeclared[:10], [])
            self.assertGreaterEqual(len(tasks), 6001)
        self.assertGreater(ev[-1]["dropped"], 0)

    def stalled_live_copy(self, src):
        """Trace `src` to a live reader that takes a trickle (a few bytes at a time: lines
        straddle the reads) and then stops reading until the runtime closes the connection:
        at the close deadline the runtime gives up. Returns what the reader got after its token
        line, having checked that the program ran as untraced."""
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        got = []
        stop = threading.Event()

        def accept():
            c, _ = srv.accept()
            c.settimeout(0.2)
            data = b""
            end_trickle = time.time() + 3
            while time.time() < end_trickle:
                try:
                    chunk = c.recv(7)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                data += chunk
                time.sleep(0.001)
            stop.wait(120)
            c.settimeout(5)
            try:
                while True:
                    chunk = c.recv(1 << 16)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            got.append(data)
            c.close()

        th = threading.Thread(target=accept)
        th.start()
        try:
            res = run_traced(src, extra_cli=["--connect", "127.0.0.1:%d" % srv.getsockname()[1]], timeout=180)
        finally:
            stop.set()
            th.join(60)
            srv.close()
        self.assertEqual((res.code, res.stdout), (0, "finished\n"), res.stderr)
        data = got[0]
        return data.split(b"\n", 1)[1] if b"\n" in data else b""  # after the token line

    def assert_whole_lines(self, body):
        self.assertTrue(body, "nothing streamed")
        self.assertTrue(body.endswith(b"\n"), "cut mid-line: ...%r" % body[-80:])
        for ln in body.split(b"\n"):
            if ln:
                json.loads(ln)

    def test_live_copy_is_never_cut_mid_line_when_the_reader_stalls(self):
        src = ("import asyncio\nasync def w():\n    for i in range(300):\n        await asyncio.sleep(0)\n"
               "async def m():\n    await asyncio.gather(*(w() for _ in range(100)))\n"
               "    print('finished')\nasyncio.run(m())\n")
        self.assert_whole_lines(self.stalled_live_copy(src))

    @unittest.skipUnless(sys.platform.startswith("linux"), "the socket's free room is known on Linux (SO_MEMINFO)")
    def test_long_lines_are_not_cut_when_the_reader_stalls(self):
        # Task lines of 600 kB each (long names): the kernel would take part of one when the
        # socket has some room but not enough; the runtime sends a line only when all of it fits.
        src = ("import asyncio\nasync def w(i):\n    for _ in range(50):\n        await asyncio.sleep(0)\n"
               "async def m():\n"
               "    ts = [asyncio.create_task(w(i), name=('n%d' % i) * 300000) for i in range(8)]\n"
               "    await asyncio.gather(*ts)\n    print('finished')\nasyncio.run(m())\n")
        body = self.stalled_live_copy(src)
        self.assert_whole_lines(body)
        self.assertIn(b'"type":"task"', body)

    @unittest.skipUnless(sys.version_info >= (3, 12), "eager tasks are Python 3.12+")
    def test_eager_tasks_keep_their_names_and_are_declared_before_they_run(self):
        # Eager tasks finishing in their first step (asyncio.create_task names them only after
        # the factory returned on 3.12), one creating tasks and one arming a timeout in it.
        res = run_traced(EAGER_SRC)
        plain = run_plain(EAGER_SRC)
        self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout), res.stderr)
        self.assertEqual(forward_references(res.events), [])
        names = plain.stdout.split()[:5]  # what the program itself saw (3.13.0 names one "None")
        tasks = {t["name"]: tid for tid, t in res.tasks.items() if not t.get("internal")}
        for name in names + ["kid", "guard"]:
            self.assertIn(name, tasks)
        for name in ("quick-one", "par", "kid", "guard", "slow-one", "via-loop"):
            tid = tasks[name]
            self.assertTrue(res.tasks[tid].get("eager"), name)
            first = res.steps_by_task[tid][0]
            self.assertLessEqual(res.tasks[tid]["ts"], first["ts"], name)
            self.assertIn(tid, res.ends, name)
        self.assertEqual(res.tasks[tasks["kid"]]["parent"], tasks["par"])
        self.assertEqual(res.tasks[tasks["guard"]]["parent"], tasks["par"])
        (armed, cleared), = res.timeouts.values()
        self.assertEqual((armed["state"], cleared["state"]), ("armed", "cleared"))
        self.assertEqual(armed["task"], tasks["guard"])
        self.assertEqual(res.line(armed["site"]), 5)

    @unittest.skipUnless(_has("greenlet"), "needs greenlet (Debian: python3-greenlet)")
    def test_greenlet_switches_name_declared_greenlets(self):
        # A switch into a new plain greenlet names it before its first suspension.
        for prog in (os.path.join(EXAMPLES, "07_greenlet_switch.py"),
                     os.path.join(HERE, "programs", "greenlet_raw.py")):
            res = run_traced(prog)
            plain = run_plain(prog)
            self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout), res.stderr)
            self.assertEqual(forward_references(res.events), [], prog)
            switches = [s["await"]["on"]["to"] for ss in res.steps_by_task.values() for s in ss
                        if s.get("await") and s["await"]["on"].get("kind") == "switch"]
            self.assertTrue(switches, prog)

    @unittest.skipUnless(hasattr(os, "execv"), "needs os.execv")
    def test_execv_after_running_tasks_leaves_a_complete_trace(self):
        src = ("import asyncio, os, sys\nasync def w(i):\n    await asyncio.sleep(0.01)\n    return i\n"
               "async def m():\n    print(sum(await asyncio.gather(*(w(i) for i in range(10)))), flush=True)\n"
               "asyncio.run(m())\n"
               "os.execv(sys.executable, [sys.executable, '-c', 'print(\"new image\")'])\n")
        res = run_traced(src)
        self.assertEqual((res.code, res.stdout), (0, "45\nnew image\n"), res.stderr)
        ev = res.events
        types = [e["type"] for e in ev]
        self.assertEqual(types[0], "run")
        self.assertEqual(types[-1], "exit")
        tasks = {e["id"] for e in ev if e["type"] == "task" and not e.get("internal")}
        self.assertEqual(len(tasks), 11)
        self.assertLessEqual(tasks, {e["task"] for e in ev if e["type"] == "end"})
        self.assertEqual(ev[-1]["code"], 0)
        self.assertEqual(ev[-1].get("exec"), True)


if __name__ == "__main__":
    unittest.main()
