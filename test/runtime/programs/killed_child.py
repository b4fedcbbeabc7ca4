"""A forked worker killed with SIGKILL (as an OOM killer or a supervisor would): it writes no exit
line; the parent collects its status."""
import asyncio
import os
import signal
import sys
import time

pid = os.fork()
if pid == 0:
    async def spin():
        while True:
            await asyncio.sleep(0.01)  # L:child-sleep
    asyncio.run(spin())
    sys.exit(0)
time.sleep(0.5)
os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
print("child killed:", os.WIFSIGNALED(status), signal.Signals(os.WTERMSIG(status)).name)
