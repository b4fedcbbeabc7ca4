"""trio programs (and anyio on its trio backend) are recorded through trio's instrument API: tasks
with their parent and start_soon line, what each step awaits, deadlines as timeouts, cancellations
with their cause and line, how each task ended, blocking steps. Traced, they print and exit as
untraced (uncaught errors, MultiError / ExceptionGroup output, KeyboardInterrupt, Ctrl-C).

trio is needed (Debian: python3-trio, python3-anyio): the tests skip on interpreters without it."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from tracehelp import HERE, _env, check_wellformed, line_of, parse_trace, run_plain, run_traced

PROGS = os.path.join(HERE, "programs")


def _has(*mods):
    try:
        return subprocess.run([sys.executable, "-c", "import " + ", ".join(mods)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    except Exception:
        return False


HAS_TRIO = _has("trio")
NEEDS_TRIO = "needs trio (Debian: python3-trio, for /usr/bin/python3)"


class TrioCase(unittest.TestCase):
    maxDiff = 4000

    def run_both(self, name, args=(), env=None):
        path = os.path.join(PROGS, name)
        with open(path, encoding="utf-8") as f:
            self.source = f.read()
        self.path = path
        plain = run_plain(path, args, timeout=120, env=env)
        res = run_traced(path, args, timeout=120, env=env)
        self.assertEqual(res.code, plain.code, res.stderr)
        self.assertEqual(res.stdout, plain.stdout)
        self.assertEqual(res.stderr, plain.stderr)
        check_wellformed(self, res)
        return res

    def line(self, marker):
        return line_of(self.source, marker)

    def at(self, res, sid):
        return None if sid is None else res.sites[sid]["line"]

    def ons_at(self, res, marker, tid=None):
        """What the steps suspended at the marked line wait on ("kind" or "kind:op")."""
        ln = self.line(marker)
        out = set()
        for ev in res.events:
            if ev.get("type") == "step" and "await" in ev and ev["await"]["stack"] and (tid is None or ev["task"] == tid):
                if self.at(res, ev["await"]["stack"][-1]) == ln:
                    on = ev["await"]["on"]
                    out.add(on["kind"] + (":" + on["op"] if "op" in on else ""))
        return out

    def created_at(self, res, marker):
        ln = self.line(marker)
        return [t for t in res.tasks.values() if self.at(res, t.get("site")) == ln]

    def timeouts_at(self, res, marker):
        """[(states...)] of each deadline armed at the marked line."""
        ln = self.line(marker)
        ids = [i for i, evs in res.timeouts.items() if self.at(res, evs[0].get("site")) == ln]
        return {i: [e["state"] for e in res.timeouts[i]] for i in ids}

    def common(self, res):
        """What every trio trace must say: one trio loop, opened and closed; every line of the
        program's; each deadline armed once and fired or cleared once; every task ends."""
        trio_loops = [evs for evs in res.loops.values() if evs[0].get("class") == "trio"]
        self.assertEqual(len(trio_loops), 1, res.loops)
        self.assertEqual([e["state"] for e in trio_loops[0]], ["running", "closed"])
        self.assertNotIn("partial", trio_loops[0][0], "trio 0.22 is fully hooked")
        for sid, site in res.sites.items():
            self.assertEqual(os.path.realpath(site["file"]), os.path.realpath(self.path), site)
        for tid, evs in res.timeouts.items():
            self.assertEqual(evs[0]["state"], "armed", evs)
            self.assertIsNotNone(evs[0]["site"], "a deadline trio set for itself: %r" % evs)
            self.assertEqual(len(evs), 2, evs)
            self.assertIn(evs[1]["state"], ("fired", "cleared"))
        for t in res.tasks.values():
            self.assertEqual(t["kind"], "trio", t)
        self.assertEqual(set(res.tasks), set(res.ends), "every task ends")
        internal = [t for t in res.tasks.values() if t.get("internal")]
        self.assertTrue(internal, "trio's own init task is declared internal")
        run_line = self.line("# RUN")
        main = [t for t in res.tasks.values() if t["coro"] == "main"]
        self.assertEqual(len(main), 1)
        main = main[0]
        self.assertIsNone(main["parent"])
        self.assertEqual(self.at(res, main["site"]), run_line, "the main task is created at trio.run's line")
        for c in res.cancels:
            self.assertNotEqual(self.at(res, c["site"]), run_line, "a cancellation blamed on the run line")
        return main


