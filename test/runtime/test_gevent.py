"""gevent programs under the tracer: spawns, sleeps, joins, socket I/O, timeouts, kills, pools.

Skipped where gevent is not importable (it is packaged for the system Python only)."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tracehelp import EXAMPLES, _env, parse_trace, Result, run_plain, run_traced, wait_for_exit_line  # noqa: E402
from test_greenlet import assert_no_overlap, importable, line_of  # noqa: E402

PROGRAMS = os.path.join(HERE, "programs")
S = 1000000  # microseconds


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("server exited early with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not listen on %d" % port)


def run_echo(port, clients, rounds, traced, tmp):
    """Serve examples/09 (traced or not), drive it with examples/10, stop it with SIGTERM."""
    server = os.path.join(EXAMPLES, "09_gevent_echo_server.py")
    trace = os.path.join(tmp, "echo-%d.jsonl" % port)
    cmd = [sys.executable] + (["-m", "asynctrace", "-o", trace] if traced else []) + [server, str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(None), cwd=tmp)
    try:
        # The probe connection of wait_listening is one more (empty) connection for the server.
        wait_listening(port, proc)
        cl = subprocess.run([sys.executable, os.path.join(EXAMPLES, "10_threaded_clients.py"), str(port),
                             str(clients), str(rounds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True,
                            timeout=60)
        time.sleep(0.2)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    events = wait_for_exit_line(trace) if traced and os.path.exists(trace) else []
    return cl, Result(out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), proc.returncode, events)


@unittest.skipUnless(importable("gevent"), "gevent is not installed for this Python")
class GeventTest(unittest.TestCase):
    def test_example_08_spawn_sleep_joinall(self):
        prog = os.path.join(EXAMPLES, "08_gevent_spawn.py")
        res = run_traced(prog)
        plain = run_plain(prog)
        self.assertEqual(res.code, 0, res.stderr)
        self.assertEqual(res.stdout, plain.stdout)
        main, foo, bar = res.by_name("main"), res.by_name("foo"), res.by_name("bar")
        # The hub is plumbing: only the three greenlets are tasks.
        self.assertEqual(sorted(res.tasks), sorted([main, foo, bar]))
        self.assertEqual(res.tasks[foo]["parent"], main)
        self.assertEqual(res.tasks[bar]["parent"], main)
        self.assertEqual(res.line(res.tasks[foo]["site"]), 17)
        self.assertEqual(res.line(res.tasks[bar]["site"]), 18)
        self.assertEqual(res.ons(foo), [{"kind": "sleep", "delay": 2.0}])
        self.assertEqual(res.await_lines(foo), [7])
        self.assertEqual(res.ons(bar), [{"kind": "sleep", "delay": 1.0}])
        self.assertEqual(res.await_lines(bar), [13])
        # main waits in joinall at line 19 for both.
        self.assertEqual(res.ons(main)[0], {"kind": "gather", "tasks": [foo, bar]})
        self.assertEqual(set(res.await_lines(main)), {19})
        # They overlap, and each resumes after its sleep.
        f0, f1 = res.span(foo)
        b0, b1 = res.span(bar)
        self.assertLess(f0, b1)
        self.assertLess(b0, f1)
        fs, bs = res.steps_by_task[foo], res.steps_by_task[bar]
        self.assertGreaterEqual(fs[1]["ts"] - (fs[0]["ts"] + fs[0]["dur"]), 1.9 * S)
        self.assertGreaterEqual(bs[1]["ts"] - (bs[0]["ts"] + bs[0]["dur"]), 0.9 * S)
        self.assertLess(bs[1]["ts"] - (bs[0]["ts"] + bs[0]["dur"]), 1.9 * S)
        self.assertEqual(res.ends[foo]["state"], "done")
        self.assertEqual(res.ends[bar]["state"], "done")
        self.assertEqual(res.ends[main]["state"], "done")
        assert_no_overlap(self, res, [main, foo, bar])

    def test_timeouts_fired_and_cleared(self):
        prog = os.path.join(PROGRAMS, "gevent_timeouts.py")
        res = run_traced(prog)
        plain = run_plain(prog)
        self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout), res.stderr)
        self.assertEqual(res.stdout.strip(), "timed out fast")
        a, b = sorted(res.by_coro("guarded"))
        with_line = line_of(prog, "with Timeout(secs):")
        by_task = {}
        for tid, evs in res.timeouts.items():
            armed = evs[0]
            self.assertEqual(armed["state"], "armed")
            self.assertEqual(res.line(armed["site"]), with_line)
            by_task[armed["task"]] = (tid, armed["delay"], [e["state"] for e in evs])
        self.assertEqual(by_task[a][1:], (0.05, ["armed", "fired"]))
        self.assertEqual(by_task[b][1:], (1.0, ["armed", "cleared"]))
        cancels = [c for c in res.cancels if c["task"] == a]
        self.assertEqual(len(cancels), 1)
        self.assertEqual(cancels[0]["cause"], "timeout")
        self.assertEqual(cancels[0]["timeout"], by_task[a][0])
        # It fired about 50 ms after it was armed, in the sleep at slow()'s line.
        fired = [e for e in res.timeouts[by_task[a][0]] if e["state"] == "fired"][0]
        self.assertGreaterEqual(fired["ts"] - res.timeouts[by_task[a][0]][0]["ts"], 45000)
        self.assertEqual(res.await_lines(a), [line_of(prog, "gevent.sleep(5)")])
        self.assertEqual(res.ends[a]["state"], "done")  # guarded() caught the Timeout
        self.assertEqual(res.ends[b]["state"], "done")

    def test_kill_failure_spawn_later_pool_exit_code(self):
        prog = os.path.join(PROGRAMS, "gevent_lifecycle.py")
        res = run_traced(prog)
        plain = run_plain(prog)
        self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout), res.stderr)
        self.assertEqual(res.code, 3)
        self.assertEqual(res.exit["code"], 3)
        main = res.by_name("main")
        # kill: a cancel with cause "kill" from main at the kill() line; ends cancelled.
        forever = res.by_name("forever")
        kills = [c for c in res.cancels if c["task"] == forever]
        self.assertEqual(len(kills), 1)
        self.assertEqual((kills[0]["cause"], kills[0]["by"]), ("kill", main))
        self.assertEqual(res.line(kills[0]["site"]), line_of(prog, "k.kill()"))
        self.assertEqual(res.ends[forever]["state"], "cancelled")
        self.assertEqual(res.ends[forever]["error"]["type"], "GreenletExit")
        self.assertEqual(res.await_lines(forever), [line_of(prog, "gevent.sleep(0.5)")])
        self.assertIn({"kind": "task", "task": forever}, res.ons(main))
        # A failing greenlet: the exception and the line that raised it.
        boom = res.by_name("boom")
        self.assertEqual(res.ends[boom]["state"], "failed")
        self.assertEqual(res.ends[boom]["error"]["type"], "ValueError")
        self.assertEqual(res.ends[boom]["error"]["message"], "boom 7")
        self.assertEqual(res.line(res.ends[boom]["error"]["site"]), line_of(prog, "raise ValueError"))
        self.assertIn({"kind": "task", "task": boom}, res.ons(main))
        # spawn_later: created at its line, first run 0.1 s later.
        later_line = line_of(prog, "spawn_later(")
        works = res.by_coro("work")
        later = [t for t in works if res.line(res.tasks[t]["site"]) == later_line]
        self.assertEqual(len(later), 1)
        later = later[0]
        self.assertGreaterEqual(res.steps_by_task[later][0]["ts"] - res.tasks[later]["ts"], 90000)
        self.assertEqual(res.ons(later), [{"kind": "sleep", "delay": 0.06}])
        # The pool: four work greenlets spawned for pool.map, at the map line, two at a time.
        map_line = line_of(prog, "pool.map(")
        pooled = [t for t in works if res.line(res.tasks[t]["site"]) == map_line]
        self.assertEqual(len(pooled), 4)
        for t in pooled:
            self.assertEqual(res.ends[t]["state"], "done")
        assert_no_overlap(self, res, list(res.tasks))
        self.assertEqual(set(res.tasks), set(res.ends))

    def test_what_greenlets_wait_on(self):
        prog = os.path.join(PROGRAMS, "gevent_sync.py")
        res = run_traced(prog)
        plain = run_plain(prog)
        self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout), res.stderr)
        # Named by the program after spawn: a name line follows the task line.
        waiter = res.by_name("the-waiter")
        self.assertEqual(res.tasks[waiter]["coro"], "waiter")
        holder, reader, main = res.by_name("holder"), res.by_name("reader"), res.by_name("main")
        # Waits on objects name them (`obj`, declared by an `obj` line): shown here by class.
        objs = dict((e["id"], e) for e in res.events if e["type"] == "obj")
        for e in objs.values():
            # (The runtime sees the waits on gevent's objects, not who sets or feeds them; but for
            # its locks, whose holdings are recorded: see test_lock_holders.)
            partial = e["class"] != "gevent.lock.BoundedSemaphore"
            self.assertEqual((e["task"], e["site"], e.get("partial", False)), (None, None, partial))

        def named(on):
            on = dict(on)
            if "obj" in on:
                on["obj"] = objs[on["obj"]]["class"]
            return on
        pairs = lambda t: [(named(o), ln) for o, ln in zip(res.ons(t), res.await_lines(t))]  # noqa: E731
        self.assertEqual(pairs(waiter), [
            ({"kind": "event", "obj": "gevent.event.Event"}, line_of(prog, "ready.wait()")),
            ({"kind": "yield"}, line_of(prog, "gevent.sleep(0)")),
            ({"kind": "semaphore", "obj": "gevent.lock.BoundedSemaphore"}, line_of(prog, "    with lock:")),
            ({"kind": "sleep", "delay": 0.01}, line_of(prog, "gevent.sleep(0.01)")),
        ])
        self.assertEqual(pairs(reader), [({"kind": "future", "obj": "gevent.event.AsyncResult"},
                                          line_of(prog, "return result.get()"))])
        self.assertEqual(pairs(holder), [({"kind": "sleep", "delay": 0.02}, line_of(prog, "gevent.sleep(0.02)"))])
        self.assertEqual(pairs(main)[0], ({"kind": "gather", "tasks": sorted([waiter, holder, reader])},
                                          line_of(prog, "group.join()")))
        # Queue.get(timeout=...) arms a gevent Timeout that fires: main waited on the queue.
        self.assertEqual(pairs(main)[1], ({"kind": "queue", "op": "get", "obj": "gevent.queue.Queue"},
                                          line_of(prog, "empty.get(timeout=0.01)")))
        # The first wait of each greenlet on an event, a result or a queue is a `use` line.
        uses = sorted((e["task"], objs[e["obj"]]["class"], e["op"], res.line(e["site"]))
                      for e in res.events if e["type"] == "use")
        self.assertEqual(uses, sorted([(waiter, "gevent.event.Event", "wait", line_of(prog, "ready.wait()")),
                                       (reader, "gevent.event.AsyncResult", "wait", line_of(prog, "return result.get()")),
                                       (main, "gevent.queue.Queue", "get", line_of(prog, "empty.get(timeout=0.01)"))]))
        (tid, evs), = res.timeouts.items()
        self.assertEqual([e["state"] for e in evs], ["armed", "fired"])
        self.assertEqual((evs[0]["task"], evs[0]["delay"]), (main, 0.01))
        self.assertEqual(res.line(evs[0]["site"]), line_of(prog, "empty.get(timeout=0.01)"))
        # The lock the waiter waited on: who held it (holder, from its `with lock:` line) and,
        # from then on, every holding of it; nothing for the uncontended acquires before.
        lock_id = [i for i, e in objs.items() if e["class"] == "gevent.lock.BoundedSemaphore"]
        holds = [(e["task"], e["state"], res.line(e["site"])) for e in res.events if e["type"] == "hold"]
        in_holder = line_of(prog, "ready.set()") - 1  # (its `with lock:`)
        in_waiter = line_of(prog, "    with lock:")
        self.assertEqual(holds, [(holder, "acquired", in_holder), (holder, "released", in_holder),
                                 (waiter, "acquired", in_waiter), (waiter, "released", in_waiter)])
        self.assertEqual({e["obj"] for e in res.events if e["type"] == "hold"}, set(lock_id))

    def test_join_cycle_and_waits_nobody_can_end(self):
        """Joins name their greenlet whatever the receiver expression (`box['b'].join()`),
        `joinall` names all four, an AsyncResult and an Event waited on have an object id; with
        compiled gevent (read from the call) and pure-Python gevent (read from gevent's frames)."""
        prog = os.path.join(PROGRAMS, "gevent_stuck.py")
        plain = run_plain(prog)
        for mode, env in (("compiled", None), ("pure-Python", {"PURE_PYTHON": "1"})):
            with self.subTest(mode=mode):
                res = run_traced(prog, env=env)
                self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout), res.stderr)
                main, a, b, c, d = (res.by_name(n) for n in ("main", "a", "b", "c", "d"))
                objs = dict((e["id"], e) for e in res.events if e["type"] == "obj")
                pairs = lambda t: list(zip(res.ons(t), res.await_lines(t)))  # noqa: E731
                self.assertEqual(pairs(main), [({"kind": "gather", "tasks": [a, b, c, d]},
                                                line_of(prog, "gevent.joinall("))])
                self.assertEqual(pairs(a)[-1], ({"kind": "task", "task": b}, line_of(prog, "box['b'].join()")))
                self.assertEqual(pairs(b)[-1], ({"kind": "task", "task": a}, line_of(prog, "box['a'].join()")))
                (on_c, line_c), = pairs(c)
                (on_d, line_d), = pairs(d)
                self.assertEqual((on_c["kind"], line_c), ("future", line_of(prog, "ar.get()")))
                self.assertEqual((on_d["kind"], line_d), ("event", line_of(prog, "ev.wait()")))
                self.assertEqual(objs[on_c["obj"]]["class"], "gevent.event.AsyncResult")
                self.assertEqual(objs[on_d["obj"]]["class"], "gevent.event.Event")
                self.assertEqual((objs[on_c["obj"]]["kind"], objs[on_d["obj"]]["kind"]), ("future", "event"))
                uses = sorted((e["obj"], e["task"], e["op"]) for e in res.events if e["type"] == "use")
                self.assertEqual(uses, sorted([(on_c["obj"], c, "wait"), (on_d["obj"], d, "wait")]))
                # All four are still waiting when main returns: ended at exit, never done.
                for t in (a, b, c, d):
                    self.assertEqual(res.ends[t]["state"], "cancelled")

    def test_pure_python_gevent_names_any_receiver(self):
        """With gevent's Python code, the joined greenlet and the waited object are read from
        gevent's own frames: a receiver the call cannot be decoded for (a call) is named too."""
        src = ("import gevent\n"
               "from gevent.event import Event\n"
               "gs = {}\n"
               "ev = Event()\n"
               "def pick(k):\n"
               "    return gs[k]\n"
               "def events():\n"
               "    return [ev]\n"
               "def worker():\n"
               "    gevent.sleep(0.01)\n"
               "def joiner():\n"
               "    pick('w').join()\n"
               "    events()[0].wait(timeout=0.01)\n"
               "gs['w'] = gevent.spawn(worker)\n"
               "j = gevent.spawn(joiner)\n"
               "gevent.wait([j] + [gs['w']])\n"
               "print('ok')\n")
        res = run_traced(src, env={"PURE_PYTHON": "1"})
        self.assertEqual((res.code, res.stdout), (0, "ok\n"), res.stderr)
        main, w, j = res.by_name("main"), res.by_name("worker"), res.by_name("joiner")
        # (gevent.wait wakes once per greenlet that ends.)
        self.assertEqual(res.ons(main)[0], {"kind": "gather", "tasks": [j, w]})
        on_join, on_wait = res.ons(j)
        self.assertEqual(on_join, {"kind": "task", "task": w})
        self.assertEqual(on_wait["kind"], "event")
        self.assertIn("obj", on_wait)

    def test_joinall_of_many_lists_those_still_running(self):
        """joinall over a list computed in the call (read from gevent), of more greenlets than a
        step lists: the first 100 still running, `more` for the rest; each wake lists only those
        it still waits on (a trace that grows with greenlets x wakes would be quadratic)."""
        src = ("import gevent\n"
               "def work(i):\n"
               "    gevent.sleep(0.001 * (i % 10))\n"
               "gevent.joinall([gevent.spawn(work, i) for i in range(150)])\n"
               "print('ok')\n")
        res = run_traced(src)
        self.assertEqual((res.code, res.stdout), (0, "ok\n"), res.stderr)
        main = res.by_name("main")
        works = sorted(t for t in res.tasks if t != main)
        ons = res.ons(main)
        self.assertEqual(ons[0], {"kind": "gather", "tasks": works[:100], "more": 50})
        for s in res.steps_by_task[main][1:]:
            on = s["await"]["on"] if "await" in s else None
            if on is None:
                break
            # Only greenlets not ended when main suspended again; fewer and fewer.
            self.assertEqual(on["kind"], "gather", on)
            for t in on["tasks"]:
                self.assertGreaterEqual(res.ends[t]["ts"], s["ts"] + s["dur"])
            self.assertLessEqual(len(on["tasks"]) + on.get("more", 0), 150)
        self.assertTrue(all(res.ends[t]["state"] == "done" for t in works))

    def test_joinall_in_a_loop_names_each_batch(self):
        """The same joinall line called again over new greenlets (a loop): each call names its own."""
        src = ("import gevent\n"
               "def work(i):\n"
               "    gevent.sleep(0.001 * (i % 3))\n"
               "for batch in range(3):\n"
               "    gevent.joinall([gevent.spawn(work, i) for i in range(4)])\n"
               "print('ok')\n")
        res = run_traced(src)
        self.assertEqual((res.code, res.stdout), (0, "ok\n"), res.stderr)
        main = res.by_name("main")
        works = sorted(t for t in res.tasks if t != main)
        batches = [works[0:4], works[4:8], works[8:12]]
        firsts = []
        for on in res.ons(main):
            self.assertEqual(on["kind"], "gather", on)
            if on["tasks"] and (not firsts or not set(on["tasks"]) <= set(firsts[-1])):
                firsts.append(on["tasks"])
        self.assertEqual(firsts, batches)

    def test_spawn_raw_and_its_failure(self):
        src = ("import gevent\n"
               "def f(x):\n"
               "    gevent.sleep(0.01)\n"
               "    raise RuntimeError('raw fail %d' % x)\n"
               "g = gevent.spawn_raw(f, 1)\n"
               "gevent.sleep(0.05)\n"
               "print('after', g.dead)\n")
        res = run_traced(src)
        self.assertEqual((res.code, res.stdout.strip()), (0, "after True"), res.stderr)
        self.assertIn("raw fail 1", res.stderr)  # gevent still reports it as it would
        f = res.by_name("f")
        self.assertEqual(res.tasks[f]["parent"], res.by_name("main"))
        self.assertEqual(res.line(res.tasks[f]["site"]), 5)
        end = res.ends[f]
        self.assertEqual((end["state"], end["error"]["type"], end["error"]["message"]),
                         ("failed", "RuntimeError", "raw fail 1"))
        self.assertEqual(res.line(end["error"]["site"]), 4)

    def test_killed_before_it_ever_ran(self):
        # gevent's kill of a greenlet that never ran neither switches nor calls Python code: it
        # is noticed at the spawner's next switch, and ends there, not at the end of the run.
        src = ("import gevent\n"
               "def work(n):\n"
               "    gevent.sleep(0.01)\n"
               "a = gevent.spawn(work, 1)\n"
               "b = gevent.spawn(work, 2)\n"
               "a.kill()\n"
               "print('killed', a.dead, b.dead)\n"
               "gevent.sleep(0.05)\n"
               "gevent.sleep(0.3)\n"
               "print('done', b.successful())\n")
        res = run_traced(src)
        plain = run_plain(src)
        self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout), res.stderr)
        self.assertEqual(res.stdout, "killed True False\ndone True\n")
        works = res.by_coro("work")
        self.assertEqual(len(works), 2)
        a, b = sorted(works)
        self.assertNotIn(a, res.steps_by_task)  # it never ran
        self.assertEqual((res.ends[a]["state"], res.ends[a]["error"]["type"]), ("cancelled", "GreenletExit"))
        self.assertEqual([(c["cause"], c["by"]) for c in res.cancels if c["task"] == a], [("kill", None)])
        # Ended at main's first switch after the kill, long before the run's end.
        self.assertLess(res.ends[a]["ts"] - res.tasks[a]["ts"], 0.05 * S)
        self.assertLess(res.ends[a]["ts"], res.exit["ts"] - 0.2 * S)
        self.assertEqual(res.ends[b]["state"], "done")
        self.assertEqual([c for c in res.cancels if c["task"] == b], [])

    def test_monkey_patched_threads_are_greenlets(self):
        src = ("from gevent import monkey; monkey.patch_all()\n"
               "import threading, time\n"
               "def work(n):\n"
               "    time.sleep(0.01 * n)\n"
               "    print('thread', n)\n"
               "ts = [threading.Thread(target=work, args=(i,)) for i in range(1, 4)]\n"
               "for t in ts: t.start()\n"
               "for t in ts: t.join()\n"
               "print('done')\n")
        res = run_traced(src)
        plain = run_plain(src)
        self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout), res.stderr)
        main = res.by_name("main")
        for n in (1, 2, 3):
            t = res.by_name("Thread-%d (work)" % n)
            self.assertEqual((res.tasks[t]["coro"], res.tasks[t]["parent"]), ("work", main))
            self.assertEqual(res.line(res.tasks[t]["site"]), 7)
            self.assertEqual(list(zip(res.ons(t), res.await_lines(t))), [({"kind": "sleep", "delay": 0.01 * n}, 4)])
            self.assertEqual(res.ends[t]["state"], "done")

    def test_uncaught_error_in_main(self):
        src = ("import gevent\n"
               "def bg():\n"
               "    gevent.sleep(10)\n"
               "g = gevent.spawn(bg)\n"
               "gevent.sleep(0.01)\n"
               "raise SystemError('main gave up')\n")
        res = run_traced(src)
        plain = run_plain(src)
        self.assertEqual((res.code, res.stdout), (plain.code, plain.stdout))
        self.assertEqual(res.code, 1)
        self.assertIn("SystemError: main gave up", res.stderr)
        main, bg = res.by_name("main"), res.by_name("bg")
        err = res.ends[main]["error"]
        self.assertEqual((res.ends[main]["state"], err["type"], err["message"]), ("failed", "SystemError", "main gave up"))
        self.assertEqual(res.line(err["site"]), 6)
        # The greenlet still sleeping when the program died is closed as cancelled by shutdown.
        self.assertEqual(res.ends[bg]["state"], "cancelled")
        self.assertTrue(any(c["task"] == bg and c["cause"] == "shutdown" for c in res.cancels))
        self.assertEqual(res.exit["code"], 1)

    def test_block_names_the_blocking_line(self):
        prog = os.path.join(PROGRAMS, "gevent_block.py")
        res = run_traced(prog)
        self.assertEqual((res.code, res.stdout.strip()), (0, "done"), res.stderr)
        hog = res.by_name("hog")
        blocks = [b for b in res.blocks if b["task"] == hog]
        self.assertEqual(len(blocks), 1)
        b = blocks[0]
        self.assertGreaterEqual(b["dur"], 290000)
        self.assertEqual(res.line(b["site"]), line_of(prog, "time.sleep(0.3)"))
        # The ticker was held up meanwhile: its next step starts after the hog's step ended.
        ticker = res.by_name("ticker")
        after = [s for s in res.steps_by_task[ticker] if s["ts"] >= b["ts"]]
        self.assertTrue(after and after[0]["ts"] >= b["ts"] + b["dur"])

    def test_socket_io_waits(self):
        prog = os.path.join(PROGRAMS, "gevent_io.py")
        res = run_traced(prog)
        self.assertEqual(res.code, 0, res.stderr)
        self.assertEqual(res.stdout.strip(), "received %d" % (8 * 1024 * 1024))
        serve, fetch = res.by_name("serve"), res.by_name("fetch")
        waits = {}
        for tid in (serve, fetch):
            for on, line in zip(res.ons(tid), res.await_lines(tid)):
                if on["kind"] == "io":
                    waits.setdefault((tid, on["op"]), set()).add(line)
        self.assertEqual(waits[(serve, "accept")], {line_of(prog, "listener.accept()")})
        self.assertEqual(waits[(serve, "send")], {line_of(prog, "conn.sendall(PAYLOAD)")})
        self.assertEqual(waits[(fetch, "connect")], {line_of(prog, "socket.create_connection")})
        self.assertEqual(waits[(fetch, "recv")], {line_of(prog, "c.recv(65536)")})
        self.assertIn({"kind": "yield"}, res.ons(fetch))

    def test_echo_server_one_greenlet_per_connection(self):
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="asynctrace-test-") as tmp:
            cl, res = run_echo(port, clients=8, rounds=3, traced=True, tmp=tmp)
            cl_plain, plain = run_echo(free_port(), clients=8, rounds=3, traced=False, tmp=tmp)
        self.assertEqual(cl.returncode, 0, cl.stderr)
        # Client threads print concurrently (lines may interleave): compare the replies received.
        replies = lambda s: sorted(re.findall(r"THREAD-\d+ \(CLIENT\) SAY HELLO \d", s))  # noqa: E731
        self.assertEqual(len(replies(cl.stdout)), 8 * 3)
        self.assertEqual(replies(cl.stdout), replies(cl_plain.stdout))
        strip = lambda s: sorted(re.sub(r":\d+ msg", ":PORT msg", s).split("\n"))  # noqa: E731
        self.assertEqual(strip(res.stdout), strip(plain.stdout))
        self.assertEqual(res.code, plain.code)
        server = os.path.join(EXAMPLES, "09_gevent_echo_server.py")
        main = res.by_name("main")
        talks = res.by_coro("talk")
        # 8 clients plus the readiness probe's connection.
        self.assertEqual(len(talks), 9)
        waited = 0
        for t in talks:
            self.assertEqual(res.tasks[t]["parent"], main)
            self.assertEqual(res.line(res.tasks[t]["site"]), line_of(server, "gevent.spawn(talk"))
            waits = set(zip(map(str, res.ons(t)), res.await_lines(t)))
            # Every suspension of a connection's greenlet is its recv (sends never had to wait).
            self.assertLessEqual(waits, {(str({"kind": "io", "op": "recv"}), line_of(server, "conn.recv(1024)"))})
            waited += bool(waits)
            self.assertEqual(res.ends[t]["state"], "done")
        # A connection whose data is already there when its greenlet first reads never waits
        # (common on a busy machine); most wait at least once.
        self.assertGreaterEqual(waited, 1)
        accept = {ln for on, ln in zip(res.ons(main), res.await_lines(main)) if on == {"kind": "io", "op": "accept"}}
        self.assertEqual(accept, {line_of(server, "s.accept()")})
        # The server was stopped by SIGTERM: the trace is complete up to its exit line.
        self.assertEqual(res.events[-1]["type"], "exit")


if __name__ == "__main__":
    unittest.main()
