"""Benchmark: gunicorn with 2 gevent workers under a local HTTP load, traced vs untraced.

The server is `python -m gunicorn -k gevent -w 2` (traced: `python -m asynctrace -o FILE -m
gunicorn ...`: the master and both forked workers record); the load comes from a separate
single-threaded client process (CLIENTS keep-alive connections driven by `selectors`, each
sending a GET and reading the reply, ROUNDS times). Throughput is requests per second measured
by the client; traced and untraced runs are interleaved and the medians compared.

Usage: python3 test/runtime/bench_gunicorn.py [--reps N] [--clients N] [--rounds N]
Called by bench.py through run(reps, tmp).
"""
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from procstat import cpu_and_state, formatter_pids  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNTIME = os.path.join(ROOT, "src", "runtime")
TARGET = 0.85

APP = r'''
import gevent

def app(environ, start_response):
    gevent.sleep(0)
    body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [body]
'''

CLIENT = r'''
import selectors, socket, sys, time
port, clients, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
req = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
sel = selectors.DefaultSelector()
left = {}
t0 = time.perf_counter()
for i in range(clients):
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.setblocking(False)
    left[c] = [rounds, b""]
    c.send(req)
    sel.register(c, selectors.EVENT_READ)
done = 0
while left:
    for key, _ in sel.select():
        c = key.fileobj
        st = left[c]
        data = c.recv(65536)
        if not data:
            sys.exit("connection closed")
        st[1] += data
        if not st[1].endswith(b"hello"):
            continue
        st[1] = b""
        done += 1
        st[0] -= 1
        if st[0] == 0:
            sel.unregister(c)
            c.close()
            del left[c]
        else:
            c.send(req)
print("%d %.6f" % (done, time.perf_counter() - t0))
'''


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _wait_port(port, proc, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited: %s" % proc.stderr.read().decode()[-2000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen")


def _children(pid):
    kids = []
    for q in os.listdir("/proc"):
        if q.isdigit():
            try:
                with open("/proc/%s/stat" % q) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(q))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def _server_cpu(pids):
    """CPU seconds so far of the server's processes (a process gone counts nothing)."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_and_state(pid)[0]
        except (OSError, ValueError, IndexError):
            pass
    return total


def one(python, traced, tmp, clients, rounds):
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=RUNTIME + os.pathsep + tmp)
    gun = ["-m", "gunicorn", "-k", "gevent", "-w", "2", "-b", "127.0.0.1:%d" % port, "--log-level", "warning", "app:app"]
    out = os.path.join(tmp, "trace.jsonl")
    cmd = [python, "-m", "asynctrace", "-o", out] + gun if traced else [python] + gun
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_port(port, proc)
        time.sleep(0.5)  # both workers up
        # The master, its workers and (traced) every one's formatter process, whose CPU no
        # rusage of ours includes: their CPU over the client's run, per request.
        pids = [proc.pid] + _children(proc.pid)
        pids += formatter_pids(pids)
        cpu0 = _server_cpu(pids)
        r = subprocess.run([python, "-c", CLIENT, str(port), str(clients), str(rounds)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode()[-2000:])
        done, secs = r.stdout.split()
        rate = int(done) / float(secs)
        cpu = (_server_cpu(pids) - cpu0) / int(done)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    lines = 0
    if traced:
        d = out + ".processes"
        for f in [out] + ([os.path.join(d, n) for n in os.listdir(d)] if os.path.isdir(d) else []):
            with open(f, "rb") as fh:
                lines += fh.read().count(b"\n")
    return rate, lines, cpu


def run(reps=5, tmp=None, python=sys.executable, clients=20, rounds=100):
    tmp = tmp or tempfile.mkdtemp(prefix="asynctrace-bench-gunicorn-")
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(tmp, "app.py"), "w") as f:
        f.write(APP)
    plain, traced, lines, cpu_plain, cpu_traced = [], [], [], [], []
    for _ in range(reps):
        rate, _n, cpu = one(python, False, tmp, clients, rounds)
        plain.append(rate)
        cpu_plain.append(cpu)
        rate, n, cpu = one(python, True, tmp, clients, rounds)
        traced.append(rate)
        lines.append(n)
        cpu_traced.append(cpu)
    p, t = statistics.median(plain), statistics.median(traced)
    cp, ct = statistics.median(cpu_plain), statistics.median(cpu_traced)
    return {"plain": p, "traced": t, "ratio": t / p, "lines": statistics.median(lines), "target": TARGET,
            "cpu_plain_us": cp * 1e6, "cpu_traced_us": ct * 1e6, "cpu_ratio": ct / cp if cp else float("nan")}


def main():
    args = sys.argv[1:]
    opt = {"--reps": 5, "--clients": 20, "--rounds": 100}
    for k in list(opt):
        if k in args:
            opt[k] = int(args[args.index(k) + 1])
    try:
        import gunicorn  # noqa: F401
        import gevent  # noqa: F401
    except ImportError:
        print("gunicorn skipped: needs gunicorn and gevent (Debian: gunicorn python3-gevent)")
        return 0
    res = run(opt["--reps"], clients=opt["--clients"], rounds=opt["--rounds"])
    print("gunicorn  2 gevent workers, %d clients x %d requests: untraced %.0f req/s, traced %.0f req/s, "
          "traced/untraced %.2fx (target >= %.2fx), %d trace lines; CPU per request of the server's "
          "processes (formatters included) %.0f -> %.0f us, %.2fx"
          % (opt["--clients"], opt["--rounds"], res["plain"], res["traced"], res["ratio"], TARGET, res["lines"],
             res["cpu_plain_us"], res["cpu_traced_us"], res["cpu_ratio"]))
    return 0 if res["ratio"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
