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
from tracehelp import parse_trace, run_traced  # noqa: E402


def referenced_tasks(e):
    """The task ids a line names (other than the one it declares)."""
    t = e.get("type")
    out = []
    if t in ("step", "end", "block", "name", "cancel", "unretrieved") and isinstance(e.get("task"), int):
        out.append(e["task"])
    if t == "cancel" and isinstance(e.get("by"), int):
        out.append(e["by"])
    if t == "task" and isinstance(e.get("parent"), int):
        out.append(e["parent"])
    return out


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
