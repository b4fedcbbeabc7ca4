"""Helpers for the runtime tests: run a program traced (or not) and index its trace."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNTIME = os.path.join(ROOT, "src", "runtime")
EXAMPLES = os.path.join(ROOT, "examples")


def _env(env):
    e = dict(os.environ)
    if env:
        e.update(env)
    pp = e.get("PYTHONPATH")
    e["PYTHONPATH"] = RUNTIME + (os.pathsep + pp if pp else "")
    e.setdefault("PYTHONIOENCODING", "utf-8")
    return e


def _program(program, tmpdir):
    """A path for the program. Source text goes to a directory named after its hash, so the
    traced and the untraced run see the same path (tracebacks compare equal)."""
    if "\n" in program or not os.path.exists(program):
        import hashlib
        d = os.path.join(tempfile.gettempdir(), "asynctrace-prog-%d-%s" % (
            os.getuid() if hasattr(os, "getuid") else 0, hashlib.sha1(program.encode()).hexdigest()[:12]))
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "prog.py")
        if not os.path.exists(path):
            tmp = path + ".%d.tmp" % os.getpid()
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(program)
            os.replace(tmp, path)
        return path
    return program


class Result:
    def __init__(self, stdout, stderr, code, events):
        self.stdout = stdout
        self.stderr = stderr
        self.code = code
        self.events = events
        self.sites = {}
        self.tasks = {}
        self.steps_by_task = {}
        self.ends = {}
        self.cancels = []
        self.timeouts = {}
        self.blocks = []
        self.loops = {}
        self.unretrieved = []
        self.exit = None
        self.run = events[0] if events else None
        for ev in events:
            t = ev.get("type")
            if t == "site":
                self.sites[ev["id"]] = ev
            elif t == "task":
                self.tasks[ev["id"]] = dict(ev)
            elif t == "name":
                self.tasks.setdefault(ev["task"], {})["name"] = ev["name"]
            elif t == "step":
                self.steps_by_task.setdefault(ev["task"], []).append(ev)
            elif t == "end":
                self.ends[ev["task"]] = ev
            elif t == "cancel":
                self.cancels.append(ev)
            elif t == "timeout":
                self.timeouts.setdefault(ev["id"], []).append(ev)
            elif t == "block":
                self.blocks.append(ev)
            elif t == "loop":
                self.loops.setdefault(ev["id"], []).append(ev)
            elif t == "unretrieved":
                self.unretrieved.append(ev)
            elif t == "exit":
                self.exit = ev

    # -- conveniences for assertions ----------------------------------------------------
    def by_name(self, name):
        for tid, t in self.tasks.items():
            if t.get("name") == name:
                return tid
        raise KeyError("no task named %r; tasks: %r" % (name, [t.get("name") for t in self.tasks.values()]))

    def by_coro(self, coro):
        return [tid for tid, t in self.tasks.items() if t.get("coro") == coro]

    def line(self, site_id):
        return None if site_id is None else self.sites[site_id]["line"]

    def span(self, tid):
        """(first ts, end ts) of a task in microseconds."""
        start = self.tasks[tid]["ts"]
        end = self.ends[tid]["ts"] if tid in self.ends else None
        return start, end

    def await_lines(self, tid):
        """Innermost await line of each suspension of the task."""
        out = []
        for s in self.steps_by_task.get(tid, []):
            a = s.get("await")
            if a:
                st = a["stack"]
                out.append(self.line(st[-1]) if st else None)
        return out

    def ons(self, tid):
        return [s["await"]["on"] for s in self.steps_by_task.get(tid, []) if "await" in s]


def parse_trace(path):
    events = []
    with open(path, "rb") as f:
        for raw in f.read().decode("utf-8").split("\n"):
            if raw.strip():
                events.append(json.loads(raw))
    return events


def wait_for_exit_line(path, timeout=20.0):
    """The trace's events once its last line is an `exit` line (or after `timeout`). A program
    that died of a signal has its exit line written by the runtime's writer process a moment
    after the program ended."""
    import time
    end = time.time() + timeout
    while True:
        events = []
        try:
            with open(path, "rb") as f:
                data = f.read()
            if data.endswith(b"\n"):
                events = [json.loads(ln) for ln in data.decode("utf-8").split("\n") if ln.strip()]
        except (OSError, ValueError):
            events = []
        if (events and events[-1].get("type") == "exit") or time.time() > end:
            return events
        time.sleep(0.05)


def run_traced(program_path_or_source, args=(), python=sys.executable, extra_cli=(), env=None,
               timeout=60, cwd=None, stdin=None):
    with tempfile.TemporaryDirectory(prefix="asynctrace-test-") as tmp:
        prog = _program(program_path_or_source, tmp)
        out = os.path.join(tmp, "trace.jsonl")
        cmd = [python, "-m", "asynctrace", "-o", out] + list(extra_cli) + [prog] + list(args)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(env),
                           timeout=timeout, cwd=cwd or tmp, input=stdin)
        events = parse_trace(out) if os.path.exists(out) else []
        return Result(p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"),
                      p.returncode, events)


def run_plain(program_path_or_source, args=(), python=sys.executable, env=None, timeout=60, cwd=None, stdin=None):
    with tempfile.TemporaryDirectory(prefix="asynctrace-test-") as tmp:
        prog = _program(program_path_or_source, tmp)
        p = subprocess.run([python, prog] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=_env(env), timeout=timeout, cwd=cwd or tmp, input=stdin)
        return Result(p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.returncode, [])


def run_cli(args, python=sys.executable, env=None, timeout=60, cwd=None):
    """Run `python -m asynctrace ARGS` as given (for command-line tests)."""
    p = subprocess.run([python, "-m", "asynctrace"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=_env(env), timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def line_of(source, marker):
    """1-based line of the first source line containing `marker` (e.g. a `# L:name` comment)."""
    for i, ln in enumerate(source.splitlines(), 1):
        if marker in ln:
            return i
    raise ValueError("marker %r not in source" % marker)


def check_wellformed(testcase, res):
    """Structural invariants every trace must satisfy (the format contract)."""
    ev = res.events
    testcase.assertTrue(ev, "empty trace; stderr: %s" % res.stderr[-2000:])
    testcase.assertEqual(ev[0]["type"], "run")
    testcase.assertEqual(ev[0]["v"], 1)
    testcase.assertIn("blockMs", ev[0])
    testcase.assertEqual(ev[-1]["type"], "exit", "last line is not exit")
    testcase.assertEqual(sum(1 for e in ev if e["type"] == "exit"), 1)
    sites, tasks = set(), set()
    last_ts = {}
    for e in ev:
        t = e["type"]
        for k in ("ts", "dur"):
            if k in e:
                testcase.assertIsInstance(e[k], int, e)
                testcase.assertGreaterEqual(e[k], 0, e)
        if t == "site":
            testcase.assertNotIn(e["id"], sites)
            sites.add(e["id"])
            testcase.assertFalse(os.path.realpath(e["file"]).startswith(os.path.realpath(RUNTIME) + os.sep), e)
            testcase.assertNotIn(os.sep + "asyncio" + os.sep, e["file"], e)
            continue
        for k in ("site",):
            if e.get(k) is not None:
                testcase.assertTrue(e[k] in sites, "site used before declared: %r" % e)
        if t == "step" and "await" in e:
            for s in e["await"]["stack"]:
                testcase.assertTrue(s in sites, "stack site used before declared: %r" % e)
        if t == "end" and e.get("error", {}).get("site") is not None:
            testcase.assertTrue(e["error"]["site"] in sites, "error site used before declared: %r" % e)
        if t == "task":
            testcase.assertTrue(e["id"] not in tasks, "task declared twice: %r" % e)
            tasks.add(e["id"])
        if t in ("step", "end", "block"):
            tid = e["task"]
            # (assertTrue: an assertIn message would print every task id)
            testcase.assertTrue(tid in tasks, "task used before declared: %r" % e)
            if t == "step":
                testcase.assertGreaterEqual(e["ts"], last_ts.get(tid, 0), e)
                last_ts[tid] = e["ts"] + e["dur"]
