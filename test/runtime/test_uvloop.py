"""uvloop steps: each task's coroutine is stepped through a proxy, so a uvloop run has steps with
the program's await lines and what they wait on, as on the standard loop."""
import unittest

from test_frameworks import FrameworkProgram, _has


@unittest.skipUnless(_has("uvloop"), "needs uvloop (Debian: python3-uvloop, for Debian's python3)")
class UvloopStepsTest(FrameworkProgram):
    def test_echo_service_on_uvloop(self):
        res = self.run_both("uvloop_app.py")
        self.common(res)
        loop, = res.loops.values()
        self.assertEqual(loop[0].get("class"), "uvloop.Loop")
        main = res.tasks[res.by_coro("main")[0]]
        # Steps with the program's await lines and what they wait on.
        self.assertEqual(self.kinds_at(res, "# SERVER_READ"), {"io:read"})
        self.assertEqual(self.kinds_at(res, "# SERVER_WORK"), {"sleep"})
        self.assertEqual(self.kinds_at(res, "# CLIENT_READ"), {"io:read"})
        self.assertEqual(self.kinds_at(res, "# CONNECT"), {"io:connect"})
        self.assertEqual(self.kinds_at(res, "# GET"), {"queue:get"})
        self.assertEqual(self.kinds_at(res, "# SLOW"), {"sleep"})
        self.assertEqual(self.kinds_at(res, "# GATHER"), {"gather"})
        self.assertEqual(self.kinds_at(res, "# WAIT_FOR"), {"task"})
        self.assertEqual(self.kinds_at(res, "# AWAIT_BAD"), {"task"})
        # Every task of the program has steps; the last one of each has no await. (uvloop's own
        # compiled coroutines, shutdown_asyncgens, are no Python coroutines: not stepped.)
        for tid, t in res.tasks.items():
            if t.get("internal"):
                continue
            steps = res.steps_by_task.get(tid, [])
            self.assertTrue(steps, t)
            self.assertNotIn("await", steps[-1], t)
            self.assertTrue(all(s["dur"] >= 0 for s in steps))
        # Parents and creation lines.
        clients = self.created_at(res, "# GATHER")
        self.assertEqual(len(clients), 4)
        self.assertTrue(all(t["parent"] == main["id"] for t in clients))
        collector, = self.created_at(res, "# COLLECTOR")
        self.assertEqual((collector["parent"], collector["name"]), (main["id"], "collector"))
        handlers = [res.tasks[i] for i in res.by_coro("handle")]
        self.assertEqual(len(handlers), 4)
        self.assertTrue(all(t["site"] is None for t in handlers), "made by the server's callback")
        failing, = self.created_at(res, "# FAILS")  # through the program's own task factory
        self.assertEqual(failing["parent"], main["id"])
        self.assertEqual(res.ends[failing["id"]]["state"], "failed")
        # Its blocking step: a block line naming the line that held the loop (found by the sampler
        # thread; null if that thread did not get to run in time on a loaded machine).
        blocks = [b for b in res.blocks if b["task"] == failing["id"]]
        self.assertEqual(len(blocks), 1, res.blocks)
        self.assertGreaterEqual(blocks[0]["dur"], 250000)
        if blocks[0]["site"] is not None:
            self.assertEqual(res.sites[blocks[0]["site"]]["line"], self.line("# BLOCKS"))
        # The wait_for deadline fires once and cancels its inner task.
        (armed, fired), = res.timeouts.values()
        self.assertEqual((armed["state"], fired["state"], armed["task"]), ("armed", "fired", main["id"]))
        slow, = self.created_at(res, "# WAIT_FOR")
        self.assertEqual(res.ends[slow["id"]]["state"], "cancelled")
        main_waits = [s["await"]["on"] for s in res.steps_by_task[main["id"]] if "await" in s]
        self.assertIn({"kind": "task", "task": slow["id"]}, main_waits)


if __name__ == "__main__":
    unittest.main()
