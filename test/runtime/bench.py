"""Runtime benchmark: traced vs untraced whole-process wall time, events/s and peak memory.

Cases (asyncio ones on Python 3.12 when found, else the running Python):
  startup  a program that only starts asyncio and ends (the runtime's fixed cost per run)
  sleep0   1,000 tasks x 200 `await asyncio.sleep(0)` (nothing but task switches: worst case)
  fanout   a 10,000-task gather fan-out
  queue    a producer/consumer pipeline through asyncio.Queue
  to_thread  10,000 tiny functions through asyncio.to_thread (executor work items)
  trio     trio_sleep0 and trio_chan (bench_trio.py), with a Python that has trio
  echo     the gevent echo server under 50 clients (from bench_gevent.py, with a Python that has gevent)
  aiohttp  an aiohttp server under a local load of 20 aiohttp clients for 3 s, both in the traced
           process: requests served per second traced/untraced (target >= 0.85x); then the
           server alone traced under the load of a separate, untraced client process
           (bench_aiohttp_server.py: throughput and server CPU per request), with a Python that
           has aiohttp
  uvloop   on uvloop (with a Python that has it): an asyncio-streams echo server under 20 local
           clients for 3 s, round trips per second traced/untraced (target >= 0.85x), and the
           sleep0 program (whole-process wall time, as sleep0's target)
  gunicorn gunicorn with 2 gevent workers under a local HTTP load: master and forked workers traced
           (from bench_gunicorn.py, with a Python that has gunicorn and gevent)

Each case runs REPS times traced and untraced, interleaved, as separate processes; figures are
medians. "events/s" is trace lines written per second of traced wall time; the peak RSS delta is
the traced process's maximum resident set minus the untraced one's.
Usage: python3 test/runtime/bench.py [--reps N] [--python PATH] [--case NAME ...]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNTIME = os.path.join(ROOT, "src", "runtime")
sys.path.insert(0, HERE)

PROGRAMS = {
    # Start-up and shutdown only: the runtime's fixed cost (imports, the formatter's start, the
    # last lines' hand-over), which dominates the ratio of a short program.
    "startup": ("""
import asyncio
async def main():
    await asyncio.sleep(0)
asyncio.run(main())
""", {"ratio": 1.5}),
    "sleep0": ("""
import asyncio
async def worker():
    for _ in range(200):
        await asyncio.sleep(0)
async def main():
    await asyncio.gather(*(worker() for _ in range(1000)))
asyncio.run(main())
""", {"ratio": 2.0}),
    "fanout": ("""
import asyncio
async def leaf(i):
    await asyncio.sleep(0)
    return i * 2
async def main():
    r = await asyncio.gather(*(leaf(i) for i in range(10000)))
    assert sum(r) == 10000 * 9999
asyncio.run(main())
""", {"ratio": 2.0}),
    "queue": ("""
import asyncio
N = 30000
async def producer(q):
    for i in range(N):
        await q.put(i)
    await q.put(None)
async def stage(qin, qout):
    while True:
        x = await qin.get()
        if x is None:
            await qout.put(None)
            return
        await qout.put(x + 1)
async def consumer(q):
    total = 0
    while True:
        x = await q.get()
        if x is None:
            return total
        total += x
async def main():
    q1, q2, q3 = asyncio.Queue(10), asyncio.Queue(10), asyncio.Queue(10)
    p = asyncio.create_task(producer(q1))
    s1 = asyncio.create_task(stage(q1, q2))
    s2 = asyncio.create_task(stage(q2, q3))
    total = await consumer(q3)
    await asyncio.gather(p, s1, s2)
    assert total == sum(range(N)) + 2 * N
asyncio.run(main())
""", {"ratio": 1.3}),
    # Executor work items: 10,000 tiny functions through asyncio.to_thread, 500 at a time (each
    # item is three exec lines and a step; the thread hand-off itself dominates untraced).
    "to_thread": ("""
import asyncio
def work(i):
    return i * 2
async def one(i):
    return await asyncio.to_thread(work, i)
