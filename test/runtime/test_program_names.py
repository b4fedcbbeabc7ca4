"""The program keeps the names it would have untraced (issue 12, item 5): a module of its own named
`asynctrace` (beside the script, or in the working directory the extension starts from) neither
shadows the runtime nor is shadowed by it, in the program and in its Python children; and on
3.12+ the sys.monitoring tool ids stay the program's (it can take the one the runtime uses, which
is given back when tracing ends), so its own debugger, coverage or profiler keep working."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from tracehelp import RUNTIME, _env, parse_trace

PY = sys.executable
LAUNCHER = os.path.join(RUNTIME, "asynctrace")  # how the extension starts the runtime

OWN_MODULE = "print(\"the program's own asynctrace module\")\nX = 42\n"
PROGRAM = """import asynctrace
import asyncio, subprocess, sys, os
async def work(i):
    await asyncio.sleep(0.01)
    return i * asynctrace.X
async def main():
    print(sum(await asyncio.gather(*(work(i) for i in range(3)))))
asyncio.run(main())
print(sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
child = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
print(subprocess.run([sys.executable, child], capture_output=True, text=True).stdout, end="")
"""
CHILD = """import asynctrace, asyncio
async def main():
    await asyncio.sleep(0)
    return asynctrace.X
print("child", asyncio.run(main()))
"""


def run(args, cwd):
    p = subprocess.run([PY] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=_env(None), timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class OwnModuleNamedAsynctrace(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="asynctrace-names-")
        self.elsewhere = tempfile.mkdtemp(prefix="asynctrace-cwd-")
        for name, text in (("asynctrace.py", OWN_MODULE), ("prog.py", PROGRAM), ("child.py", CHILD),
                           ("mymod.py", "import sys, asynctrace\nprint(sys.path[0], asynctrace.X)\n")):
            with open(os.path.join(self.tmp, name), "w") as f:
                f.write(text)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        shutil.rmtree(self.elsewhere, ignore_errors=True)

    def check_trace(self, out):
        ev = parse_trace(out)
        self.assertEqual((ev[0]["type"], ev[-1]["type"], ev[-1]["code"]), ("run", "exit", 0))
        coros = sorted(e["coro"] for e in ev if e["type"] == "task" and not e.get("internal"))
        self.assertEqual(coros, ["main", "work", "work", "work"])
        self.assertTrue(any(e["type"] == "step" and e.get("await", {}).get("on", {}).get("kind") == "sleep"
                            for e in ev))
        children = os.listdir(out + ".processes")
        self.assertEqual(len(children), 1)
        cev = parse_trace(os.path.join(out + ".processes", children[0]))
        self.assertEqual(cev[-1]["type"], "exit")
        self.assertEqual([e["coro"] for e in cev if e["type"] == "task" and not e.get("internal")], ["main"])

    def test_started_by_path_from_the_programs_directory(self):
        # The extension's way: the working directory holds the program's asynctrace.py.
        want = run(["prog.py"], self.tmp)
        self.assertEqual(want[0], 0, want[2])
        self.assertIn("child 42", want[1])
        out = os.path.join(self.tmp, "t.jsonl")
        got = run([LAUNCHER, "-o", out, "prog.py"], self.tmp)
        self.assertEqual(got, want)
        self.check_trace(out)

    def test_started_with_dash_m_from_elsewhere(self):
        prog = os.path.join(self.tmp, "prog.py")
        want = run([prog], self.elsewhere)
        out = os.path.join(self.elsewhere, "t.jsonl")
        got = run(["-m", "asynctrace", "-o", out, prog], self.elsewhere)
        self.assertEqual(got, want)
        self.check_trace(out)

    def test_module_target_started_by_path_sees_the_working_directory_first(self):
        want = run(["-m", "mymod"], self.tmp)
        self.assertEqual(want[0], 0, want[2])
        got = run([LAUNCHER, "-o", os.path.join(self.elsewhere, "m.jsonl"), "-m", "mymod"], self.tmp)
        self.assertEqual(got, want)


MONITORING = """import sys, asyncio, cProfile
mon = sys.monitoring
print([mon.get_tool(i) for i in range(6)])
seen = []
for i in TAKE:
    mon.use_tool_id(i, "mine%d" % i)
print([mon.get_tool(i) for i in range(6)])
mon.register_callback(TAKE[0], mon.events.PY_START, lambda code, off: seen.append(code.co_name))
mon.set_events(TAKE[0], mon.events.PY_START)
async def victim():
    await asyncio.sleep(10)
async def main():
    t = asyncio.create_task(victim())
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("cancelled")
prof = cProfile.Profile()  # a profiler of its own: tool id 2 on 3.12+
prof.enable()
asyncio.run(main())
prof.disable()
mon.set_events(TAKE[0], 0)
print("victim" in seen, any(getattr(s.code, "co_name", "") == "victim" for s in prof.getstats()))
for i in TAKE:
    mon.free_tool_id(i)
print([mon.get_tool(i) for i in range(6)])
"""


@unittest.skipUnless(hasattr(sys, "monitoring"), "sys.monitoring is Python 3.12+")
class MonitoringToolIds(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="asynctrace-mon-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def same(self, take):
        prog = os.path.join(self.tmp, "prog.py")
        with open(prog, "w") as f:
            f.write(MONITORING.replace("TAKE", repr(take)))
        want = run([prog], self.tmp)
        self.assertEqual(want[0], 0, want[2])
        out = os.path.join(self.tmp, "t.jsonl")
        got = run(["-m", "asynctrace", "-o", out, prog], self.tmp)
        self.assertEqual(got, want)
        ev = parse_trace(out)
        self.assertEqual(ev[-1]["type"], "exit")
        cancel, = [e for e in ev if e["type"] == "cancel"]
        sites = {e["id"]: e for e in ev if e["type"] == "site"}
        return cancel, sites

    def test_the_program_takes_the_ids_the_runtime_would_use(self):
        # The runtime moves to the one id left (5) and still sees who cancelled, from which line.
        cancel, sites = self.same((4, 3))
        self.assertEqual(sites[cancel["site"]]["line"], 15)
        self.assertIsNotNone(cancel["by"])

    def test_the_program_takes_every_free_id(self):
        # Nothing left for the runtime: it gives its id up (the cancel is still recorded).
        cancel, sites = self.same((4, 3, 5))
        self.assertEqual(cancel["cause"], "cancel")

    def test_a_forked_child_takes_the_id_too(self):
        prog = os.path.join(self.tmp, "fork.py")
        with open(prog, "w") as f:
            f.write("import asyncio, os, sys, warnings\nwarnings.simplefilter('ignore')\n"
                    "asyncio.run(asyncio.sleep(0))\n"
                    "pid = os.fork()\n"
                    "if pid == 0:\n"
                    "    print(sys.monitoring.get_tool(4), flush=True)\n"
                    "    sys.monitoring.use_tool_id(4, 'child')\n"
                    "    print(sys.monitoring.get_tool(4), flush=True)\n"
                    "    os._exit(0)\n"
                    "os.waitpid(pid, 0)\n"
                    "sys.monitoring.use_tool_id(4, 'parent')\n"
                    "print(sys.monitoring.get_tool(4))\n")
        want = run([prog], self.tmp)
        self.assertEqual(want[:2], (0, "None\nchild\nparent\n"), want[2])
        got = run(["-m", "asynctrace", "-o", os.path.join(self.tmp, "f.jsonl"), prog], self.tmp)
        self.assertEqual(got, want)

if __name__ == "__main__":
    unittest.main()
