"""Benchmark: the gevent echo server of examples/09 under 50 concurrent clients, traced vs untraced.

The server runs as its own process (traced: `python -m asynctrace -o FILE`), the load comes from a
separate single-threaded client process (50 non-blocking connections driven by `selectors`, each
sending a message and waiting for its reply, ROUNDS times) so the client is never the bottleneck.
Throughput is replies per second measured by the client; traced and untraced runs are interleaved
and the medians compared. Also reported: trace lines per second of load, the server's peak RSS.

Usage: python3 test/runtime/bench_gevent.py [--reps N] [--clients N] [--rounds N] [--python PATH]
Called by bench.py through run(reps, tmp); run_echo_bench(python) returns the figures as a dict.
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from procstat import cpu_and_state

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNTIME = os.path.join(ROOT, "src", "runtime")
SERVER = os.path.join(ROOT, "examples", "09_gevent_echo_server.py")
TARGET = 0.85  # traced throughput must stay at least this fraction of untraced

CLIENT = r'''
import selectors, socket, sys, time
port, clients, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sel = selectors.DefaultSelector()
conns = []
for i in range(clients):
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.setblocking(False)
    conns.append(c)
left = {}
t0 = time.perf_counter()
for i, c in enumerate(conns):
    msg = ("client %d say hello" % i).encode()
    left[c] = [rounds, msg]
    c.send(msg)
    sel.register(c, selectors.EVENT_READ)
done = 0
while left:
    for key, _ in sel.select():
        c = key.fileobj
        data = c.recv(4096)
        st = left[c]
        if data != st[1].upper():
            sys.exit("bad reply %r" % data)
        done += 1
        st[0] -= 1
        if st[0] == 0:
            sel.unregister(c)
            c.close()
            del left[c]
        else:
            c.send(st[1])
t1 = time.perf_counter()
print("%d %.6f" % (done, t1 - t0))
'''


def find_gevent_python():
    """The first Python on this machine that can import gevent, or None."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run_all  # one interpreter discovery for the tests and the benchmarks
    for p, v, gev in run_all.find_pythons():
        if gev:
            return p
    return None


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _env():
    e = dict(os.environ)
    pp = e.get("PYTHONPATH")
    e["PYTHONPATH"] = RUNTIME + (os.pathsep + pp if pp else "")
    return e


