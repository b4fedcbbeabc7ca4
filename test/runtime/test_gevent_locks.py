"""Who holds gevent's locks: `hold` lines for the Semaphore, BoundedSemaphore, RLock (and, under
monkey.patch_all, threading's Lock, RLock and Condition) a greenlet waited on, with the holder, the
time and the line it took it at; nothing written for uncontended locks; the program's behaviour
(types, reprs, errors) unchanged.

Skipped where gevent is not importable (it is packaged for the system Python only)."""
import glob
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tracehelp import _env, line_of as line_in, parse_trace, run_plain, run_traced  # noqa: E402
from test_greenlet import importable, line_of  # noqa: E402

PROGRAMS = os.path.join(HERE, "programs")
LOCK_ORDER = os.path.join(PROGRAMS, "gevent_lock_order.py")


def holds(res):
    return [e for e in res.events if e["type"] == "hold"]


def objs(res):
    return dict((e["id"], e) for e in res.events if e["type"] == "obj")


@unittest.skipUnless(importable("gevent"), "gevent is not installed for this Python")
class GeventLockHoldersTest(unittest.TestCase):
    def test_lock_order_deadlock_names_both_holders(self):
        """Each greenlet holds one lock and waits for the other's: both waits name their lock,
        and the hold lines say who holds each, since when and at which line it was taken."""
        take_line = line_of(LOCK_ORDER, "    with first:")
        wait_line = line_of(LOCK_ORDER, "        with second:")
        cases = {"semaphore": ("semaphore", "gevent.lock.Semaphore"),
                 "bounded": ("semaphore", "gevent.lock.BoundedSemaphore"),
                 "rlock": ("lock", "gevent.lock.RLock"),
                 "threading.Lock": ("lock", "gevent.thread.LockType"),
                 "threading.RLock": ("lock", "threading._RLock")}
        for kind, (on_kind, cls) in cases.items():
            with self.subTest(kind=kind):
                res = run_traced(LOCK_ORDER, args=[kind])
                plain = run_plain(LOCK_ORDER, args=[kind])
                self.assertEqual((res.code, res.stdout, res.stderr), (plain.code, plain.stdout, plain.stderr))
                self.assertEqual(res.stdout, "finished: 0 of 2\n")
                left, right = res.by_name("left"), res.by_name("right")
                declared = objs(res)
                last = {}
                for t in (left, right):
                    step = res.steps_by_task[t][-1]
                    on = step["await"]["on"]
                    self.assertEqual(on["kind"], on_kind)
                    self.assertEqual(res.await_lines(t)[-1], wait_line)
                    self.assertEqual(declared[on["obj"]]["class"], cls)
                    self.assertNotIn("partial", declared[on["obj"]])
                    last[t] = (on["obj"], step)
                self.assertNotEqual(last[left][0], last[right][0])
                # The lock each waits on is held by the other, taken at `with first:` before the
                # wait began; nobody released it.
                got = sorted((h["obj"], h["task"], h["state"], res.line(h["site"])) for h in holds(res))
                self.assertEqual(got, sorted([(last[left][0], right, "acquired", take_line),
                                              (last[right][0], left, "acquired", take_line)]))
                for h in holds(res):
                    waiter = left if h["task"] == right else right
                    self.assertLessEqual(h["ts"], last[waiter][1]["ts"] + last[waiter][1]["dur"])
                    self.assertGreaterEqual(h["ts"], res.tasks[h["task"]]["ts"])

    def test_pure_python_gevent(self):
        """gevent's pure-Python classes (PURE_PYTHON=1) get the same hold lines."""
        take_line = line_of(LOCK_ORDER, "    with first:")
        for kind in ("semaphore", "bounded", "threading.Lock"):
            with self.subTest(kind=kind):
                res = run_traced(LOCK_ORDER, args=[kind], env={"PURE_PYTHON": "1"})
                self.assertEqual((res.code, res.stdout), (0, "finished: 0 of 2\n"), res.stderr)
                left, right = res.by_name("left"), res.by_name("right")
                waits = dict((t, res.steps_by_task[t][-1]["await"]["on"]["obj"]) for t in (left, right))
                got = sorted((h["obj"], h["task"], h["state"], res.line(h["site"])) for h in holds(res))
                self.assertEqual(got, sorted([(waits[left], right, "acquired", take_line),
                                              (waits[right], left, "acquired", take_line)]))

    def test_holdings_as_the_lock_passes_from_greenlet_to_greenlet(self):
        """Once a greenlet waited on a lock, every later holding of it is written (a greenlet still
        waiting is not classified again when the lock passes on); before, none. A semaphore of
        two has two holders."""
        src = (
            "import gevent\n"
            "from gevent.lock import Semaphore\n"
            "lock = Semaphore()\n"
            "pair = Semaphore(2)\n"
            "for _ in range(3):\n"
            "    with lock:\n"
            "        pass  # uncontended: not written\n"
            "def worker(name, pause):\n"
            "    with lock:  # take\n"
            "        gevent.sleep(pause)\n"
            "def user(pause):\n"
            "    pair.acquire()  # pair\n"
            "    gevent.sleep(pause)\n"
            "    pair.release()  # unpair\n"
            "gs = [gevent.spawn(worker, n, 0.02) for n in ('a', 'b', 'c')]\n"
            "for g, n in zip(gs, 'abc'):\n"
            "    g.name = n\n"
            "us = [gevent.spawn(user, p) for p in (0.03, 0.03, 0)]\n"
            "gevent.joinall(gs + us)\n"
            "print('ok')\n")
        res = run_traced(src)
        self.assertEqual((res.code, res.stdout), (0, "ok\n"), res.stderr)
        a, b, c = res.by_name("a"), res.by_name("b"), res.by_name("c")
        take = line_in(src, "with lock:  # take")
        by_obj = {}
        for h in holds(res):
            by_obj.setdefault(h["obj"], []).append((h["task"], h["state"], res.line(h["site"])))
        self.assertEqual(len(by_obj), 2)  # (the uncontended loop wrote nothing)
        lock_lines, pair_lines = sorted(by_obj.values(), key=lambda v: v[0][0] != a)
        # a held it when b waited (written then), then b, then c: each acquire and release.
        self.assertEqual(lock_lines, [
            (a, "acquired", take), (a, "released", take), (b, "acquired", take),
            (b, "released", take), (c, "acquired", take), (c, "released", take)])
        # The semaphore of two: the third user waited while the first two held it.
        u1, u2, u3 = sorted(res.by_coro("user"))
        acquired = [(t, ln) for t, st, ln in pair_lines if st == "acquired"]
        self.assertEqual(acquired, [(u1, line_in(src, "# pair")), (u2, line_in(src, "# pair")),
                                    (u3, line_in(src, "# pair"))])
        released = sorted(t for t, st, ln in pair_lines if st == "released")
        self.assertEqual(released, [u1, u2, u3])
        self.assertTrue(all(ln == line_in(src, "# unpair") for t, st, ln in pair_lines if st == "released"))

    def test_forked_child_names_only_its_own_objects(self):
        """A lock waited on in the parent, held across a fork: the child's stream (ids of its own)
        writes hold lines only for objects it declared, and its own contention fully."""
        src = (
            "import os, gevent\n"
            "from gevent.lock import Semaphore\n"
            "lock = Semaphore()\n"
            "def holder(t):\n"
            "    with lock:  # L:take\n"
            "        gevent.sleep(t)\n"
            "def contend():\n"
            "    gevent.joinall([gevent.spawn(holder, 0.01), gevent.spawn(holder, 0)])\n"
            "contend()\n"
            "lock.acquire()\n"
            "pid = gevent.fork()\n"
            "if pid == 0:\n"
            "    lock.release()\n"
            "    contend()\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "lock.release()\n"
            "print('done')\n")
        with tempfile.TemporaryDirectory(prefix="asynctrace-test-") as tmp:
            prog = os.path.join(tmp, "prog.py")
            with open(prog, "w") as f:
                f.write(src)
            out = os.path.join(tmp, "trace.jsonl")
            p = subprocess.run([sys.executable, "-m", "asynctrace", "-o", out, prog], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=_env(None), timeout=60, cwd=tmp)
            self.assertEqual((p.returncode, p.stdout), (0, b"done\n"), p.stderr)
            children = glob.glob(os.path.join(out + ".processes", "*.jsonl"))
            self.assertEqual(len(children), 1)
            take = line_in(src, "# L:take")
            for path in [out] + children:
                events = parse_trace(path)
                declared = set()
                pairs = []
                sites = dict((e["id"], e["line"]) for e in events if e["type"] == "site")
                for e in events:
                    if e["type"] == "obj":
                        declared.add(e["id"])
                    elif e["type"] == "hold":
                        self.assertIn(e["obj"], declared, path)
                        pairs.append((e["state"], sites.get(e["site"])))
                # Each stream: the two holders' contention at `with lock:`.
                self.assertEqual(pairs[:4], [("acquired", take), ("released", take)] * 2, path)

    def test_behaviour_unchanged(self):
        """Types, names, reprs, isinstance, return values and errors are the untraced ones, and a
        program whose locks are never contended writes no hold or obj line for them."""
        src = (
            "import gevent, re\n"
            "from gevent.lock import Semaphore, BoundedSemaphore, RLock\n"
            "import gevent._semaphore as impl\n"
            "s, b, r = Semaphore(), BoundedSemaphore(2), RLock()\n"
            "print(type(s).__name__, type(b).__name__, type(s).__module__)\n"
            "print(isinstance(b, Semaphore), isinstance(s, impl.Semaphore), issubclass(BoundedSemaphore, Semaphore))\n"
            "print(re.sub('0x[0-9a-f]+', 'X', repr(s) + str(b)))\n"
            "print(s.acquire(), s.locked(), s.release(), s.acquire(blocking=False), s.acquire(blocking=False))\n"
            "s.release()\n"
            "def f():\n"
            "    with b:\n"
            "        with r:\n"
            "            with r:\n"
            "                return b.counter\n"
            "print(gevent.spawn(f).get())\n"
            "try:\n"
            "    b.release()\n"
            "except ValueError as e:\n"
            "    import traceback\n"
            "    print(e, [ln.name for ln in traceback.extract_tb(e.__traceback__)])\n"
            "print(s.acquire(timeout=0.01), s.acquire(timeout=0.01))\n")
        res = run_traced(src)
        plain = run_plain(src)
        self.assertEqual((res.code, res.stdout, res.stderr), (plain.code, plain.stdout, plain.stderr))
        self.assertIn("Semaphore BoundedSemaphore gevent._gevent_c_semaphore", res.stdout)
        # (The last s.acquire(timeout=...) waits on s, held by main itself: written, as main's.)
        others = [h for h in holds(res) if h["task"] != res.by_name("main")]
        self.assertEqual(others, [])


    def test_lock_a_library_made_for_itself_is_not_traced(self):
        """A lock a library made for its own use (at its import, no program line close above:
        logging's module lock, taken on every log call) notes no holdings: a wait on it says so
        (partial) and writes no hold lines; the program's own lock, in the same run, does."""
        with tempfile.TemporaryDirectory(prefix="asynctrace-libmade-") as tmp:
            lib = os.path.join(tmp, "site-packages")
            os.makedirs(lib)
            with open(os.path.join(lib, "libmade.py"), "w") as f:
                f.write("import gevent.lock\nLOCK = gevent.lock.Semaphore()\n")
            src = ("import sys\n"
                   "sys.path.insert(0, %r)\n"
                   "import gevent, gevent.lock, libmade\n"
                   "mine = gevent.lock.Semaphore()\n"
                   "def hold(lock):\n"
                   "    with lock:\n"
                   "        gevent.sleep(0.05)\n"
                   "def want(lock):\n"
                   "    with lock:\n"
                   "        pass\n"
                   "for lock in (libmade.LOCK, mine):\n"
                   "    gevent.joinall([gevent.spawn(hold, lock), gevent.spawn(want, lock)])\n"
                   "print('done')\n" % lib)
            res = run_traced(src)
            plain = run_plain(src)
        self.assertEqual((res.code, res.stdout, res.stderr), (plain.code, plain.stdout, plain.stderr))
        declared = objs(res)
        waited = [s["await"]["on"]["obj"] for t in res.tasks for s in res.steps_by_task.get(t, [])
                  if s.get("await") and s["await"]["on"].get("kind") == "semaphore"]
        self.assertEqual(len(waited), 2, waited)
        lib_obj, my_obj = waited
        self.assertTrue(declared[lib_obj].get("partial"), declared[lib_obj])
        self.assertNotIn("partial", declared[my_obj])
        self.assertEqual(set(h["obj"] for h in holds(res)), {my_obj})


if __name__ == "__main__":
    unittest.main()
