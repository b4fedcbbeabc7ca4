"""Real framework programs (Debian's Python has the frameworks): traced, they print and exit as
untraced, and the trace names the program's own lines with the right wait kinds."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from tracehelp import HERE, Result, _env, check_wellformed, line_of, parse_trace, run_plain, run_traced

PROGS = os.path.join(HERE, "programs", "frameworks")


def _has(*mods):
    code = "import " + ", ".join(mods)
    try:
        return subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    except Exception:
        return False


class FrameworkProgram(unittest.TestCase):
    def run_both(self, name, args=()):
        path = os.path.join(PROGS, name)
        with open(path, encoding="utf-8") as f:
            self.source = f.read()
        plain = run_plain(path, args, timeout=120)
        res = run_traced(path, args, timeout=120)
        self.assertEqual(res.code, plain.code, res.stderr)
        self.assertEqual(res.stdout, plain.stdout)
        check_wellformed(self, res)
        self.path = path
        return res

    def line(self, marker):
        return line_of(self.source, marker)

    def common(self, res):
        run_line = self.line("anyio.run(main)" if "anyio.run(main)" in self.source else "asyncio.run(main())")
        fields = []
        for ev in res.events:
            if ev.get("type") in ("task", "cancel", "timeout", "block") and ev.get("site") is not None:
                fields.append((ev["type"], ev["site"]))
            if ev.get("type") == "step" and "await" in ev:
                fields.extend(("await", s) for s in ev["await"]["stack"])
        for kind, sid in fields:
            site = res.sites[sid]
            # (Never code a library compiled at run time, "<string>": the user's line that ran it.)
            self.assertEqual(os.path.realpath(site["file"]), os.path.realpath(self.path), (kind, site))
            if kind in ("cancel", "block", "timeout"):
                self.assertNotEqual(site["line"], run_line, "%s blamed on the line running the loop" % kind)
        ends = {}
        for ev in res.events:
            if ev.get("type") == "timeout" and ev["state"] in ("fired", "cleared"):
                ends[ev["id"]] = ends.get(ev["id"], 0) + 1
        self.assertTrue(all(n == 1 for n in ends.values()), ends)
        armed = {ev["id"] for ev in res.events if ev.get("type") == "timeout" and ev["state"] == "armed"}
        self.assertEqual(armed, set(ends))
        self.assertEqual(set(res.tasks), set(res.ends), "every task ends")

    def kinds_at(self, res, marker):
        ln = self.line(marker)
        out = set()
        for ev in res.events:
            if ev.get("type") == "step" and "await" in ev and ev["await"]["stack"]:
                if res.sites[ev["await"]["stack"][-1]]["line"] == ln:
                    on = ev["await"]["on"]
                    out.add(on["kind"] + (":" + on["op"] if "op" in on else ""))
        return out

    def created_at(self, res, marker):
        ln = self.line(marker)
        return [t for t in res.tasks.values() if t.get("site") and res.sites[t["site"]]["line"] == ln]


@unittest.skipUnless(_has("fastapi", "uvicorn", "httpx"), "needs fastapi, uvicorn and httpx (Debian: python3-fastapi python3-uvicorn python3-httpx)")
class FastAPITest(FrameworkProgram):
    def test_fastapi_uvicorn_httpx(self):
        res = self.run_both("fastapi_app.py")
        self.common(res)
        self.assertIn("sleep", self.kinds_at(res, "# SLEEP"))
        self.assertIn("sleep", self.kinds_at(res, "# STARTED"))
        self.assertTrue({k for k in self.kinds_at(res, "# PUT") if k.startswith("io:")}, self.kinds_at(res, "# PUT"))
        self.assertIn("gather", self.kinds_at(res, "# GATHER"))
        self.assertIn("task", self.kinds_at(res, "# STOP"))
        main = res.tasks[res.by_coro("main")[0]]
        serve = self.created_at(res, "# SERVE")
        self.assertEqual([t["parent"] for t in serve], [main["id"]])
        gets = self.created_at(res, "# GATHER")
        self.assertEqual(len(gets), 4)
        self.assertTrue(all(t["parent"] == main["id"] for t in gets))
        for t in gets:  # http.get's own task: no line of the program's inside, network waits
            ons = {ev["await"]["on"]["kind"] for ev in res.events
                   if ev.get("type") == "step" and ev.get("task") == t["id"] and "await" in ev}
            self.assertIn("io", ons)

    @unittest.skipUnless(_has("uvloop"), "needs uvloop (Debian: python3-uvloop)")
    def test_fastapi_on_uvloop(self):
        res = self.run_both("fastapi_app.py", ["uvloop"])
        self.common(res)
        loop = list(res.loops.values())[0] if res.loops else None
        main = res.tasks[res.by_coro("main")[0]]
        self.assertEqual([t["parent"] for t in self.created_at(res, "# SERVE")], [main["id"]])
        gets = self.created_at(res, "# GATHER")
        self.assertEqual(len(gets), 4)
        self.assertTrue(all(t["parent"] == main["id"] for t in gets))
        closed = [ev for ev in res.events if ev.get("type") == "loop" and ev.get("state") == "closed"]
        self.assertEqual(len(closed), 1, loop)


@unittest.skipUnless(_has("fastapi", "uvicorn", "httpx", "pydantic"), "needs fastapi, uvicorn, httpx and pydantic (Debian: python3-fastapi python3-uvicorn python3-httpx)")
class GeneratedCodeTest(FrameworkProgram):
    def test_models_compiled_from_strings_are_not_user_code(self):
        # dataclasses and pydantic compile their models' __init__/__eq__ from strings: a loop
        # held while building many models is blamed on the line that builds them.
        res = self.run_both("fastapi_models.py")
        self.common(res)  # every site in the program's file
        self.assertFalse([s for s in res.sites.values() if s["file"].startswith("<")])
        build = self.line("# BUILD")
        blocks = [b for b in res.blocks if b["site"] is not None and res.sites[b["site"]]["line"] == build]
        self.assertTrue(blocks, [(b["dur"], b["site"] and res.sites[b["site"]]) for b in res.blocks])
        self.assertIn("sleep", self.kinds_at(res, "# ORDER_SLEEP"))
        self.assertTrue({k for k in self.kinds_at(res, "# POST") if k.startswith("io:")}, self.kinds_at(res, "# POST"))


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@unittest.skipUnless(_has("redis.asyncio"), "needs redis-py with redis.asyncio (Debian: python3-redis)")
@unittest.skipUnless(shutil.which("redis-server"), "needs redis-server (Debian: redis-server)")
class RedisTest(FrameworkProgram):
    def setUp(self):
        self.port = _free_port()
        self.server = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.server.poll() is not None:
                    self.fail("redis-server did not start")
                time.sleep(0.05)

    def tearDown(self):
        self.server.terminate()
        self.server.wait(20)

    def test_job_queue_on_redis_asyncio(self):
        res = self.run_both("redis_app.py", [str(self.port)])
        self.assertEqual(res.stdout, "30 30 8555\n")
        self.common(res)
        main = res.tasks[res.by_coro("main")[0]]
        workers = self.created_at(res, "# WORKERS")
        self.assertEqual(len(workers), 3)
        self.assertTrue(all(t["parent"] == main["id"] and t["coro"] == "worker" for t in workers))
        listener, = self.created_at(res, "# LISTENER")
        self.assertEqual(listener["parent"], main["id"])
        # Every command waits on the socket: the reply (read) or the connection (connect).
        for marker in ("# POP", "# SET", "# PUBLISH", "# PUSH", "# LISTEN", "# MGET"):
            kinds = self.kinds_at(res, marker)
            self.assertTrue(kinds and kinds <= {"io:read", "io:write", "io:connect"}, (marker, kinds))
        self.assertIn("io:read", self.kinds_at(res, "# POP"))
        self.assertIn("gather", self.kinds_at(res, "# JOIN"))
        self.assertIn("event", self.kinds_at(res, "# READY"))
        self.assertIn("task", self.kinds_at(res, "# WAIT_LISTENER"))


@unittest.skipUnless(_has("pytest", "pytest_asyncio"), "needs pytest and pytest-asyncio (Debian: python3-pytest python3-pytest-asyncio)")
class PytestAsyncioTest(FrameworkProgram):
    def test_suite_run_with_dash_m_pytest(self):
        suite = os.path.join(PROGS, "pytest_suite")
        with open(os.path.join(suite, "test_service.py"), encoding="utf-8") as f:
            self.source = f.read()
        self.path = os.path.join(suite, "test_service.py")
        args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", suite]
        env = _env(None)
        plain = subprocess.run([sys.executable] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, timeout=180, cwd=PROGS)
        with tempfile.TemporaryDirectory(prefix="asynctrace-pytest-") as tmp:
            out = os.path.join(tmp, "t.jsonl")
            p = subprocess.run([sys.executable, "-m", "asynctrace", "-o", out] + args, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, timeout=180, cwd=PROGS)
            res = Result(p.stdout.decode(), p.stderr.decode(), p.returncode, parse_trace(out))
        untimed = lambda text: re.sub(r" in [0-9.]+s", "", text.decode() if isinstance(text, bytes) else text)  # noqa: E731
        self.assertEqual((res.code, untimed(res.stdout)), (plain.returncode, untimed(plain.stdout)), res.stderr)
        self.assertIn("3 passed", res.stdout)
        check_wellformed(self, res)
        sites = res.sites
        for s in sites.values():
            self.assertEqual(os.path.realpath(s["file"]), os.path.realpath(self.path))
        # Each test is a task of its own; what it starts are its children, created at its lines.
        tests = {t["coro"]: tid for tid, t in res.tasks.items() if t["coro"].startswith("test_") and "<locals>" not in t["coro"]}
        self.assertEqual(sorted(tests), ["test_concurrent_adds", "test_lookup_times_out", "test_pipeline"])
        adds = self.created_at(res, "# GATHER")
        self.assertEqual(len(adds), 5)
        self.assertTrue(all(t["parent"] == tests["test_concurrent_adds"] for t in adds))
        consumer, = self.created_at(res, "# CONSUMER")
        self.assertEqual(consumer["parent"], tests["test_pipeline"])
        slow, = self.created_at(res, "# WAIT_FOR")  # wait_for's inner task (<= 3.11)
        self.assertEqual(slow["parent"], tests["test_lookup_times_out"])
        self.assertIn("sleep", self.kinds_at(res, "# STORE"))
        self.assertTrue({k for k in self.kinds_at(res, "# GET") if k.startswith("queue")}, self.kinds_at(res, "# GET"))
        (armed, fired), = [v for v in res.timeouts.values()]
        self.assertEqual((armed["state"], fired["state"], armed["task"]), ("armed", "fired", tests["test_lookup_times_out"]))
        self.assertEqual(sites[armed["site"]]["line"], self.line("# WAIT_FOR"))


@unittest.skipUnless(_has("uvloop"), "needs uvloop (Debian: python3-uvloop)")
class UvloopDeadlinesTest(FrameworkProgram):
    def test_parallel_wait_for_keep_their_own_outcomes(self):
        res = self.run_both("uvloop_deadlines.py")
        self.common(res)
        ones = [res.tasks[i] for i in sorted(res.by_coro("one"))]
        by_task = {}
        for ev in res.events:
            if ev.get("type") == "timeout":
                by_task.setdefault(ev["task"], []).append(ev["state"])
        self.assertEqual(by_task[ones[0]["id"]], ["armed", "cleared"])
        self.assertEqual(by_task[ones[1]["id"]], ["armed", "fired"])
        self.assertEqual(by_task[ones[2]["id"]], ["armed", "cleared"])
        fired = [ev for ev in res.events if ev.get("type") == "timeout" and ev["state"] == "fired"][0]
        cancels = [c for c in res.cancels if c.get("cause") == "timeout"]
        self.assertEqual([c.get("timeout") for c in cancels], [fired["id"]])
        self.assertEqual(res.sites[cancels[0]["site"]]["line"], self.line("# WAIT_FOR"))
        later = self.created_at(res, "# LATER")[0]
        by_callback = [c for c in res.cancels if c["task"] == later["id"]]
        self.assertEqual(len(by_callback), 1)
        self.assertIsNone(by_callback[0]["site"], "a loop callback asked: no user line")


@unittest.skipUnless(_has("aiohttp"), "needs aiohttp (Debian: python3-aiohttp)")
class AiohttpTest(FrameworkProgram):
    def test_aiohttp_server_and_client_with_semaphore(self):
        res = self.run_both("aiohttp_app.py")
        self.common(res)
        self.assertIn("semaphore", self.kinds_at(res, "# SEMAPHORE"))
        get = self.kinds_at(res, "# GET") | self.kinds_at(res, "# BODY")
        self.assertTrue({k for k in get if k.startswith("io:")}, get)
        self.assertTrue(self.kinds_at(res, "# HANDLER_SLEEP") <= {"sleep"}, self.kinds_at(res, "# HANDLER_SLEEP"))
        main = res.tasks[res.by_coro("main")[0]]
        fetches = self.created_at(res, "# FANOUT")
        self.assertEqual(len(fetches), 8)
        self.assertTrue(all(t["parent"] == main["id"] for t in fetches))
        # The server's connection tasks wait for each next request as network reads, and on
        # each request's handler task as a task.
        conns = res.by_coro("RequestHandler.start")
        self.assertTrue(conns)
        ons = [on for tid in conns for on in res.ons(tid)]
        self.assertIn({"kind": "io", "op": "read"}, ons)
        self.assertTrue(any(on.get("kind") == "task" for on in ons), ons)
        self.assertNotIn({"kind": "future"}, ons)


@unittest.skipUnless(_has("anyio"), "needs anyio (Debian: python3-anyio)")
class AnyioTest(FrameworkProgram):
    def test_task_group_children_and_deadlines(self):
        res = self.run_both("anyio_app.py")
        self.common(res)
        main = res.tasks[res.by_coro("main")[0]]
        children = self.created_at(res, "# START_SOON")
        self.assertEqual(len(children), 3)
        self.assertTrue(all(t["parent"] == main["id"] for t in children))
        move_on = self.line("# MOVE_ON")
        armed = [ev for ev in res.events if ev.get("type") == "timeout" and ev["state"] == "armed"]
        self.assertEqual(sorted(res.sites[ev["site"]]["line"] for ev in armed),
                         [move_on] * 3 + [self.line("# FAIL_AFTER")])
        states = {}
        for ev in res.events:
            if ev.get("type") == "timeout" and ev["state"] != "armed":
                states[ev["id"]] = ev["state"]
        fired = sorted(i for i, st in states.items() if st == "fired")
        self.assertEqual(len(fired), 3)
        self.assertEqual(list(states.values()).count("cleared"), 1)
        by_timeout = sorted(c["timeout"] for c in res.cancels if c.get("cause") == "timeout")
        self.assertEqual(by_timeout, fired, res.cancels)
        for c in res.cancels:
            self.assertEqual(res.sites[c["site"]]["line"], move_on)
        self.assertIn("sleep", self.kinds_at(res, "# CHILD_SLEEP"))


class CrawlerTest(FrameworkProgram):
    def test_queue_based_crawler(self):
        res = self.run_both("crawler.py")
        self.common(res)
        self.assertIn("queue:get", self.kinds_at(res, "# QUEUE_GET"))
        self.assertIn("io:connect", self.kinds_at(res, "# CONNECT"))
        self.assertIn("io:read", self.kinds_at(res, "# READ"))
        self.assertIn("queue:join", self.kinds_at(res, "# JOIN"))
        main = res.tasks[res.by_coro("main")[0]]
        workers = self.created_at(res, "# WORKERS")
        self.assertEqual(len(workers), 3)
        self.assertTrue(all(t["parent"] == main["id"] for t in workers))
        cancel_line = self.line("# CANCEL")
        mine = [c for c in res.cancels if c["task"] in {w["id"] for w in workers}]
        self.assertEqual(len(mine), 3)
        self.assertTrue(all(res.sites[c["site"]]["line"] == cancel_line and c["by"] == main["id"] for c in mine))


if __name__ == "__main__":
    unittest.main()
