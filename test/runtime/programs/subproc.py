"""Starts a Python subprocess with asyncio, reads its output and exit code."""
import asyncio
import os
import sys

CHILD = r'''
import asyncio, os, sys

async def tick(i):
    await asyncio.sleep(0.01 * i)  # L:child-sleep
    return i

async def main():
    print(sum(await asyncio.gather(*(tick(i) for i in range(3)))))  # L:child-gather
    print("env", "ASYNCTRACE_CHILD" in os.environ, os.environ.get("PYTHONPATH") == sys.argv[1])

asyncio.run(main())
sys.exit(5)
'''


async def main():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(os.environ.get("PYTHONPATH")),
        stdout=asyncio.subprocess.PIPE)  # L:spawn
    out, _ = await proc.communicate()
    print(out.decode().split(), proc.returncode)
    print("parent env", "ASYNCTRACE_CHILD" in os.environ, sorted(k for k in os.environ if k.startswith("ASYNCTRACE")))


asyncio.run(main())