@unittest.skipUnless(HAS_TRIO, NEEDS_TRIO)
class TrioProgramTest(TrioCase):
    def test_nursery_channel_lock_event_sockets_deadlines(self):
        res = self.run_both("trio_app.py")
        main = self.common(res)
        mid = main["id"]
        # Tasks: parents (the nursery's owner) and start_soon lines.
        (producer,) = self.created_at(res, "# START_PRODUCER")
        consumers = self.created_at(res, "# START_CONSUMER")
        self.assertEqual(sorted(t["name"] for t in consumers), ["c1", "c2"])
        for t in [producer] + consumers:
            self.assertEqual(t["parent"], mid)
            self.assertEqual(res.ends[t["id"]]["state"], "done")
        (client,) = self.created_at(res, "# START_CLIENT")
        self.assertEqual((client["name"], client["parent"]), ("client", mid))
        (server,) = self.created_at(res, "# SERVE_TCP")
        self.assertEqual((server["coro"], server["parent"]), ("serve_tcp", mid))
        # What the steps wait on, at the program's own lines.
        self.assertEqual(self.ons_at(res, "# SEND"), {"queue:put"})
        self.assertEqual(self.ons_at(res, "# RECEIVE") - {"yield"}, {"queue:get"})
        self.assertEqual(self.ons_at(res, "# LOCK"), {"lock"})
        self.assertEqual(self.ons_at(res, "# HOLD_LOCK"), {"sleep"})
        self.assertEqual(self.ons_at(res, "# PRODUCER_SLEEP"), {"sleep"})
        delays = {ev["await"]["on"].get("delay") for ev in res.steps_by_task[producer["id"]]
                  if "await" in ev and ev["await"]["on"]["kind"] == "sleep"}
        self.assertEqual(delays, {0.01})
        nursery = self.ons_at(res, "# NURSERY", mid)
        self.assertTrue(nursery & {"gather", "task"}, nursery)
        gathers = [ev["await"]["on"] for ev in res.steps_by_task[mid]
                   if "await" in ev and ev["await"]["on"]["kind"] == "gather"]
        self.assertIn(sorted([producer["id"]] + [t["id"] for t in consumers]), [sorted(g["tasks"]) for g in gathers])
        self.assertEqual(self.ons_at(res, "# EVENT_WAIT"), {"event"})
        self.assertIn("io:connect", self.ons_at(res, "# CONNECT"))
        self.assertIn("io:read", self.ons_at(res, "# CLIENT_RECV"))
        self.assertIn("io:read", self.ons_at(res, "# SERVER_RECV"))
        self.assertEqual(self.ons_at(res, "# FOREVER"), {"sleep"})
        # The server's connection handler runs in a task under serve_tcp's.
        handlers = [t for t in res.tasks.values() if self.ons_at(res, "# SERVER_RECV", t["id"])]
        self.assertEqual(len(handlers), 1)
        self.assertTrue(self._descends(res, handlers[0]["id"], server["id"]))
        # Deadlines: fired, cleared, failed.
        (fires,) = self.timeouts_at(res, "# MOVE_ON_FIRES").items()
        self.assertEqual(fires[1], ["armed", "fired"])
        self.assertEqual(list(self.timeouts_at(res, "# MOVE_ON_CLEARED").values()), [["armed", "cleared"]])
        self.assertEqual(list(self.timeouts_at(res, "# CLIENT_DEADLINE").values()), [["armed", "cleared"]])
        (fails,) = self.timeouts_at(res, "# FAIL_AFTER").items()
        self.assertEqual(fails[1], ["armed", "fired"])
        for tid, delay in ((fires[0], 0.05), (fails[0], 0.05)):
            armed = res.timeouts[tid][0]
            self.assertEqual(armed["task"], mid)
            self.assertTrue(0 < armed["delay"] <= delay, armed)
            (cancel,) = [c for c in res.cancels if c.get("timeout") == tid]
            self.assertEqual((cancel["task"], cancel["cause"], cancel["by"], cancel["site"]),
                             (mid, "timeout", None, armed["site"]))
        self.assertEqual(self.ons_at(res, "# LONG_SLEEP"), {"sleep"})
        # A task cancelled by its nursery's scope: who, where, and how it ended.
        (victim,) = self.created_at(res, "# START_VICTIM")
        self.assertEqual(victim["name"], "victim")
        (vc,) = [c for c in res.cancels if c["task"] == victim["id"]]
        self.assertEqual((vc["by"], vc["cause"], self.at(res, vc["site"])), (mid, "cancel", self.line("# CANCEL_VICTIM")))
        self.assertEqual(res.ends[victim["id"]]["state"], "cancelled")
        self.assertEqual(self.at(res, res.ends[victim["id"]]["error"]["site"]), self.line("# FOREVER"))
        # Stopping the server: its tasks are cancelled by the program's line, and say so.
        stop = self.line("# STOP_SERVER")
        self.assertEqual(res.ends[server["id"]]["state"], "cancelled")
        self.assertIn((server["id"], mid, stop), [(c["task"], c["by"], self.at(res, c["site"])) for c in res.cancels])
        self.assertEqual(res.ends[mid]["state"], "done")
        # Steps: every suspension of the main task is at one of its own lines.
        self.assertTrue(all(ln is not None for ln in res.await_lines(mid)))
        self.assertEqual(res.exit["code"], 0)

    def _descends(self, res, tid, ancestor):
        seen = set()
        while tid is not None and tid not in seen:
            if tid == ancestor:
                return True
            seen.add(tid)
            tid = res.tasks[tid].get("parent")
        return False

    def test_failing_nursery_multierror_same_output(self):
        res = self.run_both("trio_app.py", ["fail"])
        main = self.common(res)
        self.assertEqual(res.code, 1)
        self.assertIn("ValueError('boom'), ValueError('boom')", res.stderr)
        booms = [t for t in res.tasks.values() if t["coro"].endswith("boom")]
        self.assertEqual(len(booms), 2)
        raise_line = self.line("# RAISE")
        for t in booms:
            end = res.ends[t["id"]]
            self.assertEqual((end["state"], end["error"]["type"], self.at(res, end["error"]["site"])),
                             ("failed", "ValueError", raise_line))
        end = res.ends[main["id"]]
        self.assertEqual(end["state"], "failed")
        self.assertIn("MultiError", end["error"]["type"])
        self.assertIn("MultiError", res.exit["error"]["type"])
        # The failure cancels the nursery's body: the main task, from the nursery's line.
        mc = [c for c in res.cancels if c["task"] == main["id"] and c["cause"] == "cancel"
              and self.at(res, c["site"]) in (self.line("# FAILING_NURSERY"), self.line("# BEFORE_FAIL"))]
        self.assertTrue(mc, res.cancels)

    def test_keyboard_interrupt_raised_in_a_task(self):
        res = self.run_both("trio_app.py", ["interrupt"])
        self.common(res)
        self.assertEqual(res.exit["error"]["type"], "KeyboardInterrupt")
        self.assertTrue(res.stderr.rstrip().endswith("KeyboardInterrupt"), res.stderr[-500:])

    def test_ctrl_c_same_as_untraced(self):
        src = ("import trio\n"
               "async def sleeper():\n"
               "    await trio.sleep(30)\n"
               "async def main():\n"
               "    async with trio.open_nursery() as n:\n"
               "        n.start_soon(sleeper)\n"
               "        print('ready', flush=True)\n"
               "        await trio.sleep(30)\n"
               "trio.run(main)\n")
        outs = []
        with tempfile.TemporaryDirectory(prefix="asynctrace-trio-") as tmp:
            prog = os.path.join(tmp, "p.py")
            with open(prog, "w") as f:
                f.write(src)
            trace = os.path.join(tmp, "t.jsonl")
            for traced in (False, True):
                cmd = [sys.executable] + (["-m", "asynctrace", "-o", trace] if traced else []) + [prog]
                p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(None), cwd=tmp,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
                self.assertEqual(p.stdout.readline(), b"ready\n")
                time.sleep(0.2)
                p.send_signal(signal.SIGINT)
                out, err = p.communicate(timeout=60)
                outs.append((p.returncode, err.decode("utf-8", "replace")))
            events = parse_trace(trace)
        self.assertEqual(outs[0], outs[1])
        self.assertTrue(outs[0][1].rstrip().endswith("KeyboardInterrupt"), outs[0][1][-500:])
        self.assertEqual(events[-1]["type"], "exit")
        self.assertEqual(events[-1]["error"]["type"], "KeyboardInterrupt")
        sleepers = [e for e in events if e.get("type") == "task" and e.get("coro") == "sleeper"]
        self.assertEqual(len(sleepers), 1)
        ends = [e for e in events if e.get("type") == "end" and e["task"] == sleepers[0]["id"]]
        self.assertEqual([e["state"] for e in ends], ["cancelled"])

    def test_blocking_step_names_its_line(self):
        src = ("import time\n"
               "import trio\n"
               "async def busy():\n"
               "    await trio.sleep(0.01)\n"
               "    time.sleep(0.3)  # BLOCK\n"
               "    await trio.sleep(0)\n"
               "async def main():\n"
               "    async with trio.open_nursery() as n:\n"
               "        n.start_soon(busy)\n"
               "trio.run(main)\n")
        plain = run_plain(src)
        res = run_traced(src)
        self.assertEqual((res.code, res.stdout, res.stderr), (plain.code, plain.stdout, plain.stderr))
        check_wellformed(self, res)
        (busy,) = res.by_coro("busy")
        # (a loaded machine may stretch another step past the threshold too: only this one counts)
        blocks = [b for b in res.blocks if b["task"] == busy and b["dur"] >= 250000]
        self.assertEqual(len(blocks), 1, res.blocks)
        self.assertEqual(res.line(blocks[0]["site"]), line_of(src, "# BLOCK"))

    def test_guest_run_inside_asyncio(self):
        src = ("import asyncio\n"
               "import trio\n"
               "async def trio_main():\n"
               "    async with trio.open_nursery() as n:\n"
               "        n.start_soon(trio.sleep, 0.02)\n"
               "        await trio.sleep(0.01)\n"
               "    return 'trio done'\n"
               "async def asyncio_main():\n"
               "    loop = asyncio.get_running_loop()\n"
               "    done = loop.create_future()\n"
               "    trio.lowlevel.start_guest_run(trio_main, run_sync_soon_threadsafe=loop.call_soon_threadsafe,  # GUEST\n"
               "                                  done_callback=lambda o: done.set_result(o.unwrap()))\n"
               "    print(await done)\n"
               "asyncio.run(asyncio_main())\n")
        plain = run_plain(src)
        res = run_traced(src)
        self.assertEqual((res.code, res.stdout, res.stderr), (plain.code, plain.stdout, plain.stderr))
        check_wellformed(self, res)
        guest = [evs for evs in res.loops.values() if evs[0].get("class") == "trio"]
        self.assertEqual(len(guest), 1)
        self.assertTrue(guest[0][0].get("guest"))
        (host,) = res.by_coro("asyncio_main")
        (tmain,) = res.by_coro("trio_main")
        self.assertEqual(res.tasks[tmain]["parent"], host, "the guest run's main task belongs to the asyncio task that started it")
        self.assertEqual(res.line(res.tasks[tmain]["site"]), line_of(src, "# GUEST"))
        self.assertEqual(set(res.tasks), set(res.ends))


