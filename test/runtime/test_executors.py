"""Executor work items: asyncio.to_thread, loop.run_in_executor (default, custom thread pool,
process pool), a function that raises, getaddrinfo through the loop's executor. Each item is
recorded (submitted by whom and where, which function, started on which thread, finished, its
error), the awaiting task's wait names it, and the program sees exactly what it sees untraced."""
import sys
import unittest

from tracehelp import check_wellformed, line_of, run_plain, run_traced

PY = sys.version_info[:2]


def traced(testcase, src, **kw):
    res = run_traced(src, **kw)
    plain = run_plain(src)
    testcase.assertEqual(res.code, plain.code, res.stderr)
    testcase.assertEqual(res.stdout, plain.stdout)
    testcase.assertEqual(res.stderr, plain.stderr)
    check_wellformed(testcase, res)
    return res


def items(testcase, res):
    """id -> {state: line} of every exec line; checks their order and the sites they name."""
    out = {}
    declared = set()
    for e in res.events:
        if e["type"] == "site":
            declared.add(e["id"])
        if e["type"] != "exec":
            continue
        for k in ("site", "def"):
            if e.get(k) is not None:
                testcase.assertIn(e[k], declared, "site used before declared: %r" % e)
        if e.get("error", {}).get("site") is not None:
            testcase.assertIn(e["error"]["site"], declared, e)
        states = out.setdefault(e["id"], {})
        testcase.assertNotIn(e["state"], states, "state repeated: %r" % e)
        if e["state"] != "submitted":
            testcase.assertIn("submitted", states, "%r before its submission" % e)
        states[e["state"]] = e
    for iid, st in out.items():
        s = st["submitted"]
        end = st.get("finished") or st.get("cancelled")
        testcase.assertIsNotNone(end, "item %d never ended: %r" % (iid, st))
        if "started" in st:
            testcase.assertLessEqual(s["ts"], st["started"]["ts"])
            testcase.assertLessEqual(st["started"]["ts"], end["ts"])
        testcase.assertLessEqual(s["ts"], end["ts"])
    return out


def by_func(its, name):
    return [st for st in its.values() if st["submitted"]["func"] == name]


THREADS = '''
import asyncio
import concurrent.futures
import time
import traceback

def blocking_io(d):  # L:def-blocking
    time.sleep(d)
    return d

def crunch(n):  # L:def-crunch
    return sum(range(n))

def broken(x):
    raise ValueError("bad input %r" % (x,))  # L:raise

async def via_to_thread():
    return await asyncio.to_thread(blocking_io, 0.1)  # L:to-thread

async def via_default():
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, crunch, 10000)  # L:default

async def via_custom(pool):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, blocking_io, 0.05)  # L:custom

async def failing():
    try:
        await asyncio.to_thread(broken, 7)  # L:failing
    except ValueError:
        print("".join(traceback.format_exc().splitlines(True)[-3:]), end="")
        return "caught"

async def main():
    with concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="pool") as pool:
        r = await asyncio.gather(via_to_thread(), via_default(), via_custom(pool), failing())
    print(r)

asyncio.run(main())
'''


class ThreadPoolTest(unittest.TestCase):
    def test_work_items_are_recorded_and_linked(self):
        res = traced(self, THREADS)
        self.assertIn("[0.1, 49995000, 0.05, 'caught']", res.stdout)
        its = items(self, res)
        self.assertEqual(len(its), 4, its)

        def check(func, task_coro, call_marker, def_marker=None, thread=None, min_us=0):
            [task] = res.by_coro(task_coro)
            [st] = [x for x in by_func(its, func) if x["submitted"]["task"] == task]
            s = st["submitted"]
            self.assertEqual(s["task"], task)
            self.assertEqual(res.line(s["site"]), line_of(THREADS, call_marker))
            if def_marker:
                self.assertEqual(res.line(s["def"]), line_of(THREADS, def_marker))
                self.assertEqual(res.sites[s["def"]]["func"], func)
            self.assertEqual(s["pool"], "thread")
            self.assertEqual(s["executor"], "ThreadPoolExecutor")
            started = st["started"]
            self.assertTrue(started["thread"].startswith(thread), started)
            self.assertIsInstance(started["ident"], int)
            fin = st["finished"]
            self.assertGreaterEqual(fin["ts"] - started["ts"], min_us)
            # The awaiting task waited on this very item, at the call line.
            waits = [x for x in res.steps_by_task[task] if x.get("await", {}).get("on") == {"kind": "executor", "item": s["id"]}]
            self.assertEqual(len(waits), 1, res.steps_by_task[task])
            self.assertEqual(res.line(waits[0]["await"]["stack"][-1]), line_of(THREADS, call_marker))
            return st

        default_prefix = "asyncio" if PY >= (3, 9) else "ThreadPoolExecutor"
        st = check("blocking_io", "via_to_thread", "L:to-thread", "L:def-blocking", default_prefix, 95000)
        self.assertNotIn("error", st["finished"])
        check("crunch", "via_default", "L:default", "L:def-crunch", default_prefix)
        check("blocking_io", "via_custom", "L:custom", "L:def-blocking", "pool_", 45000)
        st = check("broken", "failing", "L:failing", None, default_prefix)
        err = st["finished"]["error"]
        self.assertEqual(err["type"], "ValueError")
        self.assertEqual(err["message"], "bad input 7")
        self.assertEqual(res.line(err["site"]), line_of(THREADS, "L:raise"))
        # No wait on an executor's future is left saying "future".
        for tid in res.tasks:
            for on in res.ons(tid):
                self.assertNotEqual(on, {"kind": "future"}, res.steps_by_task[tid])