def _peak_rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmHWM:"):
                    return int(ln.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _cpu_s(pid):
    """User + system CPU seconds used so far by a process."""
    try:
        return cpu_and_state(pid)[0]
    except (OSError, ValueError, IndexError):
        return float("nan")


# The untraced server plus one idle thread waking every 20 ms (the trace writer's period). On a
# loaded machine that alone changes how fast the kernel wakes a single-threaded server, so it is
# reported as a control next to the plain untraced run.
CONTROL = r'''
import _thread, runpy, sys, time
def idle():
    while True:
        time.sleep(0.02)
_thread.start_new_thread(idle, ())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def one_run(python, traced, clients, rounds, tmp, control=False):
    """Serve, load, stop. Returns (replies/s, trace lines, load seconds, peak RSS MB, CPU s of load)."""
    port = _free_port()
    trace = os.path.join(tmp, "echo-bench-%d.jsonl" % port)
    if control:
        cmd = [python, "-c", CONTROL, SERVER, str(port)]
    else:
        cmd = [python] + (["-m", "asynctrace", "-o", trace] if traced else []) + [SERVER, str(port)]
    srv = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(), cwd=tmp)
    try:
        deadline = time.time() + 20
        while True:
            if srv.poll() is not None:
                raise RuntimeError("echo server exited: %s" % srv.stderr.read().decode(errors="replace")[-500:])
            try:
                # Probe with a connection the server sees close at once (one short-lived greenlet).
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("echo server did not start")
                time.sleep(0.05)
        time.sleep(0.1)
        cpu0 = _cpu_s(srv.pid)
        cl = subprocess.run([python, "-c", CLIENT, str(port), str(clients), str(rounds)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if cl.returncode != 0:
            raise RuntimeError("client failed: %s" % cl.stderr.decode(errors="replace")[-500:])
        done, secs = cl.stdout.decode().split()
        rss = _peak_rss_mb(srv.pid)
        cpu = _cpu_s(srv.pid) - cpu0
    finally:
        srv.terminate()
        try:
            srv.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.communicate()
    lines = 0
    if traced and os.path.exists(trace):
        with open(trace, "rb") as f:
            lines = sum(1 for _ in f)
        os.remove(trace)
    return int(done) / float(secs), lines, float(secs), rss, cpu


SWITCHES = r'''
import gevent
def worker():
    for _ in range(100):
        gevent.sleep(0)
gevent.joinall([gevent.spawn(worker) for _ in range(1000)])
'''


def _timed(cmd, tmp):
    """Wall seconds, CPU seconds (children's user+sys) of one process."""
    before = os.times()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(), cwd=tmp)
    wall = time.perf_counter() - t0
    after = os.times()
    if p.returncode != 0:
        raise RuntimeError("failed: %s" % p.stderr.decode(errors="replace")[-500:])
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def run_switch_bench(python=None, reps=5, tmp=None):
    """Worst case for the greenlet hook: 1,000 greenlets x 100 gevent.sleep(0), nothing else."""
    python = python or find_gevent_python()
    if python is None:
        return {"skipped": True, "reason": "no Python with gevent found"}
    own = tmp is None
    if own:
        td = tempfile.TemporaryDirectory(prefix="asynctrace-bench-")
        tmp = td.name
    try:
        prog = os.path.join(tmp, "gevent_switches.py")
        with open(prog, "w") as f:
            f.write(SWITCHES)
        trace = os.path.join(tmp, "gevent_switches.jsonl")
        plain, traced, lines = [], [], 0
        for _ in range(reps):
            plain.append(_timed([python, prog], tmp))
            traced.append(_timed([python, "-m", "asynctrace", "-o", trace, prog], tmp))
            with open(trace, "rb") as f:
                lines = sum(1 for _ in f)
    finally:
        if own:
            td.cleanup()
    wp, wt = statistics.median(w for w, _ in plain), statistics.median(w for w, _ in traced)
    cp, ct = statistics.median(c for _, c in plain), statistics.median(c for _, c in traced)
    return {"untraced_s": wp, "traced_s": wt, "ratio": wt / wp, "cpu_ratio": ct / cp if cp else float("nan"),
            "events": lines, "events_per_s": lines / wt, "reps": reps}


def run_echo_bench(python=None, reps=5, clients=50, rounds=1000, tmp=None):
    """Interleaved traced/untraced runs; medians. Returns a dict of figures (or skipped=True)."""
    python = python or find_gevent_python()
    if python is None:
        return {"skipped": True, "reason": "no Python with gevent found"}
    own = tmp is None
    if own:
        td = tempfile.TemporaryDirectory(prefix="asynctrace-bench-")
        tmp = td.name
    try:
        base, traced, control, lines, load, rss_b, rss_t, cpu_b, cpu_t = [], [], [], [], [], [], [], [], []
        one_run(python, False, clients, 20, tmp)  # warm the page cache / bytecode
        for _ in range(reps):
            tp, _, _, rb, cb = one_run(python, False, clients, rounds, tmp)
            base.append(tp)
            rss_b.append(rb)
            cpu_b.append(cb)
            tp, n, secs, rt, ct = one_run(python, True, clients, rounds, tmp)
            traced.append(tp)
            lines.append(n)
            load.append(secs)
            rss_t.append(rt)
            cpu_t.append(ct)
            control.append(one_run(python, False, clients, rounds, tmp, control=True)[0])
    finally:
        if own:
            td.cleanup()
    ver = subprocess.run([python, "-c", "import sys, gevent; print(sys.version.split()[0], gevent.__version__)"],
                         stdout=subprocess.PIPE).stdout.decode().split()
    ub, ut = statistics.median(base), statistics.median(traced)
    res = {
        "python": python, "python_version": ver[0] if ver else "?", "gevent": ver[1] if len(ver) > 1 else "?",
        "clients": clients, "rounds": rounds, "reps": reps,
        "untraced_replies_per_s": ub, "traced_replies_per_s": ut, "ratio": ut / ub,
        "control_replies_per_s": statistics.median(control),
        "ratio_vs_control": ut / statistics.median(control),
        # Server CPU per reply, traced over untraced: the tracer's cost independent of scheduling.
        "cpu_ratio": statistics.median(cpu_t) / statistics.median(cpu_b) if statistics.median(cpu_b) > 0 else float("nan"),
        "cpu_us_per_reply_untraced": statistics.median(cpu_b) / (clients * rounds) * 1e6,
        "cpu_us_per_reply_traced": statistics.median(cpu_t) / (clients * rounds) * 1e6,
        "events": int(statistics.median(lines)),
        "events_per_s": statistics.median([n / s for n, s in zip(lines, load)]),
        "rss_untraced_mb": statistics.median(rss_b),
        "rss_delta_mb": statistics.median(rss_t) - statistics.median(rss_b),
        "all_ratios": [t / b for t, b in zip(traced, base)],
    }
    res["ok"] = res["ratio"] >= TARGET and res["rss_delta_mb"] <= 50
    return res


def format_lines(r):
    if r.get("skipped"):
        return ["echo     skipped: %s" % r["reason"]]
    return [
        "echo     gevent %s on Python %s (%s): %d clients x %d rounds, %d interleaved repetitions, medians"
        % (r["gevent"], r["python_version"], r["python"], r["clients"], r["rounds"], r["reps"]),
        "echo     untraced %.0f replies/s, traced %.0f replies/s, ratio %.3f (target >= %.2f; single "
        "repetitions %.3f-%.3f), %d events, %.0f events/s, RSS %.1f MB + %.1f MB  %s"
        % (r["untraced_replies_per_s"], r["traced_replies_per_s"], r["ratio"], TARGET,
           min(r["all_ratios"]), max(r["all_ratios"]), r["events"],
           r["events_per_s"], r["rss_untraced_mb"], r["rss_delta_mb"], "ok" if r["ok"] else "MISSES TARGET"),
        "echo     control (untraced + one idle thread) %.0f replies/s: traced/control %.3f; server CPU per reply "
        "%.1f us untraced, %.1f us traced (%.2fx)"
        % (r["control_replies_per_s"], r["ratio_vs_control"], r["cpu_us_per_reply_untraced"],
           r["cpu_us_per_reply_traced"], r["cpu_ratio"]),
    ]


def format_switch(r):
    if r.get("skipped"):
        return ["gswitch  skipped: %s" % r["reason"]]
    return ["gswitch  1,000 greenlets x 100 gevent.sleep(0) (informational worst case): untraced %.3fs, "
            "traced %.3fs, ratio %.2fx, CPU %.2fx, %d events, %.0f events/s"
            % (r["untraced_s"], r["traced_s"], r["ratio"], r["cpu_ratio"], r["events"], r["events_per_s"])]


def run(reps=5, tmp=None, python=None):
    """Entry point used by bench.py: figures plus printable lines."""
    r = run_echo_bench(python=python, reps=reps, tmp=tmp)
    r["lines"] = format_lines(r)
    if not r.get("skipped"):
        sw = run_switch_bench(python=r["python"], reps=reps, tmp=tmp)
        r["switch"] = sw
        r["lines"] += format_switch(sw)
    r.setdefault("ok", True)
    return r


def main():
    import argparse
    ap = argparse.ArgumentParser(description="gevent echo server throughput, traced vs untraced")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--python")
    a = ap.parse_args()
    r = run_echo_bench(python=a.python, reps=a.reps, clients=a.clients, rounds=a.rounds)
    for ln in format_lines(r):
        print(ln)
    if not r.get("skipped"):
        print("echo     per-repetition ratios: " + " ".join("%.3f" % x for x in r["all_ratios"]))
        for ln in format_switch(run_switch_bench(python=r["python"], reps=a.reps)):
            print(ln)
    sys.exit(0 if r.get("skipped") or r["ok"] else 1)


if __name__ == "__main__":
    main()
