"""Runtime benchmark cases for trio (run by bench.py, case `trio`; alone: python3 bench_trio.py [--reps N]).

  trio_sleep0   1,000 tasks x 200 `await trio.sleep(0)` in one nursery (nothing but task switches:
                the worst case; every step goes through trio's instrument hooks)
  trio_chan     a producer/consumer pipeline of 30,000 items through three memory channels

Run with the first Python here that has trio (Debian: python3-trio); whole-process wall time
traced/untraced, medians of interleaved runs (bench.bench_case)."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PROGRAMS = {
    "trio_sleep0": ("""
import trio
async def worker():
    for _ in range(200):
        await trio.sleep(0)
async def main():
    async with trio.open_nursery() as nursery:
        for _ in range(1000):
            nursery.start_soon(worker)
trio.run(main)
""", {"ratio": 2.5}),
    "trio_chan": ("""
import trio
N = 30000
async def producer(send):
    async with send:
        for i in range(N):
            await send.send(i)
async def stage(receive, send):
    async with receive, send:
        async for x in receive:
            await send.send(x + 1)
async def main():
    s1, r1 = trio.open_memory_channel(10)
    s2, r2 = trio.open_memory_channel(10)
    s3, r3 = trio.open_memory_channel(10)
    total = 0
    async with trio.open_nursery() as nursery:
        nursery.start_soon(producer, s1)
        nursery.start_soon(stage, r1, s2)
        nursery.start_soon(stage, r2, s3)
        async with r3:
            async for x in r3:
                total += x
    assert total == sum(range(N)) + 2 * N
trio.run(main)
""", {"ratio": 2.0}),
}


def find_trio_python():
    import run_all
    for p, v, _gev in run_all.find_pythons():
        if v >= (3, 9) and subprocess.run([p, "-c", "import trio"], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL).returncode == 0:
            return p
    return None


def run(reps, tmp, failed, python=None):
    """Runs the trio cases and prints one line each (bench.py's table)."""
    import bench
    py = python or find_trio_python()
    if py is None:
        print("trio     skipped: no Python here has trio (Debian: python3-trio)")
        return
    for name, (src, target) in PROGRAMS.items():
        try:
            r = bench.bench_case(name, src, py, reps, tmp)
        except Exception as e:
            print("%-8s failed to run: %s" % (name, e))
            failed.append(name)
            continue
        ok = r["ratio"] <= target["ratio"] and r["rss_delta_mb"] <= 50 and r["dropped"] == 0
        if not ok:
            failed.append(name)
        print("%-8s %9.3fs %9.3fs %6.2fx %6.1fx %6.2fx %10d %12.0f %8.1fMB %8.1fMB  %s  [%s]" % (
            name, r["untraced_s"], r["traced_s"], r["ratio"], target["ratio"], r["cpu_ratio"], r["events"],
            r["events_per_s"], r["rss_untraced_mb"], r["rss_delta_mb"],
            ("ok" if ok else "MISSES TARGET") + ("" if r["dropped"] == 0 else " (%d lines dropped)" % r["dropped"]), py),
            flush=True)


if __name__ == "__main__":
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 5
    missed = []
    with tempfile.TemporaryDirectory(prefix="asynctrace-bench-trio-") as d:
        run(reps, d, missed)
    sys.exit(1 if missed else 0)