PROCESSES = '''
import asyncio
import concurrent.futures
import multiprocessing

def square(x):  # L:def-square
    return x * x

def fails(x):
    raise KeyError(x)

async def main():
    loop = asyncio.get_running_loop()
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        v = await loop.run_in_executor(pool, square, 12)  # L:square
        try:
            await loop.run_in_executor(pool, fails, "k")  # L:fails
        except KeyError as e:
            print("KeyError", e)
    print(v)

if __name__ == "__main__":
    asyncio.run(main())
'''


class ProcessPoolTest(unittest.TestCase):
    def test_process_pool_items_submitted_and_finished(self):
        res = traced(self, PROCESSES, timeout=120)
        self.assertEqual(res.stdout, "KeyError 'k'\n144\n")
        its = items(self, res)
        self.assertEqual(len(its), 2, its)
        [main] = res.by_coro("main")
        [sq] = by_func(its, "square")
        s = sq["submitted"]
        self.assertEqual((s["pool"], s["executor"], s["task"]), ("process", "ProcessPoolExecutor", main))
        self.assertEqual(res.line(s["site"]), line_of(PROCESSES, "L:square"))
        self.assertEqual(res.line(s["def"]), line_of(PROCESSES, "L:def-square"))
        self.assertNotIn("error", sq["finished"])
        [fl] = by_func(its, "fails")
        self.assertEqual(fl["finished"]["error"]["type"], "KeyError")
        ons = res.ons(main)
        self.assertIn({"kind": "executor", "item": s["id"]}, ons)
        self.assertIn({"kind": "executor", "item": fl["submitted"]["id"]}, ons)


DNS = '''
import asyncio
import socket

async def resolve():
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)  # L:resolve
    return len(infos) > 0

print(asyncio.run(resolve()))
'''


class GetaddrinfoTest(unittest.TestCase):
    def test_getaddrinfo_runs_in_the_default_executor(self):
        res = traced(self, DNS)
        self.assertEqual(res.stdout, "True\n")
        its = items(self, res)
        [st] = by_func(its, "getaddrinfo")
        s = st["submitted"]
        self.assertEqual(s.get("module"), "socket")
        self.assertNotIn("def", s)
        [task] = res.by_coro("resolve")
        self.assertEqual(s["task"], task)
        self.assertEqual(res.line(s["site"]), line_of(DNS, "L:resolve"))
        self.assertIn("started", st)
        self.assertIn("finished", st)
        # The wait itself is network I/O (a DNS lookup) or the item, never a bare future.
        on = res.ons(task)[0]
        self.assertIn(on.get("kind"), ("io", "executor"), on)


CANCELLED = '''
import asyncio
import concurrent.futures
import time

def slow(d):
    time.sleep(d)
    return d

async def main():
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        loop = asyncio.get_running_loop()
        first = loop.run_in_executor(pool, slow, 0.1)
        second = loop.run_in_executor(pool, slow, 0.1)  # L:queued
        second.cancel()
        print(await first)

asyncio.run(main())
'''


class CancelledTest(unittest.TestCase):
    def test_a_queued_item_cancelled_before_it_ran(self):
        res = traced(self, CANCELLED)
        self.assertEqual(res.stdout, "0.1\n")
        its = items(self, res)
        queued = [st for st in its.values() if res.line(st["submitted"]["site"]) == line_of(CANCELLED, "L:queued")]
        self.assertEqual(len(queued), 1)
        self.assertIn("cancelled", queued[0])
        self.assertNotIn("started", queued[0])


if __name__ == "__main__":
    unittest.main()
