"""The hooks of a library are installed when the program imports it, whatever the program asks
of the import system first: looking a module up without importing it
(`importlib.util.find_spec`, as libraries do to probe for optional dependencies) must not use the
watch up, so the real import later is still recorded."""
import subprocess
import sys
import unittest

from tracehelp import check_wellformed, run_plain, run_traced


def _has(mod):
    return subprocess.run([sys.executable, "-c", "import " + mod], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


PROBE_THEN_IMPORT = """
import importlib.util
print("asyncio found:", importlib.util.find_spec("asyncio") is not None)
print("gevent found:", importlib.util.find_spec("gevent") is not None)
print("trio found:", importlib.util.find_spec("trio") is not None)
import asyncio

async def child():
    await asyncio.sleep(0.01)

async def main():
    await asyncio.gather(child(), child())

asyncio.run(main())
print("done")
"""

TRIO_PROBE_THEN_IMPORT = """
import importlib.util
assert importlib.util.find_spec("trio") is not None
import trio

async def child():
    await trio.sleep(0.01)

async def main():
    async with trio.open_nursery() as n:
        n.start_soon(child)
        n.start_soon(child)

trio.run(main)
print("done")
"""

GEVENT_PROBE_THEN_IMPORT = """
import importlib.util
assert importlib.util.find_spec("gevent") is not None
assert importlib.util.find_spec("greenlet") is not None
import gevent

def child():
    gevent.sleep(0.01)

gevent.joinall([gevent.spawn(child), gevent.spawn(child)])
print("done")
"""


class ImportWatch(unittest.TestCase):
    def check(self, source, kind, tasks):
        plain = run_plain(source)
        res = run_traced(source)
        self.assertEqual((res.stdout, res.code), (plain.stdout, plain.code), res.stderr)
        check_wellformed(self, res)
        mine = [e for e in res.events if e["type"] == "task" and e.get("kind") == kind and not e.get("internal")]
        self.assertGreaterEqual(len(mine), tasks, "tasks of kind %s after a find_spec probe: %r" % (kind, mine))
        self.assertTrue(any(e["type"] == "step" for e in res.events), "no steps recorded")

    def test_asyncio_after_find_spec(self):
        self.check(PROBE_THEN_IMPORT, "asyncio", 3)

    @unittest.skipUnless(_has("trio"), "needs trio (Debian: python3-trio)")
    def test_trio_after_find_spec(self):
        self.check(TRIO_PROBE_THEN_IMPORT, "trio", 3)

    @unittest.skipUnless(_has("gevent"), "needs gevent (Debian: python3-gevent)")
    def test_gevent_after_find_spec(self):
        self.check(GEVENT_PROBE_THEN_IMPORT, "greenlet", 3)


if __name__ == "__main__":
    unittest.main()
