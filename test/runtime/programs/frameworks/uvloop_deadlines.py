"""Parallel wait_for deadlines on uvloop: one clears, one fires, each exactly once."""
import asyncio

import uvloop


async def slow(d):
    await asyncio.sleep(d)
    return d


async def one(d, to):
    try:
        r = await asyncio.wait_for(slow(d), to)  # WAIT_FOR
        print("ok", r)
    except asyncio.TimeoutError:
        print("timeout", d)


async def main():
    await asyncio.gather(one(0.05, 5.0), one(5.0, 0.2), one(0.01, 5.0))  # GATHER
    loop = asyncio.get_running_loop()
    t = asyncio.create_task(slow(10))  # LATER
    loop.call_later(0.05, t.cancel)
    try:
        await t
    except asyncio.CancelledError:
        print("cancelled by a loop callback")


uvloop.install()
asyncio.run(main())
