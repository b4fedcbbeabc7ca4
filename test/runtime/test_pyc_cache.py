"""The runtime writes its own bytecode cache when Python is told not to (PYTHONDONTWRITEBYTECODE,
-B), so a traced run does not compile the runtime's modules every time; the program's modules
stay without a cache, as the user asked."""
import os
import shutil
import subprocess
import sys
import tempfile
import importlib.util
import unittest
import warnings

from tracehelp import RUNTIME

PROGRAM = """\
import asyncio
import helper

async def main():
    await asyncio.sleep(0)
    print(helper.VALUE)

asyncio.run(main())
"""


def _runtime_sources(root):
    for d, dirs, files in os.walk(os.path.join(root, "asynctrace")):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        for f in files:
            if f.endswith(".py"):
                yield os.path.join(d, f)


def _valid_cache(source):
    """The cache Python would load for `source`: its header (magic, flags, the source's mtime
    and size) says it was written from this source by this Python."""
    import importlib.util
    cache = importlib.util.cache_from_source(source)
    try:
        with open(cache, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    st = os.stat(source)
    word = lambda i: int.from_bytes(head[i:i + 4], "little")
    return (len(head) == 16 and head[:4] == importlib.util.MAGIC_NUMBER and word(4) == 0
            and word(8) == int(st.st_mtime) & 0xFFFFFFFF and word(12) == st.st_size & 0xFFFFFFFF)


class PycCacheTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # A copy of the runtime without any cache, as a fresh checkout has it.
        self.root = os.path.join(self.tmp, "runtime")
        shutil.copytree(RUNTIME, self.root, ignore=shutil.ignore_patterns("__pycache__"))
        self.prog_dir = os.path.join(self.tmp, "prog")
        os.makedirs(self.prog_dir)
        with open(os.path.join(self.prog_dir, "p.py"), "w") as f:
            f.write(PROGRAM)
        with open(os.path.join(self.prog_dir, "helper.py"), "w") as f:
            f.write("VALUE = 42\n")

    def run_traced(self, *python_flags):
        env = dict(os.environ, PYTHONPATH=self.root, PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTHONPYCACHEPREFIX", None)
        out = os.path.join(self.tmp, "t.jsonl")
        p = subprocess.run([sys.executable] + list(python_flags) + ["-m", "asynctrace", "-o", out, "p.py"],
                           cwd=self.prog_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"42\n", b""))

    def test_runtime_cached_program_not(self):
        self.run_traced()
        missing = [s for s in _runtime_sources(self.root) if not _valid_cache(s)]
        self.assertEqual(missing, [])
        # The program's own modules: no cache, as PYTHONDONTWRITEBYTECODE asks.
        self.assertFalse(os.path.exists(os.path.join(self.prog_dir, "__pycache__")))
        # An outdated cache (the runtime updated in place) is written again.
        src = os.path.join(self.root, "asynctrace", "lines.py")
        st = os.stat(src)
        os.utime(src, (st.st_atime, st.st_mtime + 10))
        self.assertFalse(_valid_cache(src))
        self.run_traced()
        self.assertTrue(_valid_cache(src))

    def test_copied_caches_that_do_not_match_their_sources_are_rewritten(self):
        # A copy of the runtime with its caches (cp -r): every file is new, the caches' headers
        # name the sources' old times.
        self.run_traced()
        src = os.path.join(self.root, "asynctrace", "recorder.py")
        cache = importlib.util.cache_from_source(src)
        st = os.stat(src)
        os.utime(src, (st.st_atime, st.st_mtime - 100))  # older than its cache, and not its time
        self.assertFalse(_valid_cache(src))
        self.run_traced()
        self.assertTrue(_valid_cache(src))
        self.assertTrue(os.path.exists(cache))

    def test_dash_B(self):
        self.run_traced("-B")
        self.assertTrue(_valid_cache(os.path.join(self.root, "asynctrace", "cli.py")))
        self.assertFalse(os.path.exists(os.path.join(self.prog_dir, "__pycache__")))

    def test_read_only_runtime_runs_as_before(self):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self.skipTest("root writes into read-only directories")
        for d, dirs, files in os.walk(self.root):
            os.chmod(d, 0o555)
        self.addCleanup(lambda: [os.chmod(d, 0o755) for d, _, _ in os.walk(self.root)])
        self.run_traced()
        self.assertFalse(_valid_cache(os.path.join(self.root, "asynctrace", "cli.py")))

    def test_every_module_compiles_without_a_warning(self):
        # The cache is written before the program runs: a warning from compiling a module the
        # program never imports would be printed where untraced nothing is.
        for source in _runtime_sources(RUNTIME):
            with open(source, "rb") as f:
                data = f.read()
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                compile(data, source, "exec", dont_inherit=True)


if __name__ == "__main__":
    unittest.main()
