"""Event loop libraries the runtime does not record still leave a trace that says so: a loop line
with the library's name, `partial` and `unsupported`, for each run (never an empty trace)."""
import os
import tempfile
import unittest

from tracehelp import check_wellformed, run_plain, run_traced


class UnrecordedLibraryTest(unittest.TestCase):
    """An event loop library the runtime does not record (curio; here a stand-in package of that
    name) still leaves a loop line that says it ran unrecorded: never an empty trace."""

    def test_unsupported_loop_is_named_in_the_trace(self):
        with tempfile.TemporaryDirectory(prefix="asynctrace-curio-") as lib:
            os.makedirs(os.path.join(lib, "curio"))
            with open(os.path.join(lib, "curio", "__init__.py"), "w") as f:
                f.write("from .kernel import run, Kernel\n")
            with open(os.path.join(lib, "curio", "kernel.py"), "w") as f:
                f.write("class Kernel:\n"
                        "    def run(self, coro):\n"
                        "        try:\n"
                        "            coro.send(None)\n"
                        "        except StopIteration as e:\n"
                        "            return e.value\n"
                        "def run(coro):\n"
                        "    return Kernel().run(coro)\n")
            src = ("import curio\n"
                   "async def main():\n"
                   "    return 42\n"
                   "print(curio.run(main()), curio.run(main()), curio.run.__name__)\n")
            env = {"PYTHONPATH": lib}
            plain = run_plain(src, env=env)
            res = run_traced(src, env=env)
        self.assertEqual((res.code, res.stdout, res.stderr), (plain.code, plain.stdout, plain.stderr))
        self.assertEqual(res.stdout, "42 42 run\n")
        check_wellformed(self, res)
        loops = [evs for evs in res.loops.values() if evs[0].get("class") == "curio"]
        self.assertEqual(len(loops), 2, res.loops)  # two runs, one line each (Kernel.run inside run is the same run)
        for evs in loops:
            self.assertEqual([e["state"] for e in evs], ["running", "closed"])
            self.assertIs(evs[0].get("partial"), True)
            self.assertIs(evs[0].get("unsupported"), True)


if __name__ == "__main__":
    unittest.main()
