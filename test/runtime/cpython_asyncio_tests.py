"""CPython's own asyncio tests pass under the tracer exactly as without it.

For each Python 3.9-3.13 found (with its `test` package) and each selected module of
test.test_asyncio present there, runs `python -m unittest -v MODULE` untraced and
`python -m asynctrace -o TRACE -m unittest -v MODULE` traced, and compares the outcome of every
test (ok / FAIL / ERROR / skipped / expected failure / unexpected success).

Usage: python3 test/runtime/cpython_asyncio_tests.py [--fast] [--python PATH] [MODULE ...]
  --fast   a quick subset (what `npm run test:runtime` runs)
Exit status 0 when every outcome matches on every Python.
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNTIME = os.path.join(ROOT, "src", "runtime")
sys.path.insert(0, HERE)

FULL = ["test_tasks", "test_taskgroups", "test_timeouts", "test_waitfor", "test_locks", "test_queues",
        "test_futures", "test_futures2", "test_eager_task_factory", "test_runners", "test_pep492",
        "test_context", "test_staggered", "test_streams", "test_sock_lowlevel", "test_base_events",
        "test_events", "test_subprocess", "test_threads", "test_server"]
FAST = ["test_timeouts", "test_waitfor", "test_locks", "test_queues"]

_HEAD = re.compile(r"^(test\w*) \(([\w.]+)\)")
_STATUS = re.compile(r"(ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$")


def outcomes(text):
    """Outcome of each test in `unittest -v` output. A log line (asyncio's slow-callback warning
    on a loaded machine) may split "name ... status": the status is then found on a later line."""
    out = {}
    pending = None
    for line in text.splitlines():
        m = _HEAD.match(line)
        if m:
            name, where = m.groups()
            pending = where if where.endswith("." + name) else "%s.%s" % (where, name)
            if " ... " not in line:
                continue  # docstring on the next line
            line = line.split(" ... ", 1)[1]
        elif pending is None:
            continue
        elif " ... " in line:
            line = line.split(" ... ", 1)[1]
        st = _STATUS.search(line.strip())
        if st and pending is not None:
            status = st.group(1)
            out[pending] = "skipped" if status.startswith("skipped") else status
            pending = None
    return out


def compare(a, b):
    """Tests whose outcome differs between two `outcomes` maps, and the counts of the first by
    outcome ({"ok": 120, "skipped": 2, ...})."""
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    counts = {}
    for st in a.values():
        key = "ok" if st == "ok" else st.split()[0].lower()
        counts[key] = counts.get(key, 0) + 1
    return diff, counts


def run_module(py, mod, traced, tmp):
    env = dict(os.environ)
    env["PYTHONPATH"] = RUNTIME
    env.pop("PYTHONASYNCIODEBUG", None)
    full = "test.test_asyncio." + mod
    if traced:
        trace = os.path.join(tmp, "%s-%s.jsonl" % (os.getpid(), mod))
        cmd = [py, "-m", "asynctrace", "-o", trace, "-m", "unittest", "-v", full]
    else:
        trace = None
        cmd = [py, "-m", "unittest", "-v", full]
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=1800, cwd=tmp)
    dt = time.time() - t0
    text = p.stdout.decode("utf-8", "replace")
    lines = 0
    if trace and os.path.exists(trace):
        with open(trace, "rb") as f:
            lines = sum(1 for _ in f)
        os.unlink(trace)
    return outcomes(text), p.returncode, dt, lines, text


def check_python(py, version, mods, verbose=True):
    problems = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="asynctrace-cpython-") as tmp:
        present = []
        for m in mods:
            r = subprocess.run([py, "-c", "import test.test_asyncio.%s" % m], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=tmp)
            if r.returncode == 0:
                present.append(m)
        # Untraced and traced runs of a module go side by side (2 workers).
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            for m in present:
                fa = ex.submit(run_module, py, m, False, tmp)
                fb = ex.submit(run_module, py, m, True, tmp)
                (a, rca, dta, _, ta), (b, rcb, dtb, nlines, tb) = fa.result(), fb.result()
                diff, counts = compare(a, b)
                row = "%-26s %4d tests  %s  plain %5.1fs traced %5.1fs  %8d trace lines  %s" % (
                    m, len(a), " ".join("%s=%d" % kv for kv in sorted(counts.items())), dta, dtb, nlines,
                    "same" if not diff and a and rca == rcb else "DIFFERENT")
                rows.append(row)
                if verbose:
                    print(row, flush=True)
                if not a:
                    problems.append("%s: no test results parsed\n%s" % (m, ta[-3000:]))
                if diff or rca != rcb:
                    detail = "; ".join("%s: %s -> %s" % (k, a.get(k), b.get(k)) for k in diff[:20])
                    problems.append("%s: exit %s -> %s; %s" % (m, rca, rcb, detail))
                    if verbose:
                        print(tb[-4000:])
    return rows, problems


def main():
    args = sys.argv[1:]
    fast = "--fast" in args
    only = None
    if "--python" in args:
        only = args[args.index("--python") + 1]
    mods = [a for a in args if a.startswith("test_")] or (FAST if fast else FULL)
    import run_all
    pys = [(p, v) for p, v, gev in run_all.find_pythons() if v >= (3, 9)] if only is None else [(only, run_all._version(only))]
    failed = []
    for py, v in pys:
        r = subprocess.run([py, "-c", "import test.test_asyncio"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            print("== %s (%s): no CPython test package, skipped" % (".".join(map(str, v)), py))
            continue
        print("== Python %s (%s)" % (".".join(map(str, v)), py), flush=True)
        rows, problems = check_python(py, v, mods)
        for p in problems:
            print("  PROBLEM " + p)
        if problems:
            failed.append(py)
    if failed:
        print("outcomes differ under: " + ", ".join(failed))
        sys.exit(1)
    print("all outcomes identical with and without the tracer")


if __name__ == "__main__":
    main()
