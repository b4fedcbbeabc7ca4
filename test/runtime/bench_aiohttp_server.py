"""Benchmark: an aiohttp server under a local HTTP load, traced vs untraced.

The server is the traced program (`python -m asynctrace -o FILE server.py`); the load comes from
a separate, untraced, single-threaded client process (CLIENTS keep-alive connections driven by
`selectors`, each sending a GET and reading the reply, ROUNDS times), as a server is loaded in
production. The server exits by itself once it has served them all. Throughput is requests per
second measured by the client; the server's CPU time per request (its formatter process
included) is measured too. Traced and untraced runs are interleaved and the medians compared.

(bench.py's `aiohttp` case runs the client in the traced process itself: both sides traced.)

Usage: python3 test/runtime/bench_aiohttp_server.py [--reps N] [--clients N] [--rounds N] [--python PATH]
Called by bench.py through run(python, reps, tmp).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNTIME = os.path.join(ROOT, "src", "runtime")
TARGET = 0.85

SERVER = r'''
import asyncio, sys
from aiohttp import web

TOTAL = int(sys.argv[1])

async def main():
    served = [0]
    done = asyncio.Event()

    async def handle(request):
        await asyncio.sleep(0)
        served[0] += 1
        if served[0] >= TOTAL:
            done.set()
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await done.wait()
    await asyncio.sleep(0.05)  # the last replies leave
    await runner.cleanup()

asyncio.run(main())
'''

sys.path.insert(0, HERE)
from bench_gunicorn import CLIENT  # noqa: E402  (the same keep-alive load generator)
from procstat import cpu_and_state, formatter_pids  # noqa: E402


def _cpu_of(pids):
    """CPU seconds of the processes `pids` and of the formatter processes they started."""
    tot = 0.0
    for p in set(pids).union(formatter_pids(pids)):
        try:
            tot += cpu_and_state(p)[0]
        except (OSError, ValueError, IndexError):
            pass
    return tot


def one(python, traced, tmp, clients, rounds):
    prog = os.path.join(tmp, "aiohttp_server.py")
    total = clients * rounds
    env = dict(os.environ, PYTHONPATH=RUNTIME)
    out = os.path.join(tmp, "trace.jsonl")
    cmd = ([python, "-m", "asynctrace", "-o", out, prog, str(total)] if traced
           else [python, prog, str(total)])
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = int(proc.stdout.readline())
        time.sleep(0.2)
        c0 = _cpu_of({proc.pid})
        r = subprocess.run([python, "-c", CLIENT, str(port), str(clients), str(rounds)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        c1 = _cpu_of({proc.pid})
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode()[-2000:])
        done, secs = r.stdout.split()
        proc.wait(60)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.read().decode()[-2000:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = 0
    if traced:
        with open(out, "rb") as fh:
            lines = fh.read().count(b"\n")
    return int(done) / float(secs), (c1 - c0) / int(done), lines


def run(python=sys.executable, reps=5, tmp=None, clients=20, rounds=500):
    tmp = tmp or tempfile.mkdtemp(prefix="asynctrace-bench-aiohttp-")
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(tmp, "aiohttp_server.py"), "w") as f:
        f.write(SERVER)
    plain, traced, cpu_p, cpu_t, lines = [], [], [], [], []
    for _ in range(reps):
        rate, cpu, _n = one(python, False, tmp, clients, rounds)
        plain.append(rate)
        cpu_p.append(cpu)
        rate, cpu, n = one(python, True, tmp, clients, rounds)
        traced.append(rate)
        cpu_t.append(cpu)
        lines.append(n)
    p, t = statistics.median(plain), statistics.median(traced)
    return {"plain": p, "traced": t, "ratio": t / p, "lines": statistics.median(lines), "target": TARGET,
            "cpu_plain_us": statistics.median(cpu_p) * 1e6, "cpu_traced_us": statistics.median(cpu_t) * 1e6}


def report(res, clients, rounds, python):
    ok = res["ratio"] >= TARGET
    print("aiohttp-server  %d clients x %d requests from another process: untraced %.0f req/s, traced %.0f req/s, "
          "traced/untraced %.2fx (target >= %.2fx); server CPU per request %.0f -> %.0f us (%.2fx), %d trace lines, %s  [%s]"
          % (clients, rounds, res["plain"], res["traced"], res["ratio"], TARGET, res["cpu_plain_us"],
             res["cpu_traced_us"], res["cpu_traced_us"] / res["cpu_plain_us"], res["lines"],
             "ok" if ok else "MISSES TARGET", python), flush=True)
    return ok


def main():
    args = sys.argv[1:]
    opt = {"--reps": 5, "--clients": 20, "--rounds": 500}
    for k in list(opt):
        if k in args:
            opt[k] = int(args[args.index(k) + 1])
    python = args[args.index("--python") + 1] if "--python" in args else sys.executable
    if subprocess.run([python, "-c", "import aiohttp"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        print("aiohttp-server skipped: %s has no aiohttp (Debian: python3-aiohttp)" % python)
        return 0
    res = run(python, opt["--reps"], clients=opt["--clients"], rounds=opt["--rounds"])
    return 0 if report(res, opt["--clients"], opt["--rounds"], python) else 1


if __name__ == "__main__":
    sys.exit(main())
