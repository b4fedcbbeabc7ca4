"""greenlet's own test suite passes under the tracer exactly as without it.

greenlet ships its tests (`greenlet.tests`: switching, throw, generators, context variables,
weak references, garbage collection, leaks, its own settrace API...). For each Python found that
has greenlet with its tests (Debian's python3-greenlet for /usr/bin/python3; the leak tests need
python3-objgraph and python3-psutil), runs `python -m unittest -v MODULE...` untraced and
`python -m asynctrace -o TRACE -m unittest -v MODULE...` traced, side by side, and compares the
outcome of every test, and checks that the trace keeps the format's contract. The tracer's greenlet hook sees every switch these tests make, chains
with the trace functions they install, and must change nothing they observe.

Usage: python3 test/runtime/greenlet_suite.py [--python PATH]
Exit status 0 when every outcome matches (or no Python has greenlet's tests: said, not failed).
"""
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNTIME = os.path.join(ROOT, "src", "runtime")
sys.path.insert(0, HERE)

from cpython_asyncio_tests import compare, outcomes  # noqa: E402  (the same `unittest -v` parsing)

LIST_MODULES = r'''
import os, greenlet.tests as t
d = os.path.dirname(t.__file__)
print(" ".join(sorted("greenlet.tests." + f[:-3] for f in os.listdir(d)
                      if f.startswith("test_") and f.endswith(".py"))))
'''


def modules(py):
    """greenlet's test modules importable by `py` (None when it has no greenlet tests)."""
    r = subprocess.run([py, "-c", LIST_MODULES], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        return None, r.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
    return r.stdout.decode().split(), None


def run_suite(py, mods, traced, tmp):
    env = dict(os.environ)
    env["PYTHONPATH"] = RUNTIME
    trace = os.path.join(tmp, "greenlet-suite.jsonl")
    cmd = [py] + (["-m", "asynctrace", "-o", trace] if traced else []) + ["-m", "unittest", "-v"] + mods
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=1800, cwd=tmp)
    dt = time.time() - t0
    text = p.stdout.decode("utf-8", "replace")
    lines = 0
    malformed = None
    if traced:
        try:
            lines, malformed = _check_trace(trace)
        except Exception as e:  # no trace, or a line that is not JSON
            malformed = "%s: %s" % (type(e).__name__, e)
    return outcomes(text), p.returncode, dt, lines, text, malformed


def _check_trace(path):
    """(lines, None) when the trace keeps the format's contract, else (lines, what is wrong)."""
    import unittest
    from tracehelp import Result, check_wellformed, parse_trace
    events = parse_trace(path)
    try:
        check_wellformed(unittest.TestCase(), Result("", "", 0, events))
    except AssertionError as e:
        dropped = events[-1].get("dropped", 0) if events and events[-1].get("type") == "exit" else 0
        if dropped and "before declared" in str(e):
            # The formatter fell so far behind (a loaded machine) that even the lines the
            # bounded buffer keeps (declarations, ends) overflowed: counted, so not a failure.
            print("  note: %d lines dropped under load; %s" % (dropped, str(e)[:300]))
            return len(events), None
        return len(events), str(e)[:300]
    return len(events), None


def run_both(py, mods):
    """run_suite untraced and traced, side by side: (plain results, traced results)."""
    with tempfile.TemporaryDirectory(prefix="asynctrace-greenlet-") as tmp_a, \
            tempfile.TemporaryDirectory(prefix="asynctrace-greenlet-") as tmp_b, \
            concurrent.futures.ThreadPoolExecutor(2) as ex:
        fa = ex.submit(run_suite, py, mods, False, tmp_a)
        fb = ex.submit(run_suite, py, mods, True, tmp_b)
        return fa.result(), fb.result()


def check_python(py):
    """(row, problems) for one interpreter; row None when it has no greenlet tests."""
    mods, why = modules(py)
    if mods is None:
        return None, why
    (a, rca, dta, _, ta, _), (b, rcb, dtb, nlines, tb, malformed) = run_both(py, mods)
    diff, counts = compare(a, b)
    again = ""
    if diff and len(diff) <= 3:
        # greenlet's leak tests measure the process's memory, which a loaded machine can move
        # once: the differing tests run again, alone, in both modes; a difference that stays
        # is reported, one that does not is said in the row.
        names = sorted(diff)
        (c, rcc, _, _, _, _), (d, rcd, _, _, _, _) = run_both(py, names)
        diff2, _ = compare(c, d)
        if not diff2 and len(c) == len(names) and rcc == rcd == 0:
            again = "  (differed once, the same when run again: %s)" % ", ".join(
                "%s: %s -> %s" % (k, a.get(k), b.get(k)) for k in names)
            diff, rcb = [], rca
    same = not diff and a and rca == rcb
    row = "greenlet %d modules %4d tests  %s  plain %5.1fs traced %5.1fs  %8d trace lines (%s)  %s" % (
        len(mods), len(a), " ".join("%s=%d" % kv for kv in sorted(counts.items())), dta, dtb, nlines,
        "malformed" if malformed else "well formed", "same" if same else "DIFFERENT") + again
    problems = []
    if malformed:
        problems.append("the trace breaks the format's contract: " + malformed)
    if not a:
        problems.append("no test results parsed\n" + ta[-3000:])
    if diff or rca != rcb:
        problems.append("exit %s -> %s; %s\n%s" % (rca, rcb, "; ".join(
            "%s: %s -> %s" % (k, a.get(k), b.get(k)) for k in diff[:20]), tb[-4000:]))
    if counts.get("error") or counts.get("fail"):
        # Identical, but a broken environment (a missing test dependency) would hide what the
        # tracer does to those tests: say so.
        problems.append("tests fail even untraced (missing python3-objgraph / python3-psutil?)\n" + ta[-2000:])
    return row, problems


def main():
    args = sys.argv[1:]
    import run_all
    if "--python" in args:
        only = args[args.index("--python") + 1]
        pys = [(only, run_all._version(only))]
    else:
        pys = [(p, v) for p, v, gev in run_all.find_pythons() if v >= (3, 9)]
    failed = []
    checked = 0
    for py, v in pys:
        row, problems = check_python(py)
        label = "Python %s (%s)" % (".".join(map(str, v)), py)
        if row is None:
            print("== %s: no greenlet tests (%s), skipped" % (label, " ".join(problems)))
            continue
        checked += 1
        print("== %s\n%s" % (label, row), flush=True)
        for p in problems:
            print("  PROBLEM " + p)
        if problems:
            failed.append(py)
    if failed:
        print("outcomes differ (or tests fail) under: " + ", ".join(failed))
        sys.exit(1)
    print("all outcomes identical with and without the tracer" if checked
          else "no Python here has greenlet's tests")


if __name__ == "__main__":
    main()