async def main():
    total = 0
    for _ in range(20):
        total += sum(await asyncio.gather(*(one(i) for i in range(500))))
    assert total == 20 * 500 * 499
asyncio.run(main())
""", {"ratio": 2.0}),
}


# A server under load: throughput (requests/s) is the figure, not wall time.
SERVER_PROGRAM = """
import asyncio, time
import aiohttp
from aiohttp import web
DURATION = 3.0
async def handle(request):
    await asyncio.sleep(0)
    return web.json_response({"path": request.path, "ok": True})
async def client(session, url, stop, counts):
    while time.perf_counter() < stop:
        async with session.get(url) as resp:
            await resp.json()
        counts[0] += 1
async def main():
    app = web.Application()
    app.router.add_get("/{name}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = "http://127.0.0.1:%d/item" % site._server.sockets[0].getsockname()[1]
    counts = [0]
    async with aiohttp.ClientSession() as session:
        t0 = time.perf_counter()
        stop = t0 + DURATION
        await asyncio.gather(*(client(session, url, stop, counts) for _ in range(20)))
        dt = time.perf_counter() - t0
    await runner.cleanup()
    print(counts[0] / dt)
asyncio.run(main())
"""


UVLOOP_ECHO_PROGRAM = """
import asyncio, time
import uvloop
DURATION = 3.0
async def handle(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        await asyncio.sleep(0)
        writer.write(line)
        await writer.drain()
    writer.close()
async def client(port, stop, counts):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.perf_counter() < stop:
        writer.write(b"ping\\n")
        await writer.drain()
        await reader.readline()
        counts[0] += 1
    writer.close()
    await writer.wait_closed()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    counts = [0]
    t0 = time.perf_counter()
    await asyncio.gather(*(client(port, t0 + DURATION, counts) for _ in range(20)))
    dt = time.perf_counter() - t0
    server.close()
    await server.wait_closed()
    print(counts[0] / dt)
uvloop.install()
asyncio.run(main())
"""


def _bench_uvloop(reps, tmp, failed):
    import run_all
    upy = next((p for p, v, g in run_all.find_pythons() if subprocess.run(
        [p, "-c", "import uvloop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0), None)
    if upy is None:
        print("uvloop   skipped: no Python here has uvloop (Debian: python3-uvloop)")
        return
    try:
        rp, rt, lines = bench_server(upy, reps, tmp, UVLOOP_ECHO_PROGRAM, "uvloop_echo")
        ok = rt / rp >= 0.85
        if not ok:
            failed.append("uvloop echo")
        print("uvloop   echo server: %8.0f round trips/s untraced, %8.0f traced: %.2fx of untraced throughput"
              " (target >= 0.85x), %d trace lines, %s  [%s]" % (rp, rt, rt / rp, lines, "ok" if ok else "MISSES TARGET", upy),
              flush=True)
        src, target = PROGRAMS["sleep0"]
        src = src.replace("import asyncio\n", "import asyncio\nimport uvloop\nuvloop.install()\n", 1)
        r = bench_case("uvloop_sleep0", src, upy, reps, tmp)
        ok = r["ratio"] <= target["ratio"] and r["dropped"] == 0
        if not ok:
            failed.append("uvloop sleep0")
        print("uvloop   sleep0: %.3fs untraced, %.3fs traced: %.2fx (target <= %.1fx), %d trace lines, %s" % (
            r["untraced_s"], r["traced_s"], r["ratio"], target["ratio"], r["events"],
            ("ok" if ok else "MISSES TARGET") + ("" if r["dropped"] == 0 else " (%d lines dropped)" % r["dropped"])),
            flush=True)
    except Exception as e:
        print("uvloop   failed to run: %s" % e)
        failed.append("uvloop")


def bench_server(python, reps, tmp, source=SERVER_PROGRAM, name="aiohttp"):
    prog = os.path.join(tmp, "programs", "bench_%s.py" % name)
    os.makedirs(os.path.dirname(prog), exist_ok=True)
    with open(prog, "w") as f:
        f.write(source)
    trace = os.path.join(tmp, name + ".jsonl")
    env = dict(os.environ, PYTHONPATH=RUNTIME)

    def rate(cmd):
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.decode("utf-8", "replace")[-2000:])
        return float(out.stdout.decode().strip().split()[-1])
    plain, traced = [], []
    for _ in range(reps):
        plain.append(rate([python, prog]))
        traced.append(rate([python, "-m", "asynctrace", "-o", trace, prog]))
    return statistics.median(plain), statistics.median(traced), count_lines(trace)


def find_python(minor):
    import run_all
    for p, v, gev in run_all.find_pythons():
        if v[:2] == (3, minor) and not gev:
            return p
    for p, v, gev in run_all.find_pythons():
        if v[:2] == (3, minor):
            return p
    return None


def run_once(cmd, env):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode("utf-8", "replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
    if p.returncode != 0:
        raise RuntimeError("%s failed (%s): %s" % (" ".join(cmd), p.returncode, err[-2000:]))
    return wall, ru.ru_maxrss / 1024.0, ru.ru_utime + ru.ru_stime  # MB (ru_maxrss is KiB on Linux)


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


def bench_case(name, source, python, reps, tmp):
    # Programs in their own folder: a file named queue.py must not shadow the stdlib for
    # anything else run from `tmp`.
    os.makedirs(os.path.join(tmp, "programs"), exist_ok=True)
    prog = os.path.join(tmp, "programs", "bench_%s.py" % name)
    with open(prog, "w") as f:
        f.write(source)
    trace = os.path.join(tmp, name + ".jsonl")
    env = dict(os.environ)
    env["PYTHONPATH"] = RUNTIME
    # Compiled bytecode cached for both runs, as on a user's machine (kept out of the tree).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
    plain, traced, mem_p, mem_t, events, cpu_p, cpu_t, dropped = [], [], [], [], [], [], [], []
    run_once([python, prog], env)  # warm the page cache and .pyc files
    run_once([python, "-m", "asynctrace", "-o", trace, prog], env)
    for i in range(reps):
        w, m, c = run_once([python, prog], env)
        plain.append(w)
        mem_p.append(m)
        cpu_p.append(c)
        w, m, c = run_once([python, "-m", "asynctrace", "-o", trace, prog], env)
        traced.append(w)
        mem_t.append(m)
        cpu_t.append(c)
        events.append(count_lines(trace))
        with open(trace, "rb") as f:
            f.seek(max(0, os.path.getsize(trace) - 400))
            last = f.read().decode("utf-8", "replace").strip().split("\n")[-1]
        dropped.append(json.loads(last).get("dropped", -1) if last.startswith('{"type":"exit"') else -1)
    mp, mt = statistics.median(plain), statistics.median(traced)
    return {
        "untraced_s": mp, "traced_s": mt, "ratio": mt / mp,
        "events": int(statistics.median(events)), "events_per_s": statistics.median(events) / mt,
        "rss_untraced_mb": statistics.median(mem_p), "rss_traced_mb": statistics.median(mem_t),
        "rss_delta_mb": statistics.median(mem_t) - statistics.median(mem_p),
        "cpu_ratio": statistics.median(cpu_t) / statistics.median(cpu_p),
        "ratios": [t / p for t, p in zip(traced, plain)],
        "dropped": max(dropped),
    }


def writer_capacity(python):
    """Step records per second through the whole output path to a file: the hook's append, the
    writer thread's hand-over, and the formatter process (or the writer thread itself when the
    formatter is off) formatting and writing, until the last line is on disk. Wall seconds, and
    the CPU seconds of every process involved (the formatter's read from /proc)."""
    code = r"""
import os, resource, sys, tempfile, time
sys.path.insert(0, %r)
sys.path.append(%r)
from asynctrace import recorder
from procstat import cpu_and_state, formatter_pids
fd, path = tempfile.mkstemp(suffix=".jsonl"); os.close(fd)
w = recorder._Writer([recorder.FileSink(path)], limit=2000000)
r = recorder.Recorder(w)
r.start()
emit = r.emit_step
N = 1000000
suffix = ',"await":{"stack":[4,7],"on":{"kind":"sleep","delay":0}}}'
ns = time.perf_counter_ns
def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
# The formatter process is not this process's child (its CPU is in no rusage here): its
# /proc/PID/stat is read every 10 ms until it ends (a lower bound, by at most 10 ms).
fcpu = [0.0]
def watch(pid):
    import threading
    def run():
        while True:
            try:
                fcpu[0], state = cpu_and_state(pid)
                if state in ("Z", "X"):
                    return
            except (OSError, IndexError, ValueError):
                return
            time.sleep(0.01)
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th
fpid = (formatter_pids([os.getpid()]) or [None])[0] if w.child is not None else None
th = watch(fpid) if fpid else None
t0 = time.perf_counter(); c0 = cpu()
buf, flush_at, flush = r.buf, r.flush_at, r.flush
for i in range(N):
    t = ns()
    emit((i & 1023, t, t + 3000, suffix))
    if len(buf) > flush_at:
        flush()
# With its exit line, as a run ends (without one the formatter takes the program for dead and
# waits up to 2 s to learn its exit status, which this figure once included).
w.close(lambda dropped: '{"type":"exit","ts":0,"code":0,"dropped":%%d}' %% dropped)
dt = time.perf_counter() - t0
if th is not None:
    th.join(1.0)
dc = cpu() - c0 + fcpu[0]
n = sum(1 for _ in open(path, "rb"))
os.unlink(path)
print(n / dt, n / dc, n, w.dropped)
""" % (RUNTIME, HERE)
    out = subprocess.run([python, "-c", code], stdout=subprocess.PIPE, check=True).stdout.decode().split()
    return float(out[0]), float(out[1]), int(out[2]), int(out[3])


def main():
    args = sys.argv[1:]
    reps = 5
    python = None
    cases = []
    i = 0
    while i < len(args):
        if args[i] == "--reps":
            reps = int(args[i + 1]); i += 2
        elif args[i] == "--python":
            python = args[i + 1]; i += 2
        elif args[i] == "--case":
            cases.append(args[i + 1]); i += 2
        else:
            print(__doc__)
            sys.exit(2)
    if not cases:
        cases = list(PROGRAMS) + ["trio", "aiohttp", "uvloop", "echo", "gunicorn"]
    py = python or find_python(12) or sys.executable
    ver = subprocess.run([py, "-c", "import sys;print(sys.version.split()[0])"], stdout=subprocess.PIPE).stdout.decode().strip()
    print("asyncio cases: Python %s (%s), %d interleaved repetitions, medians; whole-process wall time"
          " (ratio) and CPU time of all its processes (CPU: the formatter process included) traced/untraced;"
          " load average now %.1f"
          % (ver, py, reps, os.getloadavg()[0]))
    print("%-8s %10s %10s %7s %7s %7s %10s %12s %10s %10s  %s" % (
        "case", "untraced", "traced", "ratio", "target", "CPU", "events", "events/s", "RSS base", "RSS +", "verdict"))
    failed = []
    with tempfile.TemporaryDirectory(prefix="asynctrace-bench-") as tmp:
        for name in cases:
            if name in ("echo", "aiohttp", "gunicorn", "trio", "uvloop"):
                continue
            src, target = PROGRAMS[name]
            r = bench_case(name, src, py, reps, tmp)
            ok = r["ratio"] <= target["ratio"] and r["rss_delta_mb"] <= 50 and r["dropped"] == 0
            if not ok:
                failed.append(name)
            print("%-8s %9.3fs %9.3fs %6.2fx %6.1fx %6.2fx %10d %12.0f %8.1fMB %8.1fMB  %s" % (
                name, r["untraced_s"], r["traced_s"], r["ratio"], target["ratio"], r["cpu_ratio"], r["events"],
                r["events_per_s"], r["rss_untraced_mb"], r["rss_delta_mb"],
                ("ok" if ok else "MISSES TARGET") + ("" if r["dropped"] == 0 else " (%d lines dropped)" % r["dropped"])),
                flush=True)
        if "trio" in cases:
            import bench_trio
            bench_trio.run(reps, tmp, failed)
        if "aiohttp" in cases:
            import run_all
            apy = python if python else next((p for p, v, g in run_all.find_pythons() if v >= (3, 9) and subprocess.run(
                [p, "-c", "import aiohttp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0), None)
            if apy is None:
                print("aiohttp  skipped: no Python here has aiohttp (Debian: python3-aiohttp)")
            else:
                try:
                    rp, rt, lines = bench_server(apy, reps, tmp)
                    ok = rt / rp >= 0.85
                    if not ok:
                        failed.append("aiohttp")
                    print("aiohttp  %8.0f req/s untraced, %8.0f req/s traced: %.2fx of untraced throughput (target >= 0.85x),"
                          " %d trace lines, %s  [%s]" % (rp, rt, rt / rp, lines, "ok" if ok else "MISSES TARGET", apy))
                except Exception as e:
                    print("aiohttp  failed to run: %s" % e)
                    failed.append("aiohttp")
                try:
                    import bench_aiohttp_server
                    clients, rounds = 20, 500
                    res = bench_aiohttp_server.run(apy, reps, os.path.join(tmp, "aiohttp-server"), clients, rounds)
                    if not bench_aiohttp_server.report(res, clients, rounds, apy):
                        failed.append("aiohttp-server")
                except Exception as e:
                    print("aiohttp-server failed to run: %s" % e)
                    failed.append("aiohttp-server")
        if "uvloop" in cases:
            _bench_uvloop(reps, tmp, failed)
        if "echo" in cases:
            try:
                import bench_gevent
            except ImportError:
                bench_gevent = None
                print("echo     skipped: test/runtime/bench_gevent.py not present")
            if bench_gevent is not None:
                try:
                    gtmp = os.path.join(tmp, "gevent")
                    os.makedirs(gtmp, exist_ok=True)
                    res = bench_gevent.run(reps=reps, tmp=gtmp)
                    for line in res.get("lines", []):
                        print(line)
                    if not res.get("ok", True):
                        failed.append("echo")
                except Exception as e:
                    print("echo     failed to run: %s" % e)
                    failed.append("echo")
        if "gunicorn" in cases:
            _bench_gunicorn(reps, tmp, failed)
    cap, cap_cpu, n, dropped = writer_capacity(py)
    print("writer capacity: %.0f lines/s wall, %.0f lines per CPU second of all processes (append + hand-over + "
          "format + write of %d step lines to a file, %d dropped)" % (cap, cap_cpu, n, dropped))
    if failed:
        print("targets missed: " + ", ".join(failed))


def _bench_gunicorn(reps, tmp, failed):
    try:
        import bench_gevent
        import bench_gunicorn
        gpy = bench_gevent.find_gevent_python()
        if gpy is None or subprocess.run([gpy, "-c", "import gunicorn"], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL).returncode != 0:
            print("gunicorn skipped: needs a Python with gunicorn and gevent (Debian: gunicorn python3-gevent)")
            return
        gtmp = os.path.join(tmp, "gunicorn")
        res = bench_gunicorn.run(reps=max(reps, 5), tmp=gtmp, python=gpy)
        ok = res["ratio"] >= res["target"]
        print("gunicorn 2 gevent workers: untraced %.0f req/s, traced %.0f req/s, traced/untraced %.2fx "
              "(target >= %.2fx), %d trace lines, CPU per request %.0f -> %.0f us (%.2fx)  %s"
              % (res["plain"], res["traced"], res["ratio"], res["target"], res["lines"], res["cpu_plain_us"],
                 res["cpu_traced_us"], res["cpu_ratio"], "ok" if ok else "MISSES TARGET"), flush=True)
        if not ok:
            failed.append("gunicorn")
    except Exception as e:
        print("gunicorn failed to run: %s" % e)
        failed.append("gunicorn")


if __name__ == "__main__":
    main()
