"""Run the runtime tests under every Python 3.9-3.13 found on this machine.

Interpreters come from pyenv (`pyenv root` or ~/.pyenv/versions), PATH and /usr/bin/python3.
Older interpreters (2.7, 3.6-3.8) are only checked for the one-line "Python 3.9 or newer" error.
Each interpreter also runs a quick subset of CPython's asyncio tests traced vs untraced, and one
with gevent runs greenlet's own test suite the same way (greenlet_suite.py).
Usage: python3 test/runtime/run_all.py [-k PATTERN] [--python PATH]
"""
import glob
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _version(py):
    try:
        out = subprocess.run([py, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=20)
        return tuple(int(x) for x in out.stdout.decode().strip().split("."))
    except Exception:
        return None


def find_pythons():
    cands = []
    roots = []
    try:
        r = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10)
        if r.returncode == 0 and r.stdout.strip():
            roots.append(r.stdout.decode().strip())
    except Exception:
        pass
    roots.append(os.path.expanduser("~/.pyenv"))
    for root in roots:
        for d in sorted(glob.glob(os.path.join(root, "versions", "*"))):
            for name in ("python3", "python"):
                p = os.path.join(d, "bin", name)
                if os.path.exists(p):
                    cands.append(p)
                    break
    for minor in range(6, 14):
        p = shutil.which("python3.%d" % minor)
        if p:
            cands.append(p)
    for p in (shutil.which("python3"), "/usr/bin/python3", shutil.which("python2"), shutil.which("python")):
        if p and os.path.exists(p):
            cands.append(p)
    seen = {}
    for p in cands:
        if "/shims/" in p:
            continue
        rp = os.path.realpath(p)
        if rp in seen:
            continue
        v = _version(p)
        if v:
            seen[rp] = (p, v)
    # Keep one interpreter per (version, has-gevent) so the Debian Python with gevent is kept too.
    out = []
    keys = set()
    for p, v in seen.values():
        gev = subprocess.run([p, "-c", "import gevent"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL).returncode == 0 if v >= (3, 9) else False
        key = (v[:2], gev)
        if key in keys:
            continue
        keys.add(key)
        out.append((p, v, gev))
    out.sort(key=lambda x: (x[1], x[2]))
    return out


def check_old(py, v):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src", "runtime"))
    r = subprocess.run([py, "-m", "asynctrace", os.path.join(ROOT, "examples", "01_run_hello.py")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=30)
    err = r.stderr.decode("utf-8", "replace").strip()
    ok = r.returncode == 2 and len(err.splitlines()) == 1 and "3.9" in err
    return ok, err


def main():
    args = sys.argv[1:]
    pattern = None
    only = None
    if "-k" in args:
        pattern = args[args.index("-k") + 1]
    if "--python" in args:
        only = args[args.index("--python") + 1]
    if only is None:
        pys = find_pythons()
    else:
        gev = subprocess.run([only, "-c", "import gevent"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL).returncode == 0
        pys = [(only, _version(only), gev)]
    failed = []
    summary = []
    t_all = time.time()
    jobs = []
    for py, v, gev in pys:
        label = "%s (%s%s)" % (".".join(map(str, v)), py, ", gevent" if gev else "")
        if v < (3, 9):
            if v[0] < 3 and v[:2] != (2, 7):
                continue
            ok, err = check_old(py, v)
            summary.append("%-60s %s" % (label, "ok: refuses with one line" if ok else "FAILED: " + err))
            if not ok:
                failed.append(label)
            continue
        jobs.append((py, v, label, gev))

    def run_one(job):
        py, v, label, gev = job
        lines = []
        cmd = [py, "-m", "unittest", "discover", "-s", HERE, "-t", HERE, "-p", "test_*.py"]
        if pattern:
            cmd += ["-k", pattern]
        t0 = time.time()
        r = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = r.stdout.decode("utf-8", "replace")
        lines.append("%-60s %s in %.1f s" % (label, "ok" if r.returncode == 0 else "FAILED", time.time() - t0))
        bad = [] if r.returncode == 0 else [label]
        if not pattern and os.environ.get("ASYNCTRACE_SKIP_CPYTHON") != "1":
            # A quick subset of CPython's asyncio tests, traced vs not (the full run is
            # test/runtime/cpython_asyncio_tests.py).
            t0 = time.time()
            c = subprocess.run([sys.executable, os.path.join(HERE, "cpython_asyncio_tests.py"), "--fast",
                                "--python", py], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out += c.stdout.decode("utf-8", "replace")
            lines.append("%-60s %s in %.1f s" % ("  CPython asyncio tests (fast subset)",
                                               "same outcomes" if c.returncode == 0 else "DIFFERENT", time.time() - t0))
            if c.returncode != 0:
                bad.append(label + " cpython-tests")
        if not pattern and gev:
            # greenlet's own test suite, traced vs not.
            t0 = time.time()
            c = subprocess.run([sys.executable, os.path.join(HERE, "greenlet_suite.py"), "--python", py],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out += c.stdout.decode("utf-8", "replace")
            lines.append("%-60s %s in %.1f s" % ("  greenlet's own tests",
                                               "same outcomes" if c.returncode == 0 else "DIFFERENT", time.time() - t0))
            if c.returncode != 0:
                bad.append(label + " greenlet-tests")
        return label, out, lines, bad

    # The tests mostly wait on child processes and sleeps: three interpreters at a time.
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        for label, out, lines, bad in ex.map(run_one, jobs):
            print("== %s" % label)
            print(out, flush=True)
            summary.extend(lines)
            failed.extend(bad)
    print("\n== runtime tests, %.1f s in all" % (time.time() - t_all))
    for s in summary:
        print(s)
    if failed:
        print("FAILED under: " + ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
