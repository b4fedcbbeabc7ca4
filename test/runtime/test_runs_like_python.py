"""The command line runs every kind of program `python` runs, the way it runs it, and never
harms the user's files: directories and zip files with a __main__.py, compiled .pyc files, a
script on stdin, a missing module's exit code, __main__'s own names, fork warnings on 3.12+,
an output that would overwrite the program, two runs in the same second, an output that fails
at once in in-process mode."""
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

from tracehelp import _env, check_wellformed, parse_trace, run_cli

PY = sys.executable


def plain(args, cwd, stdin=None):
    p = subprocess.run([PY] + args, cwd=cwd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=_env(None), timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def traced(args, cwd, stdin=None, env=None, out="t.jsonl"):
    cmd = [PY, "-m", "asynctrace"] + (["-o", out] if out else []) + args
    p = subprocess.run(cmd, cwd=cwd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=_env(env), timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


PROGRAM = (
    "import sys, asyncio\n"
    "async def main():\n"
    "    await asyncio.sleep(0.01)\n"
    "    return sys.argv[1:]\n"
    "print(__name__, asyncio.run(main()), type(__builtins__).__name__, __annotations__)\n"
)


class RunsLikePython(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="asynctrace-like-")

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def same(self, args, stdin=None):
        want = plain(args, self.tmp, stdin)
        got = traced(args, self.tmp, stdin)
        self.assertEqual(got, want)
        ev = parse_trace(os.path.join(self.tmp, "t.jsonl"))
        self.assertEqual((ev[0]["type"], ev[-1]["type"]), ("run", "exit"))
        return got, ev

    def test_directory_zip_pyc_and_stdin(self):
        app = os.path.join(self.tmp, "app")
        os.mkdir(app)
        with open(os.path.join(app, "__main__.py"), "w") as f:
            f.write(PROGRAM)
        (code, out, _), ev = self.same(["app", "a", "b"])
        self.assertEqual((code, out), (0, "__main__ ['a', 'b'] module {}\n"))
        self.assertTrue(any(e["type"] == "task" for e in ev), "the directory's program was traced")
        with zipfile.ZipFile(os.path.join(self.tmp, "app.pyz"), "w") as z:
            z.writestr("__main__.py", PROGRAM)
        (code, out, _), ev = self.same(["app.pyz", "z"])
        self.assertEqual(out, "__main__ ['z'] module {}\n")
        src = os.path.join(self.tmp, "c.py")
        with open(src, "w") as f:
            f.write(PROGRAM)
        import py_compile
        py_compile.compile(src, cfile=os.path.join(self.tmp, "c.pyc"), doraise=True)
        (code, out, _), ev = self.same(["c.pyc", "p"])
        self.assertEqual(out, "__main__ ['p'] module {}\n")
        (code, out, _), ev = self.same(["-", "s"], stdin=PROGRAM.encode())
        self.assertEqual(out, "__main__ ['s'] module {}\n")

    def test_missing_module_and_script_exit_like_python(self):
        want = plain(["-m", "no_such_module_xyz"], self.tmp)
        got = traced(["-m", "no_such_module_xyz"], self.tmp)
        self.assertEqual(got[0], want[0])
        self.assertEqual(got[2].strip().splitlines()[-1].split(": ", 1)[1], want[2].strip().split(": ", 1)[1])
        want = plain(["missing.py"], self.tmp)
        got = traced(["missing.py"], self.tmp)
        self.assertEqual(got[0], want[0])
        self.assertEqual(len(got[2].strip().splitlines()), 1, got[2])

    def test_output_that_is_the_program_is_refused(self):
        prog = os.path.join(self.tmp, "p.py")
        with open(prog, "w") as f:
            f.write("print('hi')\n")
        code, out, err = traced(["p.py"], self.tmp, out="p.py")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("the program itself", err)
        self.assertEqual(len(err.strip().splitlines()), 1)
        with open(prog) as f:
            self.assertEqual(f.read(), "print('hi')\n")
        code, out, err = traced(["p.py"], self.tmp, out=os.path.join(".", "..", os.path.basename(self.tmp), "p.py"))
        self.assertEqual(code, 2)

    def test_runs_in_the_same_second_get_their_own_files(self):
        prog = os.path.join(self.tmp, "p.py")
        with open(prog, "w") as f:
            f.write("import asyncio\nasync def m():\n    await asyncio.sleep(0.3)\nasyncio.run(m())\n")
        env = _env(None)
        procs = [subprocess.Popen([PY, "-m", "asynctrace", "p.py"], cwd=self.tmp, env=env) for _ in range(3)]
        for p in procs:
            self.assertEqual(p.wait(60), 0)
        made = sorted(n for n in os.listdir(self.tmp) if n.startswith("asynctrace-"))
        self.assertEqual(len(made), 3, made)
        for n in made:
            ev = parse_trace(os.path.join(self.tmp, n))
            self.assertEqual([e["type"] for e in ev].count("run"), 1, n)
            self.assertEqual(ev[-1]["type"], "exit", n)

    @unittest.skipUnless(sys.version_info >= (3, 12) and hasattr(os, "fork"), "3.12+ warns on fork with threads")
    def test_fork_warns_only_when_untraced_would(self):
        src = ("import os, warnings, threading, time\nwarnings.simplefilter('default')\n"
               "pid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nprint('one')\n"
               "t = threading.Thread(target=time.sleep, args=(0.5,)); t.start()\n"
               "pid = os.fork()  # L:second\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nt.join()\n")
        with open(os.path.join(self.tmp, "f.py"), "w") as f:
            f.write(src)
        want = plain(["f.py"], self.tmp)
        got = traced(["f.py"], self.tmp)
        norm = lambda s: __import__("re").sub(r"pid=\d+", "pid=N", s)
        self.assertEqual((got[0], got[1], norm(got[2])), (want[0], want[1], norm(want[2])))
        self.assertEqual(norm(got[2]).count("DeprecationWarning"), 1)
        self.assertIn("L:second", got[2])

    def test_in_process_output_failing_at_once_costs_nothing(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        src = ("import asyncio\nasync def m():\n    for i in range(3000):\n        await asyncio.sleep(0)\n"
               "    print('done')\nasyncio.run(m())\n")
        with open(os.path.join(self.tmp, "p.py"), "w") as f:
            f.write(src)
        # Each of the 3,000 steps used to wait 50 ms for a dead writer thread (150 s).
        code, out, err = traced(["p.py"], self.tmp, env={"ASYNCTRACE_FORMATTER": "0"}, out="/dev/full")
        self.assertEqual((code, out), (0, "done\n"), err)
        self.assertNotIn("Traceback", err)
        self.assertNotIn("Exception ignored", err)
        self.assertEqual(err.count("asynctrace:"), 1, err)

    @unittest.skipUnless(hasattr(os, "fork"), "POSIX")
    def test_the_program_sees_exactly_its_own_children(self):
        # Waits for every child until there is none: the formatter process is not one of them,
        # also not after an exec (the new image inherits the process's children).
        src = ("import asyncio, os, subprocess, sys\n"
               "async def m():\n    await asyncio.sleep(0.05)\nasyncio.run(m())\n"
               "p = subprocess.Popen([sys.executable, '-c', 'pass'])\n"
               "n = 0\nwhile True:\n    try:\n        os.wait()\n        n += 1\n"
               "    except ChildProcessError:\n        break\nprint('reaped', n, flush=True)\n"
               "if len(sys.argv) == 1:\n"
               "    os.execv(sys.executable, [sys.executable, '-c', 'import os\\ntry:\\n    os.wait()\\n    print(\\'a child\\')\\nexcept ChildProcessError:\\n    print(\\'no child\\')'])\n")
        with open(os.path.join(self.tmp, "w.py"), "w") as f:
            f.write(src)
        want = plain(["w.py"], self.tmp)
        self.assertEqual(want[1], "reaped 1\nno child\n")
        got = traced(["w.py"], self.tmp)
        self.assertEqual(got, want)
        self.assertEqual(traced(["w.py", "x"], self.tmp), plain(["w.py", "x"], self.tmp))
        ev = parse_trace(os.path.join(self.tmp, "t.jsonl"))
        self.assertEqual((ev[0]["type"], ev[-1]["type"]), ("run", "exit"))

    def test_unhandled_keyboard_interrupt_with_own_handler_dies_of_sigint(self):
        src = ("import signal\nsignal.signal(signal.SIGINT, lambda *a: None)\n"
               "print('x', flush=True)\nraise KeyboardInterrupt\n")
        with open(os.path.join(self.tmp, "k.py"), "w") as f:
            f.write(src)
        want = plain(["k.py"], self.tmp)
        got = traced(["k.py"], self.tmp)
        self.assertEqual(got, want)
        ev = parse_trace(os.path.join(self.tmp, "t.jsonl"))
        self.assertEqual(ev[-1]["type"], "exit")
        self.assertEqual(ev[-1]["code"], 130)

    @unittest.skipUnless(hasattr(os, "closerange"), "POSIX")
    def test_never_writes_into_descriptors_the_program_took_over(self):
        # A daemon closes every inherited descriptor, then opens its own files: they get the
        # numbers of the trace's pipe/file. They must hold only what the program wrote.
        src = ("import asyncio, os, sys\n"
               "os.closerange(3, 256)\n"
               "files = [open('out-%d.txt' % k, 'w') for k in range(8)]\n"
               "for f in files:\n    f.write('mine\\n')\n"
               "async def work():\n    for _ in range(300):\n        await asyncio.sleep(0)\n"
               "async def main():\n    await asyncio.gather(*(work() for _ in range(50)))\n"
               "asyncio.run(main())\n"
               "for f in files:\n    f.write('again\\n')\n    f.close()\n"
               "print(all(open('out-%d.txt' % k).read() == 'mine\\nagain\\n' for k in range(8)))\n")
        with open(os.path.join(self.tmp, "d.py"), "w") as f:
            f.write(src)
        for formatter in ("1", "0"):
            with self.subTest(formatter=formatter):
                code, out, err = traced(["d.py"], self.tmp, env={"ASYNCTRACE_FORMATTER": formatter},
                                        out=os.path.join(self.tmp, "t.jsonl"))
                self.assertEqual((code, out), (0, "True\n"), err)
                self.assertEqual(err.count("\n"), 1, err)
                self.assertIn("closed the trace's descriptor", err)
                # What was written before the program closed it is a readable trace.
                ev = parse_trace(os.path.join(self.tmp, "t.jsonl"))
                self.assertEqual(ev[0]["type"], "run")


if __name__ == "__main__":
    unittest.main()
