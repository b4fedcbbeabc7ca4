"""Plain greenlets under the tracer: explicit switches, failures, kills (skipped without greenlet)."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tracehelp import EXAMPLES, run_plain, run_traced  # noqa: E402

PROGRAMS = os.path.join(HERE, "programs")


def importable(name):
    try:
        __import__(name)
        return True
    except Exception:
        return False


def line_of(path, text):
    """1-based line number of the first line of `path` containing `text`."""
    with open(path, encoding="utf-8") as f:
        for n, ln in enumerate(f, 1):
            if text in ln:
                return n
    raise AssertionError("%r not found in %s" % (text, path))


def assert_no_overlap(test, res, tids):
    """Greenlets of one thread never run at the same time."""
    steps = sorted((s["ts"], s["ts"] + s["dur"], s["task"]) for t in tids for s in res.steps_by_task.get(t, []))
    for (a0, a1, ta), (b0, b1, tb) in zip(steps, steps[1:]):
        test.assertLessEqual(a1, b0, "steps of %s and %s overlap" % (ta, tb))


@unittest.skipUnless(importable("greenlet"), "greenlet is not installed for this Python")
class GreenletSwitchTest(unittest.TestCase):
    def test_example_07_switches(self):
        prog = os.path.join(EXAMPLES, "07_greenlet_switch.py")
        res = run_traced(prog)
        plain = run_plain(prog)
        self.assertEqual(res.code, 0, res.stderr)
        self.assertEqual(res.stdout, plain.stdout)
        self.assertEqual(res.stdout.split("\n")[:4], ["yang at foo_1", "Elijah at bar_1", "yang at foo_2", "Elijah at bar_2"])
        main = res.by_name("main")
        foo, bar = res.by_name("foo"), res.by_name("bar")
        for t in (main, foo, bar):
            self.assertEqual(res.tasks[t]["kind"], "greenlet")
        self.assertIsNone(res.tasks[main]["parent"])
        self.assertEqual(res.tasks[foo]["parent"], main)
        self.assertEqual(res.tasks[bar]["parent"], main)
        # Where it was started: main switched into g1 at line 21, foo into g2 at line 7.
        self.assertEqual(res.line(res.tasks[foo]["site"]), 21)
        self.assertEqual(res.line(res.tasks[bar]["site"]), 7)
        # The switch targets and the lines of each switch.
        self.assertEqual(res.ons(main), [{"kind": "switch", "to": foo}])
        self.assertEqual(res.await_lines(main), [21])
        self.assertEqual(res.ons(foo), [{"kind": "switch", "to": bar}] * 2)
        self.assertEqual(res.await_lines(foo), [7, 9])
        self.assertEqual(res.ons(bar), [{"kind": "switch", "to": foo}])
        self.assertEqual(res.await_lines(bar), [14])
        # They alternate: main, foo, bar, foo, bar, main.
        order = [s["task"] for s in sorted((s for t in (main, foo, bar) for s in res.steps_by_task[t]),
                                           key=lambda s: s["ts"])]
        self.assertEqual(order, [main, foo, bar, foo, bar, main])
        assert_no_overlap(self, res, (main, foo, bar))
        self.assertEqual(res.ends[bar]["state"], "done")
        self.assertEqual(res.ends[main]["state"], "done")
        # foo never finishes: it is still suspended in g2.switch() when the program ends.
        self.assertEqual(res.ends[foo]["state"], "cancelled")
        self.assertTrue(any(c["task"] == foo and c["cause"] == "shutdown" for c in res.cancels))
        self.assertEqual(res.exit["code"], 0)
        self.assertEqual(res.events[-1]["type"], "exit")

    def test_failures_kills_and_pingpong(self):
        prog = os.path.join(PROGRAMS, "greenlet_raw.py")
        res = run_traced(prog)
        plain = run_plain(prog)
        self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout), res.stderr)
        ping, pong = res.by_name("ping"), res.by_name("pong")
        self.assertEqual(res.ons(ping), [{"kind": "switch", "to": pong}] * 3)
        self.assertEqual(res.ons(pong), [{"kind": "switch", "to": ping}] * 3)
        self.assertEqual(set(res.await_lines(ping)), {line_of(prog, "n = pong.switch(i)")})
        self.assertEqual(res.ends[ping]["state"], "done")
        failing = res.by_name("failing")
        err = res.ends[failing]
        self.assertEqual(err["state"], "failed")
        self.assertEqual(err["error"]["type"], "KeyError")
        self.assertEqual(res.line(err["error"]["site"]), line_of(prog, "raise KeyError('lost')"))
        victim = res.by_name("victim")
        self.assertEqual(res.ends[victim]["state"], "cancelled")
        self.assertEqual(res.ends[victim]["error"]["type"], "GreenletExit")
        kills = [c for c in res.cancels if c["task"] == victim]
        self.assertEqual([(c["cause"], c["by"]) for c in kills], [("kill", res.by_name("main"))])
        self.assertEqual(res.line(kills[0]["site"]), line_of(prog, "v.throw()"))
        main = res.by_name("main")
        assert_no_overlap(self, res, list(res.tasks))
        self.assertEqual(res.ends[main]["state"], "done")
        # Every task line comes with an end line.
        self.assertEqual(set(res.tasks), set(res.ends))

    def test_abandoned_greenlet_is_collected_as_untraced(self):
        # Tracing must not keep a dropped greenlet alive: its GreenletExit (and finally block)
        # happens at gc.collect(), before "after collect", exactly as untraced.
        src = ("import gc\n"
               "from greenlet import greenlet, getcurrent\n"
               "main = getcurrent()\n"
               "def gen():\n"
               "    try:\n"
               "        main.switch(1)\n"
               "    finally:\n"
               "        print('gen cleaned up')\n"
               "g = greenlet(gen)\n"
               "print(g.switch())\n"
               "del g\n"
               "gc.collect()\n"
               "print('after collect')\n")
        res = run_traced(src)
        plain = run_plain(src)
        self.assertEqual(res.stdout, plain.stdout)
        self.assertEqual(res.stdout.split(), ["1", "gen", "cleaned", "up", "after", "collect"])
        gen = res.by_name("gen")
        self.assertEqual(res.ends[gen]["state"], "cancelled")
        self.assertLess(res.ends[gen]["ts"], res.ends[res.by_name("main")]["ts"])

    def test_no_greenlet_no_tasks(self):
        # A program that imports greenlet but never switches shows no greenlet task.
        res = run_traced("import greenlet\nprint('ok')\n")
        self.assertEqual((res.code, res.stdout.strip()), (0, "ok"), res.stderr)
        self.assertEqual([t for t in res.tasks.values() if t.get("kind") == "greenlet"], [])


class DecodeCallTest(unittest.TestCase):
    """Why a greenlet waits in gevent's compiled code is read from the calling instruction of the
    user's frame. The bytecode differs on every Python, so this runs everywhere (no greenlet
    needed): each call is decoded into (method, receiver, first argument)."""

    SRC = (
        "gevent.joinall([g1, g2])\n"       # 1
        "joinall(gs, timeout=3)\n"         # 2
        "self.evt.wait()\n"                # 3
        "k.kill()\n"                       # 4
        "x = q.get(block=True)\n"          # 5
        "print(sorted(pool.map(work, range(4))))\n"  # 6
        "def f(a):\n"                      # 7
        "    return a.join()\n"            # 8
        "with sem:\n"                      # 9
        "    pass\n"                       # 10
        "def h(x, y):\n"                   # 11
        "    gevent.joinall([x, y])\n"     # 12 (one superinstruction loads x and y on 3.13)
        "box['b'].join()\n"                # 13
        "self.workers[i].g.join()\n"       # 14
    )

    def decoded(self):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "src", "runtime"))
        try:
            from asynctrace import greenlet_hooks as gh
        finally:
            sys.path.pop(0)
        import dis
        code = compile(self.SRC, "prog.py", "exec")
        out = {}
        for c in [code] + [k for k in code.co_consts if hasattr(k, "co_code")]:
            lines = dict((i.offset, ln) for i, ln in _offset_lines(c))
            for ins in dis.get_instructions(c):
                if ins.opname.startswith("CALL") or ins.opname in ("BEFORE_WITH", "SETUP_WITH"):
                    d = gh._decode_call(c, ins.offset)
                    if d is not None:
                        out.setdefault(lines.get(ins.offset), []).append(d)
        return out

    def test_calls_are_decoded(self):
        d = self.decoded()
        var = lambda name, *attrs: ("var", "name", name, tuple(attrs))  # noqa: E731
        self.assertIn(("joinall", var("gevent"), ("list", [var("g1"), var("g2")])), d[1])
        self.assertIn(("joinall", None, var("gs")), d[2])
        self.assertIn(("wait", var("self", "evt"), None), d[3])
        self.assertIn(("kill", var("k"), None), d[4])
        self.assertIn(("get", var("q"), ("const", True)), d[5])
        self.assertIn(("map", var("pool"), var("work")), d[6])
        self.assertIn(("join", ("var", "fast", "a", ()), None), d[8])
        self.assertIn(("__enter__", var("sem"), None), d[9])
        fast = lambda name: ("var", "fast", name, ())  # noqa: E731
        self.assertIn(("joinall", ("var", "global", "gevent", ()), ("list", [fast("x"), fast("y")])), d[12])
        # Subscripts of the built-in containers, then attributes.
        self.assertIn(("join", ("sub", var("box"), ("const", "b"), ()), None), d[13])
        self.assertIn(("join", ("sub", var("self", "workers"), var("i"), ("g",)), None), d[14])


def _offset_lines(code):
    import dis
    line = None
    for ins in dis.get_instructions(code):
        ln = getattr(ins, "positions", None)
        ln = ln.lineno if ln is not None and ln.lineno is not None else ins.starts_line
        if isinstance(ln, int) and not isinstance(ln, bool):
            line = ln
        yield ins, line


if __name__ == "__main__":
    unittest.main()