@unittest.skipUnless(_has("trio", "anyio"), "needs trio and anyio (Debian: python3-trio python3-anyio)")
class AnyioOnTrioTest(TrioCase):
    def test_task_group_stream_lock_event_sockets_deadlines(self):
        res = self.run_both("anyio_trio_app.py")
        main = self.common(res)
        mid = main["id"]
        workers = self.created_at(res, "# START_WORKER")
        self.assertEqual(sorted(t["name"] for t in workers), ["w1", "w2"])
        (slow,) = self.created_at(res, "# START_SLOW")
        (waiter,) = self.created_at(res, "# START_WAITER")
        for t in workers + [slow, waiter]:
            self.assertEqual(t["parent"], mid)
            self.assertEqual(res.ends[t["id"]]["state"], "done")
        self.assertEqual(self.ons_at(res, "# WORKER_RECEIVE") - {"yield"}, {"queue:get"})
        self.assertIn("queue:put", self.ons_at(res, "# SEND"))
        self.assertEqual(self.ons_at(res, "# WORKER_LOCK") - {"yield"}, {"lock"})
        self.assertEqual(self.ons_at(res, "# SLOW_SLEEP"), {"sleep"})
        self.assertEqual(self.ons_at(res, "# EVENT_WAIT"), {"event"})
        self.assertIn("io:connect", self.ons_at(res, "# CONNECT"))
        self.assertIn("io:read", self.ons_at(res, "# CLIENT_RECEIVE"))
        self.assertIn("io:read", self.ons_at(res, "# ECHO_RECEIVE"))
        group = self.ons_at(res, "# TASK_GROUP", mid)
        self.assertTrue(group & {"gather", "task"}, group)
        (fires,) = self.timeouts_at(res, "# SLOW_MOVE_ON").items()
        self.assertEqual(fires[1], ["armed", "fired"])
        self.assertEqual(res.timeouts[fires[0]][0]["task"], slow["id"])
        (cancel,) = [c for c in res.cancels if c.get("timeout") == fires[0]]
        self.assertEqual((cancel["task"], cancel["cause"]), (slow["id"], "timeout"))
        self.assertEqual(list(self.timeouts_at(res, "# FAIL_AFTER").values()), [["armed", "cleared"]])
        serve = self.created_at(res, "# SERVE_TCP")
        self.assertEqual(len(serve), 1)
        self.assertEqual(res.ends[serve[0]["id"]]["state"], "cancelled")
        by_group = [c for c in res.cancels if c["task"] == serve[0]["id"]]
        self.assertEqual([(c["by"], self.at(res, c["site"])) for c in by_group], [(mid, self.line("# CANCEL_GROUP"))])


if __name__ == "__main__":
    unittest.main()
