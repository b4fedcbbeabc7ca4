"""A blocking call moved off the event loop with asyncio.to_thread: the heartbeat keeps ticking."""
import asyncio
import time


def blocking_io(seconds):
    time.sleep(seconds)  # a blocking call: in a worker thread, the loop stays free
    return seconds


async def heartbeat():
    for _ in range(6):
        await asyncio.sleep(0.05)


async def main():
    beat = asyncio.create_task(heartbeat())
    took = await asyncio.to_thread(blocking_io, 0.3)
    await beat
    print("done", took)


asyncio.run(main())
