"""The command line: runs programs exactly as Python would, fails bad use in one line."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from tracehelp import RUNTIME, _env, check_wellformed, parse_trace, run_cli, run_plain, run_traced, wait_for_exit_line

INTROSPECT = r'''
import sys, os
print("argv", sys.argv[1:])
print("name", __name__)
print("file", os.path.basename(__file__))
print("path0", os.path.basename(sys.path[0]) == os.path.basename(os.path.dirname(os.path.realpath(__file__))))
print("main-mod", sys.modules["__main__"].__dict__ is globals())
print("spec", __spec__)
print("token", os.environ.get("ASYNCTRACE_TOKEN"))
print("stdin", sys.stdin.read().strip())
print("in-mods", [m for m in ("threading",) if m in sys.modules] == [m for m in ("threading",) if m in sys.modules])
import threading
print("threads", threading.active_count())
'''


class CliTest(unittest.TestCase):
    def test_help_and_version(self):
        code, out, err = run_cli(["--help"])
        self.assertEqual(code, 0)
        for word in ("-o", "--connect", "--block-ms", "-m MODULE", "ASYNCTRACE_TOKEN", "format version 1"):
            self.assertIn(word, out)
        code, out, err = run_cli(["--version"])
        self.assertEqual(code, 0)
        self.assertIn("trace format version 1", out)

    def assertOneLineError(self, code, err, *words):
        self.assertEqual(code, 2, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertNotIn("Traceback", err)
        for w in words:
            self.assertIn(w, err)

    def test_bad_use(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, out, err = run_cli([os.path.join(tmp, "missing.py")], cwd=tmp)
            self.assertOneLineError(code, err, "missing.py")
            prog = os.path.join(tmp, "p.py")
            with open(prog, "w") as f:
                f.write("print('should not run')\n")
            code, out, err = run_cli(["-o", os.path.join(tmp, "no", "such", "dir", "t.jsonl"), prog], cwd=tmp)
            self.assertOneLineError(code, err, "t.jsonl")
            self.assertEqual(out, "")
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()  # nothing listens there now
            code, out, err = run_cli(["--connect", "127.0.0.1:%d" % port, prog], cwd=tmp)
            self.assertOneLineError(code, err, "connect")
            self.assertEqual(out, "")
            code, out, err = run_cli(["--bogus", prog], cwd=tmp)
            self.assertOneLineError(code, err, "--bogus")
            code, out, err = run_cli(["--block-ms", "x", prog], cwd=tmp)
            self.assertOneLineError(code, err, "--block-ms")
            code, out, err = run_cli([], cwd=tmp)
            self.assertOneLineError(code, err)
            # A missing module fails as `python -m` fails (exit 1): test_runs_like_python.

    def test_runs_like_python(self):
        args = ["a b", "--flag", "-o", "x"]
        plain = run_plain(INTROSPECT, args=args, stdin=b"hello\n")
        traced = run_traced(INTROSPECT, args=args, stdin=b"hello\n")
        self.assertEqual(plain.code, 0, plain.stderr)
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertEqual(traced.stderr, plain.stderr)
        self.assertEqual(traced.code, 0)
        check_wellformed(self, traced)
        self.assertEqual(traced.run["argv"][1:], args)
        self.assertTrue(traced.run["argv"][0].endswith("prog.py"))
        self.assertEqual(traced.exit["code"], 0)

    def test_default_output_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            prog = os.path.join(tmp, "p.py")
            with open(prog, "w") as f:
                f.write("print('hi')\n")
            code, out, err = run_cli([prog], cwd=tmp)
            self.assertEqual((code, out), (0, "hi\n"), err)
            made = [n for n in os.listdir(tmp) if n.startswith("asynctrace-") and n.endswith(".jsonl")]
            self.assertEqual(len(made), 1, os.listdir(tmp))
            ev = parse_trace(os.path.join(tmp, made[0]))
            self.assertEqual((ev[0]["type"], ev[-1]["type"]), ("run", "exit"))

    def test_exit_codes_and_errors(self):
        cases = [
            ("import sys\nprint('x')\nsys.exit(3)\n", 3),
            ("import sys\nsys.exit('bye')\n", 1),
            ("import sys\nsys.exit()\n", 0),
            ("def f():\n    raise ValueError('boom')\nprint('before')\nf()\n", 1),
            ("import asyncio\nasync def m():\n    raise KeyError('k')\nasyncio.run(m())\n", 1),
        ]
        for src, expected in cases:
            with self.subTest(src=src):
                plain = run_plain(src)
                traced = run_traced(src)
                self.assertEqual(plain.code, expected)
                self.assertEqual(traced.code, expected, traced.stderr)
                self.assertEqual(traced.stdout, plain.stdout)
                self.assertEqual(traced.stderr, plain.stderr)
                check_wellformed(self, traced)
                self.assertEqual(traced.exit["code"], expected)
        traced = run_traced(cases[3][0])
        self.assertEqual(traced.exit["error"], {"type": "ValueError", "message": "boom"})

    def test_keyboard_interrupt(self):
        src = "print('x', flush=True)\nraise KeyboardInterrupt\n"
        plain = run_plain(src)
        traced = run_traced(src)
        self.assertEqual(plain.code, -signal.SIGINT)
        self.assertEqual(traced.code, plain.code)
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertEqual(traced.stderr, plain.stderr)
        check_wellformed(self, traced)
        self.assertEqual(traced.exit["error"]["type"], "KeyboardInterrupt")

    def test_module_mode(self):
        with tempfile.TemporaryDirectory() as tmp:
            pkg = os.path.join(tmp, "mypkg")
            os.mkdir(pkg)
            with open(os.path.join(pkg, "__init__.py"), "w") as f:
                f.write("")
            with open(os.path.join(pkg, "tool.py"), "w") as f:
                f.write("import sys, asyncio\nasync def m():\n    await asyncio.sleep(0)\n"
                        "print(__name__, sys.argv[1:], sys.argv[0].endswith('tool.py'))\nasyncio.run(m())\n")
            out = os.path.join(tmp, "t.jsonl")
            env = _env({})
            p = subprocess.run([sys.executable, "-m", "asynctrace", "-o", out, "-m", "mypkg.tool", "1", "-x"],
                               cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            q = subprocess.run([sys.executable, "-m", "mypkg.tool", "1", "-x"], cwd=tmp, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, q.stdout)
            ev = parse_trace(out)
            self.assertEqual(ev[0]["module"], "mypkg.tool")
            self.assertTrue(any(e["type"] == "task" for e in ev))

    def test_connect_and_file_get_same_lines(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        got = []

        def accept():
            c, _ = srv.accept()
            buf = b""
            while True:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
            got.append(buf)
            c.close()

        th = threading.Thread(target=accept)
        th.start()
        try:
            src = ("import asyncio, os\nprint('token' in ''.join(os.environ))\n"
                   "async def m():\n    await asyncio.sleep(0.01)\nasyncio.run(m())\n")
            res = run_traced(src, extra_cli=["--connect", "127.0.0.1:%d" % srv.getsockname()[1]],
                             env={"ASYNCTRACE_TOKEN": "s3cret-token"})
            th.join(10)
        finally:
            srv.close()
        self.assertEqual(res.code, 0, res.stderr)
        self.assertEqual(res.stdout, "False\n")  # the token is not visible to the program
        lines = got[0].decode("utf-8").split("\n")
        self.assertEqual(lines[0], "s3cret-token")
        streamed = [json.loads(l) for l in lines[1:] if l]
        self.assertEqual(streamed, res.events)
        check_wellformed(self, res)

    def test_broken_output_keeps_program_running(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)

        def accept():
            c, _ = srv.accept()
            c.recv(100)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()  # the reader goes away

        th = threading.Thread(target=accept)
        th.start()
        src = ("import asyncio\nasync def w():\n    for i in range(300):\n        await asyncio.sleep(0.001)\n"
               "async def m():\n    await asyncio.gather(*(w() for _ in range(20)))\n    print('finished')\n"
               "asyncio.run(m())\n")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                prog = os.path.join(tmp, "x.py")
                with open(prog, "w") as f:
                    f.write(src)
                p = subprocess.run([sys.executable, "-m", "asynctrace", "--connect",
                                    "127.0.0.1:%d" % srv.getsockname()[1], prog],
                                   env=_env({}), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        finally:
            th.join(10)
            srv.close()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, b"finished\n")
        err = p.stderr.decode()
        self.assertEqual(err.count("asynctrace:"), 1, err)
        self.assertIn("continues untraced", err)

    def test_slow_reader_bounded_buffer_counts_drops(self):
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        got = []

        # The reader reads nothing until the program has made all its lines (it writes a marker
        # file then), so the bound is overrun however fast or slow the machine is; a fixed pause
        # was not enough under load (no drop happened).
        tmp = tempfile.mkdtemp()
        marker = os.path.join(tmp, "produced")

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
        # More lines than the socket's buffers hold: the reader really holds the writer back.
        # Tasks come and go all along (ten rounds of 20), so some are created and end while
        # the reader holds the writer back.
        src = ("import asyncio\nasync def w():\n    for i in range(500):\n        await asyncio.sleep(0)\n"
               "async def m():\n    for k in range(10):\n        await asyncio.gather(*(w() for _ in range(20)))\n"
               "    open(%r, 'w').close()\n"
               "    print('finished')\nasyncio.run(m())\n") % marker
        try:
            res = run_traced(src, extra_cli=["--connect", "127.0.0.1:%d" % srv.getsockname()[1]],
                             env={"ASYNCTRACE_BUFFER_LINES": "2000"})
        finally:
            th.join(30)
            srv.close()
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual((res.code, res.stdout), (0, "finished\n"), res.stderr)
        self.assertEqual(res.stderr, "")
        streamed = [json.loads(l) for l in got[0].decode("utf-8").split("\n") if l]
        self.assertEqual(streamed[-1]["type"], "exit")
        self.assertGreater(streamed[-1]["dropped"], 0)
        steps = sum(1 for e in streamed if e["type"] == "step")
        # every line either arrived or was counted
        self.assertGreaterEqual(steps + streamed[-1]["dropped"], 100000)
        sites = {e["id"] for e in streamed if e["type"] == "site"}
        for e in streamed:
            if e["type"] == "step" and "await" in e:
                self.assertTrue(set(e["await"]["stack"]) <= sites)
        # What goes is steps: every task is still declared before its lines, and ends.
        tasks = set()
        for e in streamed:
            if e["type"] == "task":
                tasks.add(e["id"])
            elif e["type"] in ("step", "end", "block"):
                self.assertIn(e["task"], tasks, e)
        self.assertGreaterEqual(len(tasks), 201)
        self.assertEqual({e["task"] for e in streamed if e["type"] == "end"}, tasks)
        # the file got everything
        self.assertEqual(res.exit["dropped"], streamed[-1]["dropped"])

    def test_sigterm_leaves_complete_trace(self):
        src = "import asyncio\nasync def m():\n    print('ready', flush=True)\n    await asyncio.sleep(30)\nasyncio.run(m())\n"
        with tempfile.TemporaryDirectory() as tmp:
            p, out = self._start(tmp, src)
            try:
                self.assertEqual(p.stdout.readline(), b"ready\n")
                time.sleep(0.1)
                p.send_signal(signal.SIGTERM)
                p.wait(20)
            finally:
                self._end(p)
            self.assertEqual(p.returncode, -signal.SIGTERM)
            ev = wait_for_exit_line(out)
            self.assertEqual(ev[-1]["type"], "exit")
            self.assertEqual(ev[-1]["code"], 128 + signal.SIGTERM)
            steps = [e for e in ev if e["type"] == "step"]
            self.assertEqual(steps[-1]["await"]["on"], {"kind": "sleep", "delay": 30.0})

    def test_sigint_like_untraced(self):
        # What the extension's Stop does: SIGINT, then the program ends as Ctrl-C would end it.
        src = ("import asyncio\nasync def work():\n    await asyncio.sleep(30)\n"
               "async def m():\n    print('ready', flush=True)\n    await asyncio.gather(work(), work())\n"
               "asyncio.run(m())\n")
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            prog = os.path.join(tmp, "p.py")
            with open(prog, "w") as f:
                f.write(src)
            out = os.path.join(tmp, "t.jsonl")
            for cmd in ([sys.executable, prog], [sys.executable, "-m", "asynctrace", "-o", out, prog]):
                p = subprocess.Popen(cmd, env=_env({}), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                try:
                    self.assertEqual(p.stdout.readline(), b"ready\n")
                    time.sleep(0.2)
                    p.send_signal(signal.SIGINT)
                    _, err = p.communicate(timeout=20)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                results.append((p.returncode, err.decode().strip().splitlines()[-1]))
            self.assertEqual(results[0], results[1])
            self.assertEqual(results[0][0], -signal.SIGINT)
            ev = parse_trace(out)
            self.assertEqual(ev[-1]["type"], "exit")
            self.assertEqual(ev[-1]["error"]["type"], "KeyboardInterrupt")
            workers = {e["id"] for e in ev if e["type"] == "task" and e["coro"] == "work"}
            ends = {e["task"]: e["state"] for e in ev if e["type"] == "end"}
            self.assertEqual(len(workers), 2)
            self.assertEqual([ends.get(w) for w in workers], ["cancelled", "cancelled"])
            self.assertIn(1, ends)

    def test_os_exit(self):
        src = "import os, asyncio\nasync def m():\n    await asyncio.sleep(0)\n    os._exit(7)\nasyncio.run(m())\n"
        res = run_traced(src)
        self.assertEqual(res.code, 7)
        self.assertEqual(res.exit["code"], 7)
        check_wellformed(self, res)

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_fork_child_does_not_corrupt_parent(self):
        src = r'''
import asyncio, os
async def work(n):
    await asyncio.sleep(0.001)
    return n
async def main():
    r = await asyncio.gather(*(work(i) for i in range(50)))
    pid = os.fork()
    if pid == 0:
        # the child uses asyncio too, then leaves normally (atexit runs in it)
        print("child", sum(asyncio.run(asyncio.wait_for(work(5), 1)) for _ in range(3)), flush=True)
        raise SystemExit(0)
    os.waitpid(pid, 0)
    r2 = await asyncio.gather(*(work(i) for i in range(50)))
    print("parent", sum(r) + sum(r2), flush=True)
asyncio.run(main())
'''
        res = run_traced(src)
        self.assertEqual(res.code, 0, res.stderr)
        self.assertEqual(res.stdout, "child 15\nparent 2450\n")
        check_wellformed(self, res)
        self.assertEqual(len([e for e in res.events if e["type"] == "run"]), 1)
        self.assertEqual(len([t for t in res.tasks.values() if t.get("coro") == "work"]), 100)

    # -- the formatter process (a separate interpreter formats and writes the trace) ----------
    def _start(self, tmp, src, env=None, **kw):
        prog = os.path.join(tmp, "p.py")
        with open(prog, "w") as f:
            f.write(src)
        out = os.path.join(tmp, "t.jsonl")
        p = subprocess.Popen([sys.executable, "-m", "asynctrace", "-o", out, prog], env=_env(env or {}),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
        return p, out

    def _end(self, p):
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()

    def _group_gone(self, pgid, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.05)
        return False

    @unittest.skipUnless(hasattr(os, "killpg"), "needs process groups")
    def test_killed_program_leaves_every_line_it_handed_over(self):
        # SIGKILL of the program alone: the formatter still writes what it received, whole
        # lines only, then the exit line, and leaves (nothing lingers in the process group).
        src = ("import asyncio\nasync def w():\n    for _ in range(2000):\n        await asyncio.sleep(0)\n"
               "async def m():\n    await asyncio.gather(*(w() for _ in range(20)))\n"
               "    print('ready', flush=True)\n    await asyncio.sleep(30)\nasyncio.run(m())\n")
        with tempfile.TemporaryDirectory() as tmp:
            p, out = self._start(tmp, src, start_new_session=True)
            try:
                self.assertEqual(p.stdout.readline(), b"ready\n")
                time.sleep(0.5)  # the writer hands batches over every 20 ms
                p.kill()
                p.wait(20)
                self.assertTrue(self._group_gone(p.pid), "a process of the traced run outlived it")
            finally:
                self._end(p)
            # ... and then says how the program ended (see docs/trace-format.md, exit).
            ev = wait_for_exit_line(out)
            self.assertEqual(ev[0]["type"], "run")
            self.assertEqual(ev[-1]["type"], "exit")
            self.assertTrue(ev[-1]["abrupt"])
            self.assertIn(ev[-1]["code"], (128 + signal.SIGKILL, -1))
            steps = sum(1 for e in ev if e["type"] == "step")
            self.assertGreaterEqual(steps, 20 * 2000)

    @unittest.skipUnless(hasattr(os, "killpg"), "needs process groups")
    def test_ctrl_c_and_stop_reach_the_whole_group(self):
        # The terminal's Ctrl-C and the extension's Stop signal the process group: the formatter
        # ignores them and writes up to the exit line the program writes while it ends.
        src = ("import asyncio\nasync def m():\n    print('ready', flush=True)\n    await asyncio.sleep(30)\n"
               "asyncio.run(m())\n")
        for sig, code in ((signal.SIGINT, 128 + signal.SIGINT), (signal.SIGTERM, 128 + signal.SIGTERM)):
            with tempfile.TemporaryDirectory() as tmp:
                p, out = self._start(tmp, src, start_new_session=True)
                try:
                    self.assertEqual(p.stdout.readline(), b"ready\n")
                    time.sleep(0.2)
                    os.killpg(p.pid, sig)
                    p.wait(20)
                    self.assertTrue(self._group_gone(p.pid))
                finally:
                    self._end(p)
                self.assertEqual(p.returncode, -sig)
                ev = wait_for_exit_line(out)
                self.assertEqual((ev[-1]["type"], ev[-1]["code"]), ("exit", code), sig)

    def test_in_process_formatting_writes_the_same_trace(self):
        # ASYNCTRACE_FORMATTER=0 (or a platform without posix_spawn): the writer thread formats.
        src = """
import asyncio
async def leaf(i):
    await asyncio.sleep(0)
    if i == 3:
        raise ValueError("three")
    return i
async def main():
    q = asyncio.Queue()
    t = asyncio.create_task(q.get(), name="getter")
    r = await asyncio.gather(*(leaf(i) for i in range(6)), return_exceptions=True)
    await q.put(1)
    await t
    try:
        await asyncio.wait_for(asyncio.sleep(1), 0.01)
    except asyncio.TimeoutError:
        pass
    print(r)
asyncio.run(main())
"""
        a = run_traced(src)
        b = run_traced(src, env={"ASYNCTRACE_FORMATTER": "0"})
        self.assertEqual((a.code, a.stdout), (b.code, b.stdout))
        check_wellformed(self, a)
        check_wellformed(self, b)

        def shape(events):
            # Times, ids of threads and the run's own facts differ between two runs.
            drop = ("ts", "dur", "woke", "pid", "started", "thread", "argv", "cwd", "delay", "runId", "t0", "ppid")
            return [{k: v for k, v in e.items() if k not in drop} for e in events]
        self.assertEqual(shape(a.events), shape(b.events))

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_forked_child_that_outlives_the_program_does_not_hold_it(self):
        # The child lets go of the pipe to the formatter: the program ends when it ends.
        src = """
import asyncio, os, time
async def main():
    await asyncio.sleep(0)
    if os.fork() == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)  # (the test's pipes: it must not wait for those either)
        time.sleep(4)
        os._exit(0)
    print("parent done", flush=True)
asyncio.run(main())
"""
        t = time.time()
        res = run_traced(src)
        self.assertEqual(res.code, 0, res.stderr)
        self.assertEqual(res.stdout, "parent done\n")
        self.assertLess(time.time() - t, 3.5)
        check_wellformed(self, res)


if __name__ == "__main__":
    unittest.main()
